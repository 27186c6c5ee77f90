"""The PostgreSQL engine, for bots whose shards run on several hosts: one database, reached
through an asyncpg pool, chosen by DATABASE_URL=postgresql://...

asyncpg rather than psycopg 3: it speaks PostgreSQL's binary protocol itself (no libpq to
install: the wheels are self-contained), its pool is built in, and it is the fastest Python
driver for the many small queries a bot makes. SQL is grouped by subject in the modules of
this package, as in the SQLite engine; asyncpg's exceptions never leave it (they become the
store's own errors, bot/store/errors.py).

Several processes share the database: the schema is upgraded under an advisory lock (one
process upgrades, the others wait and find it done); ingest from a stories folder runs
under another (a second host waits, says so, and then finds its files unchanged); story
writes under a third. Reader and channel writes are single statements that never depend on
a read made before them, so no process overwrites another's update.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import cast

import asyncpg

from bot.store.errors import ClosedConnection, StoreError
from bot.store.interface import SharedLibrary
from bot.store.postgres.base import (
    INGEST_LOCK,
    NAMESPACE,
    SCHEMA_LOCK,
    Connection,
    StoreConnection,
    pg_errors,
    shown,
    unreachable,
)
from bot.store.postgres.clubs import ClubSQL
from bot.store.postgres.guilds import GuildSQL
from bot.store.postgres.hosts import HostSQL
from bot.store.postgres.library import LibrarySQL
from bot.store.postgres.readers import ReaderSQL
from bot.store.postgres.scenes import SceneSQL
from bot.store.postgres.schema import MIGRATIONS, SCHEMA_VERSION
from bot.store.postgres.search import SearchSQL
from bot.store.postgres.tokens import Tokenizer
from bot.store.postgres.vectors import VectorSQL
from bot.store.rows import upgrade_steps

__all__ = ["SCHEMA_VERSION", "PostgresStore"]

log = logging.getLogger(__name__)

DEFAULT_POOL_SIZE = 5


class PostgresStore(
    LibrarySQL, SearchSQL, SceneSQL, VectorSQL, GuildSQL, ReaderSQL, ClubSQL, HostSQL
):
    """An open PostgreSQL library. ``await PostgresStore.open(url)``, ``await store.close()``."""

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self.pool = pool
        self.where = shown(url)
        self.tokenizer = Tokenizer()  # the writer's (in a thread)
        self.stemmer = Tokenizer()  # searches' (small, quick)
        self.shared: SharedLibrary | None = self  # uploads, hosts and removals: HostSQL

    @classmethod
    async def open(
        cls, url: str, *, read_only: bool = False, pool_size: int = DEFAULT_POOL_SIZE
    ) -> PostgresStore:
        """Connect, and create or upgrade the schema (unless ``read_only``)."""
        # no JIT: it compiles a query the planner thinks costly (a BM25 over a few hundred
        # candidates) in tens of milliseconds, more than running it takes. No synchronized
        # sequential scans: a scan of a large table would start where another one stopped,
        # and the first texts a search finds (its unranked answers, bot/store/postgres/
        # search.py) would depend on the searches before it
        settings = {"application_name": "storybot", "jit": "off", "synchronize_seqscans": "off"}
        if read_only:
            settings["default_transaction_read_only"] = "on"
        pool = await _pool(url, pool_size, settings)
        store = cls(pool, url)
        try:
            await store._upgrade(read_only=read_only)
        except BaseException:
            await pool.close()
            raise
        return store

    async def _upgrade(self, *, read_only: bool) -> None:
        with pg_errors(self.where):
            async with self.pool.acquire() as conn:
                if not read_only:
                    conn.holds_session()
                    await conn.execute("SELECT pg_advisory_lock($1, $2)", NAMESPACE, SCHEMA_LOCK)
                try:
                    version = await _version(conn, read_only=read_only)
                    steps = upgrade_steps(self.where, version, SCHEMA_VERSION, read_only=read_only)
                    for step in steps:
                        async with conn.transaction():
                            await conn.execute(MIGRATIONS[step])
                            await conn.execute("UPDATE storybot_schema SET version = $1", step + 1)
                finally:
                    if not read_only:
                        await conn.execute(
                            "SELECT pg_advisory_unlock($1, $2)", NAMESPACE, SCHEMA_LOCK
                        )

    async def close(self) -> None:
        """Close the pool (its queries in flight end first); a call made afterwards raises
        StoreClosed (closing again does nothing)."""
        if isinstance(self.pool, ClosedConnection):
            return
        pool, self.pool = self.pool, cast(asyncpg.Pool, ClosedConnection(self.where))
        await pool.close()

    async def backup(self, target: Path, *, overwrite: bool = False) -> None:
        raise StoreError(
            f"the library is in PostgreSQL ({self.where}): back it up with pg_dump"
            " (see README, Several hosts)",
            usage=True,
        )

    @asynccontextmanager
    async def exclusive_ingest(self) -> AsyncIterator[None]:
        """One host at a time brings the library in line with its stories folder; another
        waits here, says so, and then finds the stories it has already written."""
        with pg_errors(self.where):
            async with self.pool.acquire() as conn:
                conn.holds_session()
                got = await conn.fetchval(
                    "SELECT pg_try_advisory_lock($1, $2)", NAMESPACE, INGEST_LOCK
                )
                if not got:
                    log.info("another storybot is reading the stories folder: waiting for it")
                    await conn.execute("SELECT pg_advisory_lock($1, $2)", NAMESPACE, INGEST_LOCK)
                try:
                    yield
                finally:
                    await conn.execute("SELECT pg_advisory_unlock($1, $2)", NAMESPACE, INGEST_LOCK)


async def _pool(url: str, size: int, settings: dict[str, str]) -> asyncpg.Pool:
    """A pool of up to ``size`` connections, one of them tried now (a wrong URL, password or
    database is said at once, in one line)."""
    try:
        # no floor of open connections: while the server is down, asyncpg would try to
        # restore one in the background and log a traceback for every try; connections
        # are opened as queries need them and kept while they work
        pool = await asyncpg.create_pool(
            url,
            min_size=0,
            max_size=max(1, size),
            max_inactive_connection_lifetime=0,
            server_settings=settings,
            connection_class=StoreConnection,
        )
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, ValueError) as exc:
        raise _open_error(url, exc) from None
    try:
        async with pool.acquire():
            pass
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        await pool.close()
        raise _open_error(url, exc) from None
    return pool


async def _version(conn: Connection, *, read_only: bool) -> int:
    """The schema version, creating the version table in an empty database."""
    if not await conn.fetchval("SELECT to_regclass('storybot_schema') IS NOT NULL"):
        if read_only:
            return 0
        await conn.execute("CREATE TABLE storybot_schema (version INTEGER NOT NULL)")
    version = await conn.fetchval("SELECT version FROM storybot_schema")
    if version is None:
        await conn.execute("INSERT INTO storybot_schema (version) VALUES (0)")
        return 0
    return int(version)


def _open_error(url: str, exc: BaseException) -> StoreError:
    where = shown(url)
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return StoreError(f"the database {where} does not exist: create it (createdb)", usage=True)
    if isinstance(
        exc, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError
    ):
        return StoreError(f"PostgreSQL refused the login for {where}: {exc}", usage=True)
    if isinstance(exc, ValueError):
        return StoreError(f"DATABASE_URL is not a PostgreSQL URL ({where}): {exc}", usage=True)
    return unreachable(exc, where)
