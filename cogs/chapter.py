"""/chapter: a chapter as pages, turned by its reader with persistent buttons."""

from __future__ import annotations

from discord import app_commands
from discord.ext import commands

from cogs._choices import chapter_choices, story_choices
from cogs._context import Interaction, library_of, mature_ok
from cogs._views import DYNAMIC_ITEMS, PagerState, send_pager


class Chapters(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @app_commands.command(name="chapter")
    @app_commands.describe(
        story="The story to read", chapter="The chapter: pick one, or type its number"
    )
    @app_commands.autocomplete(story=story_choices, chapter=chapter_choices)
    @app_commands.checks.cooldown(4, 10.0)
    async def chapter(self, interaction: Interaction, story: str, chapter: str) -> None:
        """Read a chapter, page by page."""
        found = await library_of(interaction).chapter(
            story, chapter, mature_ok=mature_ok(interaction)
        )
        state = PagerState("pg", found.story.id, found.number, 0, interaction.user.id)
        await send_pager(interaction, state)


async def setup(bot: commands.Bot) -> None:
    bot.add_dynamic_items(*DYNAMIC_ITEMS)
    await bot.add_cog(Chapters(bot))
