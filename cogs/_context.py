"""What every cog asks of an interaction: the library (the one door to the core), and
whether the place it came from may show mature stories."""

from __future__ import annotations

from typing import Any

import discord

from bot.library import Library
from bot.runtime import ComponentError, StoryBot

Interaction = discord.Interaction[Any]


def library_of(interaction: Interaction) -> Library:
    client = interaction.client
    if not isinstance(client, StoryBot):
        raise TypeError("the story cogs run only on a StoryBot")
    return client.library


def channel_mature_ok(channel: object) -> bool:
    """Mature stories are served only in age-restricted channels, never in DMs.

    Takes any channel object: a guild channel or thread (``is_nsfw()``), a channel given as a
    command option (``nsfw``), or a DM, which has neither.
    """
    is_nsfw = getattr(channel, "is_nsfw", None)
    if callable(is_nsfw):
        return bool(is_nsfw())
    return bool(getattr(channel, "nsfw", False))


def mature_ok(interaction: Interaction, channel: object | None = None) -> bool:
    """Whether the place the interaction came from (or ``channel``, a channel it names) may
    show mature stories: an age-restricted channel of a server. Never a DM or a group DM,
    whatever their channel object says (the app is user-installable, so it is used there)."""
    if interaction.guild_id is None:
        return False
    return channel_mature_ok(channel if channel is not None else interaction.channel)


async def report(interaction: Interaction, error: Exception, where: str) -> None:
    """Send a button's or modal's error to the tree's error handler: one error path."""
    await interaction.client.tree.on_error(interaction, ComponentError(error, where))
