"""Frozen dataclasses passed between the store, the core and the front ends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Rating = Literal["general", "teen", "mature", "explicit"]
RATINGS: tuple[Rating, ...] = ("general", "teen", "mature", "explicit")
MATURE_RATINGS: frozenset[str] = frozenset({"mature", "explicit"})
MatchKind = Literal["exact", "words", "fuzzy", "none"]


@dataclass(frozen=True, slots=True)
class StoryMeta:
    """What library.toml says of one file; every field optional."""

    title: str | None = None
    author: str | None = None
    rating: Rating | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class ChapterInfo:
    number: int
    label: str
    words: int
    first: int = 0  # position of the chapter's first paragraph in the story
    last: int = 0  # position of its last paragraph


@dataclass(frozen=True, slots=True)
class Story:
    id: int
    slug: str
    title: str
    file: str
    author: str | None
    rating: Rating
    url: str | None
    words: int
    chapters: tuple[ChapterInfo, ...]

    @property
    def mature(self) -> bool:
        return self.rating in MATURE_RATINGS

    def chapter_info(self, number: int) -> ChapterInfo | None:
        return next((c for c in self.chapters if c.number == number), None)


@dataclass(frozen=True, slots=True)
class Paragraph:
    """One paragraph of story text as readers see it."""

    id: int
    story_id: int
    chapter: int
    position: int  # 0-based, across the whole story
    scene: int  # scene counter across the whole story
    text: str


@dataclass(frozen=True, slots=True)
class IndexedText:
    """One paragraph text of the search index (a chapter stored twice shares its texts)."""

    id: int
    text: str


@dataclass(frozen=True, slots=True)
class Chapter:
    story: Story
    number: int
    label: str
    note: str | None  # author's note, shown apart from the text, never inside it
    paragraphs: tuple[Paragraph, ...]

    @property
    def text(self) -> str:
        return "\n\n".join(p.text for p in self.paragraphs)


@dataclass(frozen=True, slots=True)
class Excerpt:
    story: Story
    chapter: int
    chapter_label: str
    start: int  # position of the first paragraph
    end: int  # position of the last paragraph (inclusive)
    text: str


@dataclass(frozen=True, slots=True)
class Hit:
    story: Story
    chapter: int
    chapter_label: str
    position: int
    text: str  # the whole paragraph
    snippet: str  # a window of the paragraph with matched words between MARK_OPEN/MARK_CLOSE
    score: float
    before: str | None = None  # the paragraph before, when context was asked for
    after: str | None = None


@dataclass(frozen=True, slots=True)
class SearchResult:
    query: str
    match: MatchKind
    hits: tuple[Hit, ...]


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What one ingest pass did, by file name."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()  # (file, reason)
    # for the operator, each naming its file (and line): library.toml problems, refusals
    warnings: tuple[str, ...] = ()

    @property
    def touched(self) -> bool:
        return bool(self.added or self.changed or self.removed)
