"""bot/runtime.py: how the bot is built, started and stopped (no network: start is faked)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands

from bot import runtime
from bot.errors import StoryBotError
from bot.runtime import (
    ShardedStoryBot,
    StoryBot,
    StoryTree,
    build_bot,
    discover_extensions,
    log_discord_failure,
)
from bot.settings import Settings
from bot.store.errors import (
    BUSY,
    FAILED,
    StoreClosed,
    StoreDamaged,
    StoreError,
    StoreLocked,
    StoreUnreachable,
)

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "MTAxMDEwMTAxMDEwMTAxMDEw.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789"


def test_build_bot_from_settings(settings: Settings) -> None:
    bot = build_bot(settings)
    assert type(bot) is StoryBot and bot.settings is settings
    assert isinstance(bot.tree, StoryTree)
    intents = bot.intents
    assert not (intents.message_content or intents.members or intents.presences)
    assert intents.guilds
    assert bot.allowed_mentions is not None
    assert bot.allowed_mentions.to_dict() == discord.AllowedMentions.none().to_dict()
    with pytest.raises(StoryBotError, match="not open yet"):
        _ = bot.library


def test_build_bot_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch, stories_dir: Path, tmp_path: Path
) -> None:
    monkeypatch.setenv("STORIES_DIR", str(stories_dir))
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DEV_GUILD_ID", "1234")
    monkeypatch.delenv("SHARD_COUNT", raising=False)
    bot = build_bot()
    assert bot.settings.stories_dir == stories_dir
    assert bot.settings.dev_guild_id == 1234


def test_sharded_bot(settings: Settings) -> None:
    from dataclasses import replace

    bot = build_bot(replace(settings, shard_count=4, shard_ids=(1, 3)))
    assert isinstance(bot, ShardedStoryBot)
    assert isinstance(bot, StoryBot) and isinstance(bot, commands.AutoShardedBot)
    assert bot.shard_count == 4 and bot.shard_ids == [1, 3]
    assert isinstance(bot.tree, StoryTree)


def test_extensions_are_discovered_not_listed() -> None:
    found = discover_extensions()
    assert {"cogs.excerpt", "cogs.chapter", "cogs.quote", "cogs.stories"} <= set(found)
    assert all(not name.split(".")[-1].startswith("_") for name in found)


def test_login_failure_is_one_line(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    async def refuse(self: StoryBot, token: str, *, reconnect: bool = True) -> None:
        raise discord.LoginFailure("Improper token has been passed.")

    monkeypatch.setattr(StoryBot, "start", refuse)
    from dataclasses import replace

    with caplog.at_level(logging.DEBUG), pytest.raises(StoryBotError) as caught:
        runtime.run(replace(settings, token=TOKEN))
    assert "\n" not in caught.value.message
    assert caught.value.message.startswith("Discord refused the token")
    assert caught.value.usage is True  # __main__ prints it as one line and exits 2: no retry
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert TOKEN not in caplog.text


def test_sigterm_closes_the_bot_and_the_library(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    seen: dict[str, object] = {}

    async def serve_until_closed(self: StoryBot, token: str, *, reconnect: bool = True) -> None:
        seen["library"] = await self.open_library()
        asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), signal.SIGTERM)
        while not self.is_closed():  # noqa: ASYNC110 - as the real start(): returns once closed
            await asyncio.sleep(0.01)

    monkeypatch.setattr(StoryBot, "start", serve_until_closed)
    from dataclasses import replace

    runtime.run(replace(settings, token=TOKEN))
    library = seen["library"]
    assert library is not None
    store = library.store  # type: ignore[attr-defined]
    with pytest.raises(StoreClosed):
        asyncio.run(store.list_stories())


FAKE_LOGIN = """
import sys, discord
from bot.runtime import StoryBot
from bot.__main__ import main

async def refuse(self, token, *, reconnect=True):
    raise discord.LoginFailure("Improper token has been passed.")

StoryBot.start = refuse
sys.exit(main([]))
"""


def test_python_m_bot_with_a_refused_token_fails_in_one_line(tmp_path: Path) -> None:
    """`python -m bot`'s path, with Discord's answer to a bad token faked (no network)."""
    env = {
        **os.environ,
        "DISCORD_TOKEN": TOKEN,
        "DATA_DIR": str(tmp_path / "data"),
        "STORIES_DIR": str(ROOT / "seeds"),
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-c", FAKE_LOGIN],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr  # a config error: systemd must not retry it
    assert done.stderr.strip().splitlines()[-1] == (
        "storybot: Discord refused the token (DISCORD_TOKEN): reset it in the developer portal "
        "and set the new one"
    )
    assert "Traceback" not in done.stderr
    assert TOKEN not in done.stderr + done.stdout


def test_logs_to_a_file_or_a_collector_are_plain(monkeypatch: pytest.MonkeyPatch) -> None:
    """discord.py colours its log lines in Docker whatever they go to; not a terminal, plain."""
    import logging

    import discord.utils as du

    from bot import runtime

    monkeypatch.setattr(du, "stream_supports_colour", lambda stream: True)  # as in Docker
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    try:
        runtime._setup_logging("INFO")
        formatter = root.handlers[-1].formatter
        assert formatter is not None and formatter._fmt == runtime.PLAIN_LOG_FORMAT
        assert "\x1b[" not in formatter.format(logging.makeLogRecord({"msg": "x"}))
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in before:
            root.addHandler(handler)
        root.setLevel(level)


@pytest.mark.parametrize(
    ("error", "told"),
    [
        (StoreLocked("the database /srv/storybot/data/stories.db is locked: retried 5 s"), BUSY),
        (StoreUnreachable("cannot reach the database postgresql://bot@10.0.0.5:5432/lib"), BUSY),
        (StoreDamaged("the database /srv/storybot/data/stories.db is damaged"), FAILED),
        (StoreError("the database postgresql://bot@10.0.0.5:5432/lib failed: boom"), FAILED),
    ],
)
def test_a_store_error_is_told_without_the_database_s_place(
    error: StoryBotError, told: str
) -> None:
    """What the store says names the database, for the host's log and the CLI; a Discord
    user is told one line of what to do, never a file path or a server's address."""
    wrapped = app_commands.CommandInvokeError(
        app_commands.Command(name="quote", description="q", callback=_quote), error
    )
    message, unexpected = runtime._explain(wrapped)
    assert (message, unexpected) == (told, False)
    assert "/srv" not in message and "10.0.0.5" not in message
    assert str(error) == error.message  # the host's own line is unchanged


async def _quote(interaction: discord.Interaction) -> None:  # the command an error came from
    pass


def test_a_user_s_mistake_is_told_as_it_is() -> None:
    error = StoryBotError("No story is called 'xyz'.")
    wrapped = app_commands.CommandInvokeError(
        app_commands.Command(name="quote", description="q", callback=_quote), error
    )
    assert runtime._explain(wrapped) == ("No story is called 'xyz'.", False)


@pytest.mark.parametrize(
    "exc",
    [
        aiohttp.ServerDisconnectedError(),  # discord.py lets its transport's errors through
        ConnectionResetError(104, "Connection reset by peer"),
        discord.GatewayNotFound(),
    ],
    ids=["aiohttp", "socket", "discord"],
)
def test_a_loop_reaching_discord_logs_the_networks_failure_in_one_line(
    exc: BaseException, caplog: pytest.LogCaptureFixture
) -> None:
    """What the daily loop (cogs/daily.py) logs when Discord or the network fails: one line at
    error with the kind, no traceback; a fault of ours keeps its traceback."""
    logger = logging.getLogger("tests.daily")
    with caplog.at_level(logging.ERROR):
        log_discord_failure(logger, "daily excerpt failed", exc)
        log_discord_failure(logger, "daily excerpt failed", KeyError("ours"))
    network, ours = caplog.records
    assert network.levelno == logging.ERROR and network.exc_info is None
    assert network.getMessage().startswith(f"daily excerpt failed ({type(exc).__name__}")
    assert ours.exc_info is not None
