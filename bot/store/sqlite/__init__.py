"""The SQLite engine, the embedded default: one file (WAL), opened through aiosqlite.

SQL is grouped by subject in the modules of this package; `SQLiteStore` puts them together
and implements the store's interface (bot/store/interface.py). SQLite's exceptions never
leave this package: they become the store's own errors (bot/store/errors.py).
"""

from __future__ import annotations

import asyncio
import errno
import itertools
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import aiosqlite

from bot.models import DailySchedule
from bot.store.errors import ClosedConnection, StoreDamaged, StoreError
from bot.store.interface import SharedLibrary
from bot.store.rows import upgrade_steps
from bot.store.sqlite.base import (
    IN_TRANSACTION,
    is_locked,
    locked_error,
    locked_pause,
    sql_errors,
    store_error,
)
from bot.store.sqlite.clubs import ClubSQL
from bot.store.sqlite.guilds import GuildSQL
from bot.store.sqlite.library import LibrarySQL
from bot.store.sqlite.readers import ReaderSQL
from bot.store.sqlite.scenes import SceneSQL
from bot.store.sqlite.schema import MIGRATIONS, SCHEMA_VERSION
from bot.store.sqlite.search import SearchSQL
from bot.store.sqlite.vectors import VectorSQL

__all__ = ["SCHEMA_VERSION", "SQLiteStore"]

log = logging.getLogger(__name__)


class SQLiteStore(LibrarySQL, SearchSQL, SceneSQL, VectorSQL, GuildSQL, ReaderSQL, ClubSQL):
    """An open database. Use ``await SQLiteStore.open(path)`` and ``await store.close()``."""

    busy_timeout_ms = 5000  # how long SQLite waits for another process's write lock
    shared: SharedLibrary | None = None  # one host: uploads are files in its stories folder

    def __init__(self, db: aiosqlite.Connection, path: Path) -> None:
        self.db = db
        self.reads = db  # a reading connection of its own once open (see SQLBase.reads)
        self.path = path
        self._write_lock = asyncio.Lock()
        self._bulk: sqlite3.Connection | None = None

    @classmethod
    async def open(cls, path: Path, *, read_only: bool = False, check: bool = False) -> SQLiteStore:
        """Open the database; with ``check`` (a process starting up to serve or ingest), run
        SQLite's quick_check first and, if the file is damaged, put it aside and start a new
        one keeping the per-server settings that can still be read: the caller's ingest then
        rebuilds the library from the stories folder. A read-only process stops instead.

        A file too damaged to open at all (truncated: "database disk image is malformed") is
        treated alike; without ``check`` it is one line (exit 2), never a restart loop."""
        try:
            store = await cls._open(path, read_only=read_only)
        except _Malformed as exc:
            if not check or read_only:
                raise _damaged_error(path, exc.problem) from None
            return await cls._start_afresh(path, exc.problem, [])
        if not check or str(path) == ":memory:":
            return store
        problem = await store.quick_check()
        if problem is None:
            return store
        if read_only:
            await store.close()
            raise _damaged_error(path, problem)
        schedules = await store.rescue_schedules()
        await store.close()
        return await cls._start_afresh(path, problem, schedules)

    @classmethod
    async def _start_afresh(
        cls, path: Path, problem: str, schedules: list[DailySchedule]
    ) -> SQLiteStore:
        """Move a damaged file aside (never delete it) and open a new one with ``schedules``."""
        aside = path.with_name(f"{path.name}.damaged-{datetime.now(UTC):%Y%m%d-%H%M%S}")
        try:
            await asyncio.to_thread(_move_aside, path, aside)
        except OSError as exc:
            raise StoreDamaged(
                f"the database {path} is damaged ({problem}) and cannot be moved aside"
                f" ({exc.strerror or exc}): restore a backup made with `backup`",
                usage=True,
            ) from None
        log.warning(
            "the database %s was damaged (%s): moved to %s; rebuilding the library from the"
            " stories folder, %d daily schedule(s) kept",
            path,
            problem,
            aside,
            len(schedules),
        )
        store = await cls._open(path)
        for schedule in schedules:
            await store.set_daily_schedule(schedule)
        return store

    async def quick_check(self) -> str | None:
        """None when SQLite's quick_check finds the file sound, else its first complaint."""
        try:
            rows = await self._all("PRAGMA quick_check(1)")
            await self._all("SELECT count(*) FROM stories")
        except StoreError as exc:
            return str(exc.__cause__ or exc)
        first = str(rows[0][0]) if rows else "no answer"
        if first == "ok":
            return None
        return " ".join(first.replace("*** in database main ***", "").split())[:200]

    async def rescue_schedules(self) -> list[DailySchedule]:
        try:
            return await self.daily_schedules()
        except (StoreError, ValueError) as exc:
            log.warning("the daily schedules could not be read from the damaged database: %s", exc)
            return []

    @classmethod
    async def _open(cls, path: Path, *, read_only: bool = False) -> SQLiteStore:
        """Open (and create or upgrade) the database; every failure is one StoreError.

        Configuration faults (a data folder that cannot be created or written, a file that
        is not a database, a newer schema) are usage errors: the CLI and the service exit 2,
        which systemd does not retry. A lock held too long is not (exit 1: retry later).
        """
        if read_only:
            return await cls._open_read_only(path)
        if str(path) != ":memory:":
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"cannot create the data folder {path.parent}: {exc.strerror or exc}",
                    usage=True,
                ) from None
        try:
            store = await cls._connect(path, str(path), read_only=False)
            if str(path) != ":memory:":
                store.reads = await store._reading_connection()
        except sqlite3.Error as exc:
            raise _open_error(path, exc) from None
        return store

    @classmethod
    async def _open_read_only(cls, path: Path) -> SQLiteStore:
        """READ_ONLY: the file as it is, never written. SQLite's read-only opening of a WAL
        database needs its shared-memory file beside it, which read-only storage (a read-only
        mount, a folder this user cannot write) cannot hold: there the file is opened as
        immutable, a copy nothing changes while it is served."""
        if not await asyncio.to_thread(path.is_file):
            raise StoreError(
                f"the database {path} does not exist: READ_ONLY serves a copy made with"
                " `backup` (see README, Growing)",
                usage=True,
            )
        try:
            return await cls._connect(path, _uri(path, "mode=ro"), read_only=True)
        except sqlite3.Error as exc:
            if not _needs_writable_folder(exc):
                raise _open_error(path, exc, read_only=True) from None
        await asyncio.to_thread(_no_journal_beside, path)
        try:
            store = await cls._connect(path, _uri(path, "immutable=1"), read_only=True)
        except sqlite3.Error as exc:
            raise _open_error(path, exc, read_only=True) from None
        log.debug("read-only storage (%s): serving %s as it is", _why_unwritable(path), path)
        return store

    @classmethod
    async def _connect(cls, path: Path, target: str, *, read_only: bool) -> SQLiteStore:
        """The store on one configured connection to ``target`` (a path or a file: URI);
        SQLite's errors are left to the caller, which says what they mean."""
        connecting = aiosqlite.connect(target, uri=target.startswith("file:"), isolation_level=None)
        try:
            db = await connecting
        except sqlite3.Error:
            await _worker_stopped(connecting)
            raise
        db.row_factory = aiosqlite.Row
        store = cls(db, path)
        try:
            await store._configure(read_only=read_only)
        except BaseException as exc:
            await db.close()
            cause = exc.__cause__ if isinstance(exc, StoreError) else exc
            if isinstance(cause, sqlite3.Error):
                raise cause from None
            raise
        return store

    async def _configure(self, *, read_only: bool) -> None:
        # A PRAGMA that answers with a row keeps its statement open until its cursor is closed;
        # left to the garbage collector (which may never come, e.g. under simcord, which holds
        # on to results), it makes the migration's COMMIT fail with "SQL statements in progress".
        pragmas = [f"busy_timeout = {self.busy_timeout_ms}", "foreign_keys = ON"]
        if not read_only:
            pragmas += ["journal_mode = WAL", "synchronous = NORMAL"]
        for pragma in pragmas:
            await (await self.db.execute(f"PRAGMA {pragma}")).close()
        row = await self._one("PRAGMA user_version")
        version = int(row[0]) if row else 0
        for step in upgrade_steps(str(self.path), version, SCHEMA_VERSION, read_only=read_only):
            # executescript() commits any open transaction first, so the script carries its own.
            script = (
                f"BEGIN IMMEDIATE;\n{MIGRATIONS[step]}\nPRAGMA user_version = {step + 1};\nCOMMIT;"
            )
            async with self._write_lock:
                try:
                    await self._retry_locked(lambda s=script: self.db.executescript(s))
                except Exception:
                    if self.db.in_transaction:
                        await self.db.execute("ROLLBACK")
                    raise

    async def _reading_connection(self) -> aiosqlite.Connection:
        """A second connection for reads only, opened once the schema is current: in WAL mode
        it reads the last commit while a write (ours or another process's) holds the lock."""
        reads = await aiosqlite.connect(self.path, isolation_level=None)
        reads.row_factory = aiosqlite.Row
        try:
            # not query_only: searches keep temp tables of their own on it
            await (await reads.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")).close()
        except BaseException:
            await reads.close()
            raise
        return reads

    async def _retry_locked(self, start: Callable[[], Awaitable[object]]) -> None:
        """Run ``start`` (which takes the write lock), retrying with backoff while another
        process holds the lock past busy_timeout; then one line saying so."""
        for attempt in itertools.count():
            try:
                await start()
                return
            except sqlite3.Error as exc:
                if not is_locked(exc):
                    raise store_error(self.path, exc) from exc
                await asyncio.sleep(locked_pause(self.path, attempt))

    @asynccontextmanager
    async def exclusive_ingest(self) -> AsyncIterator[None]:
        """One process's file: SQLite's write lock already keeps writers apart. When the
        ingest ends, the bulk writer gives back its page cache (BULK_CACHE_KIB)."""
        try:
            yield
        finally:
            async with self._write_lock:
                if self._bulk is not None:
                    await asyncio.to_thread(self._bulk.execute, "PRAGMA shrink_memory")

    async def close(self) -> None:
        """Close the connections; a call made afterwards raises StoreClosed (closing again
        does nothing)."""
        async with self._write_lock:  # a write in flight (in a thread) ends first
            if isinstance(self.db, ClosedConnection):
                return
            if self._bulk is not None:
                self._bulk.close()
                self._bulk = None
            if self.reads is not self.db:
                await self.reads.close()  # the writer closes last: it checkpoints the WAL
            await self.db.close()
            closed = cast(aiosqlite.Connection, ClosedConnection(str(self.path)))
            self.db = self.reads = closed

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction; rolled back whole on any error, so nothing half-done lands."""
        async with self._write_lock:
            await self._retry_locked(lambda: self.db.execute("BEGIN IMMEDIATE"))
            inside = IN_TRANSACTION.set(True)
            try:
                yield self.db
            except BaseException as exc:
                await self.db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise store_error(self.path, exc) from exc
                raise
            else:
                with sql_errors(self.path):
                    await self.db.execute("COMMIT")
            finally:
                IN_TRANSACTION.reset(inside)

    async def _write_each(self, sql: str, rows: Iterable[Iterable[Any]]) -> None:
        """One statement per row, in one transaction: retried like any write while another
        process holds the lock (a reader's places are not lost to an ingest elsewhere)."""
        async with self.transaction() as db:
            await db.executemany(sql, [tuple(row) for row in rows])

    async def backup(self, target: Path, *, overwrite: bool = False) -> None:
        """A consistent copy of the database while it is in use (SQLite's backup API).

        The copy is made beside ``target`` and renamed over it when complete, so a failed
        backup never leaves a half file under the backup's name.
        """
        partial = target.with_name(f".{target.name}.partial")
        try:
            await asyncio.to_thread(_prepare_backup, target, partial, overwrite)
            async with aiosqlite.connect(partial) as dest:
                await self.reads.backup(dest)  # a read: it never waits behind our writes
            await asyncio.to_thread(os.replace, partial, target)
        except (OSError, sqlite3.Error) as exc:
            await asyncio.to_thread(_remove_partial, partial)
            raise StoreError(
                f"cannot write the backup {target}: {_backup_failure(exc)}", usage=True
            ) from None


def _backup_failure(exc: OSError | sqlite3.Error) -> str:
    if (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or "disk is full" in str(exc):
        return "the disk is full (nothing was left there): free some space or back up elsewhere"
    return str(exc.strerror if isinstance(exc, OSError) and exc.strerror else exc)


async def _worker_stopped(connecting: aiosqlite.Connection) -> None:
    """Wait for a failed connection's worker thread to stop: it answers its stop request on
    the event loop, and a loop closed meanwhile (the process leaving on the error) made it
    print a traceback ("Event loop is closed")."""
    worker = getattr(connecting, "_thread", None)
    if worker is not None and worker.is_alive():
        await asyncio.to_thread(worker.join, 5.0)
    await asyncio.sleep(0)  # let its answer, already queued on the loop, be delivered


def _move_aside(path: Path, aside: Path) -> None:
    os.replace(path, aside)
    for suffix in ("-wal", "-shm"):  # the journal belongs to the damaged file
        journal = path.with_name(path.name + suffix)
        if journal.exists():
            os.replace(journal, aside.with_name(aside.name + suffix))


def _remove_partial(partial: Path) -> None:
    """A failed backup leaves nothing behind: the partial copy nor its journal."""
    for leftover in (partial, *(partial.with_name(partial.name + s) for s in _JOURNALS)):
        if not leftover.exists():  # unlink says "read-only file system" even of no file
            continue
        try:
            leftover.unlink()
        except OSError as exc:
            log.warning("cannot remove the partial backup %s: %s", leftover, exc)


_JOURNALS = ("-journal", "-wal", "-shm")


def _prepare_backup(target: Path, partial: Path, overwrite: bool) -> None:
    if target.is_dir():
        raise StoreError(
            f"{target} is a folder: name the backup file, e.g. {target}/stories.db", usage=True
        )
    if target.exists() and not overwrite:
        raise StoreError(
            f"{target} exists: choose another name, or replace it with --force", usage=True
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    partial.unlink(missing_ok=True)


class _Malformed(StoreDamaged):
    """The file is an SQLite database too damaged to open (truncated, pages lost)."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"the database {path} is damaged ({problem})", usage=True)
        self.problem = problem


def _damaged_error(path: Path, problem: str) -> StoreDamaged:
    return StoreDamaged(
        f"the database {path} is damaged ({problem}): restore a backup made with `backup`"
        " (see README, Back up), or start the bot or `ingest` to rebuild it from the stories"
        " folder",
        usage=True,
    )


def _no_journal_beside(path: Path) -> None:
    """An immutable opening ignores a write-ahead log: one that holds commits is refused."""
    journal = path.with_name(path.name + "-wal")
    if journal.is_file() and journal.stat().st_size > 0:
        raise StoreError(
            f"the database {path} is on read-only storage ({_why_unwritable(path)}) with a"
            f" write-ahead log beside it ({journal.name}) that cannot be read there: serve"
            " a copy made with `backup`",
            usage=True,
        )


def _uri(path: Path, options: str) -> str:
    return f"{path.resolve().as_uri()}?{options}"


def _needs_writable_folder(exc: sqlite3.Error) -> bool:
    """SQLite could not create what a read-only opening of a WAL file needs beside it."""
    name = getattr(exc, "sqlite_errorname", "")
    return name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN")) or "readonly" in str(exc)


def _why_unwritable(path: Path) -> str | None:
    """Why this process cannot write the database (or its folder), in words; None when it
    seems it can."""
    folder = path.parent
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return f"{folder} is on a read-only file system"
    except OSError as exc:
        return f"{folder}: {exc.strerror or exc}"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"its folder {folder} is not writable by this user"
    if path.exists() and not os.access(path, os.W_OK):
        return "the file is not writable by this user"
    return None


def _open_error(path: Path, exc: sqlite3.Error, *, read_only: bool = False) -> StoreError:
    """One line saying what is wrong with the database file and what to do."""
    text = str(exc)
    if isinstance(exc, sqlite3.DatabaseError) and "malformed" in text:
        return _Malformed(path, text)
    if is_locked(exc):
        return locked_error(path)
    if isinstance(exc, sqlite3.DatabaseError) and "not a database" in text:
        return StoreDamaged(
            f"{path} is not a database (damaged or another file): restore a backup"
            " (see README, Back up) or move it away to start afresh",
            usage=True,
        )
    unwritable = _why_unwritable(path) if _needs_writable_folder(exc) else None
    if unwritable and not read_only:
        return StoreError(
            f"cannot write the database {path}: {unwritable}; make it writable by this user,"
            " or set READ_ONLY=1 to serve it as it is",
            usage=True,
        )
    if unwritable or _needs_writable_folder(exc):
        return StoreError(f"cannot open the database {path}: {text}", usage=True)
    return StoreError(f"cannot open the database {path}: {text}")
