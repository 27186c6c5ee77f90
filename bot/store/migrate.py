"""Moving a library from SQLite to PostgreSQL: ``storybot migrate --to postgresql://...``.

The SQLite file is first opened as the bot opens it (upgraded to this storybot's schema; a
newer one is refused), then read in one snapshot (bot/store/sqlite/export.py) and written
into the PostgreSQL database in one transaction (bot/store/postgres/load.py), so a copy
that fails leaves the target as it was. Every id is kept (buttons on old messages hold story
ids); every table is copied: stories, chapters, texts, paragraphs, scene passages, readers'
places and bookmarks, excerpt shuffles, daily schedules, clubs with their releases, members,
managers and votes, follows, watched stories, and scene vectors. Before it commits, the rows
in each target table are counted against the source's: any difference rolls it all back.

Rows whose story or passage the source no longer holds (left by an older storybot) cannot
go in under the target's foreign keys: they are counted as skipped, never silently.

A target that already holds a library (any story, upload, schedule, reader or club) is
refused unless ``force``, which empties it first.

Every story of a SQLite library came from one stories folder (uploads too: they are files in
it), so each copied story is given ``host``, that folder's host key (bot/hosts.py): the
host's next ingest then treats them as its own, as SQLite did, and removes one whose file
has gone from its folder meanwhile. Another host's ingest leaves them alone.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.models import TableCount
from bot.store.errors import StoreDamaged, StoreError
from bot.store.postgres import PostgresStore, load
from bot.store.postgres.base import NAMESPACE, WRITE_LOCK, Connection, pg_errors
from bot.store.postgres.tokens import Tokenizer
from bot.store.rows import CLUB_COLUMNS, FOLLOW_COLUMNS, RELEASE_COLUMNS, VOTE_COLUMNS
from bot.store.sqlite import SQLiteStore
from bot.store.sqlite.export import Export, open_export

_HELD = "story_id IN (SELECT id FROM stories)"


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value).astimezone(UTC) if value else None


def _at(*indices: int) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """A row with the ISO times at ``indices`` made datetimes (TIMESTAMPTZ)."""
    return lambda row: tuple(_time(v) if i in indices else v for i, v in enumerate(row))


def _vote(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return (*row[:3], [int(i) for i in json.loads(row[3])], _time(row[4]))


@dataclass(frozen=True, slots=True)
class _Table:
    name: str
    columns: str
    keep: str = ""  # the rows the target can hold (its keys refuse the others)
    convert: Callable[[tuple[Any, ...]], tuple[Any, ...]] | None = None


# copied story by story (texts and passages are cut into documents on the way)
_STORY_TABLES = (
    _Table("stories", ""),
    _Table("chapters", "", _HELD),
    _Table("paragraphs", "", _HELD),
    _Table("texts", "", f"id IN (SELECT text_id FROM paragraphs WHERE {_HELD})"),
    _Table("scenes", "", _HELD),
    _Table("scene_texts", "", f"id IN (SELECT text_id FROM scenes WHERE {_HELD})"),
)
_STORY_COLUMNS = (
    "id, file, slug, title, author, rating, url, words, paragraph_count, size, mtime_ns, hash,"
    " meta_hash, fandom, relationships, characters, tags, summary, language"
)
_CHAPTER_COLUMNS = "story_id, number, label, words, note, first_position, last_position, text_hash"
# copied as they are
_ROW_TABLES = (
    _Table("daily_schedules", "guild_id, channel_id, time, timezone, story_file, last_posted"),
    _Table("reading_positions", "user_id, story_id, chapter, position, furthest, turn", _HELD),
    _Table("bookmarks", "id, user_id, story_id, chapter, position, words", _HELD),
    _Table("excerpt_shuffles", "channel_id, story_id, scope, seed, size, used", _HELD),
    _Table("clubs", CLUB_COLUMNS, convert=_at(10)),
    _Table("club_releases", RELEASE_COLUMNS, convert=_at(4)),
    _Table("club_members", "channel_id, user_id"),
    _Table("club_managers", "guild_id, role_id"),
    _Table("club_votes", VOTE_COLUMNS, convert=_vote),
    _Table("follows", FOLLOW_COLUMNS, _HELD),
    _Table("story_watch", "story_id, chapters", _HELD),
    _Table(
        "scene_vectors",
        "text_id, model, scale, vector",
        f"text_id IN (SELECT text_id FROM scenes WHERE {_HELD})",
    ),
)

Progress = Callable[[int, int], None]  # (stories copied, stories in all)


async def copy_library(
    source: Path,
    url: str,
    *,
    host: str = "",
    force: bool = False,
    progress: Progress | None = None,
) -> list[TableCount]:
    """Copy the SQLite library at ``source`` into the PostgreSQL database at ``url``, each
    story as the stories folder ``host``'s (a host key, bot/hosts.py; "" for none); each
    table's counts, checked equal (else nothing is copied: StoreError)."""
    if not await asyncio.to_thread(source.is_file):
        raise StoreError(f"there is no SQLite library at {source} to copy", usage=True)
    await _sound(source)
    export = open_export(source)
    try:
        target = await PostgresStore.open(url)
        try:
            with pg_errors(target.where):
                async with target.pool.acquire() as conn, conn.transaction():
                    await conn.execute(
                        "SELECT pg_advisory_xact_lock($1, $2)", NAMESPACE, WRITE_LOCK
                    )
                    await _make_room(conn, target.where, force=force)
                    counts = await _copy(conn, export, target.where, progress)
                    await conn.execute("UPDATE stories SET host = $1", host)
                    return counts
        finally:
            await target.close()
    finally:
        export.close()


async def _sound(source: Path) -> None:
    """Open the source as the bot does (upgraded to this storybot's schema, a newer one
    refused) and check it is sound: a damaged file is said so, never copied nor rebuilt."""
    store = await SQLiteStore.open(source)
    try:
        problem = await store.quick_check()
    finally:
        await store.close()
    if problem is not None:
        raise StoreDamaged(
            f"the SQLite library {source} is damaged ({problem}): restore a backup made with"
            " `backup`, or rebuild it with `ingest`, then migrate",
            usage=True,
        )


async def _make_room(conn: Connection, where: str, *, force: bool) -> None:
    held = await load.held_rows(conn)
    if not held:
        return
    if not force:
        what = ", ".join(f"{n} {table}" for table, n in held.items())
        raise StoreError(
            f"the database {where} already holds a library ({what}): migrate copies into an"
            " empty database; add --force to replace that library with this one",
            usage=True,
        )
    await load.clear(conn)


async def _copy(
    conn: Connection, export: Export, where: str, progress: Progress | None
) -> list[TableCount]:
    stories = export.all(f"SELECT {_STORY_COLUMNS} FROM stories ORDER BY id")
    await load.copy_rows(conn, "stories", _columns(_STORY_COLUMNS), stories)
    chapters = export.all(f"SELECT {_CHAPTER_COLUMNS} FROM chapters WHERE {_HELD}")
    await load.copy_rows(conn, "chapters", _columns(_CHAPTER_COLUMNS), chapters)
    texts = load.StoryCopy(Tokenizer(), set(), set())
    for done, story in enumerate(stories, 1):
        story_id = int(story[0])
        paragraphs = export.story_paragraphs(story_id)
        await texts.copy(conn, paragraphs, export.story_scenes(story_id), story_id)
        if progress is not None:
            progress(done, len(stories))
    await texts.finish(conn)
    for table in _ROW_TABLES:
        where_ = f" WHERE {table.keep}" if table.keep else ""
        for rows in export.batches(f"SELECT {table.columns} FROM {table.name}{where_}"):
            convert = table.convert
            shaped = [convert(tuple(r)) for r in rows] if convert else rows
            await load.copy_rows(conn, table.name, _columns(table.columns), shaped)
    await load.set_sequences(conn, export.high_marks())
    await conn.execute("UPDATE library_version SET version = version + 1")
    return await _check(conn, export, where)


async def _check(conn: Connection, export: Export, where: str) -> list[TableCount]:
    """Each table's rows: in the source, in the target, left behind; any other difference
    is an error (and the transaction rolls back)."""
    tables = (*_STORY_TABLES, *_ROW_TABLES)
    copied = await load.count_rows(conn, [t.name for t in tables])
    counts: list[TableCount] = []
    for table in tables:
        source = export.value(f"SELECT count(*) FROM {table.name}")
        kept = (
            export.value(f"SELECT count(*) FROM {table.name} WHERE {table.keep}")
            if (table.keep)
            else source
        )
        count = TableCount(table.name, source, copied[table.name], source - kept)
        if count.copied != kept:
            raise StoreError(
                f"copying to {where} went wrong: {table.name} has {count.copied} rows there,"
                f" {kept} here; nothing was copied"
            )
        counts.append(count)
    return counts


def _columns(columns: str) -> list[str]:
    return [c.strip() for c in columns.split(",")]
