"""The store: the one place with SQL. Its interface (``Store``, bot/store/interface.py) and
its own errors (bot/store/errors.py) are all that the services see; each engine is a package
of its own (bot/store/sqlite/: the embedded default)."""

from __future__ import annotations

from pathlib import Path

from bot.store.cut import StoryCut, cut_story
from bot.store.errors import (
    StoreDamaged,
    StoreError,
    StoreLocked,
    StoreTooNew,
    StoreUnreachable,
    StoreUnwritable,
)
from bot.store.interface import (
    ClubStore,
    FileState,
    Found,
    SharedLibrary,
    Store,
    StoryWrite,
    Upload,
    VectorRow,
)

__all__ = [
    "ClubStore",
    "FileState",
    "Found",
    "SharedLibrary",
    "Store",
    "StoreDamaged",
    "StoreError",
    "StoreLocked",
    "StoreTooNew",
    "StoreUnreachable",
    "StoreUnwritable",
    "StoryCut",
    "StoryWrite",
    "Upload",
    "VectorRow",
    "cut_story",
    "open_store",
]


async def open_store(
    path: Path,
    *,
    url: str | None = None,
    pool_size: int = 5,
    read_only: bool = False,
    check: bool = False,
) -> Store:
    """Open the library's store: PostgreSQL when ``url`` is given (postgresql://...), else
    SQLite at ``path``; created or upgraded as needed.

    ``check``: a process starting to serve or ingest checks an SQLite file first and
    rebuilds a damaged one (see SQLiteStore.open); PostgreSQL checks itself."""
    if url:
        from bot.store.postgres import PostgresStore

        return await PostgresStore.open(url, read_only=read_only, pool_size=pool_size)
    from bot.store.sqlite import SQLiteStore

    return await SQLiteStore.open(path, read_only=read_only, check=check)
