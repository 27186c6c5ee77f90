"""The README's picture of a club's release and its thread (docs/club.png), rendered by simcord
with chromium; skipped, with the reason, when Playwright or chromium is missing. Written to
docs/ only with STORYBOT_WRITE_DOCS=1:

    STORYBOT_WRITE_DOCS=1 .venv/bin/pytest -m screenshot tests/cogs/test_club_screenshot.py
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import simcord

from bot.runtime import StoryBot
from bot.settings import Settings
from tests.cogs.closing import BuildBot
from tests.cogs.helpers import admin, server, started
from tests.cogs.test_screenshots import _destination, pytestmark, system_chromium

__all__ = ["pytestmark", "system_chromium"]

START = 4 * 86400 + 17 * 3600 + 50 * 60  # Monday 2026-01-05 17:50 UTC, 18:50 in Paris


@pytest.fixture
def simcord_bot(settings: Settings, closing_bots: BuildBot) -> StoryBot:
    return closing_bots(dataclasses.replace(settings, daily_check_seconds=30))


@pytest.fixture
async def monday_env(simcord_bot: StoryBot) -> AsyncIterator[simcord.Env]:
    async with started(simcord_bot, at=START) as env:
        yield env


async def test_club_screenshot(
    monday_env: simcord.Env, system_chromium: None, tmp_path: Path
) -> None:
    env = monday_env
    s = server(env)
    ada = admin(env, s.guild)
    await ada.slash(
        s.channel,
        "club start",
        story="breaking-alone",
        every="monday",
        at="19:00",
        timezone="Europe/Paris",
    )
    await env.advance_time(11 * 60)
    release = next(m for m in s.channel.history() if m.embeds)
    thread = s.channel.threads[0]
    await s.alice.send(thread, "That last line about the crypt! I did not see it coming.")
    await s.bob.send(thread, "Same. Spike is going to regret that bet by Part 3.")
    await s.alice.click(release, label="I've read it")
    out = _destination(tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    async with env.preview(
        s.channel, viewers=[s.alice], layout="channel", width=1000, height=760
    ) as p:
        capture = await p.screenshot(out / "club.png", target=release, mode="viewport")
        assert capture.ready, capture
    png = (out / "club.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
