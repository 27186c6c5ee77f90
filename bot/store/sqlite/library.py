"""SQL for stories, chapters and paragraphs."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.models import Paragraph, Rating, Story
from bot.store.cut import StoryCut
from bot.store.errors import REFUSED, ClosedConnection
from bot.store.interface import FileState, StoryWrite
from bot.store.rows import (
    CHAPTER_COLUMNS,
    STORY_COLUMNS,
    names_json,
    slugify,
    stored_rating,
    stories_from_rows,
)
from bot.store.sqlite.base import (
    SQLBase,
    is_damaged,
    is_locked,
    retry_locked,
    sql_errors,
    unwritable,
)
from bot.store.sqlite.bulk import insert_rows
from bot.store.sqlite.scenes import DELETE_SCENE_ROWS, index_scenes, write_scenes

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from pathlib import Path


# paragraphs p with their text t
_PARAGRAPH_COLUMNS = "p.id, p.story_id, p.chapter, p.position, p.scene, t.text"
_PARAGRAPH_TABLES = "paragraphs p JOIN texts t ON t.id = p.text_id"


def _paragraph(row: Any) -> Paragraph:
    return Paragraph(row[0], row[1], row[2], row[3], row[4], row[5])


class LibrarySQL(SQLBase):
    path: Path
    _write_lock: asyncio.Lock
    _bulk: sqlite3.Connection | None
    busy_timeout_ms: int

    # ---- files ---------------------------------------------------------------------------

    async def file_ratings(self) -> dict[str, Rating]:
        """The rating each stored story file has now."""
        return {
            r[0]: stored_rating(r[1]) for r in await self._all("SELECT file, rating FROM stories")
        }

    async def file_states(self) -> dict[str, FileState]:
        rows = await self._all("SELECT file, size, mtime_ns, hash, meta_hash FROM stories")
        return {r[0]: FileState(r[1], r[2], r[3], r[4]) for r in rows}

    async def touch_file(self, file: str, size: int, mtime_ns: int) -> None:
        async with self.transaction() as db:
            await db.execute(
                "UPDATE stories SET size = ?, mtime_ns = ? WHERE file = ?", (size, mtime_ns, file)
            )

    # ---- writing stories -----------------------------------------------------------------
    #
    # Bulk writes run in one worker-thread call on a plain sqlite3 connection: going through
    # aiosqlite statement by statement costs a thread hop per statement, which measured at
    # more than the inserts themselves on a 100 MB library (see benchmarks/ingest.py).

    async def write_stories(self, items: Sequence[StoryWrite]) -> list[str | None]:
        """Put each story in place of its file's previous version; return an error or None each.

        The batch is one transaction. If any story fails, the whole batch is rolled back and
        retried one story per transaction, so only the failing story keeps its previous
        version. (A savepoint per story would be simpler, but FTS5 flushes its pending index
        at every savepoint, which measured three times slower.) A crash before the commit
        leaves every previous version in place. The database as a whole failing (locked past
        every retry, not openable) raises the store's error instead.
        """
        async with self._write_lock:
            work = asyncio.ensure_future(asyncio.to_thread(self._write_stories_sync, items))
            try:
                with sql_errors(self.path):
                    return await asyncio.shield(work)
            except asyncio.CancelledError:
                # a thread cannot be stopped: let this batch commit or roll back before the
                # lock is released, so close() never pulls the connection from under it
                await asyncio.wait([work])
                raise

    def _bulk_connection(self) -> sqlite3.Connection:
        if isinstance(self.db, ClosedConnection):  # closed: never a connection opened again
            raise self.db.error()
        if self._bulk is None:
            self._bulk = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._bulk.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")
            self._bulk.execute("PRAGMA synchronous = NORMAL")
            self._bulk.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
        return self._bulk

    def _write_stories_sync(self, items: Sequence[StoryWrite]) -> list[str | None]:
        db = self._bulk_connection()
        # another process holding the lock is no story's fault: each transaction, the batch's
        # and each story's alone, waits for it the same way (retry_locked)
        try:
            retry_locked(self.path, lambda: _write_batch(db, items))
        except sqlite3.Error as exc:
            if len(items) == 1 or _not_the_story(exc):
                return [_story_error(items[0].file, exc)]
        else:
            return [None] * len(items)
        results: list[str | None] = []
        for item in items:
            try:
                retry_locked(self.path, lambda item=item: _write_batch(db, [item]))
            except sqlite3.Error as exc:
                results.append(_story_error(item.file, exc))
            else:
                results.append(None)
        return results

    async def tidy_indexes(self) -> None:
        """Merge the search indexes into one segment each (FTS5 'optimize').

        A story rewritten leaves its old text's entries deleted but still read by every query
        until segments merge; after most of a library was rewritten (a new text pipeline
        re-reads everything) searches measured 3-4 times slower until this ran. It takes about
        2 s for 100 MB of distinct text.
        """
        async with self.transaction() as db:
            for table in FTS_TABLES:
                await db.execute(f"INSERT INTO {table} ({table}) VALUES ('optimize')")

    async def rename_story(self, old: str, new: str) -> None:
        """A story file renamed (the same bytes under a new name): the story, its id and
        everything keyed by it (readers' places, bookmarks) stay."""
        async with self.transaction() as db:
            await db.execute("UPDATE stories SET file = ? WHERE file = ?", (new, old))

    async def remove_story(self, file: str) -> bool:
        async with self.transaction() as db:
            row = await self._one("SELECT id FROM stories WHERE file = ?", (file,))
            if row is None:
                return False
            await self._delete_story_rows(row[0])
            await db.execute("DELETE FROM stories WHERE id = ?", (row[0],))
            return True

    async def _delete_story_rows(self, story_id: int) -> None:
        for sql in DELETE_STORY_ROWS:
            await self.db.execute(sql, (story_id,))

    # ---- reading -------------------------------------------------------------------------

    async def list_stories(self) -> list[Story]:
        chapters = await self._all(
            f"SELECT {CHAPTER_COLUMNS} FROM chapters ORDER BY story_id, first_position"
        )
        return stories_from_rows(
            chapters,
            await self._all(f"SELECT {STORY_COLUMNS} FROM stories ORDER BY title COLLATE NOCASE"),
        )

    async def chapter_note(self, story_id: int, number: int) -> str | None:
        row = await self._one(
            "SELECT note FROM chapters WHERE story_id = ? AND number = ?", (story_id, number)
        )
        return row[0] if row else None

    async def chapter_paragraphs(self, story_id: int, number: int) -> list[Paragraph]:
        rows = await self._all(
            f"SELECT {_PARAGRAPH_COLUMNS} FROM {_PARAGRAPH_TABLES}"
            " WHERE p.story_id = ? AND p.chapter = ? ORDER BY p.position",
            (story_id, number),
        )
        return [_paragraph(r) for r in rows]

    async def paragraphs_between(self, story_id: int, first: int, last: int) -> list[Paragraph]:
        """Paragraphs with first <= position <= last, in order."""
        rows = await self._all(
            f"SELECT {_PARAGRAPH_COLUMNS} FROM {_PARAGRAPH_TABLES} WHERE p.story_id = ?"
            " AND p.position BETWEEN ? AND ? ORDER BY p.position",
            (story_id, first, last),
        )
        return [_paragraph(r) for r in rows]


# The bulk writer's page cache (SQLite's default is 2 MiB). A batch writes about three times
# its text in pages (texts, paragraphs, passages, two indexes): with room for them the writer
# stops spilling pages mid-transaction and reading them back. On the 100 MB no-repeat library,
# interleaved with the default: the writer's process CPU 26-30 -> 22-23 s, 17% fewer bytes
# written (benchmarks/ingest.py). Kept from batch to batch (freed after each batch, the gain
# was gone), and freed when the ingest ends (SQLiteStore.exclusive_ingest).
BULK_CACHE_KIB = 64 * 1024

# The search indexes, and how much of its new entries each may hold in memory before writing
# them out as a segment (see _size_pending_indexes; FTS5's default is 1 MiB). 16 MiB holds a
# whole batch (BATCH_BYTES of text). On the 100 MB no-repeat library, the same parsed
# batches written with 1 MiB and 16 MiB taking turns, five pairs: the writer thread's CPU
# 14.3-21.9 s -> 12.8-19.3 s (0.76-0.90 of it in each pair; docs/speed.md). Memory: 20 MB
# of text in one transaction through both indexes grew the peak by 44 MB, 22 MB with the
# default; the peak of an ingest of the largest file accepted (its parse) is unchanged.
FTS_TABLES = ("texts_fts", "scenes_fts")
PENDING_INDEX_BYTES = 16 * 1024 * 1024

# A story's rows go, and the texts no other story uses; external-content FTS5 must be told
# the old text of each row it forgets (scene passages first: theirs is read from the
# paragraphs). ?1 is the story id.
_UNSHARED_TEXTS = (
    " WHERE t.id IN (SELECT text_id FROM paragraphs WHERE story_id = ?1) AND NOT EXISTS"
    " (SELECT 1 FROM paragraphs o WHERE o.text_id = t.id AND o.story_id != ?1)"
)
DELETE_STORY_ROWS = (
    *DELETE_SCENE_ROWS,
    f"INSERT INTO texts_fts (texts_fts, rowid, text) SELECT 'delete', t.id, t.text FROM texts t"
    f"{_UNSHARED_TEXTS}",
    f"DELETE FROM texts AS t{_UNSHARED_TEXTS}",
    "DELETE FROM paragraphs WHERE story_id = ?1",
    "DELETE FROM chapters WHERE story_id = ?1",
)


def _not_the_story(exc: sqlite3.Error) -> bool:
    """Whether a write failed for the database's own reasons, whatever was written: damaged,
    locked by another process past every retry, or unable to write (read-only, a full or
    failing disk): raised as the store's error (StoreDamaged, StoreLocked, StoreUnwritable),
    for the host to be told once, never as one story after another refused."""
    return is_damaged(exc) or is_locked(exc) or unwritable(exc) is not None


def _story_error(file: str, exc: sqlite3.Error) -> str:
    """Why a story was not written, for the ingest report (its previous version stays): in
    words for whoever reads the report, SQLite's own in the host's log."""
    if _not_the_story(exc):
        raise exc
    log.warning("the database refused %s: %s", file, exc)
    return REFUSED


def _write_batch(db: sqlite3.Connection, items: Sequence[StoryWrite]) -> None:
    """Write the stories in one transaction, all or nothing."""
    db.execute("BEGIN IMMEDIATE")
    try:
        _size_pending_indexes(db)
        taken = {r[0]: r[1] for r in db.execute("SELECT slug, file FROM stories")}
        ids = _NextIds(
            db.execute("SELECT coalesce(max(id), 0) + 1 FROM paragraphs").fetchone()[0],
            # texts ids are AUTOINCREMENT (never reused); explicit ids move its counter
            db.execute(
                "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'texts'),"
                " (SELECT max(id) FROM texts), 0) + 1"
            ).fetchone()[0],
            # a story id is never reused (buttons on old messages hold them): new ones go
            # above every id ever given, which story_ids remembers (see schema.py)
            db.execute(
                "SELECT max(coalesce((SELECT max(id) FROM stories), 0),"
                " coalesce((SELECT high FROM story_ids), 0)) + 1"
            ).fetchone()[0],
            # scene text ids are AUTOINCREMENT too
            db.execute(
                "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'scene_texts'),"
                " (SELECT max(id) FROM scene_texts), 0) + 1"
            ).fetchone()[0],
        )
        first_text = ids.text
        for item in items:
            _write_one(db, item, taken, ids)
        # the search indexes last (bot/store/sqlite/bulk.py)
        _index_texts(db, first_text)
        index_scenes(db, ids.scenes_to_index)
        db.execute("UPDATE story_ids SET high = max(high, ?)", (ids.story - 1,))
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def _size_pending_indexes(db: sqlite3.Connection) -> None:
    """Let each search index hold a whole batch's new entries in memory (FTS5 'hashsize').

    FTS5 keeps what a transaction adds in memory and writes it out as a new segment of the
    index when that passes its hashsize (1 MiB by default) and at commit; every segment is
    merged with others later (automerge), so a batch (BATCH_BYTES of text) written out in
    pieces of 1 MiB is merged level after level. With room for the whole batch, each index
    gets one segment per batch. The setting is kept in the database (the index's _config
    table), so this writes it once.
    """
    for table in FTS_TABLES:
        row = db.execute(f"SELECT v FROM {table}_config WHERE k = 'hashsize'").fetchone()
        if row is None or row[0] != PENDING_INDEX_BYTES:
            db.execute(
                f"INSERT INTO {table} ({table}, rank) VALUES ('hashsize', ?)",
                (PENDING_INDEX_BYTES,),
            )


@dataclass(slots=True)
class _NextIds:
    """The next free paragraph, text, story and scene text ids within a batch, and the new
    scene texts (id, text) the batch adds, for the scene index."""

    paragraph: int
    text: int
    story: int
    scene_text: int
    scenes_to_index: list[tuple[int, str]] = field(default_factory=list)


def _write_one(
    db: sqlite3.Connection, item: StoryWrite, taken: dict[str, str], ids: _NextIds
) -> None:
    """Write one story inside the caller's transaction."""
    cut = item.cut
    first_id, ids.paragraph = ids.paragraph, ids.paragraph + len(cut.rows)
    existing = db.execute("SELECT id, slug FROM stories WHERE file = ?", (item.file,)).fetchone()
    if existing is not None:
        taken.pop(existing[1], None)
    slug = _free_slug(item.parsed.title, taken)
    values = _story_values(item, slug)
    if existing is None:
        story_id, ids.story = ids.story, ids.story + 1
        db.execute(
            "INSERT INTO stories (id, slug, title, author, rating, url, words, paragraph_count,"
            " size, mtime_ns, hash, meta_hash, fandom, relationships, characters, tags,"
            " summary, language, file) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (story_id, *values, item.file),
        )
    else:
        story_id = existing[0]
        for sql in DELETE_STORY_ROWS:
            db.execute(sql, (story_id,))
        db.execute(
            "UPDATE stories SET slug=?, title=?, author=?, rating=?, url=?, words=?,"
            " paragraph_count=?, size=?, mtime_ns=?, hash=?, meta_hash=?, fandom=?,"
            " relationships=?, characters=?, tags=?, summary=?, language=? WHERE id=?",
            (*values, story_id),
        )
    fresh_from = ids.text  # text ids from here on are this story's new texts
    text_ids = _text_ids(db, cut, ids)
    insert_rows(
        db,
        "chapters (story_id, number, label, words, note, first_position, last_position, text_hash)",
        [(story_id, *c, h) for c, h in zip(cut.chapters, cut.hashes, strict=True)],
    )
    insert_rows(
        db,
        "paragraphs (id, story_id, chapter, position, scene, text_id)",
        [
            (first_id + r[1], story_id, r[0], r[1], r[2], t)
            for r, t in zip(cut.rows, text_ids, strict=True)
        ],
    )
    ids.scene_text = write_scenes(
        db,
        story_id,
        cut,
        text_ids,
        fresh_from=fresh_from,
        next_id=ids.scene_text,
        to_index=ids.scenes_to_index,
    )
    taken[slug] = item.file


def _free_slug(title: str, taken: dict[str, str]) -> str:
    base = slugify(title)
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _story_values(item: StoryWrite, slug: str) -> tuple[object, ...]:
    """The stories row's columns from slug to language, in the order the SQL names them."""
    parsed, meta, state = item.parsed, item.meta, item.state
    return (
        slug,
        parsed.title,
        meta.author,
        meta.rating or "general",
        meta.url,
        item.cut.words,
        len(item.cut.rows),
        state.size,
        state.mtime_ns,
        state.hash,
        state.meta_hash,
        names_json(meta.fandom),
        names_json(meta.relationships),
        names_json(meta.characters),
        names_json(meta.tags),
        meta.summary,
        meta.language,
    )


def _text_ids(db: sqlite3.Connection, cut: StoryCut, ids: _NextIds) -> list[int]:
    """The text id of every paragraph of the story, in order.

    A chapter whose text is already stored (in any story, or earlier in this one) takes the
    same texts; any other chapter's paragraphs become new texts, indexed once the batch's
    other rows are written (``_index_texts``). Sharing whole
    chapters catches what libraries really repeat (a story filed twice, a chapter posted in
    two stories) for one lookup per chapter (by its text hash); sharing single paragraphs
    would cost a lookup in a large random index per paragraph, and measured 75% slower
    ingest.
    """
    out: list[int] = []
    added: list[tuple[int, str]] = []
    mine: dict[bytes, list[int]] = {}  # this story's chapters, not in the chapters table yet
    for chapter, text_hash in zip(cut.chapters, cut.hashes, strict=True):
        length = chapter[5] - chapter[4] + 1
        shared = mine.get(text_hash) or _stored_chapter(db, text_hash, length)
        if shared is None:
            shared = list(range(ids.text, ids.text + length))
            ids.text += length
            added += zip(shared, (r[3] for r in cut.rows[chapter[4] : chapter[5] + 1]), strict=True)
        mine[text_hash] = shared
        out += shared
    insert_rows(db, "texts (id, text)", added)
    return out


def _index_texts(db: sqlite3.Connection, first: int) -> None:
    """Add the texts from id ``first`` on (the batch's new texts) to the quote index, read
    back from ``texts`` in one statement: one statement per text, each text bound from
    Python, cost the writer 0.5-0.8 s more on the 100 MB no-repeat library. The savepoint
    this statement opens (bot/store/sqlite/bulk.py) comes before it adds anything, and its
    end writes the index's new entries out as one segment, as the commit would."""
    db.execute(
        "INSERT INTO texts_fts (rowid, text) SELECT id, text FROM texts WHERE id >= ?", (first,)
    )


def _stored_chapter(db: sqlite3.Connection, text_hash: bytes, length: int) -> list[int] | None:
    """The text ids of a stored chapter with this text hash, in order; None if there is none."""
    found = db.execute(
        "SELECT story_id, first_position, last_position FROM chapters WHERE text_hash = ? LIMIT 1",
        (text_hash,),
    ).fetchone()
    if found is None or found[2] - found[1] + 1 != length:
        return None
    text_ids = [
        r[0]
        for r in db.execute(
            "SELECT text_id FROM paragraphs WHERE story_id = ? AND position BETWEEN ? AND ?"
            " ORDER BY position",
            found,
        )
    ]
    return text_ids if len(text_ids) == length else None
