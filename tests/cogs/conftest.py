"""simcord fixtures: the real bot from build_bot, on a tmp_path database loaded from the seeds."""

from __future__ import annotations

import pytest

from bot.runtime import StoryBot, build_bot
from bot.settings import Settings


@pytest.fixture
def simcord_bot(settings: Settings) -> StoryBot:
    """A fresh bot per test, built the way production builds it (see tests/conftest.py)."""
    return build_bot(settings)
