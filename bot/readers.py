"""Readers: where a reader is on a chapter's pages, which chapter comes next, what a bookmark
keeps, and what a reader may see of search results without spoilers. The functions are pure;
``Readers``, a service of the Library, keeps each reader's places and bookmarks in the store.

A place is the position of a paragraph in its story (the first paragraph of a page), never a
page number: it survives a change of page size, and a story re-read after an edit still opens
near where the reader was.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Container, Sequence
from dataclasses import replace

from bot.catalogue import Catalogue
from bot.errors import StoryBotError, log_failure
from bot.models import (
    Bookmark,
    Chapter,
    PageTurn,
    Place,
    ReaderData,
    ReadingPosition,
    SearchResult,
    Story,
)
from bot.paging import paginate
from bot.store import Store

log = logging.getLogger(__name__)

BOOKMARK_WORDS = 160  # characters of story text a bookmark keeps to show in /bookmarks
BOOKMARK_LIMIT = 200  # bookmarks per reader: enough for any reader, bounded for the host
READ_ONLY = (
    "This copy of the bot is read-only (READ_ONLY is set): it cannot save bookmarks "
    "or change what it keeps about readers."
)
NOTHING_TO_CONTINUE = (
    "You have nothing to continue yet: open a chapter with /chapter (see what there is with "
    "/stories), and /continue will bring you back to where you stop."
)


def _page_starts(pages: Sequence[str]) -> list[int]:
    starts, at = [], 0
    for page in pages:
        starts.append(at)
        at += len(page)
    return starts


def _paragraph_offsets(chapter: Chapter) -> list[int]:
    """Where each paragraph starts in ``chapter.text`` (paragraphs are joined by a blank line)."""
    offsets, at = [], 0
    for p in chapter.paragraphs:
        offsets.append(at)
        at += len(p.text) + 2
    return offsets


def page_of_position(chapter: Chapter, pages: Sequence[str], position: int) -> int:
    """The index of the page holding the paragraph at ``position`` (the first page when the
    chapter has no such paragraph; the last when it is past the end)."""
    offsets = _paragraph_offsets(chapter)
    index = next((i for i, p in enumerate(chapter.paragraphs) if p.position >= position), None)
    if index is None:
        return max(0, len(pages) - 1) if chapter.paragraphs else 0
    offset = offsets[index]
    page = 0
    for number, start in enumerate(_page_starts(pages)):
        if start <= offset:
            page = number
    return page


def first_position(chapter: Chapter, pages: Sequence[str], index: int) -> int:
    """The position of the first paragraph that starts on page ``index`` (or, for a page
    inside one long paragraph, of that paragraph)."""
    if not chapter.paragraphs:
        return 0
    start = _page_starts(pages)[max(0, min(index, len(pages) - 1))]
    found = chapter.paragraphs[0].position
    for offset, p in zip(_paragraph_offsets(chapter), chapter.paragraphs, strict=True):
        if offset > start:
            break
        found = p.position
    return found


def neighbour_chapter(story: Story, number: int, step: int) -> int | None:
    """The number of the chapter ``step`` (+1 or -1) from chapter ``number``, in reading order."""
    numbers = [c.number for c in story.chapters]
    if number not in numbers:
        return None
    at = numbers.index(number) + step
    return numbers[at] if 0 <= at < len(numbers) else None


def chapter_of_position(story: Story, position: int) -> int | None:
    return next((c.number for c in story.chapters if c.first <= position <= c.last), None)


def read_up_to(story: Story, furthest: int) -> int:
    """The last position a reader whose furthest place is ``furthest`` may see in search
    results without spoilers: the end of the chapter holding it."""
    return next((c.last for c in story.chapters if c.first <= furthest <= c.last), furthest)


def bookmark_words(text: str, limit: int = BOOKMARK_WORDS) -> str:
    """The start of a paragraph, on one line and cut at a word, for a bookmark's listing."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    return line[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


# ---- the service ------------------------------------------------------------------------------
# Each reader's places and bookmarks, keyed by their Discord id; never shown to others.


class Readers:
    """Readers' places (written behind the page turns), bookmarks and spoiler horizon."""

    def __init__(self, store: Store, catalogue: Catalogue, *, read_only: bool) -> None:
        self._store = store
        self._catalogue = catalogue
        self._read_only = read_only
        self.remember = not read_only  # off: page turns record nothing (benchmarks)
        # places waiting to be written: (reader, story id) -> (chapter, position), the latest,
        # in the order of the turns; and the batch being written (reads of places see both)
        self._places: dict[tuple[int, int], tuple[int, int]] = {}
        self._flying: dict[tuple[int, int], tuple[int, int]] = {}
        self._writing: asyncio.Task[None] | None = None

    # ---- turning pages ------------------------------------------------------------------

    async def turn_page(
        self,
        reader: int | None,
        story_ref: str | int,
        chapter_ref: str | int,
        page: int = 0,
        *,
        mature_ok: bool,
        step: int = 0,
        position: int | None = None,
    ) -> PageTurn:
        """Page ``page`` of a chapter (or the page holding ``position``), and the reader's
        place recorded there. Past the chapter's first or last page, ``step`` goes on to the
        chapter before (-1) or after (1), when there is one. ``reader`` None records nothing."""
        chapter = await self._catalogue.chapter(story_ref, chapter_ref, mature_ok=mature_ok)
        pages = paginate(chapter.text)
        if position is not None:
            page = page_of_position(chapter, pages, position)
        elif step and (page < 0 or page > len(pages) - 1):
            number = neighbour_chapter(chapter.story, chapter.number, step)
            if number is not None:
                chapter = await self._catalogue.chapter(chapter.story, number, mature_ok=mature_ok)
                pages = paginate(chapter.text)
                page = 0 if step > 0 else len(pages) - 1
        index = max(0, min(page, len(pages) - 1))
        turn = PageTurn(
            chapter,
            tuple(pages),
            index,
            first_position(chapter, pages, index),
            neighbour_chapter(chapter.story, chapter.number, -1) is not None,
            neighbour_chapter(chapter.story, chapter.number, 1) is not None,
        )
        if reader is not None and self.remember:
            self._remember(reader, chapter.story.id, chapter.number, turn.position)
        return turn

    # ---- places -------------------------------------------------------------------------

    async def record_reading(
        self, reader: int, chapter: Chapter, pages: Sequence[str], page: int
    ) -> None:
        """Remember that ``reader`` is on ``page`` of ``chapter`` (as its first paragraph)."""
        if self.remember:
            position = first_position(chapter, pages, page)
            self._remember(reader, chapter.story.id, chapter.number, position)

    async def record_place(self, reader: int, story: Story, position: int) -> None:
        """Remember that ``reader`` is at the paragraph at ``position`` (Continue reading)."""
        number = chapter_of_position(story, position)
        if self.remember and number is not None:
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
            batch = self._flying = self._places
            self._places = {}
            try:
                await self._store.record_positions(
                    [(user, story, chapter, at) for (user, story), (chapter, at) in batch.items()]
                )
            # locked past every retry (warning) or failed (error): the next turn tries again;
            # any other exception too, never a task failing unseen ("Task exception was ...")
            except Exception as exc:
                log_failure(log, f"{len(batch)} reading place(s) not saved", exc)
                self._wait_again(batch)
                return
            finally:
                self._flying = {}

    def _wait_again(self, batch: dict[tuple[int, int], tuple[int, int]]) -> None:
        """Put a batch that was not written back in front of the turns made since (newer
        turns win, and the order stays the order of the turns)."""
        older = {key: place for key, place in batch.items() if key not in self._places}
        self._places = older | self._places

    def _waiting(self, reader: int) -> list[ReadingPosition]:
        """``reader``'s places not written yet (being written, or waiting after the database
        failed), the most recent first: newer than any of theirs in the store."""
        found: dict[int, ReadingPosition] = {}
        for (user, story), (chapter, at) in reversed(
            [*self._flying.items(), *self._places.items()]
        ):
            if user == reader and story not in found:
                found[story] = ReadingPosition(story, chapter, at, at)
        return list(found.values())

    async def _positions(self, reader: int) -> list[ReadingPosition]:
        """``reader``'s places, the most recent first: those waiting to be written, then the
        store's (a story's furthest is the furthest of both)."""
        waiting = self._waiting(reader)
        stored = {p.story_id: p for p in await self._store.reading_positions(reader)}
        merged = [
            replace(p, furthest=max(p.furthest, stored[p.story_id].furthest))
            if p.story_id in stored
            else p
            for p in waiting
        ]
        pending = {p.story_id for p in waiting}
        return merged + [p for p in stored.values() if p.story_id not in pending]

    def _drop(self, reader: int) -> None:
        """Forget ``reader``'s places waiting to be written: they will never be."""
        self._places = {key: place for key, place in self._places.items() if key[0] != reader}

    async def settled(self) -> None:
        """Wait until the places recorded so far are written, or back waiting after the
        database failed (close, /forget and the counts of what is kept call this)."""
        if self._writing is not None and not self._writing.done():
            await asyncio.shield(self._writing)

    async def flush(self) -> None:
        """Write what waits, once more: a place the database refused waits for the next page
        turn, which may not come before the process stops (the library's close calls this);
        what still fails is said in the log. (A write that was in flight and failed just now
        is not tried again: shutting down must not wait for the lock's retries twice.)"""
        running = self._writing is not None and not self._writing.done()
        await self.settled()
        if self._places and not running:
            self._writing = asyncio.create_task(self._write_places(), name="storybot-places")
            await self.settled()
        if self._places:
            log.error("%d reading place(s) lost: the database refused them", len(self._places))

    async def reading_place(
        self, reader: int, story_ref: str | int | None = None, *, mature_ok: bool
    ) -> Place:
        """Where ``reader`` stopped: in the story named, else in the one they read last (of
        those that may be shown here). A place not written yet (the database failed) is
        newer than the store's, and is read first: while it is the answer, the store is not
        asked."""
        if story_ref is not None:
            story = await self._catalogue.find_story(story_ref, mature_ok=mature_ok)
            place = await self._latest(reader, {story.id})
            if place is None:
                raise StoryBotError(
                    f"You haven't started “{story.title}” yet: open it with /chapter."
                )
        else:
            shown = {s.id: s for s in await self._catalogue.stories(mature_ok=mature_ok)}
            place = await self._latest(reader, shown)
            if place is None:
                raise StoryBotError(NOTHING_TO_CONTINUE)
            story = shown[place.story_id]
        number = chapter_of_position(story, place.position) or place.chapter
        return Place(story, number, place.position)

    async def _latest(self, reader: int, shown: Container[int]) -> ReadingPosition | None:
        """The reader's most recent place in one of the ``shown`` stories: one waiting to be
        written first (newer than the store's: the store is then not asked)."""
        place = next((p for p in self._waiting(reader) if p.story_id in shown), None)
        if place is None:
            stored = await self._store.reading_positions(reader)
            place = next((p for p in stored if p.story_id in shown), None)
        return place

    async def unspoiled(self, found: SearchResult, reader: int, limit: int) -> SearchResult:
        """``found`` without what ``reader`` has not read (the chapters past their furthest
        place in each story): the first ``limit`` hits left, and how many were hidden."""
        furthest = {p.story_id: p.furthest for p in await self._positions(reader)}
        ends = {
            h.story.id: read_up_to(h.story, furthest[h.story.id])
            for h in found.hits
            if h.story.id in furthest
        }
        shown = tuple(h for h in found.hits if h.position <= ends.get(h.story.id, -1))
        return replace(found, hits=shown[:limit], hidden=len(found.hits) - len(shown))

    # ---- bookmarks and what is kept -----------------------------------------------------

    async def add_bookmark(
        self, reader: int, story_ref: str | int, position: int, *, mature_ok: bool
    ) -> Bookmark:
        """Save the place at ``position`` with the story's words there."""
        self._writable()
        story = await self._catalogue.find_story(story_ref, mature_ok=mature_ok)
        number = chapter_of_position(story, position)
        found = await self._store.paragraphs_between(story.id, position, position)
        if number is None or not found:
            raise StoryBotError("That place is no longer in the story.")
        if (await self._store.reader_data(reader)).bookmarks >= BOOKMARK_LIMIT:
            raise StoryBotError(
                f"You have {BOOKMARK_LIMIT} bookmarks: remove some with /bookmarks first."
            )
        words = bookmark_words(found[0].text)
        bookmark_id = await self._store.add_bookmark(reader, story.id, number, position, words)
        return Bookmark(bookmark_id, story.id, number, position, words)

    async def bookmarks(
        self, reader: int, *, mature_ok: bool
    ) -> tuple[list[tuple[Bookmark, Story]], int]:
        """The reader's bookmarks that may be shown here, newest first, each with its story;
        and how many others there are (in stories that cannot be shown here)."""
        stories = {s.id: s for s in await self._catalogue.stories(mature_ok=mature_ok)}
        saved = await self._store.bookmarks(reader)
        shown = [(b, stories[b.story_id]) for b in saved if b.story_id in stories]
        return shown, len(saved) - len(shown)

    async def bookmark_place(self, reader: int, bookmark_id: int, *, mature_ok: bool) -> Place:
        bookmark = await self._store.bookmark(reader, bookmark_id)
        if bookmark is None:
            raise StoryBotError("That bookmark is gone: see yours with /bookmarks.")
        story = await self._catalogue.find_story(bookmark.story_id, mature_ok=mature_ok)
        number = chapter_of_position(story, bookmark.position) or bookmark.chapter
        return Place(story, number, bookmark.position)

    async def remove_bookmark(self, reader: int, bookmark_id: int) -> bool:
        self._writable()
        return await self._store.remove_bookmark(reader, bookmark_id)

    async def reader_data(self, reader: int) -> ReaderData:
        """What is kept about ``reader``: their places waiting to be written count too (read by
        /continue, dropped by /forget), each story's place once."""
        await self.settled()
        kept = await self._store.reader_data(reader)
        return replace(kept, positions=kept.positions + await self._unstored(reader, set()))

    async def _unstored(self, reader: int, waiting: set[int]) -> int:
        """How many of ``reader``'s stories have a place waiting (those now, and ``waiting``)
        and none in the store."""
        waiting |= {p.story_id for p in self._waiting(reader)}
        if not waiting:
            return 0
        return len(waiting - {p.story_id for p in await self._store.reading_positions(reader)})

    async def forget_reader(self, reader: int, dm_channel: int | None = None) -> ReaderData:
        """Delete everything kept about ``reader`` (places, bookmarks, and the excerpt shuffles
        of their DM channel with the bot); returns what there was. Their places waiting to be
        written are dropped first, so none is written afterwards (not even if the store fails
        now)."""
        self._writable()
        waiting = {p.story_id for p in self._waiting(reader)}
        self._drop(reader)
        await self.settled()  # a batch being written lands (then is deleted) or comes back
        waiting |= {p.story_id for p in self._waiting(reader)}
        self._drop(reader)
        # counted by the delete itself (one trip): a place written between a count of the
        # stored ones and the delete (another process, a turn just made) is counted once
        return await self._store.forget_reader(reader, dm_channel, waiting)

    def _writable(self) -> None:
        if self._read_only:
            raise StoryBotError(READ_ONLY)
