"""A club's release and Discord's rate limits (issue 23), measured through simcord's request log.

A release is three requests: the message, its thread, the edit that links them. A hundred
clubs due at the same minute are released one after another, RELEASE_SPACING apart, so that
no route is hit past Discord's limits: 50 requests a second in all (the global limit), and 5
in 5 seconds on one route of one channel (Discord's limit for sending messages).
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import simcord

from bot.runtime import StoryBot
from bot.settings import Settings
from tests.cogs.closing import BuildBot
from tests.cogs.helpers import admin, answer, server, started

GLOBAL_PER_SECOND = 50
ROUTE_PER_5_SECONDS = 5
CLUBS = 100
START = 4 * 86400 + 17 * 3600  # Monday 2026-01-05 17:00 UTC: 18:00 in Paris


@pytest.fixture
def simcord_bot(settings: Settings, closing_bots: BuildBot) -> StoryBot:
    return closing_bots(dataclasses.replace(settings, daily_check_seconds=30))


class TimedLog(list[object]):
    """simcord's request log, each request also stamped with the virtual time it was made."""

    def __init__(self, env: simcord.Env) -> None:
        super().__init__()
        self.env = env
        self.times: list[datetime] = []

    def append(self, entry: object) -> None:
        self.times.append(self.env.now())
        super().append(entry)


@pytest.fixture
async def timed_env(simcord_bot: StoryBot) -> AsyncIterator[tuple[simcord.Env, TimedLog]]:
    logs: list[TimedLog] = []

    def timed(env: simcord.Env) -> None:
        logs.append(TimedLog(env))
        env.backend.http_requests = logs[0]

    async with started(simcord_bot, at=START, prepare=timed) as env:
        yield env, logs[0]
        env.raise_errors()


def bucket(method: str, path: str) -> str:
    """Discord's rate-limit bucket of a request: its route with the major id (channel,
    guild, webhook) kept and every other id replaced."""
    parts = path.strip("/").split("/")
    out: list[str] = []
    for i, part in enumerate(parts):
        major = i > 0 and parts[i - 1] in ("channels", "guilds", "webhooks")
        out.append(part if major or not part.isdigit() else "{id}")
    return f"{method} /{'/'.join(out)}"


def club_requests(log: TimedLog, since: int) -> list[tuple[datetime, str]]:
    found = []
    for at, entry in zip(log.times[since:], log[since:], strict=True):
        method, path = entry.method, entry.path  # type: ignore[attr-defined]
        if "/interactions/" not in path:
            found.append((at, bucket(method, path)))
    return found


async def test_one_release_is_at_most_three_requests(
    timed_env: tuple[simcord.Env, TimedLog],
) -> None:
    env, log = timed_env
    s = server(env)
    ada = admin(env, s.guild)
    result = await ada.slash(
        s.channel,
        "club start",
        story="breaking-alone",
        every="day",
        at="19:00",
        timezone="Europe/Paris",
    )
    assert answer(result).ephemeral
    since = len(log)
    await env.advance_time(3600 + 60)
    made = [route for _, route in club_requests(log, since)]
    channel = s.channel.id
    assert made == [
        f"POST /channels/{channel}/messages",
        f"POST /channels/{channel}/messages/{{id}}/threads",
        f"PATCH /channels/{channel}/messages/{{id}}",
    ]


async def test_a_hundred_clubs_at_one_minute_stay_within_discords_limits(
    timed_env: tuple[simcord.Env, TimedLog],
) -> None:
    env, log = timed_env
    s = server(env)
    channels = [s.guild.create_text_channel(f"club-{n}") for n in range(CLUBS)]
    ada = admin(env, s.guild)
    for channel in channels:
        result = await ada.slash(
            s.channel,
            "club start",
            story="breaking-alone",
            every="day",
            at="19:00",
            timezone="Europe/Paris",
            channel=channel,
        )
        assert "Breaking alone" in answer(result).content
    since = len(log)
    release = datetime(2026, 1, 5, 18, 0, tzinfo=UTC)  # 19:00 in Paris
    await env.advance_time((release - env.now()).total_seconds() - 60)
    assert club_requests(log, since) == []
    for _ in range(6 * 5):  # five minutes, ten seconds at a time (one advance has 5 s to run)
        await env.advance_time(10)
    made = club_requests(log, since)
    assert len(made) == 3 * CLUBS
    for channel in channels:
        assert sum(1 for _, r in made if re.search(rf"/channels/{channel.id}/", r)) == 3
    per_second = Counter(at.replace(microsecond=0) for at, _ in made)
    busiest = max(per_second.values())
    assert busiest <= GLOBAL_PER_SECOND, busiest
    for route in {r for _, r in made}:
        times = sorted(at for at, r in made if r == route)
        for i, first in enumerate(times):
            within = [t for t in times[i:] if (t - first).total_seconds() < 5]
            assert len(within) <= ROUTE_PER_5_SECONDS, route
    spread = (made[-1][0] - made[0][0]).total_seconds()
    print(f"\n{CLUBS} clubs: {len(made)} requests over {spread:.1f} s, busiest second {busiest}")
