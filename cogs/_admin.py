"""Helpers for the server-admin commands (/library, /daily): the Manage Server check and replies.

The commands carry ``default_permissions(manage_guild=True)``, so Discord hides them from other
members; but a server can hand a command to anyone in Server Settings → Integrations, so the
permission is checked again when the command runs.
"""

from __future__ import annotations

import discord

NEED_MANAGE_SERVER = "You need the **Manage Server** permission to do that."


async def reply(
    interaction: discord.Interaction,
    content: str | None = None,
    *,
    embed: discord.Embed | None = None,
) -> None:
    """An ephemeral answer, whether or not the interaction was deferred."""
    kwargs: dict[str, object] = {
        "ephemeral": True,
        "allowed_mentions": discord.AllowedMentions.none(),
    }
    if content is not None:
        kwargs["content"] = content
    if embed is not None:
        kwargs["embed"] = embed
    if interaction.response.is_done():
        await interaction.followup.send(**kwargs)  # type: ignore[arg-type]
    else:
        await interaction.response.send_message(**kwargs)  # type: ignore[arg-type]


async def require_manage_guild(interaction: discord.Interaction) -> bool:
    """True when the member may manage this server; otherwise answers with why not."""
    if interaction.guild is None:
        await reply(interaction, "That works only in a server.")
        return False
    if not interaction.permissions.manage_guild:
        await reply(interaction, NEED_MANAGE_SERVER)
        return False
    return True
