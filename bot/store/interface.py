"""The store's interface: the operations the services need, written down once.

Each engine (bot/store/sqlite/, the embedded default) implements ``Store``; nothing above the
store knows which engine it has. The contract tests (tests/store/) hold every engine to it.
Failures are the store's own errors (bot/store/errors.py), never a driver's.

Conventions every engine keeps:

- Story ids and text ids are never reused (buttons on old messages hold them).
- ``story_ids``: a sequence limits a query to those stories; None means every story.
- Search takes words already folded and cut as bot/text/normalize.py cuts text; the engine
  quotes every word, so nothing a user typed is query syntax.
- A rank is a number where lower is better (BM25 as FTS5 gives it); 0.0 means unranked.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

from bot.models import (
    Bookmark,
    Club,
    ClubMember,
    ClubRelease,
    ClubVote,
    DailySchedule,
    Follow,
    IndexedText,
    Paragraph,
    ParsedStory,
    Rating,
    ReaderData,
    ReadingPosition,
    ScenePassage,
    Story,
    StoryGrowth,
    StoryMeta,
)
from bot.store.cut import StoryCut


@dataclass(frozen=True, slots=True)
class FileState:
    """What the store remembers of a story file, to tell whether it changed."""

    size: int
    mtime_ns: int
    hash: str
    meta_hash: str


@dataclass(frozen=True, slots=True)
class StoryWrite:
    """One story to write: its file, parsed text, metadata and file state, and its text cut
    into the rows every engine stores (bot/store/cut.py: made where the story was parsed)."""

    file: str
    parsed: ParsedStory
    meta: StoryMeta
    state: FileState
    cut: StoryCut


@dataclass(frozen=True, slots=True)
class VectorRow:
    """A passage whose text has a vector: where it is, and the vector's bytes."""

    scene_id: int
    story_id: int
    chapter: int
    first: int
    last: int
    text_id: int
    scale: float
    vector: bytes


@dataclass(frozen=True, slots=True)
class Upload:
    """A story file uploaded with /library add, kept in a store several hosts share."""

    file: str
    size: int
    added_ns: int  # when it was uploaded (ns since the epoch): an upload's modification time
    hash: str


class SharedLibrary(Protocol):
    """What a store that several hosts share keeps beside the stories (bot/hosts.py):

    - the files uploaded with /library add, so that every host serves them;
    - which host's stories folder last held each folder story: a host's ingest removes only
      the stories of its own folder, never another host's nor an upload;
    - the stories removed with /library remove (by file and bytes), so that another host's
      copy of the file does not bring them back.
    """

    async def uploads(self) -> dict[str, Upload]:
        """The uploads the library serves (not those removed), by file."""
        ...

    async def upload_data(self, file: str) -> bytes | None: ...

    async def save_upload(self, file: str, data: bytes, digest: str) -> None:
        """Keep (or replace) an upload; a removal recorded for its file is forgotten."""
        ...

    async def remove_upload(self, file: str) -> bool:
        """Stop serving an upload; its bytes are kept (a later upload of the file replaces
        them)."""
        ...

    async def folder_hosts(self) -> dict[str, str]:
        """Each story's host: the host key of the folder that last held its file, "upload"
        for an upload, "" when unknown."""
        ...

    async def set_folder_host(self, host: str, files: Sequence[str]) -> None: ...

    async def removals(self) -> dict[str, str]:
        """Files removed with /library remove: file -> hash of the bytes removed."""
        ...

    async def record_removal(self, file: str, digest: str) -> None: ...

    async def forget_removals(self, files: Sequence[str]) -> None: ...


# Texts matching a search with their rank, and whether they are all the texts that match.
Found = tuple[list[tuple[IndexedText, float]], bool]


class ClubStore(Protocol):
    """Reading clubs and follows (bot/clubs.py)."""

    async def club(self, channel_id: int) -> Club | None: ...

    async def clubs(self, guild_ids: Iterable[int] | None = None) -> list[Club]: ...

    async def clubs_in_use(self) -> bool: ...

    async def clubs_of_story(self, story_id: int) -> list[Club]: ...

    async def save_club(self, club: Club) -> None: ...

    async def delete_club(self, channel_id: int) -> bool: ...

    async def set_club_state(
        self, channel_id: int, state: str, next_due: datetime | None, *, blocked: str | None = None
    ) -> bool: ...

    async def set_club_blocked(self, channel_id: int, blocked: str | None) -> bool: ...

    async def claim_club_release(
        self, club: Club, chapter: int, state: str, next_due: datetime | None
    ) -> bool: ...

    async def unclaim_club_release(self, club: Club, chapter: int) -> bool: ...

    async def record_club_release(self, release: ClubRelease) -> None: ...

    async def club_releases(self, channel_id: int) -> list[ClubRelease]: ...

    async def club_manager_role(self, guild_id: int) -> int | None: ...

    async def set_club_manager_role(self, guild_id: int, role_id: int | None) -> None: ...

    async def join_club(self, channel_id: int, user_id: int) -> bool: ...

    async def leave_club(self, channel_id: int, user_id: int) -> bool: ...

    async def club_members(self, channel_id: int, story_id: int) -> list[ClubMember]: ...

    async def forget_clubs_and_follows(self, user_id: int) -> tuple[int, int]: ...

    async def clubs_and_follows(self, user_id: int) -> tuple[int, int]: ...

    async def add_club_vote(self, vote: ClubVote) -> None: ...

    async def club_votes(self) -> list[ClubVote]: ...

    async def claim_club_vote(self, message_id: int) -> bool: ...

    async def follow(self, follow: Follow) -> bool: ...

    async def watch_story(self, story_id: int) -> None: ...

    async def unfollow(self, user_id: int, story_id: int) -> bool: ...

    async def follows(self, user_id: int) -> list[Follow]: ...

    async def followers(self, story_id: int) -> list[Follow]: ...

    async def grown_stories(self) -> list[StoryGrowth]: ...

    async def claim_story_growth(self, growth: StoryGrowth) -> bool: ...


class VectorStore(Protocol):
    """Scene passages' vectors (bot/search/vectors.py)."""

    async def vector_counts(self, model: str) -> dict[int, tuple[int, int]]: ...

    async def vector_signature(self, model: str) -> tuple[int, ...]:
        """Changes when vectors of ``model`` were written or forgotten, by this connection or
        another (another process, another host): what library_signature does not cover."""
        ...

    async def vector_pending(
        self, model: str, story_id: int, limit: int
    ) -> list[tuple[int, str]]: ...

    async def write_vectors(self, model: str, rows: Sequence[tuple[int, float, bytes]]) -> int: ...

    async def scene_vector_rows(self, model: str, story_ids: Sequence[int]) -> list[VectorRow]: ...

    async def forget_vectors(self, model: str | None = None) -> None: ...


class Store(ClubStore, VectorStore, Protocol):
    """An open store. Engines open themselves (see bot.store.open_store)."""

    # set when several hosts may share the store (uploads kept in it): see SharedLibrary
    shared: SharedLibrary | None

    async def close(self) -> None: ...

    async def backup(self, target: Path, *, overwrite: bool = False) -> None:
        """A consistent copy of the library at ``target`` (never a half file under its name)."""
        ...

    def exclusive_ingest(self) -> AbstractAsyncContextManager[None]:
        """Held while a process brings the library in line with a stories folder: on a store
        shared by several hosts, a second one waits here (and says so in the log)."""
        ...

    # ---- the catalogue: story files and their text ----------------------------------------

    async def file_ratings(self) -> dict[str, Rating]: ...

    async def file_states(self) -> dict[str, FileState]: ...

    async def touch_file(self, file: str, size: int, mtime_ns: int) -> None: ...

    async def write_stories(self, items: Sequence[StoryWrite]) -> list[str | None]:
        """Put each story in place of its file's previous version; an error or None each.
        A story that fails keeps its previous version; a crash loses no committed story."""
        ...

    async def tidy_indexes(self) -> None:
        """Compact the search indexes after much of the library was rewritten."""
        ...

    async def rename_story(self, old: str, new: str) -> None:
        """A story file renamed (the same bytes): the story keeps its id and its readers."""
        ...

    async def remove_story(self, file: str) -> bool: ...

    async def list_stories(self) -> list[Story]:
        """Every story with its chapters, by title (case folded)."""
        ...

    async def chapter_note(self, story_id: int, number: int) -> str | None: ...

    async def chapter_paragraphs(self, story_id: int, number: int) -> list[Paragraph]: ...

    async def paragraphs_between(self, story_id: int, first: int, last: int) -> list[Paragraph]:
        """Paragraphs with first <= position <= last, in order."""
        ...

    # ---- quote search ---------------------------------------------------------------------

    async def texts_with_all(
        self, words: Sequence[str], story_ids: Sequence[int] | None, limit: int, *, rank_cap: int
    ) -> Found:
        """Texts holding every word; ranked when at most ``rank_cap`` texts match in all."""
        ...

    async def texts_with_phrase(
        self, words: Sequence[str], story_ids: Sequence[int] | None, limit: int
    ) -> Found:
        """Texts holding the words as a phrase (unranked)."""
        ...

    async def texts_with_all_besides(
        self,
        words: Sequence[str],
        story_ids: Sequence[int] | None,
        limit: int,
        besides: Collection[int],
        *,
        within: int | None = None,
        phrase: Sequence[str] | None = None,
    ) -> list[IndexedText] | None:
        """Every text holding every word but those in ``besides`` (texts the caller has read),
        in no order; None, reading no text, when more than ``limit`` texts hold them (those
        in ``besides`` counted). ``within``: the caller needs only the texts where the words
        stand within some ``within`` words in a row (those that may hold a phrase of that
        length); ``phrase``: only the texts that may hold these words one after another (as
        ``words`` cuts a text); an engine may answer more (every text holding the words),
        never fewer, and may count only those against the limit (None when more than
        ``limit`` may hold the phrase)."""
        ...

    async def texts_with_two_of(
        self,
        keys: Sequence[Sequence[str]],
        story_ids: Sequence[int] | None,
        limit: int,
        *,
        rank_cap: int,
    ) -> Found:
        """Texts holding at least two of the keys, each key a word or its alternatives."""
        ...

    async def occurrences(
        self, text_ids: Sequence[int], story_ids: Sequence[int] | None, per_text: int
    ) -> dict[int, list[Paragraph]]:
        """Each text's first paragraph in each story holding it (by story id, at most
        ``per_text`` stories)."""
        ...

    async def paragraphs_with_phrase(
        self, words: Sequence[str], story_ids: Sequence[int] | None, limit: int
    ) -> list[Paragraph]: ...

    async def vocabulary(
        self, min_length: int, max_length: int
    ) -> tuple[list[tuple[str, int]], int]:
        """Every indexed word of a plausible length with the number of texts holding it, by
        word; and the number of texts. Reads the whole index: cache it."""
        ...

    async def library_signature(self) -> tuple[int, ...]:
        """Changes whenever the indexed text may have changed (by this process or another)."""
        ...

    async def neighbours(
        self, wanted: Sequence[tuple[int, int, int]]
    ) -> dict[tuple[int, int], str]:
        """{(story id, position): text} of the paragraphs one before and one after each
        (story id, chapter, position), same chapter only."""
        ...

    # ---- scene search ---------------------------------------------------------------------

    async def scene_stems(self, words: Sequence[str]) -> list[str]:
        """Each word as the scene index stores it (stemmed, folded)."""
        ...

    async def scene_vocabulary(self) -> tuple[dict[str, int], int]: ...

    async def scene_candidates(
        self, words: Sequence[str], story_ids: Sequence[int] | None, limit: int
    ) -> list[ScenePassage]:
        """Scene texts holding any of the (stemmed) words, best first, each placed in the
        first story in scope holding it."""
        ...

    async def scene_texts(self, scene_ids: Sequence[int]) -> dict[int, str]: ...

    async def story_passages(self, story_id: int) -> list[tuple[int, int, int]]: ...

    # ---- readers and channels -------------------------------------------------------------

    async def record_positions(self, places: Iterable[tuple[int, int, int, int]]) -> None:
        """(user, story, chapter, position) each; never loses a place written meanwhile."""
        ...

    async def reading_positions(self, user_id: int) -> list[ReadingPosition]: ...

    async def add_bookmark(
        self, user_id: int, story_id: int, chapter: int, position: int, words: str
    ) -> int: ...

    async def bookmarks(self, user_id: int) -> list[Bookmark]: ...

    async def bookmark(self, user_id: int, bookmark_id: int) -> Bookmark | None: ...

    async def remove_bookmark(self, user_id: int, bookmark_id: int) -> bool: ...

    async def reader_data(self, user_id: int) -> ReaderData: ...

    async def forget_reader(
        self, user_id: int, dm_channel: int | None = None, unwritten: Collection[int] = ()
    ) -> ReaderData:
        """Everything kept about a reader, and their DM channel's excerpt shuffles; returns
        what there was, counted by the deletes themselves: places in the stories deleted and
        in ``unwritten`` (stories whose place the caller held, not yet written), each once."""
        ...

    async def next_in_shuffle(
        self, channel_id: int, story_id: int, scope: str, size: int, new_seed: int
    ) -> tuple[int, int]: ...

    # ---- servers: the daily excerpt -------------------------------------------------------

    async def daily_schedule(self, guild_id: int) -> DailySchedule | None: ...

    async def daily_schedules(self) -> list[DailySchedule]: ...

    async def set_daily_schedule(self, schedule: DailySchedule) -> None: ...

    async def delete_daily_schedule(self, guild_id: int) -> bool: ...

    async def claim_daily_post(self, guild_id: int, day: date) -> bool:
        """Claim ``day``'s post for the guild; False when any process claimed it already."""
        ...

    async def release_daily_post(self, guild_id: int, day: date, previous: date | None) -> bool: ...
