"""The library: the one door through which the front ends (Discord cogs, CLI, console) reach
the core. Nothing in cogs/, bot/runtime.py, bot/cli.py or bot/console.py goes below it (the
import contract in pyproject.toml, checked by `make lint`, says so).

Every method returns frozen dataclasses (or objects the Library hands out: its ``admin``)
and raises StoryBotError with a user-safe message. ``mature_ok`` says whether the asker may
see mature/explicit stories (an age-restricted channel, or the host's own terminal).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from datetime import date
from functools import cached_property
from pathlib import Path

from bot import excerpts, readers
from bot.errors import StoryBotError
from bot.ingest import DEFAULT_MAX_STORY_BYTES as MAX_STORY
from bot.ingest import ingest
from bot.library_admin import LibraryAdmin
from bot.models import (
    Bookmark,
    Chapter,
    DailySchedule,
    Excerpt,
    IngestReport,
    Place,
    Progress,
    ReaderData,
    SceneResult,
    SearchResult,
    Story,
)
from bot.paging import paginate
from bot.scenes import SceneSearch, query_words
from bot.search import Search, tokens
from bot.settings import DEFAULT_MAX_UPLOAD, Settings
from bot.store import Store
from bot.text.normalize import fold

AUTOCOMPLETE_LIMIT = 25
CHARACTER_PASSAGES = 5000  # passages naming a character that /excerpt character: picks from
NO_WORDS = "Type a few words of the line you remember."
STORY_GONE = "That story is no longer in the library."
SPOILER_SCAN = 25  # hits looked at when some may be hidden as spoilers
NO_SCENE_WORDS = "Describe the scene in a few words: who is in it, where, what happens."


class Library:
    def __init__(
        self,
        store: Store,
        stories_dir: Path,
        max_story_bytes: int = MAX_STORY,
        *,
        max_upload_bytes: int = DEFAULT_MAX_UPLOAD,
        read_only: bool = False,
    ) -> None:
        self.store = store  # for the library's own tests and tools; front ends use the methods
        self.stories_dir = stories_dir
        self.max_story_bytes = max_story_bytes
        self.search = Search(store)
        self.scenes = SceneSearch(store)
        self.max_upload_bytes = max_upload_bytes
        self.read_only = read_only
        self._stories: list[Story] | None = None
        self._passages: dict[int, list[int]] = {}  # story id -> its excerpt anchors
        self.rng = random.Random()  # seeded by tests and screenshots that want one passage
        self.remember_readers = not read_only  # off: page turns record nothing (benchmarks)
        # places waiting to be written: (reader, story id) -> (chapter, position), the latest
        self._places: dict[tuple[int, int], tuple[int, int]] = {}
        self._writing: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, settings: Settings, *, check: bool = False) -> Library:
        """``check``: a process starting to serve or ingest checks the file first (Store.open)."""
        store = await Store.open(settings.db_path, read_only=settings.read_only, check=check)
        return cls(
            store,
            settings.stories_dir,
            settings.max_story_bytes,
            max_upload_bytes=settings.max_upload_bytes,
            read_only=settings.read_only,
        )

    @cached_property
    def admin(self) -> LibraryAdmin:
        """The host's changes to the library (reload, add, remove), one at a time."""
        return LibraryAdmin(self, max_upload_bytes=self.max_upload_bytes, read_only=self.read_only)

    async def close(self) -> None:
        await self.readers_settled()
        await self.store.close()

    async def backup(self, target: Path, *, overwrite: bool = False) -> None:
        """A consistent copy of the database while it is in use (SQLite's backup API); an
        existing file is replaced only when ``overwrite``."""
        await self.store.backup(target, overwrite=overwrite)

    async def ingest(
        self, *, allow_empty: bool = False, on_progress: Callable[[Progress], None] | None = None
    ) -> IngestReport:
        """Rescan the stories folder; an empty folder empties the library only if allowed."""
        report = await ingest(
            self.store,
            self.stories_dir,
            max_bytes=self.max_story_bytes,
            allow_empty=allow_empty,
            on_progress=on_progress,
        )
        self._stories = None
        self._passages.clear()
        return report

    # ---- stories -------------------------------------------------------------------------

    async def stories(self, *, mature_ok: bool) -> list[Story]:
        if self._stories is None:
            self._stories = await self.store.list_stories()
        return [s for s in self._stories if mature_ok or not s.mature]

    async def find_story(self, ref: str | int | Story, *, mature_ok: bool) -> Story:
        """A story by id, slug, exact title, or unique title/slug prefix (or a Story already
        found, checked again against ``mature_ok``)."""
        if isinstance(ref, Story):
            story = ref
        elif isinstance(ref, int):  # ids come from buttons on old messages
            story = next((s for s in await self.stories(mature_ok=True) if s.id == ref), None)
            if story is None:
                raise StoryBotError(STORY_GONE)
        else:
            story = _match_story(await self.stories(mature_ok=True), ref)
        if story.mature and not mature_ok:
            raise StoryBotError(
                f"“{story.title}” is rated {story.rating}: it can be read only in "
                "age-restricted channels."
            )
        return story

    async def suggest(self, typed: str, *, mature_ok: bool) -> list[Story]:
        """Stories whose title or slug matches what was typed, for autocomplete (at most 25)."""
        wanted = fold(typed)
        stories = await self.stories(mature_ok=mature_ok)
        starts = [
            s for s in stories if fold(s.title).startswith(wanted) or s.slug.startswith(wanted)
        ]
        within = [s for s in stories if s not in starts and wanted in fold(s.title)]
        return (starts + within)[:AUTOCOMPLETE_LIMIT]

    # ---- chapters ------------------------------------------------------------------------

    async def chapter(
        self, story_ref: str | int, chapter_ref: str | int, *, mature_ok: bool
    ) -> Chapter:
        story = await self.find_story(story_ref, mature_ok=mature_ok)
        number = _chapter_number(story, chapter_ref)
        paragraphs = await self.store.chapter_paragraphs(story.id, number)
        label = story.chapter_info(number)
        note = await self.store.chapter_note(story.id, number)
        return Chapter(
            story, number, label.label if label else str(number), note, tuple(paragraphs)
        )

    async def pages(
        self, story_ref: str | int, chapter_ref: str | int, *, mature_ok: bool
    ) -> tuple[Chapter, list[str]]:
        chapter = await self.chapter(story_ref, chapter_ref, mature_ok=mature_ok)
        return chapter, paginate(chapter.text)

    @staticmethod
    def page_position(chapter: Chapter, pages: Sequence[str], index: int) -> int:
        """The position of the first paragraph on page ``index``: a reader's place."""
        return readers.first_position(chapter, pages, index)

    async def pages_at(
        self, story_ref: str | int, chapter_ref: str | int, position: int, *, mature_ok: bool
    ) -> tuple[Chapter, list[str], int]:
        """A chapter's pages, and the index of the page holding the paragraph at ``position``."""
        chapter, pages = await self.pages(story_ref, chapter_ref, mature_ok=mature_ok)
        return chapter, pages, readers.page_of_position(chapter, pages, position)

    # ---- excerpts ------------------------------------------------------------------------

    async def excerpt(
        self,
        story: str | int | None = None,
        chapter: str | int | None = None,
        character: str | None = None,
        *,
        mature_ok: bool,
        rng: random.Random | None = None,
        avoid: Collection[tuple[int, int]] = (),
        channel: int | None = None,
    ) -> Excerpt:
        """A random passage from an evenly chosen story.

        With a ``channel`` (and no ``character``), the passage is the next of that channel's
        shuffle of the story's passages (or the chapter's), stored, so a channel sees every
        passage once before any comes back, across restarts. Otherwise ``avoid`` holds
        (story id, first position) of recent excerpts, tried eight times to miss."""
        rng = rng or self.rng
        if story is not None:
            candidates = [await self.find_story(story, mature_ok=mature_ok)]
        else:
            candidates = await self.stories(mature_ok=mature_ok)
            if chapter is not None:
                raise StoryBotError("Name a story to pick a chapter from.")
        if not candidates:
            raise StoryBotError(
                "The library is empty: add story files (.txt, .epub, .html) to the stories folder."
            )
        # the store's chapter positions travel with each Story: no query per story here
        bounds: dict[int, tuple[int, int]] = {}
        for s in candidates:
            if chapter is not None:
                info = s.chapter_info(_chapter_number(s, chapter))
                bounds[s.id] = (info.first, info.last) if info else (0, -1)
            elif s.chapters:
                bounds[s.id] = (s.chapters[0].first, s.chapters[-1].last)
        anchors: dict[int, list[int]] | None = None
        if character:
            anchors = await self._character_positions(character, candidates, bounds)
            # a story whose character tags list the name is the character's story even where
            # no passage names them as typed (tag "Rupert Giles", text "Giles" or "the G-man"):
            # any passage of it will do, the naming ones being preferred where there are some
            anchors |= {
                s.id: []
                for s in candidates
                if s.id not in anchors and s.id in bounds and _tags_name(s, character)
            }
            if not anchors:
                raise StoryBotError(f"No passage names “{one_line(character)}”.")
        usable = [s for s in candidates if s.id in (anchors if anchors is not None else bounds)]
        if not usable:
            raise StoryBotError("That chapter has no text to quote.")
        if channel is not None and anchors is None and not self.read_only:
            chosen = rng.choice(usable)
            scope = "" if chapter is None else str(_chapter_number(chosen, chapter))
            pool = await self._passage_pool(chosen, bounds[chosen.id])
            if pool:
                seed, index = await self.store.next_in_shuffle(
                    channel, chosen.id, scope, len(pool), rng.getrandbits(62)
                )
                return await self._excerpt_at(
                    chosen, pool[readers.shuffled(seed, len(pool), index)]
                )
        result: Excerpt | None = None
        for _ in range(8):
            chosen = rng.choice(usable)
            named = anchors.get(chosen.id) if anchors is not None else None
            if named:
                position = rng.choice(named)
            else:
                first, last = bounds[chosen.id]
                position = rng.randint(first, last)
            result = await self._excerpt_at(chosen, position, focus=character if named else None)
            if (chosen.id, result.start) not in avoid:
                break
        assert result is not None
        return result

    async def excerpt_pool(self, story_ref: str | int, *, mature_ok: bool) -> list[int]:
        """The first positions of the passages a channel's shuffle of a story goes through."""
        story = await self.find_story(story_ref, mature_ok=mature_ok)
        if not story.chapters:
            return []
        return await self._passage_pool(story, (story.chapters[0].first, story.chapters[-1].last))

    async def _passage_pool(self, story: Story, bounds: tuple[int, int]) -> list[int]:
        anchors = self._passages.get(story.id)
        if anchors is None and story.chapters:
            paragraphs = await self.store.paragraphs_between(
                story.id, story.chapters[0].first, story.chapters[-1].last
            )
            anchors = self._passages[story.id] = excerpts.passage_anchors(paragraphs)
        first, last = bounds
        return [a for a in anchors or () if first <= a <= last]

    async def continue_after(
        self, story_ref: str | int, position: int, *, mature_ok: bool
    ) -> Excerpt:
        """The passage that follows the paragraph at ``position``."""
        story = await self.find_story(story_ref, mature_ok=mature_ok)
        if not story.chapters or position >= story.chapters[-1].last:
            raise StoryBotError(f"That was the end of “{story.title}”.")
        return await self._excerpt_at(story, position + 1, forward_only=True)

    async def _excerpt_at(
        self, story: Story, position: int, *, forward_only: bool = False, focus: str | None = None
    ) -> Excerpt:
        lo = position if forward_only else max(0, position - excerpts.LOOK_BEHIND)
        around = await self.store.paragraphs_between(story.id, lo, position + excerpts.LOOK_AHEAD)
        anchor = next(p for p in around if p.position == position)
        first, last, text = excerpts.passage(around, anchor, focus)
        info = story.chapter_info(anchor.chapter)
        return Excerpt(
            story=story,
            chapter=anchor.chapter,
            chapter_label=info.label if info else str(anchor.chapter),
            start=first.position,
            end=last.position,
            text=text,
        )

    async def _character_positions(
        self, name: str, stories: Sequence[Story], bounds: dict[int, tuple[int, int]]
    ) -> dict[int, list[int]]:
        every = await self._every(stories) and len(bounds) == len(stories)
        rows = await self.search.naming(name, None if every else list(bounds), CHARACTER_PASSAGES)
        found: dict[int, list[int]] = {}
        for p in rows:
            first, last = bounds[p.story_id]
            if first <= p.position <= last:
                found.setdefault(p.story_id, []).append(p.position)
        return found

    # ---- search --------------------------------------------------------------------------

    async def check_quote(
        self, text: str, story: str | int | None = None, *, mature_ok: bool
    ) -> Story | None:
        """What can be refused before a search runs: a query with no words, a story that
        cannot be searched here. Returns the story to hand to ``quote`` (found once)."""
        if not tokens(text):
            raise StoryBotError(NO_WORDS)
        return None if story is None else await self.find_story(story, mature_ok=mature_ok)

    async def quote(
        self,
        text: str,
        story: str | int | Story | None = None,
        *,
        mature_ok: bool,
        limit: int = 5,
        context: bool = False,
        reader: int | None = None,
    ) -> SearchResult:
        """Find a line; ``context`` adds the paragraphs before and after each hit.

        With a ``reader``, only what they have read is shown (the chapters up to their
        furthest place in each story); ``hidden`` counts the matches left out."""
        scope, every = await self._scope(story, mature_ok=mature_ok)
        limit = max(1, min(limit, 25))
        if reader is None:
            return await self.search.find(text, scope, every=every, limit=limit, context=context)
        await self.readers_settled()
        furthest = {p.story_id: p.furthest for p in await self.store.reading_positions(reader)}
        read = [s for s in scope if s.id in furthest]
        found = await self.search.find(
            text, scope, every=every, limit=max(limit, SPOILER_SCAN), context=context
        )
        ends = {s.id: readers.read_up_to(s, furthest[s.id]) for s in read}
        shown = tuple(h for h in found.hits if h.position <= ends.get(h.story.id, -1))
        hidden = len(found.hits) - len(shown)
        return replace(found, hits=shown[:limit], hidden=hidden)

    async def check_scene(
        self, text: str, story: str | int | None = None, *, mature_ok: bool
    ) -> Story | None:
        """What can be refused before a scene search runs: a description with no words, a
        story that cannot be searched here. Returns the story to hand to ``scene``."""
        if not query_words(text)[0]:
            raise StoryBotError(NO_SCENE_WORDS)
        return None if story is None else await self.find_story(story, mature_ok=mature_ok)

    async def scene(
        self,
        text: str,
        story: str | int | Story | None = None,
        *,
        mature_ok: bool,
        limit: int = 3,
    ) -> SceneResult:
        """The passages that best fit a description of a scene, each labelled by how sure."""
        scope, every = await self._scope(story, mature_ok=mature_ok)
        limit = max(1, min(limit, 25))
        return await self.scenes.find(text, scope, limit, every=every)

    async def _scope(
        self, story: str | int | Story | None, *, mature_ok: bool
    ) -> tuple[list[Story], bool]:
        """The stories a search looks in (the one named, or every one that may be shown
        here), and whether they are the whole library."""
        if story is not None:
            scope = [await self.find_story(story, mature_ok=mature_ok)]
        else:
            scope = await self.stories(mature_ok=mature_ok)
        return scope, await self._every(scope)

    async def _every(self, stories: Sequence[Story]) -> bool:
        """Whether ``stories`` (a selection of the library's) are all of them."""
        return len({s.id for s in stories}) == len(await self.stories(mature_ok=True))

    async def warm(self) -> None:
        """Load what search keeps in memory now, so the first /quote does not wait for it."""
        await self.search.warm()
        await self.scenes.warm()

    # ---- readers -------------------------------------------------------------------------
    # Each reader's places and bookmarks, keyed by their Discord id; never shown to others.

    async def record_reading(
        self, reader: int, chapter: Chapter, pages: Sequence[str], page: int
    ) -> None:
        """Remember that ``reader`` is on ``page`` of ``chapter`` (as its first paragraph)."""
        if self.remember_readers:
            position = self.page_position(chapter, pages, page)
            self._remember(reader, chapter.story.id, chapter.number, position)

    async def record_place(self, reader: int, story: Story, position: int) -> None:
        """Remember that ``reader`` is at the paragraph at ``position`` (Continue reading)."""
        number = readers.chapter_of_position(story, position)
        if self.remember_readers and number is not None:
            self._remember(reader, story.id, number, position)

    def _remember(self, reader: int, story: int, chapter: int, position: int) -> None:
        """Places are written behind the page turns, by one task, in batches: a reader turning
        pages faster than the disk keeps only their latest place, and no turn waits for it."""
        self._places.pop((reader, story), None)  # re-insert: the batch keeps the order of turns
        self._places[(reader, story)] = (chapter, position)
        if self._writing is None or self._writing.done():
            self._writing = asyncio.create_task(self._write_places(), name="storybot-places")

    async def _write_places(self) -> None:
        while self._places:
            batch, self._places = self._places, {}
            await self.store.record_positions(
                [(user, story, chapter, at) for (user, story), (chapter, at) in batch.items()]
            )

    async def readers_settled(self) -> None:
        """Wait until every place recorded so far is written (reads of places call this)."""
        if self._writing is not None and not self._writing.done():
            await asyncio.shield(self._writing)

    async def reading_place(
        self, reader: int, story_ref: str | int | None = None, *, mature_ok: bool
    ) -> Place:
        """Where ``reader`` stopped: in the story named, else in the one they read last (of
        those that may be shown here)."""
        await self.readers_settled()
        places = await self.store.reading_positions(reader)
        if story_ref is not None:
            story = await self.find_story(story_ref, mature_ok=mature_ok)
            place = next((p for p in places if p.story_id == story.id), None)
            if place is None:
                raise StoryBotError(
                    f"You haven't started “{story.title}” yet: open it with /chapter."
                )
        else:
            shown = {s.id: s for s in await self.stories(mature_ok=mature_ok)}
            place = next((p for p in places if p.story_id in shown), None)
            if place is None:
                raise StoryBotError(readers.NOTHING_TO_CONTINUE)
            story = shown[place.story_id]
        number = readers.chapter_of_position(story, place.position) or place.chapter
        return Place(story, number, place.position)

    async def next_chapter(self, story_ref: str | int, number: int, step: int = 1) -> int | None:
        """The chapter after (``step`` 1) or before (-1) chapter ``number``; None at the end."""
        story = await self.find_story(story_ref, mature_ok=True)
        return readers.neighbour_chapter(story, number, step)

    async def add_bookmark(
        self, reader: int, story_ref: str | int, position: int, *, mature_ok: bool
    ) -> Bookmark:
        """Save the place at ``position`` with the story's words there."""
        self._writable_for_readers()
        story = await self.find_story(story_ref, mature_ok=mature_ok)
        number = readers.chapter_of_position(story, position)
        found = await self.store.paragraphs_between(story.id, position, position)
        if number is None or not found:
            raise StoryBotError("That place is no longer in the story.")
        if (await self.store.reader_data(reader)).bookmarks >= readers.BOOKMARK_LIMIT:
            raise StoryBotError(
                f"You have {readers.BOOKMARK_LIMIT} bookmarks: remove some with /bookmarks first."
            )
        words = readers.bookmark_words(found[0].text)
        bookmark_id = await self.store.add_bookmark(reader, story.id, number, position, words)
        return Bookmark(bookmark_id, story.id, number, position, words)

    async def bookmarks(
        self, reader: int, *, mature_ok: bool
    ) -> tuple[list[tuple[Bookmark, Story]], int]:
        """The reader's bookmarks that may be shown here, newest first, each with its story;
        and how many others there are (in stories that cannot be shown here)."""
        stories = {s.id: s for s in await self.stories(mature_ok=mature_ok)}
        saved = await self.store.bookmarks(reader)
        shown = [(b, stories[b.story_id]) for b in saved if b.story_id in stories]
        return shown, len(saved) - len(shown)

    async def bookmark_place(self, reader: int, bookmark_id: int, *, mature_ok: bool) -> Place:
        bookmark = await self.store.bookmark(reader, bookmark_id)
        if bookmark is None:
            raise StoryBotError("That bookmark is gone: see yours with /bookmarks.")
        story = await self.find_story(bookmark.story_id, mature_ok=mature_ok)
        number = readers.chapter_of_position(story, bookmark.position) or bookmark.chapter
        return Place(story, number, bookmark.position)

    async def remove_bookmark(self, reader: int, bookmark_id: int) -> bool:
        self._writable_for_readers()
        return await self.store.remove_bookmark(reader, bookmark_id)

    async def reader_data(self, reader: int) -> ReaderData:
        await self.readers_settled()
        return await self.store.reader_data(reader)

    async def forget_reader(self, reader: int) -> ReaderData:
        """Delete everything kept about ``reader`` (places and bookmarks)."""
        self._writable_for_readers()
        await self.readers_settled()
        return await self.store.forget_reader(reader)

    def _writable_for_readers(self) -> None:
        if self.read_only:
            raise StoryBotError(
                "This copy of the bot is read-only (READ_ONLY is set): it cannot save bookmarks "
                "or change what it keeps about readers."
            )

    # ---- daily excerpts ------------------------------------------------------------------
    # Per-server schedules live in the same database; bot/daily.py says when one is due.

    async def daily_schedule(self, guild_id: int) -> DailySchedule | None:
        return await self.store.daily_schedule(guild_id)

    async def daily_schedules(self) -> list[DailySchedule]:
        return await self.store.daily_schedules()

    async def set_daily_schedule(self, schedule: DailySchedule) -> None:
        """Create or replace a server's schedule (one per server)."""
        await self.store.set_daily_schedule(schedule)

    async def delete_daily_schedule(self, guild_id: int) -> bool:
        """Remove a server's schedule; False when it had none."""
        return await self.store.delete_daily_schedule(guild_id)

    async def claim_daily_post(self, guild_id: int, day: date) -> bool:
        """Record that ``day``'s post is being made; False when it was already claimed."""
        return await self.store.claim_daily_post(guild_id, day)

    async def release_daily_post(self, guild_id: int, day: date, previous: date | None) -> bool:
        """Give back ``day``'s claim after a failed post, so it is tried again that day."""
        return await self.store.release_daily_post(guild_id, day, previous)


def one_line(text: str, width: int = 60) -> str:
    """``text`` on one line, cut to ``width`` with "…": for echoing what someone typed."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _tags_name(story: Story, name: str) -> bool:
    """Whether one of the story's character tags names ``name``: the whole tag or words of it
    in order ("Giles", "Rupert Giles" for "Rupert Giles"), folded as search folds them."""
    wanted = tokens(name)
    if not wanted:
        return False
    for tag in story.characters:
        words = tokens(tag)
        if any(words[i : i + len(wanted)] == wanted for i in range(len(words) - len(wanted) + 1)):
            return True
    return False


def _match_story(stories: Sequence[Story], ref: str) -> Story:
    """A story named by what someone typed: its slug, exact title, file name, or a unique
    prefix of its slug or title. (Ids are not names: only buttons carry them, as ints.)"""
    key = ref.strip()
    if not key:
        raise StoryBotError("Name a story: see the list with /stories.")
    folded = fold(key)
    for s in stories:
        if s.slug == key.lower() or fold(s.title) == folded or s.file == key:
            return s
    prefixed = [
        s for s in stories if s.slug.startswith(key.lower()) or fold(s.title).startswith(folded)
    ]
    if len(prefixed) == 1:
        return prefixed[0]
    if len(prefixed) > 1:
        names = ", ".join(s.title for s in prefixed[:5])
        raise StoryBotError(f"“{one_line(key)}” could be several stories: {names}.")
    raise StoryBotError(f"No story called “{one_line(key)}”: see the list with /stories.")


def _chapter_number(story: Story, ref: str | int) -> int:
    """A chapter by number ("2"), or by its label ("Chapter Six", "part 2")."""
    key = str(ref).strip()
    if key.lstrip("-").isdigit() and len(key) < 10:
        number = int(key)
        if story.chapter_info(number) is not None:
            return number
    else:
        folded = fold(key)
        for c in story.chapters:
            if fold(c.label) == folded or fold(c.label).rstrip(".") == folded.rstrip("."):
                return c.number
    numbers = ", ".join(c.label for c in story.chapters[:10])
    more = "…" if len(story.chapters) > 10 else ""
    raise StoryBotError(
        f"“{story.title}” has no chapter {one_line(key, 30)}; its chapters: {numbers}{more}."
    )
