"""What every engine writes and reads the same way: slugs, word counts, names, ratings."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from bot.models import (
    Bookmark,
    ChapterInfo,
    Club,
    ClubRelease,
    ClubVote,
    Follow,
    Rating,
    ReadingPosition,
    Story,
)
from bot.store.errors import StoreError, StoreTooNew


def count_words(text: str) -> int:
    # str.split() over a 100 MB library costs seconds; counting separators is 5x cheaper
    # and exact for the single-spaced text the pipeline produces.
    return text.count(" ") + text.count("\n") - text.count("  ") + 1


def names_json(names: tuple[str, ...]) -> str | None:
    return json.dumps(list(names), ensure_ascii=False) if names else None


def stored_names(value: str | None) -> tuple[str, ...]:
    """A JSON array of names as stored; anything else (NULL, damage) reads as none."""
    if not value:
        return ()
    try:
        names = json.loads(value)
    except ValueError:
        return ()
    return tuple(n for n in names if isinstance(n, str)) if isinstance(names, list) else ()


def stored_rating(value: str) -> Rating:
    """A stored rating; anything unknown reads as explicit (fail closed)."""
    return value if value in ("general", "teen", "mature", "explicit") else "explicit"  # type: ignore[return-value]


def slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:60].rstrip("-") or "story"


# a story as every engine reads it back (with its chapters, read apart)
STORY_COLUMNS = (
    "id, slug, title, file, author, rating, url, words,"
    " fandom, relationships, characters, tags, summary, language"
)
CHAPTER_COLUMNS = "story_id, number, label, words, first_position, last_position"


def stories_from_rows(chapter_rows: Sequence[Any], story_rows: Sequence[Any]) -> list[Story]:
    """Stories (STORY_COLUMNS rows, in order) with their chapters (CHAPTER_COLUMNS rows, in
    order)."""
    chapters: dict[int, list[ChapterInfo]] = {}
    for r in chapter_rows:
        chapters.setdefault(r[0], []).append(ChapterInfo(r[1], r[2], r[3], r[4], r[5]))
    return [
        Story(
            id=r[0],
            slug=r[1],
            title=r[2],
            file=r[3],
            author=r[4],
            rating=stored_rating(r[5]),
            url=r[6],
            words=r[7],
            chapters=tuple(chapters.get(r[0], ())),
            fandom=stored_names(r[8]),
            relationships=stored_names(r[9]),
            characters=stored_names(r[10]),
            tags=stored_names(r[11]),
            summary=r[12],
            language=r[13],
        )
        for r in story_rows
    ]


def upgrade_steps(where: str, version: int, known: int, *, read_only: bool) -> range:
    """The schema steps to run on a database at ``version`` for an engine knowing ``known``
    versions; a newer schema is refused (StoreTooNew, exit 2), and a read-only process
    cannot upgrade an older one."""
    if version > known:
        raise StoreTooNew(
            f"the database {where} was written by a newer storybot "
            f"(schema {version}, this one knows {known}): upgrade storybot"
        )
    if read_only and version < known:
        raise StoreError(
            f"the database {where} is from an older storybot (schema {version});"
            " start storybot once without READ_ONLY to upgrade it",
            usage=True,
        )
    return range(version, known) if not read_only else range(0)


# a reader's place and bookmark, read the same way by every engine
POSITION_COLUMNS = "story_id, chapter, position, furthest"
BOOKMARK_COLUMNS = "id, story_id, chapter, position, words"


def position_row(row: Any) -> ReadingPosition:
    return ReadingPosition(int(row[0]), int(row[1]), int(row[2]), int(row[3]))


def bookmark_row(row: Any) -> Bookmark:
    return Bookmark(int(row[0]), int(row[1]), int(row[2]), int(row[3]), row[4])


# a club, its releases, votes and follows, read the same way by every engine; ``when`` turns
# the engine's stored time (ISO text in SQLite, TIMESTAMPTZ in PostgreSQL) into a UTC datetime
CLUB_COLUMNS = (
    "channel_id, guild_id, story_id, every, weekday, at, timezone, starting, last_chapter,"
    " released, next_due, state, starter_id, blocked"
)
RELEASE_COLUMNS = "channel_id, chapter, message_id, thread_id, released_at"
VOTE_COLUMNS = "message_id, channel_id, guild_id, story_ids, ends_at"
FOLLOW_COLUMNS = "user_id, story_id, channel_id"

When = Callable[[Any], datetime | None]


def _id(value: Any) -> int | None:
    return None if value is None else int(value)


def club_row(row: Any, when: When) -> Club:
    return Club(
        channel_id=int(row[0]),
        guild_id=int(row[1]),
        story_id=int(row[2]),
        every=row[3],
        weekday=int(row[4]),
        at=row[5],
        timezone=row[6],
        starting=int(row[7]),
        last_chapter=_id(row[8]),
        released=int(row[9]),
        next_due=when(row[10]),
        state=row[11],
        starter_id=int(row[12]),
        blocked=row[13],
    )


def club_values(club: Club, time: Callable[[datetime | None], Any]) -> tuple[Any, ...]:
    """A club's values in CLUB_COLUMNS order, its time as the engine stores it."""
    return (
        club.channel_id,
        club.guild_id,
        club.story_id,
        club.every,
        club.weekday,
        club.at,
        club.timezone,
        club.starting,
        club.last_chapter,
        club.released,
        time(club.next_due),
        club.state,
        club.starter_id,
        club.blocked,
    )


def release_row(row: Any, when: When) -> ClubRelease:
    released = when(row[4]) or datetime.now(UTC)  # NOT NULL: only damage reads as none
    return ClubRelease(int(row[0]), int(row[1]), _id(row[2]), _id(row[3]), released)


def vote_row(row: Any, story_ids: Sequence[Any], when: When) -> ClubVote:
    ends = when(row[4])
    if ends is None:
        raise ValueError("a club vote without its end")
    return ClubVote(int(row[0]), int(row[1]), int(row[2]), tuple(int(i) for i in story_ids), ends)


def follow_row(row: Any) -> Follow:
    return Follow(int(row[0]), int(row[1]), _id(row[2]))
