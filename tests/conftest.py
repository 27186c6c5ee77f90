"""Shared fixtures: a real SQLite file in tmp_path, loaded from the shipped seeds."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from bot.library import Library
from bot.settings import Settings
from tests import pgcluster

# Timing belongs in benchmarks, not tests: no per-example deadline on these noisy machines.
hypothesis_settings.register_profile("storybot", deadline=None)
hypothesis_settings.load_profile("storybot")

# simcord waits at most settle_timeout seconds of wall clock for the bot to settle; its 5 s
# default fails a day of virtual time (tests/cogs/test_daily.py) when the machine is busy.
# A ceiling, not a delay: a settled bot returns at once. A test's own marker keeps its options.
SIMCORD_SETTLE_SECONDS = 60.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "simcord_env" not in getattr(item, "fixturenames", ()):
            continue
        own = item.get_closest_marker("simcord")
        options = {"settle_timeout": SIMCORD_SETTLE_SECONDS, **(own.kwargs if own else {})}
        item.add_marker(pytest.mark.simcord(**options), append=False)


ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture
def stories_dir(tmp_path: Path) -> Path:
    """A copy of the seeds that a test may change freely."""
    folder = tmp_path / "stories"
    shutil.copytree(SEEDS, folder)
    return folder


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path, stories_dir: Path) -> Settings:
    """The library's settings: SQLite in tmp_path, or with --engine postgresql (or
    STORYBOT_TEST_ENGINE=postgresql) a fresh PostgreSQL database."""
    url = None
    if request.config.getoption("--engine") == "postgresql":
        url = request.getfixturevalue("pg_url")
    # no scene model: a bot under test would embed the seeds in the background (minutes of
    # CPU); tests/search/test_vectors.py and the scene evaluation use it on purpose
    return Settings(
        stories_dir=stories_dir, data_dir=tmp_path / "data", scene_model="off", database_url=url
    )


@pytest.fixture
async def library(settings: Settings) -> AsyncIterator[Library]:
    lib = await Library.open(settings)
    await lib.ingest()
    try:
        yield lib
    finally:
        await lib.close()


# ---- PostgreSQL: a throwaway cluster (tests/pgcluster.py), one fresh database per test -------

PG_SKIPPED: list[str] = []  # why the PostgreSQL leg was skipped, said once at the end


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--engine",
        choices=("sqlite", "postgresql"),
        default=os.environ.get("STORYBOT_TEST_ENGINE", "sqlite"),
        help="the store the library fixtures use (the contract suite runs on both anyway)",
    )


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The URL of a PostgreSQL server's maintenance database: STORYBOT_TEST_DATABASE_URL, or
    a cluster of our own; the test is skipped when there is neither."""
    given = os.environ.get("STORYBOT_TEST_DATABASE_URL")
    if given:
        yield given
        return
    if pgcluster.binaries() is None:
        PG_SKIPPED.append(pgcluster.HOW_TO)
        pytest.skip(f"PostgreSQL is not installed: {pgcluster.HOW_TO}")
    with pgcluster.throwaway() as started:
        yield started.url


def _admin(url: str, sql: str) -> None:
    """One statement on the server's maintenance database, on an event loop of its own (a
    sync fixture may be asked for from inside a running loop)."""
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A new, empty database on the test server, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    _admin(pg_server, f"CREATE DATABASE {name}")
    yield pg_server.rsplit("/", 1)[0] + "/" + name
    _admin(pg_server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def cluster() -> Iterator[pgcluster.Cluster]:
    """A throwaway PostgreSQL cluster of the test's own, which the test may stop and start
    (an outage, a restart): never a server named by the environment, which it must not stop."""
    if os.environ.get("STORYBOT_TEST_DATABASE_URL"):
        pytest.skip("stops a PostgreSQL of its own: not a server named by the environment")
    if pgcluster.binaries() is None:
        pytest.skip(f"PostgreSQL is not installed: {pgcluster.HOW_TO}")
    with pgcluster.throwaway() as running:
        yield running


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if PG_SKIPPED:
        terminalreporter.write_line(
            f"PostgreSQL leg skipped (PostgreSQL not found): to run it, {PG_SKIPPED[0]}"
        )
