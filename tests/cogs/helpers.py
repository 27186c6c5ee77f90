"""Small helpers shared by the simcord tests of the story cogs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import discord
import simcord

from bot.library import Library
from bot.runtime import StoryBot


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


def server(env: simcord.Env) -> Server:
    guild = env.create_guild()
    channel = guild.create_text_channel("reading-room")
    alice = guild.add_member(env.create_user("alice", global_name="Alice"))
    bob = guild.add_member(env.create_user("bob", global_name="Bob"))
    return Server(env, guild, channel, alice, bob)


def answer(result: simcord.InteractionResult) -> simcord.ResponseMessage:
    message = result.response
    assert message is not None, result
    return message


def custom_ids(message: simcord.ResponseMessage) -> dict[str, str]:
    """Button label -> custom_id, for every button of a message (the first of a label)."""
    found: dict[str, str] = {}
    for row in message.components:
        for part in row.get("components", []):
            found.setdefault(part.get("label") or "", part.get("custom_id") or "")
    return found


def button(message: simcord.ResponseMessage, label: str) -> dict[str, Any]:
    for row in message.components:
        for part in row.get("components", []):
            if part.get("label") == label:
                return part
    raise AssertionError(f"no button {label!r}")


def admin(env: simcord.Env, guild: simcord.GuildHandle, name: str = "ada") -> simcord.MemberActor:
    """A member with Manage Server, who may change the library."""
    role = guild.create_role("mods", permissions=discord.Permissions(manage_guild=True))
    return guild.add_member(env.create_user(name), roles=[role])


def everything(message: simcord.ResponseMessage | discord.Message) -> str:
    """All a message says: content, and each embed's title, description, footer, author and
    fields ("name: value")."""
    parts = [message.content or ""]
    for embed in message.embeds:
        parts += [embed.title or "", embed.description or "", embed.footer.text or ""]
        parts += [embed.author.name or ""] + [f"{f.name}: {f.value}" for f in embed.fields]
    return "\n".join(parts)
