"""Bots for simcord tests that close their libraries afterwards, pass or fail.

simcord detaches a bot without calling ``bot.close()``, so the library's aiosqlite connection
(a non-daemon thread) stays open. When a test passes, garbage collection closes it; when one
fails, the traceback keeps the bot alive and pytest hangs at exit waiting for that thread.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest_asyncio

from bot.runtime import StoryBot, build_bot
from bot.settings import Settings

BuildBot = Callable[[Settings], StoryBot]


@pytest_asyncio.fixture
async def closing_bots() -> AsyncIterator[BuildBot]:
    built: list[StoryBot] = []

    def build(settings: Settings) -> StoryBot:
        bot = build_bot(settings)
        built.append(bot)
        return bot

    yield build
    for bot in built:
        library = bot._library  # pyright: ignore[reportPrivateUsage]
        if library is not None:
            await library.close()
