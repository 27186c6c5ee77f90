"""The library: the one door through which the front ends (Discord cogs, CLI, console) reach
the core. Nothing in cogs/, bot/runtime.py, bot/cli.py or bot/console.py goes below it (the
import contract in pyproject.toml, checked by `make lint`, says so).

Every method returns frozen dataclasses (or objects the Library hands out: its ``admin``)
and raises StoryBotError with a user-safe message. ``mature_ok`` says whether the asker may
see mature/explicit stories (an age-restricted channel, or the host's own terminal).
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from datetime import date
from functools import cached_property
from pathlib import Path

from bot import excerpts
from bot.errors import StoryBotError
from bot.ingest import ingest
from bot.library_admin import LibraryAdmin
from bot.models import (
    Chapter,
    DailySchedule,
    Excerpt,
    IngestReport,
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
NO_SCENE_WORDS = "Describe the scene in a few words: who is in it, where, what happens."


class Library:
    def __init__(
        self,
        store: Store,
        stories_dir: Path,
        *,
        max_upload_bytes: int = DEFAULT_MAX_UPLOAD,
        read_only: bool = False,
    ) -> None:
        self.store = store  # for the library's own tests and tools; front ends use the methods
        self.stories_dir = stories_dir
        self.search = Search(store)
        self.scenes = SceneSearch(store)
        self.max_upload_bytes = max_upload_bytes
        self.read_only = read_only
        self._stories: list[Story] | None = None

    @classmethod
    async def open(cls, settings: Settings) -> Library:
        store = await Store.open(settings.db_path, read_only=settings.read_only)
        return cls(
            store,
            settings.stories_dir,
            max_upload_bytes=settings.max_upload_bytes,
            read_only=settings.read_only,
        )

    @cached_property
    def admin(self) -> LibraryAdmin:
        """The host's changes to the library (reload, add, remove), one at a time."""
        return LibraryAdmin(self, max_upload_bytes=self.max_upload_bytes, read_only=self.read_only)

    async def close(self) -> None:
        await self.store.close()

    async def backup(self, target: Path) -> None:
        """A consistent copy of the database while it is in use (SQLite's backup API)."""
        await self.store.backup(target)

    async def ingest(self) -> IngestReport:
        report = await ingest(self.store, self.stories_dir)
        self._stories = None
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
    ) -> Excerpt:
        """A random passage; ``avoid`` holds (story id, first position) of recent excerpts."""
        rng = rng or random.Random()
        if story is not None:
            candidates = [await self.find_story(story, mature_ok=mature_ok)]
        else:
            candidates = await self.stories(mature_ok=mature_ok)
            if chapter is not None:
                raise StoryBotError("Name a story to pick a chapter from.")
        if not candidates:
            raise StoryBotError("The library is empty: add .txt stories to the stories folder.")
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
            if not anchors:
                raise StoryBotError(f"No passage names “{one_line(character)}”.")
        usable = [s for s in candidates if s.id in (anchors if anchors is not None else bounds)]
        if not usable:
            raise StoryBotError("That chapter has no text to quote.")
        result: Excerpt | None = None
        for _ in range(8):
            chosen = rng.choice(usable)
            if anchors is not None:
                position = rng.choice(anchors[chosen.id])
            else:
                first, last = bounds[chosen.id]
                position = rng.randint(first, last)
            result = await self._excerpt_at(chosen, position, focus=character)
            if (chosen.id, result.start) not in avoid:
                break
        assert result is not None
        return result

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
        scene = excerpts.same_scene(around, anchor)
        index = scene.index(anchor)
        first, last, text = excerpts.window(scene, index, focus)
        info = story.chapter_info(anchor.chapter)
        return Excerpt(
            story=story,
            chapter=anchor.chapter,
            chapter_label=info.label if info else str(anchor.chapter),
            start=scene[first].position,
            end=scene[last].position,
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
    ) -> SearchResult:
        """Find a line; ``context`` adds the paragraphs before and after each hit."""
        if story is not None:
            scope = [await self.find_story(story, mature_ok=mature_ok)]
        else:
            scope = await self.stories(mature_ok=mature_ok)
        limit = max(1, min(limit, 25))
        every = await self._every(scope)
        return await self.search.find(text, scope, every=every, limit=limit, context=context)

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
        if story is not None:
            scope = [await self.find_story(story, mature_ok=mature_ok)]
        else:
            scope = await self.stories(mature_ok=mature_ok)
        limit = max(1, min(limit, 25))
        every = await self._every(scope)
        return await self.scenes.find(text, scope, limit, every=every)

    async def _every(self, stories: Sequence[Story]) -> bool:
        """Whether ``stories`` (a selection of the library's) are all of them."""
        return len({s.id for s in stories}) == len(await self.stories(mature_ok=True))

    async def warm(self) -> None:
        """Load what search keeps in memory now, so the first /quote does not wait for it."""
        await self.search.warm()
        await self.scenes.warm()

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


def one_line(text: str, width: int = 60) -> str:
    """``text`` on one line, cut to ``width`` with "…": for echoing what someone typed."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _match_story(stories: Sequence[Story], ref: str | int) -> Story:
    if isinstance(ref, int) or (isinstance(ref, str) and ref.strip().isdigit() and len(ref) < 10):
        wanted_id = int(ref)
        for s in stories:
            if s.id == wanted_id:
                return s
    key = str(ref).strip()
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
