"""A PostgreSQL store holding the five seeds, for the engine's own tests (tests/store/test_pg_*)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.ingest import ingest
from bot.store import open_store
from bot.store.postgres import PostgresStore
from tests.conftest import SEEDS


@asynccontextmanager
async def seeded_postgres(
    tmp_path: Path, url: str, *, pool_size: int = 5
) -> AsyncIterator[PostgresStore]:
    """The store at ``url`` with the seeds ingested from a copy in tmp_path; closed after."""
    folder = tmp_path / "stories"
    shutil.copytree(SEEDS, folder)
    store = await open_store(tmp_path / "unused.db", url=url, pool_size=pool_size)
    try:
        assert isinstance(store, PostgresStore)
        await ingest(store, folder)
        yield store
    finally:
        await store.close()
