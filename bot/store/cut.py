"""A parsed story cut into the rows every engine stores: paragraphs in order, chapters with
their word counts and text hashes, and scene passages.

The cut is pure text work, so ingest makes it where it parses (bot/ingest/reading.py, in the
worker processes) and the writer, which runs one batch at a time and holds up the whole
ingest, only writes. On the 100 MB no-repeat library this was about 2 s of the writer
thread's ~18 s of CPU (benchmarks/ingest.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from bot.models import ParsedStory
from bot.store.passages import passages
from bot.store.rows import count_words

# (chapter number, position, scene, text)
Row = tuple[int, int, int, str]
# (number, label, words, note, first position, last position)
ChapterRow = tuple[int, str, int, str | None, int, int]


@dataclass(frozen=True, slots=True)
class StoryCut:
    """A story as the store writes it (``cut_story``)."""

    rows: tuple[Row, ...]  # every paragraph, in position order
    chapters: tuple[ChapterRow, ...]  # chapters with text, in order
    hashes: tuple[bytes, ...]  # each chapter's text hash (chapter_hash), as ``chapters``
    passages: tuple[tuple[int, int, int], ...]  # (chapter, first, last): bot/store/passages.py

    @property
    def words(self) -> int:
        return sum(c[2] for c in self.chapters)


def cut_story(parsed: ParsedStory) -> StoryCut:
    """The story's rows. A chapter whose number an earlier chapter took gets the next free
    one (numbers must stay unique for lookup); a heading with no text under it is not a
    chapter."""
    rows: list[Row] = []
    chapters: list[ChapterRow] = []
    used: set[int] = set()
    for chapter in parsed.chapters:
        number = chapter.number if chapter.number not in used else max(used) + 1
        first = len(rows)
        words = 0
        for scene, text in chapter.paragraphs:
            rows.append((number, len(rows), scene, text))
            words += count_words(text)
        if len(rows) == first:
            continue
        used.add(number)
        chapters.append((number, chapter.label, words, chapter.note, first, len(rows) - 1))
    hashes = tuple(chapter_hash(r[3] for r in rows[c[4] : c[5] + 1]) for c in chapters)
    return StoryCut(tuple(rows), tuple(chapters), hashes, tuple(passages(rows)))


def chapter_hash(texts: Iterable[str]) -> bytes:
    """What names a chapter's text: a chapter already stored with this hash (and as many
    paragraphs) shares its texts."""
    digest = hashlib.blake2b(digest_size=16)
    for text in texts:
        digest.update(text.encode())
        digest.update(b"\x00")
    return digest.digest()
