"""What every part of the PostgreSQL store shares: the pool, one-trip reads, transactions,
and the translation of asyncpg's exceptions into the store's own errors."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from bot.store.errors import (
    StoreDamaged,
    StoreError,
    StoreLocked,
    StoreUnreachable,
    StoreUnwritable,
)

# advisory lock keys (pg_advisory_lock(NAMESPACE, key)): 'sb' and what is locked
NAMESPACE = 0x7362
SCHEMA_LOCK = 1  # upgrading the schema: one process at a time
INGEST_LOCK = 2  # bringing the library in line with a stories folder: one host at a time
WRITE_LOCK = 3  # writing stories (ingest, migrate): one writer at a time


class StoreConnection(asyncpg.Connection):
    """A connection of the store's pool.

    asyncpg resets every connection given back to its pool with a statement of its own
    (advisory locks, cursors, LISTEN, settings): a second round trip after every query, which
    was a tenth of the time of a quote search. The store's reads and transactions leave none
    of that behind (a transaction left open is rolled back on release all the same), so the
    full reset runs only for a connection that held a session advisory lock
    (``holds_session``, said before the lock is asked for: a lock granted to a call cancelled
    while waiting for it is released too). Anything else that keeps state in a session (SET,
    LISTEN, a cursor WITH HOLD) must say ``holds_session`` as well.
    """

    _holds_session = False

    def holds_session(self) -> None:
        """This connection may hold session state: reset it in full when it is given back."""
        self._holds_session = True

    def get_reset_query(self) -> str:
        if not self._holds_session:
            return ""
        self._holds_session = False
        return str(super().get_reset_query())


# a connection of our own or one lent by the pool
Connection = asyncpg.Connection | PoolConnectionProxy

_PASSWORD = re.compile(r"(://[^:/@]*:)[^@]*@")


def shown(url: str) -> str:
    """A database URL as it may be logged or shown: without its password."""
    return _PASSWORD.sub(r"\1***@", url)


def store_error(exc: BaseException, where: str) -> StoreError:
    """The store's error for an exception met while the database was in use."""
    if isinstance(
        exc,
        asyncpg.LockNotAvailableError | asyncpg.DeadlockDetectedError | asyncpg.QueryCanceledError,
    ):
        return StoreLocked(f"the database {where} is busy ({exc}): try again in a moment")
    if isinstance(exc, asyncpg.IndexCorruptedError):  # the rows are sound: rebuild the index
        return StoreDamaged(
            f"an index of the database {where} is damaged ({exc}): rebuild it with REINDEX"
            " (psql: REINDEX DATABASE, as the database's owner); the rows themselves are kept"
        )
    if isinstance(exc, asyncpg.DataCorruptedError):
        return StoreDamaged(
            f"the database {where} is damaged ({exc}): restore a backup made with pg_dump"
        )
    if isinstance(exc, _UNREACHABLE):
        return unreachable(exc, where)
    for kind, why in _UNWRITABLE:
        if isinstance(exc, kind):
            return StoreUnwritable(
                f"the database {where} cannot do it ({exc}): {why}; what was being written was"
                " rolled back whole: run it again once that is fixed"
            )
    return StoreError(f"the database {where} failed: {exc}")


# the server's own trouble, whatever was written: the host's to fix, never a story's
_UNWRITABLE: tuple[tuple[type[BaseException], str], ...] = (
    (
        asyncpg.InsufficientPrivilegeError,
        "the role in DATABASE_URL lacks a privilege on the library's tables (grant it, or"
        " connect as their owner)",
    ),
    (asyncpg.DiskFullError, "the server's disk is full (free some space there)"),
    (asyncpg.InsufficientResourcesError, "the server is out of memory or another resource"),
    (asyncpg.PostgresSystemError, "the server's disk or system failed (see its log)"),
    (
        asyncpg.ReadOnlySQLTransactionError,
        "the server takes no writes (a standby, or default_transaction_read_only)",
    ),
)


# the server is down, restarting or shutting down, or the connection to it was lost
_UNREACHABLE = (
    OSError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.OperatorInterventionError,
)


def unreachable(exc: BaseException, where: str) -> StoreUnreachable:
    """One line saying the database cannot be reached, and why in a few words."""
    if isinstance(exc, OSError) and (exc.errno or 0) > 0:
        why = os.strerror(exc.errno or 0).lower()
    elif isinstance(exc, OSError) and exc.strerror:  # a name not found: errno < 0 (getaddrinfo)
        why = exc.strerror.lower()
    else:
        why = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return StoreUnreachable(f"cannot reach the database {where} ({why}): try again in a moment")


_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)


@contextmanager
def pg_errors(where: str) -> Iterator[None]:
    try:
        yield
    except _ERRORS as exc:
        raise store_error(exc, where) from exc


class PGBase:
    pool: asyncpg.Pool
    where: str  # the URL without its password, for messages

    async def _all(self, sql: str, *params: Any) -> list[Any]:
        with pg_errors(self.where):
            return list(await self.pool.fetch(sql, *params))

    async def _all_planned(self, sql: str, *params: Any) -> list[Any]:
        """``_all``, with a plan made for these parameters: a statement of its own, prepared
        for this call (one more round trip). A cached statement is planned once for any
        parameters after a few calls (PostgreSQL's generic plan), which cannot know how
        many rows a parameter selects: a search limited to one story, planned so, reads
        every text in the library that holds the words, not that story's paragraphs."""
        with pg_errors(self.where):
            async with self.pool.acquire() as conn:
                statement = await conn.prepare(sql)
                return list(await statement.fetch(*params))

    async def _one(self, sql: str, *params: Any) -> Any | None:
        with pg_errors(self.where):
            return await self.pool.fetchrow(sql, *params)

    async def _value(self, sql: str, *params: Any) -> Any:
        with pg_errors(self.where):
            return await self.pool.fetchval(sql, *params)

    async def _execute(self, sql: str, *params: Any) -> int:
        """Run one statement (its own transaction); the number of rows it touched."""
        with pg_errors(self.where):
            status = await self.pool.execute(sql, *params)
        return count(status)

    async def _execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with pg_errors(self.where):
            await self.pool.executemany(sql, rows)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """One transaction on one connection; rolled back whole on any error."""
        with pg_errors(self.where):
            async with self.pool.acquire() as conn, conn.transaction():
                yield conn


def count(status: str) -> int:
    """Rows touched, from a command status such as 'UPDATE 1' or 'INSERT 0 3'."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


def number(value: object) -> int:
    """A value the database always gives (a count, a new id) as an int."""
    if not isinstance(value, int):
        raise StoreError(f"the database answered {value!r} where a number was due")
    return value
