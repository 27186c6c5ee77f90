"""Shared fixtures: a real SQLite file in tmp_path, loaded from the shipped seeds."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from bot.library import Library
from bot.settings import Settings

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
def settings(tmp_path: Path, stories_dir: Path) -> Settings:
    # no scene model: a bot under test would embed the seeds in the background (minutes of
    # CPU); tests/test_scene_vectors.py and the scene evaluation use it on purpose
    return Settings(stories_dir=stories_dir, data_dir=tmp_path / "data", scene_model="off")


@pytest.fixture
async def library(settings: Settings) -> AsyncIterator[Library]:
    lib = await Library.open(settings)
    await lib.ingest()
    try:
        yield lib
    finally:
        await lib.close()
