"""Reads never wait behind a write (issue 17, item 7). While another process holds the write
lock, a reader's place waits to be written (SQLite's busy handler, then retries); before the
fix every read of the bot shared that one connection and queued behind it, so another user's
/quote or /chapter waited as long as the write did (5 s in the hunt). Now reads have a WAL
connection of their own. And an interaction whose work writes is deferred within Discord's
3 seconds, whatever the lock; no task fails unseen."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Awaitable
from typing import Any

import discord
import pytest
import simcord

from bot.library import Library
from bot.runtime import StoryBot
from bot.settings import Settings
from bot.store.sqlite import SQLiteStore
from tests.cogs.helpers import answer, server
from tests.faults.lock_holder import LockHolder

ALICE = 4242


async def test_a_quote_and_a_chapter_answer_while_another_process_holds_the_write_lock(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    if settings.database_url:
        pytest.skip("SQLite's write lock: PostgreSQL readers never wait for writers")
    # the place's write waits in SQLite's busy handler for as long as the lock is held (not
    # only 5 s), so a read queued behind it would be answered only after the release
    monkeypatch.setattr(SQLiteStore, "busy_timeout_ms", 120_000)
    errors: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: errors.append(ctx))
    library = await Library.open(settings)
    try:
        await library.ingest()
        story = await library.find_story("breaking-alone", mature_ok=True)
        with LockHolder(settings.db_path, longest=60) as other:
            await library.readers.record_place(ALICE, story, story.chapters[1].first)
            await asyncio.sleep(0.5)  # the place's write is waiting for the lock
            found = await library.quote("my whole world", mature_ok=True)
            chapter = await library.chapter("breaking-alone", "2", mature_ok=True)
            answered_while_held = other.holding
            other.release()
        assert answered_while_held, "the reads waited until the other process let go"
        assert found.hits and chapter.text
        await library.readers.settled()
        place = await library.reading_place(ALICE, mature_ok=True)
        assert place.position == story.chapters[1].first  # the place was written after all
    finally:
        await library.close()
    gc.collect()  # a task that failed unseen reports itself when it is collected
    await asyncio.sleep(0)
    assert errors == []


def _callbacks(requests: list[Any]) -> list[int]:
    """The interaction callbacks among ``requests``, by type (4 a message, 5 deferred, 7 an
    update of the clicked message)."""
    return [
        int(r.json.get("type", 0))
        for r in requests
        if r.method == "POST" and r.path.endswith("/callback") and isinstance(r.json, dict)
    ]


async def _held_for(
    env: simcord.Env, seconds: float, click: Awaitable[Any]
) -> tuple[Any, list[int]]:
    """``click`` while another process holds the write lock for ``seconds`` (then lets go):
    its result, and the interaction callbacks the bot had sent when the lock was let go.
    (simcord answers a click once the bot's work has settled, the place written behind the
    page turn included, so the click itself returns only after the release.)"""
    bot = env.bot
    assert isinstance(bot, StoryBot)
    before = len(env.http_requests)
    sent: list[int] = []
    other = LockHolder(bot.settings.db_path)

    def let_go() -> None:
        sent.extend(_callbacks(env.http_requests[before:]))
        other.release()

    timer = threading.Timer(seconds, let_go)
    timer.start()
    try:
        result = await click
    finally:
        timer.join()
    return result, sent


def _deferring_at_once(env: simcord.Env, monkeypatch: pytest.MonkeyPatch) -> StoryBot:
    """The bot, on SQLite (whose write lock the tests hold), deferring at once. The bot defers
    work still running after DEFER_AFTER (1 s). simcord's clock moves only when the bot is
    idle, never while it waits on the database, so a 1 s timer cannot fire during the click;
    at 0 it is due at once: the defer must still come before the answer."""
    bot = env.bot
    assert isinstance(bot, StoryBot)
    if bot.settings.database_url:
        pytest.skip("SQLite's write lock")
    monkeypatch.setattr("cogs._deadline.DEFER_AFTER", 0.0)
    return bot


async def test_under_the_lock_pages_turn_and_a_bookmark_is_deferred_in_time(
    simcord_env: simcord.Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = _deferring_at_once(simcord_env, monkeypatch)
    errors: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: errors.append(ctx))
    s = server(simcord_env)
    reader = answer(await s.alice.slash(s.channel, "chapter", story="breaking-alone", chapter="2"))
    turned, sent = await _held_for(simcord_env, 8.0, s.alice.click(reader, label="Next"))
    assert sent == [7], "the page turn was not answered while the other process held the lock"
    saved, sent = await _held_for(simcord_env, 8.0, s.alice.click(answer(turned), label="Bookmark"))
    # deferred ("thinking", type 5) while the lock was held; the bookmark saved after it
    assert sent == [5], sent
    assert answer(saved).content.startswith("Bookmarked"), answer(saved).content
    await bot.library.readers.settled()
    place = await bot.library.reading_place(s.alice.id, mature_ok=False)
    marks, _ = await bot.library.bookmarks(s.alice.id, mature_ok=False)
    assert (place.story.slug, place.chapter) == ("breaking-alone", 2)
    assert place.position == marks[0][0].position  # the place the turn recorded was written
    gc.collect()
    await asyncio.sleep(0)
    assert errors == []


async def test_under_the_lock_daily_set_is_deferred_in_time(
    simcord_env: simcord.Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = _deferring_at_once(simcord_env, monkeypatch)
    s = server(simcord_env, channel="daily")
    role = s.guild.create_role("mods", permissions=discord.Permissions(manage_guild=True))
    ada = s.guild.add_member(simcord_env.create_user("ada"), roles=[role])
    done, sent = await _held_for(
        simcord_env, 8.0, ada.slash(s.channel, "daily set", channel=s.channel, time="08:30")
    )
    # deferred ("thinking", type 5) while the lock was held; the schedule written after it
    assert sent == [5], sent
    assert "at **08:30** (UTC)" in answer(done).content, answer(done).content
    assert s.guild.id is not None
    schedule = await bot.library.daily_schedule(s.guild.id)
    assert schedule is not None and schedule.time == "08:30"


async def test_under_the_lock_follow_is_deferred_in_time(
    simcord_env: simcord.Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    _deferring_at_once(simcord_env, monkeypatch)
    s = server(simcord_env)
    done, sent = await _held_for(
        simcord_env, 8.0, s.alice.slash(s.channel, "follow", story="breaking-alone")
    )
    assert sent == [5], sent  # deferred while the lock was held; the follow written after it
    assert answer(done).content.startswith("You follow **Breaking alone**"), answer(done).content
