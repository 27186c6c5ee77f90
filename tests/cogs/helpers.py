"""Small helpers shared by the simcord tests of the story cogs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord
import simcord
from simcord.components import walk_components

from bot.library import Library
from bot.runtime import StoryBot
from bot.settings import Settings
from tests.conftest import SIMCORD_SETTLE_SECONDS


@dataclass
class Server:
    env: simcord.Env
    guild: simcord.GuildHandle
    channel: simcord.ChannelHandle
    alice: simcord.MemberActor
    bob: simcord.MemberActor

    @property
    def library(self) -> Library:
        bot = self.env.bot
        assert isinstance(bot, StoryBot)
        return bot.library


async def restart(env: simcord.Env, build: Callable[[Settings], StoryBot]) -> StoryBot:
    """Restart the bot with the settings it runs on (a new process would read the same ones);
    returns the bot that was stopped."""
    old = env.bot
    assert isinstance(old, StoryBot)
    await env.restart_bot(build(old.settings))
    return old


def server(
    env: simcord.Env,
    name: str = "Test Guild",
    *,
    channel: str = "reading-room",
    id: int | None = None,
    shard_id: int | None = None,
) -> Server:
    """A guild (simcord's defaults unless named) with one text channel and two members,
    Alice and Bob: every simcord test sets up its server here."""
    guild = env.create_guild(name, id=id, shard_id=shard_id)
    channel_ = guild.create_text_channel(channel)
    alice = guild.add_member(env.create_user("alice", global_name="Alice"))
    bob = guild.add_member(env.create_user("bob", global_name="Bob"))
    return Server(env, guild, channel_, alice, bob)


@asynccontextmanager
async def started(
    bot: StoryBot, *, at: float = 0.0, prepare: Callable[[simcord.Env], object] | None = None
) -> AsyncIterator[simcord.Env]:
    """simcord's environment around ``bot`` for a test that needs it before it starts (a clock
    ``at`` seconds on, ``prepare`` to hook its backend), with the settle ceiling of
    tests/conftest.py; like the simcord_env fixture, errors the bot met fail the test."""
    env = simcord.Env(bot, settle_timeout=SIMCORD_SETTLE_SECONDS)
    if at:
        env.backend.clock.advance(at)
    if prepare is not None:
        prepare(env)
    await env.start()
    try:
        yield env
    finally:
        await env.shutdown()
        env.raise_errors()


def answer(result: simcord.InteractionResult) -> simcord.ResponseMessage:
    message = result.response
    assert message is not None, result
    return message


def buttons(message: simcord.ResponseMessage) -> list[dict[str, Any]]:
    """Every button of a message, nested ones (Components V2) included, in order."""
    return [c for c in walk_components(message.components) if c.get("type") == 2]


def custom_ids(message: simcord.ResponseMessage) -> dict[str, str]:
    """Button label -> custom_id, for every button of a message (the first of a label)."""
    found: dict[str, str] = {}
    for part in buttons(message):
        found.setdefault(part.get("label") or "", part.get("custom_id") or "")
    return found


def button(message: simcord.ResponseMessage, label: str) -> dict[str, Any]:
    for part in buttons(message):
        if part.get("label") == label:
            return part
    raise AssertionError(f"no button {label!r}")


def texts(message: simcord.ResponseMessage) -> list[str]:
    """The text displays of a Components V2 message, in order."""
    return [c["content"] for c in walk_components(message.components) if c.get("type") == 10]


def page_text(message: simcord.ResponseMessage) -> str:
    """A reader page's story text (its third text display, or second with no author's note)."""
    shown = texts(message)
    assert len(shown) >= 3, shown
    return shown[-2]


def footer_text(message: simcord.ResponseMessage) -> str:
    """A reader page's footer line, without its small-text marker."""
    return texts(message)[-1].removeprefix("-# ")


def admin(env: simcord.Env, guild: simcord.GuildHandle, name: str = "ada") -> simcord.MemberActor:
    """A member with Manage Server, who may change the library."""
    role = guild.create_role("mods", permissions=discord.Permissions(manage_guild=True))
    return guild.add_member(env.create_user(name), roles=[role])


def everything(message: simcord.ResponseMessage | discord.Message) -> str:
    """All a message says: content, its text displays, and each embed's title, description,
    footer, author and fields ("name: value")."""
    parts = [message.content or ""]
    parts += [c.get("content", "") for c in walk_components(message.components)]
    for embed in message.embeds:
        parts += [embed.title or "", embed.description or "", embed.footer.text or ""]
        parts += [embed.author.name or ""] + [f"{f.name}: {f.value}" for f in embed.fields]
    return "\n".join(parts)


def rate(stories_dir: Path, name: str, rating: str = "general") -> None:
    """Rate a story file the test writes in library.toml, as a host would: a story nothing
    rates gets DEFAULT_RATING (explicit unless set), which keeps it out of ordinary channels."""
    toml = stories_dir / "library.toml"
    old = toml.read_text(encoding="utf-8") if toml.exists() else ""
    toml.write_text(f'{old}\n["{name}"]\nrating = "{rating}"\n', encoding="utf-8")


async def uploaded(env: simcord.Env, stories_dir: Path, file: str) -> bytes | None:
    """The bytes of a story uploaded with /library add, where the library keeps uploads: a
    file in the stories folder (SQLite, one host), or the database (PostgreSQL, several)."""
    bot = env.bot
    assert isinstance(bot, StoryBot)
    shared = bot.library.store.shared
    if shared is not None:
        assert not (stories_dir / file).exists()  # every host serves it: not one host's file
        return await shared.upload_data(file)
    path = stories_dir / file
    return path.read_bytes() if path.exists() else None
