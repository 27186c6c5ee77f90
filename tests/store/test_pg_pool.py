"""The PostgreSQL store's pool: a connection given back after a read is not reset (asyncpg's
reset is a second round trip after every query); one that held a session advisory lock is,
so the lock never outlives its holder.

The server's own view says which statement a connection ran last (pg_stat_activity), on a
connection of the test's own."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

import bot.store.postgres as pg_store
from bot.store import open_store
from bot.store.postgres.base import INGEST_LOCK, NAMESPACE
from tests.store.seeded import seeded_postgres


async def _last_statements(url: str) -> list[str]:
    """What each of the store's connections ran last."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT query FROM pg_stat_activity WHERE application_name = 'storybot'"
            " AND pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()
    return [r[0] for r in rows]


async def test_a_read_is_one_statement(tmp_path: Path, pg_url: str) -> None:
    async with seeded_postgres(tmp_path, pg_url, pool_size=1) as store:
        found, _ = await store.texts_with_all(["willow"], None, 5, rank_cap=300)
        assert found
        last = await _last_statements(pg_url)
        await store.list_stories()
        after_another = await _last_statements(pg_url)
    assert len(last) == 1 and last[0].startswith("WITH found"), last
    assert len(after_another) == 1 and "FROM stories" in after_another[0], after_another


async def test_a_session_lock_is_released_when_its_holder_is_given_back(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ingest lock's holder failed to unlock it (here: it unlocked another key): the
    connection's reset on its way back to the pool releases it, and another host gets it."""
    store = await open_store(tmp_path / "unused.db", url=pg_url, pool_size=1)
    try:
        async with store.exclusive_ingest():
            monkeypatch.setattr(pg_store, "INGEST_LOCK", INGEST_LOCK + 100)
        other = await asyncpg.connect(pg_url)
        try:
            got = await other.fetchval(
                "SELECT pg_try_advisory_lock($1, $2)", NAMESPACE, INGEST_LOCK
            )
        finally:
            await other.close()
    finally:
        await store.close()
    assert got is True
