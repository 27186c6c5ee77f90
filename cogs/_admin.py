"""The server-admin commands' (/library, /daily) Manage Server check.

The commands carry ``default_permissions(manage_guild=True)``, so Discord hides them from other
members; but a server can hand a command to anyone in Server Settings → Integrations, so the
permission is checked again when the command runs.
"""

from __future__ import annotations

import discord
from discord import app_commands

from bot.runtime import tell

NEED_MANAGE_SERVER = "You need the **Manage Server** permission to do that."
# The app is user-installable and its commands allowed in DMs by default (bot/runtime.py); the
# admin groups say no to DMs and private channels outright, which guild_only alone does not.
SERVER_ONLY = app_commands.AppCommandContext(guild=True, dm_channel=False, private_channel=False)


async def require_manage_guild(interaction: discord.Interaction) -> bool:
    """True when the member may manage this server; otherwise answers with why not."""
    if interaction.guild is None:
        await tell(interaction, "That works only in a server.")
        return False
    if not interaction.permissions.manage_guild:
        await tell(interaction, NEED_MANAGE_SERVER)
        return False
    return True
