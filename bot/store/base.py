"""What every part of the store shares: the connection and one-hop reads."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from typing import Any

import aiosqlite

from bot.errors import StoryBotError

# A writer that finds the database locked past busy_timeout tries again this many times in
# all, sleeping LOCK_BACKOFF, then twice that, ... between tries; then says so in one line.
LOCK_ATTEMPTS = 4
LOCK_BACKOFF = 0.5


def is_locked(exc: BaseException) -> bool:
    """Whether an SQLite error is another connection holding the lock (worth retrying)."""
    return isinstance(exc, sqlite3.OperationalError) and (
        "locked" in str(exc) or "busy" in str(exc)
    )


def locked_error(path: object) -> StoryBotError:
    return StoryBotError(
        f"the database {path} is locked by another process (a running ingest or bot?):"
        " try again when it has finished",
        usage=False,
    )


class SQLBase:
    db: aiosqlite.Connection

    def transaction(self) -> AbstractAsyncContextManager[aiosqlite.Connection]:
        raise NotImplementedError

    async def _write_each(self, sql: str, rows: Iterable[Iterable[Any]]) -> None:
        """One statement per row, each its own autocommitted write, in one trip to the thread."""
        raise NotImplementedError

    async def _all(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        # One trip to aiosqlite's thread: each trip costs about 0.3 ms here, more than most of
        # our queries, so a read is never execute() + fetchall() + close() (three trips).
        return list(await self.db.execute_fetchall(sql, tuple(params)))

    async def _one(self, sql: str, params: Iterable[Any] = ()) -> Any | None:
        rows = await self._all(sql, params)
        return rows[0] if rows else None
