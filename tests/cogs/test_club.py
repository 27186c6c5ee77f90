"""Reading together (issue 23) end to end through simcord's virtual clock: a club's releases
and their threads, restarts, /club next, the board, the vote's poll, and missing permissions.

simcord's clock starts on Thursday 2026-01-01 00:00 UTC; these tests start it on Monday
2026-01-05 at 17:00 UTC (``monday_env``), an hour before 19:00 in Paris (UTC+1 in winter):
advancing four days of the daily excerpt's 30-second loop would take longer than simcord
allows one advance.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import discord
import pytest
import simcord

from bot.runtime import StoryBot
from bot.settings import Settings
from tests.cogs.closing import BuildBot
from tests.cogs.helpers import Server, admin, answer, server

MINUTE = 60.0
HOUR = 60 * MINUTE
DAY = 24 * HOUR
MONDAY_1900_PARIS = 1767636000  # 2026-01-05 18:00 UTC
START = 4 * DAY + 17 * HOUR  # Monday 2026-01-05 17:00 UTC


@pytest.fixture
def club_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, daily_check_seconds=30)


@pytest.fixture
def simcord_bot(club_settings: Settings, closing_bots: BuildBot) -> StoryBot:
    return closing_bots(club_settings)


@pytest.fixture
async def monday_env(simcord_bot: StoryBot) -> AsyncIterator[simcord.Env]:
    """simcord's environment with its clock on Monday 2026-01-05 17:00 UTC from the start."""
    env = simcord.Env(simcord_bot)
    env.backend.clock.advance(START)
    await env.start()
    try:
        yield env
    finally:
        await env.shutdown()
        env.raise_errors()


def releases(channel: simcord.ChannelHandle) -> list[discord.Message]:
    return [
        m
        for m in channel.history()
        if m.embeds and "Reading club" in (m.embeds[0].author.name or "")
    ]


def said(result: simcord.InteractionResult) -> str:
    message = answer(result)
    assert message.ephemeral, message
    return message.content


async def start_monday_club(
    env: simcord.Env, **options: object
) -> tuple[Server, simcord.MemberActor]:
    s = server(env)
    ada = admin(env, s.guild)
    text = said(
        await ada.slash(
            s.channel,
            "club start",
            story="breaking-alone",
            every="monday",
            at="19:00",
            timezone="Europe/Paris",
            **options,
        )
    )
    assert "Breaking alone" in text and f"<t:{MONDAY_1900_PARIS}:F>" in text, text
    return s, ada


async def test_a_release_comes_at_its_time_with_its_thread_and_the_next_date(
    monday_env: simcord.Env,
) -> None:
    env = monday_env
    s, _ = await start_monday_club(env)
    await env.advance_time(HOUR - 2 * MINUTE)
    assert releases(s.channel) == []
    await env.advance_time(2 * MINUTE)
    posted = releases(s.channel)
    assert len(posted) == 1
    embed = posted[0].embeds[0]
    assert embed.title == "Breaking alone · Part 1"
    part1 = await s.library.chapter("breaking-alone", "1", mature_ok=False)
    assert embed.description and part1.paragraphs[0].text[:40] in embed.description
    assert len(embed.description) <= 400
    fields = {f.name: f.value for f in embed.fields}
    next_monday = MONDAY_1900_PARIS + 7 * 86400
    assert f"<t:{next_monday}:F>" in fields["Next chapter"]
    threads = s.channel.threads
    assert [t.name for t in threads] == ["Breaking alone · Part 1"]
    assert fields["Talk about it"] == f"<#{threads[0].id}>"
    labels = [c.label for row in posted[0].components for c in row.children]  # type: ignore[attr-defined]
    assert labels == ["Read chapter", "I've read it"]


async def test_buttons_put_members_on_the_board_with_the_chapter_they_reached(
    monday_env: simcord.Env,
) -> None:
    env = monday_env
    s, ada = await start_monday_club(env)
    await env.advance_time(HOUR + MINUTE)
    release = releases(s.channel)[0]
    done = said(await s.alice.click(release, label="I've read it"))
    assert "Part 1" in done and "board" in done
    opened = answer(await s.bob.click(release, label="Read chapter"))
    assert opened.ephemeral  # the chapter opens privately
    forward = said(await ada.slash(s.channel, "club next"))
    assert "Part 2" in forward
    second = releases(s.channel)[-1]
    assert second.embeds[0].title == "Breaking alone · Part 2"
    answer(await s.bob.click(second, label="Read chapter"))

    status = answer(await s.alice.slash(s.channel, "club status"))
    assert status.ephemeral
    fields = {f.name: f.value for f in status.embeds[0].fields}
    assert "every Monday at 19:00 (Europe/Paris)" in fields["Schedule"]
    assert fields["Released"] == "2 of 10 chapters"
    assert f"<t:{MONDAY_1900_PARIS + 7 * 86400}:F>" in fields["Next release"]
    assert "Part 3" in fields["Next release"]
    board = fields["Progress"].splitlines()
    assert board[0].endswith(f"<@{s.bob.id}> — Part 2")
    assert f"<@{s.alice.id}> — Part 1 · *catching up*" in board[1]

    said(await s.alice.slash(s.channel, "club leave"))
    status = answer(await s.bob.slash(s.channel, "club status"))
    assert f"<@{s.alice.id}>" not in status.embeds[0].fields[-1].value
