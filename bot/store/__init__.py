"""The store: the one place with SQL. One SQLite file (WAL), opened through aiosqlite.

SQL is grouped by subject in the modules of this package; `Store` puts them together.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from bot.errors import StoryBotError
from bot.store.guilds import GuildSQL
from bot.store.library import LibrarySQL
from bot.store.readers import ReaderSQL
from bot.store.schema import MIGRATIONS, SCHEMA_VERSION
from bot.store.search import SearchSQL

__all__ = ["SCHEMA_VERSION", "Store"]


class Store(LibrarySQL, SearchSQL, GuildSQL, ReaderSQL):
    """An open database. Use ``await Store.open(path)`` and ``await store.close()``."""

    def __init__(self, db: aiosqlite.Connection, path: Path) -> None:
        self.db = db
        self.path = path
        self._write_lock = asyncio.Lock()
        self._bulk: sqlite3.Connection | None = None

    @classmethod
    async def open(cls, path: Path, *, read_only: bool = False) -> Store:
        if str(path) != ":memory:" and not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            if read_only:
                db = await aiosqlite.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
            else:
                db = await aiosqlite.connect(path, isolation_level=None)
        except Exception as exc:  # sqlite3.OperationalError and friends: say which file
            raise StoryBotError(f"cannot open the database {path}: {exc}", usage=False) from exc
        db.row_factory = aiosqlite.Row
        store = cls(db, path)
        try:
            await store._configure(read_only=read_only)
        except Exception:
            await db.close()
            raise
        return store

    async def _configure(self, *, read_only: bool) -> None:
        # A PRAGMA that answers with a row keeps its statement open until its cursor is closed;
        # left to the garbage collector (which may never come, e.g. under simcord, which holds
        # on to results), it makes the migration's COMMIT fail with "SQL statements in progress".
        pragmas = ["busy_timeout = 5000", "foreign_keys = ON"]
        if not read_only:
            pragmas += ["journal_mode = WAL", "synchronous = NORMAL"]
        for pragma in pragmas:
            await (await self.db.execute(f"PRAGMA {pragma}")).close()
        row = await self._one("PRAGMA user_version")
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise StoryBotError(
                f"the database {self.path} was written by a newer storybot "
                f"(schema {version}, this one knows {SCHEMA_VERSION})",
                usage=False,
            )
        if read_only:
            if version < SCHEMA_VERSION:  # a read-only process cannot upgrade it
                raise StoryBotError(
                    f"the database {self.path} is from an older storybot (schema {version});"
                    " start storybot once without READ_ONLY to upgrade it",
                    usage=False,
                )
            return
        for step in range(version, SCHEMA_VERSION):
            # executescript() commits any open transaction first, so the script carries its own.
            script = (
                f"BEGIN IMMEDIATE;\n{MIGRATIONS[step]}\nPRAGMA user_version = {step + 1};\nCOMMIT;"
            )
            async with self._write_lock:
                try:
                    await self.db.executescript(script)
                except Exception:
                    if self.db.in_transaction:
                        await self.db.execute("ROLLBACK")
                    raise

    async def close(self) -> None:
        if self._bulk is not None:
            self._bulk.close()
            self._bulk = None
        await self.db.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction; rolled back whole on any error, so nothing half-done lands."""
        async with self._write_lock:
            await self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                await self.db.execute("ROLLBACK")
                raise
            else:
                await self.db.execute("COMMIT")

    async def _write_each(self, sql: str, rows: Iterable[Iterable[Any]]) -> None:
        async with self._write_lock:
            await self.db.executemany(sql, [tuple(row) for row in rows])

    async def backup(self, target: Path) -> None:
        """A consistent copy of the database while it is in use (SQLite's backup API)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        async with aiosqlite.connect(target) as dest:
            await self.db.backup(dest)
