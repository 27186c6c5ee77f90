"""Readers: where a reader is on a chapter's pages, which chapter comes next, what a bookmark
keeps, and the per-channel shuffle of excerpts. Pure functions; the Library stores the state.

A place is the position of a paragraph in its story (the first paragraph of a page), never a
page number: it survives a change of page size, and a story re-read after an edit still opens
near where the reader was.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from bot.models import Chapter, Story

BOOKMARK_WORDS = 160  # characters of story text a bookmark keeps to show in /bookmarks
BOOKMARK_LIMIT = 200  # bookmarks per reader: enough for any reader, bounded for the host
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


def shuffled(seed: int, size: int, index: int) -> int:
    """The ``index``-th passage of the shuffle of ``size`` passages made from ``seed``.

    The order is a function of the seed, so a channel's shuffle is stored as two numbers
    (seed, how many used), not as a list."""
    order = list(range(size))
    random.Random(seed).shuffle(order)
    return order[index]
