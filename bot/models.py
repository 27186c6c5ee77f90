"""Frozen dataclasses passed between the store, the core and the front ends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
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
class ParsedChapter:
    """One chapter as the text pipeline found it, before it is stored."""

    number: int
    label: str
    note: str | None
    paragraphs: tuple[tuple[int, str], ...]  # (scene number across the story, text)


@dataclass(frozen=True, slots=True)
class ParsedStory:
    """A story file as the text pipeline found it: what ingest hands to the store."""

    title: str
    chapters: tuple[ParsedChapter, ...]


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
    snippet: str  # a window of the paragraph around the match, as plain text
    marks: tuple[tuple[int, int], ...]  # character ranges of ``snippet`` that matched
    score: float
    before: str | None = None  # the paragraph before, when context was asked for
    after: str | None = None


@dataclass(frozen=True, slots=True)
class SearchResult:
    query: str
    match: MatchKind
    hits: tuple[Hit, ...]
    hidden: int = 0  # matches left out because they are beyond what the reader has read


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What one ingest pass did, by file name."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()  # (file, reason)

    @property
    def touched(self) -> bool:
        return bool(self.added or self.changed or self.removed)


@dataclass(frozen=True, slots=True)
class DailySchedule:
    """One server's daily excerpt, as stored (bot/daily.py says when it is due)."""

    guild_id: int
    channel_id: int
    time: str  # "HH:MM", 24-hour, local to ``timezone``
    timezone: str  # an IANA name, e.g. "Europe/Paris"
    story_file: str | None  # None: a random story each day
    last_posted: date | None  # the local date of the last post (or claimed post)


@dataclass(frozen=True, slots=True)
class ReadingPosition:
    """Where one reader is in one story: the first paragraph of the page they last turned to
    (a position survives a change of page size), and the furthest they have read."""

    story_id: int
    chapter: int
    position: int
    furthest: int


@dataclass(frozen=True, slots=True)
class Bookmark:
    """A place a reader saved, with the story's words there when they saved it."""

    id: int
    story_id: int
    chapter: int
    position: int
    words: str


@dataclass(frozen=True, slots=True)
class Place:
    """A place in a story as the Library hands it to a front end: open a reader here."""

    story: Story
    chapter: int
    position: int


@dataclass(frozen=True, slots=True)
class ReaderData:
    """How much the bot keeps about one reader (what /forget deletes)."""

    positions: int
    bookmarks: int
