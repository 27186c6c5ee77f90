"""The library: what the front ends (Discord cogs, CLI, console) ask of the core.

Every method returns frozen dataclasses and raises StoryBotError with a user-safe
message. ``mature_ok`` says whether the asker may see mature/explicit stories (an
age-restricted channel, or the host's own terminal).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

from bot import excerpts, search
from bot.errors import StoryBotError
from bot.ingest import DEFAULT_MAX_STORY_BYTES as MAX_STORY
from bot.ingest import Progress, ingest
from bot.models import Chapter, Excerpt, IngestReport, SearchResult, Story
from bot.paging import paginate
from bot.settings import Settings
from bot.store import Store
from bot.text.normalize import fold

MAX_QUERY_CHARS = 500
AUTOCOMPLETE_LIMIT = 25


class Library:
    def __init__(self, store: Store, stories_dir: Path, max_story_bytes: int = MAX_STORY) -> None:
        self.store = store
        self.stories_dir = stories_dir
        self.max_story_bytes = max_story_bytes
        self._stories: list[Story] | None = None

    @classmethod
    async def open(cls, settings: Settings, *, check: bool = False) -> Library:
        """``check``: a process starting to serve or ingest checks the file first (Store.open)."""
        store = await Store.open(settings.db_path, read_only=settings.read_only, check=check)
        return cls(store, settings.stories_dir, settings.max_story_bytes)

    async def close(self) -> None:
        await self.store.close()

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
        return report

    # ---- stories -------------------------------------------------------------------------

    async def stories(self, *, mature_ok: bool) -> list[Story]:
        if self._stories is None:
            self._stories = await self.store.list_stories()
        return [s for s in self._stories if mature_ok or not s.mature]

    async def find_story(self, ref: str | int, *, mature_ok: bool) -> Story:
        """A story by id, slug, exact title, or unique title/slug prefix."""
        every = await self.stories(mature_ok=True)
        story = _match_story(every, ref)
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
        words = search.tokens(name)
        if not words:
            return {}
        every = len(stories) == len(await self.stories(mature_ok=True))
        ids = None if every and len(bounds) == len(stories) else list(bounds)
        rows = await self.store.paragraphs_matching(
            search.phrase_query(words), ids, 5000, ranked=False
        )
        found: dict[int, list[int]] = {}
        for p in rows:
            first, last = bounds[p.story_id]
            if first <= p.position <= last:
                found.setdefault(p.story_id, []).append(p.position)
        return found

    # ---- search --------------------------------------------------------------------------

    async def quote(
        self,
        text: str,
        story: str | int | None = None,
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
        return await search.search(self.store, text, scope, limit=limit, context=context)

    async def warm(self) -> None:
        """Load what search keeps in memory now, so the first /quote does not wait for it."""
        await search.warm(self.store)


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
        if isinstance(ref, int):  # an id from a button: its story was removed since
            raise StoryBotError("That story is no longer in the library.")
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
