"""The store's contract suite runs on every engine: a real SQLite file in tmp_path and a real
PostgreSQL database (a throwaway cluster, tests/pgcluster.py), never a mock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store import Store, open_store


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_url(engine: str, request: pytest.FixtureRequest) -> str | None:
    """None for SQLite; a fresh PostgreSQL database's URL otherwise."""
    if engine == "sqlite":
        return None
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
async def store(tmp_path: Path, store_url: str | None) -> AsyncIterator[Store]:
    opened = await open_store(tmp_path / "data" / "stories.db", url=store_url)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def other_store(tmp_path: Path, store_url: str | None, store: Store) -> AsyncIterator[Store]:
    """A second store on the same database, as a second process (another host) opens it."""
    opened = await open_store(tmp_path / "data" / "stories.db", url=store_url)
    try:
        yield opened
    finally:
        await opened.close()
