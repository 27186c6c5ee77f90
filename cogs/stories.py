"""/stories: the library, with each story's chapters and word counts."""

from __future__ import annotations

from discord import app_commands
from discord.ext import commands

from cogs._context import Interaction
from cogs._views import DYNAMIC_ITEMS, PagerState, send_pager


class Stories(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @app_commands.command(name="stories")
    @app_commands.checks.cooldown(4, 10.0)
    async def stories(self, interaction: Interaction) -> None:
        """The stories in the library, with their chapters and word counts."""
        state = PagerState("st", 0, 0, 0, interaction.user.id)
        await send_pager(interaction, state)


async def setup(bot: commands.Bot) -> None:
    bot.add_dynamic_items(*DYNAMIC_ITEMS)
    await bot.add_cog(Stories(bot))
