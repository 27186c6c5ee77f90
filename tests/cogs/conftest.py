"""simcord fixtures: the real bot from build_bot, on a tmp_path database loaded from the seeds."""

from __future__ import annotations

import pytest

from bot.runtime import StoryBot
from bot.settings import Settings
from tests.cogs.closing import BuildBot, closing_bots

__all__ = ["closing_bots"]


@pytest.fixture
def simcord_bot(settings: Settings, closing_bots: BuildBot) -> StoryBot:
    """A fresh bot per test, built the way production builds it (see tests/conftest.py).

    Built through closing_bots, so its library is closed after the test, pass or fail.
    """
    return closing_bots(settings)
