"""What every part of the SQLite store shares: the connection, one-hop reads, and the
translation of SQLite's exceptions into the store's own errors (bot/store/errors.py)."""

from __future__ import annotations

import itertools
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import aiosqlite

from bot.store.errors import StoreDamaged, StoreError, StoreLocked, StoreUnwritable

# A writer that finds the database locked past busy_timeout tries again this many times in
# all, sleeping LOCK_BACKOFF, then twice that, ... between tries; then says so in one line.
LOCK_ATTEMPTS = 4
LOCK_BACKOFF = 0.5

T = TypeVar("T")

# SQLite's words for a file that is not (or no longer) a sound database
_DAMAGE = ("malformed", "not a database")

# SQLite's primary result codes for a database that cannot write, whatever is written:
# the host's to fix, never a story's (by code: an extended code's low byte is its primary)
_UNWRITABLE = {
    sqlite3.SQLITE_PERM: "the operating system refused access to it",
    sqlite3.SQLITE_NOMEM: "out of memory",
    sqlite3.SQLITE_READONLY: "it is read-only: make the file and its folder writable by the"
    " bot's user, or serve it as it is with READ_ONLY=1",
    sqlite3.SQLITE_IOERR: "the disk failed to read or write it: check the disk (dmesg) and"
    " its free space",
    sqlite3.SQLITE_FULL: "the disk is full: free some space",
    sqlite3.SQLITE_CANTOPEN: "a file of it cannot be opened: check that its folder is writable",
}

# True inside a write transaction (in the task that opened it): its reads go through the
# writing connection, which sees what the transaction has written so far
IN_TRANSACTION: ContextVar[bool] = ContextVar("storybot_sqlite_in_transaction", default=False)


def is_locked(exc: BaseException) -> bool:
    """Whether an SQLite error is another connection holding the lock (worth retrying)."""
    return isinstance(exc, sqlite3.OperationalError) and (
        "locked" in str(exc) or "busy" in str(exc)
    )


def is_damaged(exc: BaseException) -> bool:
    """Whether an SQLite error says the file is not (or no longer) a sound database."""
    if not isinstance(exc, sqlite3.Error):
        return False
    return type(exc) is sqlite3.DatabaseError or any(w in str(exc).lower() for w in _DAMAGE)


def unwritable(exc: BaseException) -> str | None:
    """Why an SQLite error is the database's own trouble (see _UNWRITABLE), or None."""
    if not isinstance(exc, sqlite3.Error):
        return None
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:  # an error made by hand, not met in SQLite: its words alone
        code = sqlite3.SQLITE_FULL if "disk is full" in str(exc) else 0
    return _UNWRITABLE.get(code & 0xFF)


def locked_error(path: object) -> StoreLocked:
    return StoreLocked(
        f"the database {path} is locked by another process (a running ingest or bot?):"
        " try again when it has finished"
    )


def locked_pause(path: object, attempt: int) -> float:
    """Try ``attempt`` (from 0) of a write found the database locked past busy_timeout: how
    long to sleep before the next; StoreLocked, in one line, when it was the last. The one
    schedule of every writer, in a thread (``retry_locked``) or not (SQLiteStore)."""
    if attempt >= LOCK_ATTEMPTS - 1:
        raise locked_error(path) from None
    return LOCK_BACKOFF * 2**attempt


def retry_locked(path: object, write: Callable[[], T]) -> T:
    """Run ``write`` (one transaction, all or nothing) in this thread, trying again while
    another process holds the write lock (``locked_pause``); other errors are raised as they
    are, for the caller to judge."""
    for attempt in itertools.count():
        try:
            return write()
        except sqlite3.Error as exc:
            if not is_locked(exc):
                raise
            time.sleep(locked_pause(path, attempt))
    raise AssertionError("unreachable")


def store_error(path: object, exc: sqlite3.Error) -> StoreError:
    """The store's error for an SQLite exception met while the database was in use."""
    if is_locked(exc):
        return locked_error(path)
    text = str(exc)
    if is_damaged(exc):
        return StoreDamaged(
            f"the database is damaged ({text}): run ingest to check and rebuild it,"
            " or restore a backup (see README, Back up)"
        )
    why = unwritable(exc)
    if why is not None:  # SQLITE_FULL and the rest: rolled back, nothing is damaged
        return StoreUnwritable(
            f"the database {path} cannot write ({text}): {why}; this command's changes were"
            " rolled back and the library is as it was: run it again once that is fixed"
        )
    return StoreError(f"the database {path} failed: {text}")


@contextmanager
def sql_errors(path: object) -> Iterator[None]:
    """Raise the store's own error for any SQLite exception inside."""
    try:
        yield
    except sqlite3.Error as exc:
        raise store_error(path, exc) from exc


class SQLBase:
    db: aiosqlite.Connection  # the writing connection (and temp tables of its own)
    # the reading connection: a WAL reader of its own, on its own thread, so a read never
    # waits in a queue behind a write that waits for another process's lock (the same
    # connection as ``db`` for a read-only or in-memory database)
    reads: aiosqlite.Connection
    path: Any

    def transaction(self) -> AbstractAsyncContextManager[aiosqlite.Connection]:
        raise NotImplementedError

    async def _write_each(self, sql: str, rows: Iterable[Iterable[Any]]) -> None:
        """One statement per row, each its own autocommitted write, in one trip to the thread."""
        raise NotImplementedError

    async def _all(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        # One trip to aiosqlite's thread: each trip costs about 0.3 ms here, more than most of
        # our queries, so a read is never execute() + fetchall() + close() (three trips).
        connection = self.db if IN_TRANSACTION.get() else self.reads
        with sql_errors(self.path):
            return list(await connection.execute_fetchall(sql, tuple(params)))

    async def _one(self, sql: str, params: Iterable[Any] = ()) -> Any | None:
        rows = await self._all(sql, params)
        return rows[0] if rows else None
