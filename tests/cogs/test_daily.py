"""/daily set | off | show and the daily post, end to end through simcord's virtual clock.

simcord's clock starts at 2026-01-01 00:00 UTC; ``env.advance_time`` moves it and runs the
bot's discord.ext.tasks loop as it would have run.
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
from datetime import date

import discord
import pytest
import simcord

from bot.errors import StoryBotError
from bot.library import Library
from bot.models import DailySchedule
from bot.runtime import StoryBot
from bot.settings import Settings
from bot.store.sqlite import SQLiteStore
from tests.cogs.age_restricted import Mark, age_restricted
from tests.cogs.closing import BuildBot, closing_bots
from tests.cogs.helpers import server
from tests.refusing import allow, execute, refuse

__all__ = ["age_restricted", "closing_bots"]

TODAY = "**Today's excerpt**"
MINUTE = 60.0
EXPLICIT = "Taking Steps"  # rated explicit in seeds/library.toml


@pytest.fixture
def daily_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, daily_check_seconds=30)


@pytest.fixture
def simcord_bot(daily_settings: Settings, closing_bots: BuildBot) -> StoryBot:
    return closing_bots(daily_settings)


def _admin(env: simcord.Env, guild: simcord.GuildHandle) -> simcord.MemberActor:
    role = guild.create_role("mods", permissions=discord.Permissions(manage_guild=True))
    return guild.add_member(env.create_user(f"admin{guild.id % 1000}"), roles=[role])


def _posts(channel: simcord.ChannelHandle) -> list[discord.Message]:
    return [m for m in channel.history() if m.content == TODAY]


def _said(result: simcord.InteractionResult) -> str:
    message = result.response
    assert message is not None and message.ephemeral, result
    return message.content


async def test_posts_once_at_the_set_time_and_not_again_after_a_restart(
    simcord_env: simcord.Env, daily_settings: Settings, closing_bots: BuildBot
) -> None:
    env = simcord_env
    s = server(env, channel="daily")
    guild, channel = s.guild, s.channel
    ada = _admin(env, guild)
    said = _said(await ada.slash(channel, "daily set", channel=channel, time="00:10"))
    assert "at **00:10** (UTC)" in said and "from a random story" in said

    await env.advance_time(9 * MINUTE)
    assert _posts(channel) == []
    await env.advance_time(2 * MINUTE)
    posts = _posts(channel)
    assert len(posts) == 1
    embed = posts[0].embeds[0]
    assert embed.description and embed.footer.text
    assert EXPLICIT not in (embed.author.name or "")  # not an age-restricted channel
    labels = [c.label for row in posts[0].components for c in row.children]  # type: ignore[attr-defined]
    assert labels == ["Another", "Continue reading", "Read chapter", "Bookmark"]

    await env.advance_time(30 * MINUTE)
    assert len(_posts(channel)) == 1
    await env.restart_bot(closing_bots(daily_settings))
    await env.advance_time(30 * MINUTE)
    assert len(_posts(channel)) == 1, "a restart on the same day must not post again"

    show = _said(await ada.slash(channel, "daily show"))
    assert "Next post: <t:1767312600:F>" in show  # 2026-01-02 00:10 UTC
    await env.advance_time(23 * 60 * MINUTE)
    assert len(_posts(channel)) == 2, "the next day posts again, once"
    await env.advance_time(30 * MINUTE)
    assert len(_posts(channel)) == 2


async def test_catch_up_after_being_down_at_the_set_minute(
    simcord_env: simcord.Env, daily_settings: Settings, closing_bots: BuildBot
) -> None:
    """The bot was down at 00:00 (the schedule says it last posted yesterday): it posts as soon
    as it is back, once, because it is still the same local day."""
    env = simcord_env
    await env.advance_time(5 * MINUTE)
    s = server(env, channel="daily")
    guild, channel = s.guild, s.channel
    library = await Library.open(daily_settings)
    try:
        await library.set_daily_schedule(
            DailySchedule(guild.id, channel.id, "00:01", "UTC", None, date(2025, 12, 31))
        )
    finally:
        await library.close()
    await env.restart_bot(closing_bots(daily_settings))  # the loop's first tick, at 00:05
    assert len(_posts(channel)) == 1
    await env.restart_bot(closing_bots(daily_settings))
    await env.advance_time(10 * MINUTE)
    assert len(_posts(channel)) == 1


async def test_set_after_todays_time_starts_tomorrow_in_the_servers_time_zone(
    simcord_env: simcord.Env,
) -> None:
    env = simcord_env
    s = server(env, channel="daily")
    guild, channel = s.guild, s.channel
    ada = _admin(env, guild)
    # 00:00 UTC is 09:00 in Tokyo: 08:30 Tokyo time has passed today, so tomorrow's is next
    said = _said(
        await ada.slash(channel, "daily set", channel=channel, time="8:30", timezone="asia/tokyo")
    )
    assert "at **08:30** (Asia/Tokyo)" in said
    assert "<t:1767310200:F>" in said  # 2026-01-01 23:30 UTC = 2026-01-02 08:30 in Tokyo
    await env.advance_time(60 * MINUTE)
    assert _posts(channel) == []
    choices = await ada.autocomplete(channel, "daily set", "timezone", "america/new")
    assert [c["name"] for c in choices] == ["America/New_York"]


async def test_bad_input_and_off(simcord_env: simcord.Env) -> None:
    env = simcord_env
    s = server(env, channel="daily")
    guild, channel = s.guild, s.channel
    ada = _admin(env, guild)
    assert "not a time" in _said(
        await ada.slash(channel, "daily set", channel=channel, time="25:00")
    )
    assert "not a time zone" in _said(
        await ada.slash(channel, "daily set", channel=channel, time="10:00", timezone="Mars/Base")
    )
    assert "No story called" in _said(
        await ada.slash(channel, "daily set", channel=channel, time="10:00", story="nope")
    )
    # each refusal took the one error path, the tree's handler, which answered privately
    # (the unknown story raises NoSuchStory, the StoryBotError that carries the nearest title)
    errors = [getattr(e, "original", e) for e in env.errors]
    assert len(errors) == 3 and all(isinstance(e, StoryBotError) for e in errors), errors
    assert "No daily excerpt is set" in _said(await ada.slash(channel, "daily show"))
    await ada.slash(channel, "daily set", channel=channel, time="00:05", story="breaking")
    assert "from **Breaking alone**" in _said(await ada.slash(channel, "daily show"))
    assert "is off" in _said(await ada.slash(channel, "daily off"))
    assert "no daily excerpt to turn off" in _said(await ada.slash(channel, "daily off"))
    await env.advance_time(10 * MINUTE)
    assert _posts(channel) == []


async def test_a_named_story_is_always_the_one_posted(simcord_env: simcord.Env) -> None:
    env = simcord_env
    s = server(env, channel="daily")
    guild, channel = s.guild, s.channel
    ada = _admin(env, guild)
    choices = await ada.autocomplete(channel, "daily set", "story", "break")
    assert choices[0]["name"] == "Breaking alone"
    await ada.slash(channel, "daily set", channel=channel, time="00:01", story=choices[0]["value"])
    for _ in range(3):
        await env.advance_time(24 * 60 * MINUTE)
    posts = _posts(channel)
    assert len(posts) == 3
    assert {p.embeds[0].author.name for p in posts} == {"Breaking alone"}


async def test_mature_story_only_for_an_age_restricted_channel(
    simcord_env: simcord.Env, age_restricted: Mark
) -> None:
    env = simcord_env
    s = server(env, channel="general")
    guild, general = s.guild, s.channel
    after_dark = guild.create_text_channel("after-dark")
    await age_restricted(env, after_dark)
    ada = _admin(env, guild)
    refused = _said(
        await ada.slash(general, "daily set", channel=general, time="00:01", story="taking-steps")
    )
    assert "rated explicit" in refused and "age-restricted" in refused
    assert len(env.errors) == 1  # refused by the tree's one error handler
    names = [c["name"] for c in await ada.autocomplete(general, "daily set", "story", "tak")]
    assert EXPLICIT not in names
    accepted = _said(
        await ada.slash(
            general, "daily set", channel=after_dark, time="00:01", story="taking-steps"
        )
    )
    assert f"from **{EXPLICIT}**" in accepted
    await env.advance_time(2 * MINUTE)
    posts = _posts(after_dark)
    assert len(posts) == 1 and posts[0].embeds[0].author.name == EXPLICIT


@pytest.mark.simcord(check_errors=False)
async def test_a_failed_post_is_one_log_line_and_the_loop_goes_on(
    simcord_env: simcord.Env, caplog: pytest.LogCaptureFixture
) -> None:
    env = simcord_env
    gone_server, fine_server = (
        server(env, "gone", channel="daily"),
        server(env, "fine", channel="daily"),
    )
    gone_guild, gone = gone_server.guild, gone_server.channel
    ok_guild, fine = fine_server.guild, fine_server.channel
    await _admin(env, gone_guild).slash(gone, "daily set", channel=gone, time="00:01")
    await _admin(env, ok_guild).slash(fine, "daily set", channel=fine, time="00:01")
    env.backend.delete_channel(gone.id)
    await env.settle()
    caplog.set_level(logging.INFO, logger="cogs.daily")
    await env.advance_time(5 * MINUTE)
    assert len(_posts(fine)) == 1
    failures = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(failures) == 1
    assert f"guild {gone_guild.id}" in failures[0].getMessage()
    assert "gone" in failures[0].getMessage()
    await env.advance_time(24 * 60 * MINUTE)
    assert len(_posts(fine)) == 2
    assert env.errors == []


async def test_members_without_manage_server_cannot_set_or_stop_it(
    simcord_env: simcord.Env,
) -> None:
    env = simcord_env
    s = server(env, channel="daily")
    guild, channel, bob = s.guild, s.channel, s.bob
    with pytest.raises(simcord.SetupError, match="not visible"):
        await bob.slash(channel, "daily off")
    daily = next(c for c in await env.bot.tree.fetch_commands() if c.name == "daily")
    guild.set_command_permissions(daily, {guild.default_role: True})
    for name, options in (("daily set", {"channel": channel, "time": "00:01"}), ("daily off", {})):
        assert "Manage Server" in _said(await bob.slash(channel, name, **options))
    await env.advance_time(5 * MINUTE)
    assert _posts(channel) == []


async def test_a_post_discord_fails_is_tried_again_the_same_day(
    simcord_env: simcord.Env, caplog: pytest.LogCaptureFixture
) -> None:
    """Discord answers 500 to the first two sends: the loop gives the day's claim back and
    posts once, after 1 then 5 minutes, not tomorrow."""
    env = simcord_env
    s = server(env, channel="daily")
    guild, channel = s.guild, s.channel
    await _admin(env, guild).slash(channel, "daily set", channel=channel, time="00:01")
    env.inject_error("POST", f"/channels/{channel.id}/messages", status=500, times=2)
    caplog.set_level(logging.INFO, logger="cogs.daily")
    await env.advance_time(3 * MINUTE)
    assert _posts(channel) == []
    assert sum("trying again at" in r.getMessage() for r in caplog.records) == 2
    await env.advance_time(6 * MINUTE)
    assert len(_posts(channel)) == 1
    await env.advance_time(60 * MINUTE)
    assert len(_posts(channel)) == 1  # once a day, never twice
    assert env.errors == []


async def _stories_table(settings: Settings, old: str, new: str) -> None:
    """Rename the stories table (SQLite or PostgreSQL): every read of the stories fails with a
    database error (no such table), as a database that fails does; renamed back, the library
    is whole again."""
    await execute(settings, f"ALTER TABLE {old} RENAME TO {new}")


@pytest.mark.simcord(check_errors=False)
async def test_a_database_error_reading_the_named_story_is_not_a_story_gone(
    simcord_env: simcord.Env, daily_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """The daily post's story cannot be read (the database fails, the story is not gone):
    /daily show says the database failed, and the round is skipped and tried again (the named
    story is posted then), never taken for a story gone. Before the fix: /daily show said
    '(no longer in the library: a random story)' and the loop logged 'posting a random one'."""
    env = simcord_env
    s = server(env, channel="daily")
    ada = _admin(env, s.guild)
    await ada.slash(s.channel, "daily set", channel=s.channel, time="00:01", story="breaking-alone")
    library = s.library
    library.catalogue.forget()  # the stories are read again (as after an ingest)
    await _stories_table(daily_settings, "stories", "stories_away")
    caplog.set_level(logging.INFO, logger="cogs.daily")
    shown = _said(await ada.slash(s.channel, "daily show"))
    assert "no longer in the library" not in shown and "database failed" in shown, shown
    await env.advance_time(2 * MINUTE)
    assert _posts(s.channel) == []
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert not [m for m in said if "random" in m], said
    assert any("stories" in m and "trying again at" in m for m in said), said
    await _stories_table(daily_settings, "stories_away", "stories")
    await env.advance_time(10 * MINUTE)
    posts = _posts(s.channel)
    assert len(posts) == 1 and posts[0].embeds[0].author.name == "Breaking alone"


@pytest.fixture
def fast_locks(monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite's writers give up on a held lock in a fraction of a second, not 20 s."""
    monkeypatch.setattr(SQLiteStore, "busy_timeout_ms", 50)
    monkeypatch.setattr("bot.store.sqlite.base.LOCK_BACKOFF", 0.01)  # every writer's


@pytest.mark.simcord(check_errors=False)
async def test_a_busy_database_at_the_days_claim_is_a_warning_and_tried_again(
    fast_locks: None,
    simcord_env: simcord.Env,
    daily_settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The database is busy when the day's post is claimed (SQLite: another process holds
    the write lock; PostgreSQL: lock_not_available): said in one line at warning, as
    bot/errors.py's log_failure says of a busy database, without a traceback; the next tick
    claims and posts. Before the fix: 'cannot claim' was logged at error."""
    env = simcord_env
    s = server(env, channel="daily")
    await _admin(env, s.guild).slash(s.channel, "daily set", channel=s.channel, time="00:01")
    holder = None
    if daily_settings.database_url is None:
        holder = sqlite3.connect(daily_settings.db_path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
    else:
        await refuse(daily_settings, "daily_schedules", "UPDATE", errcode="55P03")
    caplog.set_level(logging.INFO, logger="cogs.daily")
    try:
        await env.advance_time(2 * MINUTE)
        assert _posts(s.channel) == []
    finally:
        if holder is not None:
            holder.execute("ROLLBACK")
            holder.close()
        else:
            await allow(daily_settings, "daily_schedules")
    said = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert said and all("cannot claim" in r.getMessage() for r in said), caplog.messages
    assert [(r.levelno, r.exc_info) for r in said] == [(logging.WARNING, None)] * len(said)
    await env.advance_time(MINUTE)
    assert len(_posts(s.channel)) == 1
