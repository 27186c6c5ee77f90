"""Frozen dataclasses passed between the store, the core and the front ends."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from typing import Literal

Rating = Literal["general", "teen", "mature", "explicit"]
RATINGS: tuple[Rating, ...] = ("general", "teen", "mature", "explicit")
MATURE_RATINGS: frozenset[str] = frozenset({"mature", "explicit"})
MatchKind = Literal["exact", "words", "fuzzy", "none"]
# how sure scene search is of a passage, surest first
Confidence = Literal["close match", "possible", "long shot"]
CONFIDENCES: tuple[Confidence, ...] = ("close match", "possible", "long shot")


@dataclass(frozen=True, slots=True)
class StoryMeta:
    """What library.toml, or the file itself (EPUB, HTML), says of one story; all optional."""

    title: str | None = None
    author: str | None = None
    rating: Rating | None = None
    url: str | None = None
    fandom: tuple[str, ...] = ()
    relationships: tuple[str, ...] = ()
    characters: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    summary: str | None = None
    language: str | None = None

    def over(self, base: StoryMeta) -> StoryMeta:
        """These fields where set (library.toml), else ``base``'s (the file's own metadata)."""
        mine = {f.name: getattr(self, f.name) for f in fields(self)}
        return replace(base, **{k: v for k, v in mine.items() if v is not None and v != ()})


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
    # what library.toml and the file itself say of the story
    meta: StoryMeta = field(default_factory=StoryMeta)
    # text of the file that is in no chapter, by kind ("front matter", "licence", "notes",
    # "captions" ...): (kind, text) in reading order; see bot/text/structure/left_out.py
    left_out: tuple[tuple[str, str], ...] = ()


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
    fandom: tuple[str, ...] = ()
    relationships: tuple[str, ...] = ()
    characters: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    summary: str | None = None
    language: str | None = None
    # another story of the library has the same title (the same book filed twice, an EPUB
    # beside its .txt): front ends then name it with its file, so the two can be told apart
    shared_title: bool = False

    @property
    def mature(self) -> bool:
        return self.rating in MATURE_RATINGS

    @property
    def name(self) -> str:
        """The title, with the file name when another story has the same title."""
        return f"{self.title} ({self.file})" if self.shared_title else self.title

    def chapter_info(self, number: int) -> ChapterInfo | None:
        return next((c for c in self.chapters if c.number == number), None)


def mark_shared_titles(stories: Sequence[Story]) -> list[Story]:
    """The stories, each marked ``shared_title`` when another has the same title (any case)."""
    counts = Counter(s.title.casefold() for s in stories)
    return [replace(s, shared_title=counts[s.title.casefold()] > 1) for s in stories]


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
    story: Story | None = None  # the one story searched; None: every story shown here


@dataclass(frozen=True, slots=True)
class ScenePassage:
    """A scene passage of the scene index: whole paragraphs of one scene, with its text."""

    id: int
    story_id: int
    chapter: int
    first: int  # position of its first paragraph
    last: int  # position of its last paragraph (inclusive)
    text: str  # its paragraphs, joined by blank lines
    rank: float = 0.0  # FTS5 BM25 rank: lower is better


@dataclass(frozen=True, slots=True)
class SceneHit:
    """A passage that may be the scene described."""

    story: Story
    chapter: int
    chapter_label: str
    position: int  # position of the passage's first paragraph ("Read from here")
    end: int  # position of its last paragraph
    text: str  # the whole passage
    snippet: str  # a window of the passage around what matched, plain text
    marks: tuple[tuple[int, int], ...]  # [start, end) ranges of matched words in snippet
    confidence: Confidence
    score: float


@dataclass(frozen=True, slots=True)
class SceneResult:
    query: str
    # best first; empty only when the query has no words, or no passage shares one and no
    # story searched is ranked by meaning (SceneSearch.find)
    hits: tuple[SceneHit, ...]
    story: Story | None = None  # the one story searched; None: every story shown here


def long_shots(count: int) -> str:
    """How /scene, the console and the shell name ``count`` answers that are all long shots,
    after "Nothing close to …;"."""
    return "the best guesses, long shots all" if count > 1 else "the best guess, a long shot"


@dataclass(frozen=True, slots=True)
class SceneIndexStatus:
    """How far the background scene index (vectors of the scene model) has come."""

    model: str | None  # None: no model (SCENE_MODEL=off, or none can run here)
    passages: int  # passages of the stories within the budget
    embedded: int  # of those, passages with a vector
    stories_ready: int  # stories whose every passage has one: ranked by meaning and words
    stories_budgeted: int  # stories within SCENE_VECTORS_MB
    stories: int  # stories in the library
    building: bool  # the worker is embedding now

    @property
    def done(self) -> bool:
        return self.embedded >= self.passages


# where a story's rating came from, as the ingest report says it
RatingSource = Literal["file", "library.toml", "DEFAULT_RATING", "kept"]


@dataclass(frozen=True, slots=True)
class FileReport:
    """What ingest made of one new or changed file, for the operator."""

    file: str
    title: str
    author: str | None
    rating: Rating
    rating_from: RatingSource  # "kept": it was rated higher before and nothing lowered it
    chapters: int
    words: int
    left_out: tuple[tuple[str, int], ...] = ()  # (kind, words), largest first


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
    files: tuple[FileReport, ...] = ()  # the added and changed files, in file order
    not_read: tuple[tuple[str, str], ...] = ()  # (file, why): not a story format we read

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


# An ingest's read rate is shown once it means something: a few small files read in a blink
# gave "(342.9 MB/s)" for "0.1 MB in 0.0 s".
RATE_SECONDS = 1.0
RATE_BYTES = 2**20


@dataclass(frozen=True, slots=True)
class Progress:
    """How far an ingest's reading and parsing has got (of the files new or changed)."""

    files: int
    total_files: int
    bytes: int
    total_bytes: int
    started: float  # time.monotonic()

    def describe(self) -> str:
        """ "3/3 files, 0.1/0.1 MB in 0.0 s", and the rate ("(12.5 MB/s)") once at least
        RATE_SECONDS have passed and RATE_BYTES were read."""
        seconds = max(time.monotonic() - self.started, 1e-3)
        megabytes = self.bytes / 2**20
        rate = (
            f" ({megabytes / seconds:.1f} MB/s)"
            if seconds >= RATE_SECONDS and self.bytes >= RATE_BYTES
            else ""
        )
        return (
            f"{self.files}/{self.total_files} files, {megabytes:.1f}/"
            f"{self.total_bytes / 2**20:.1f} MB in {seconds:.1f} s{rate}"
        )


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
class PageTurn:
    """A page of a chapter as a reader turns to it, in one trip: the page (clamped to what
    exists), the place it stands for (its first paragraph), and whether there is a chapter
    before and after (where Prev on the first page and Next on the last one go)."""

    chapter: Chapter
    pages: tuple[str, ...]
    page: int
    position: int
    before: bool
    after: bool

    @property
    def total(self) -> int:
        return len(self.pages)


@dataclass(frozen=True, slots=True)
class ReaderData:
    """How much the bot keeps about one reader (what /forget deletes)."""

    positions: int
    bookmarks: int
    clubs: int = 0  # club boards they are on
    follows: int = 0  # stories they follow


# ---- reading together (bot/clubs.py) ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Club:
    """A channel reading one story a chapter at a time, as stored (one club per channel).

    ``last_chapter`` is the number of the chapter released last (None before the first): a
    release is claimed by moving it on, in one conditional write, so it is never posted twice.
    """

    channel_id: int
    guild_id: int
    story_id: int
    every: str  # "day" | "week"
    weekday: int  # 0 = Monday; the day of a weekly club's releases (unused when daily)
    at: str  # "HH:MM", local to ``timezone``
    timezone: str  # an IANA name
    starting: int  # the first chapter's number
    last_chapter: int | None
    released: int  # how many chapters have gone out
    next_due: datetime | None  # UTC; None while paused or finished
    state: str  # "active" | "paused" | "finished"
    starter_id: int  # who started it: told (once) when the bot lacks a permission
    blocked: str | None = None  # the permission that was missing when last tried (reported)


@dataclass(frozen=True, slots=True)
class ClubRelease:
    """A chapter a club released: where its message and thread are."""

    channel_id: int
    chapter: int
    message_id: int | None
    thread_id: int | None
    released_at: datetime


@dataclass(frozen=True, slots=True)
class ClubMember:
    """A member on a club's progress board and the furthest paragraph they have read in its
    story (None: not opened yet)."""

    user_id: int
    furthest: int | None


@dataclass(frozen=True, slots=True)
class ClubVote:
    """A poll for a club's next story: the stories are its answers, in order."""

    message_id: int
    channel_id: int
    guild_id: int
    story_ids: tuple[int, ...]
    ends_at: datetime


@dataclass(frozen=True, slots=True)
class Follow:
    """A reader following a story. ``channel_id``: where its updates are announced instead
    of a DM (an age-restricted channel, for a mature or explicit story)."""

    user_id: int
    story_id: int
    channel_id: int | None


@dataclass(frozen=True, slots=True)
class StoryGrowth:
    """A watched story (followed, or read by a club) whose chapters grew since last seen."""

    story_id: int
    before: int  # the chapters it had when last seen
    after: int  # the chapters it has now
    new: tuple[tuple[int, str], ...]  # (number, label) of the chapters past ``before``


@dataclass(frozen=True, slots=True)
class TableCount:
    """One table copied by ``migrate``: rows in the source, rows now in the target, and rows
    left behind (a reader's place or vector whose story or passage the source no longer
    holds: the target's keys would refuse them)."""

    table: str
    source: int
    copied: int
    skipped: int = 0


@dataclass(frozen=True, slots=True)
class Migration:
    """What ``migrate`` did: the host key every copied story was given (the stories folder
    whose ingest owns them), and each table copied."""

    host: str
    tables: tuple[TableCount, ...]
