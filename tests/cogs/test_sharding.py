"""SHARD_COUNT / SHARD_IDS: the bot runs as an AutoShardedBot and serves each shard's guilds."""

from __future__ import annotations

import dataclasses
from datetime import date

import discord
import pytest
import simcord

from bot.daily import DailySchedule
from bot.runtime import StoryBot
from bot.settings import Settings
from tests.cogs.closing import BuildBot, closing_bots
from tests.cogs.helpers import server

__all__ = ["closing_bots"]

TODAY = "**Today's excerpt**"


@pytest.fixture
def simcord_bot(settings: Settings, closing_bots: BuildBot) -> StoryBot:
    return closing_bots(dataclasses.replace(settings, shard_count=3, daily_check_seconds=30))


def test_settings_from_the_environment() -> None:
    settings = Settings.from_env({"SHARD_COUNT": "4", "SHARD_IDS": "2,3"})
    assert settings.shard_count == 4 and settings.shard_ids == (2, 3)


async def test_runs_as_an_auto_sharded_bot(simcord_env: simcord.Env) -> None:
    env = simcord_env
    bot = env.bot
    assert isinstance(bot, discord.AutoShardedClient) and isinstance(bot, StoryBot)
    assert bot.shard_count == 3
    channels = []
    for shard in range(3):
        s = server(env, f"guild on shard {shard}", shard_id=shard, channel="general")
        guild, channel = s.guild, s.channel
        assert bot.get_guild(guild.id).shard_id == shard  # type: ignore[union-attr]
        result = await s.alice.slash(channel, "excerpt")
        assert result.response is not None and result.response.embeds[0].description
        role = guild.create_role("mods", permissions=discord.Permissions(manage_guild=True))
        admin = guild.add_member(env.create_user(f"admin{shard}"), roles=[role])
        await admin.slash(channel, "daily set", channel=channel, time="00:30")
        channels.append(channel)
    await env.advance_time(60 * 60)
    for shard, channel in enumerate(channels):
        posts = [m for m in channel.history() if m.content == TODAY]
        assert len(posts) == 1, f"shard {shard} posts its guild's daily excerpt once"


async def test_a_process_serving_some_shards_posts_only_for_its_guilds(
    settings: Settings, closing_bots: BuildBot
) -> None:
    """SHARD_IDS=1 of SHARD_COUNT=2 over a database holding schedules for guilds on both shards:
    this process posts for its own guild and leaves the other's for the process serving it."""
    both = dataclasses.replace(settings, shard_count=2, shard_ids=(1,), daily_check_seconds=30)
    bot = closing_bots(both)
    async with simcord.run(bot) as env:
        mine = server(env, shard_id=1, channel="general")
        theirs = server(env, shard_id=0, channel="general")
        assert bot.shard_ids == [1] and bot.get_guild(theirs.guild.id) is None
        channels = {s.guild.id: s.channel for s in (mine, theirs)}
        yesterday = date(2025, 12, 31)
        for guild_id, channel in channels.items():
            await bot.library.set_daily_schedule(
                DailySchedule(guild_id, channel.id, "00:00", "UTC", None, yesterday)
            )
        await env.advance_time(60)
        await env.restart_bot(closing_bots(both))  # reads the schedules written above
        await env.advance_time(60)
        assert [m.content for m in channels[mine.guild.id].history()] == [TODAY]
        assert channels[theirs.guild.id].history() == []
        theirs_now = await env.bot.library.daily_schedule(theirs.guild.id)  # type: ignore[attr-defined]
        assert theirs_now is not None and theirs_now.last_posted == yesterday
