"""/chapter: a chapter as pages, turned by its reader with persistent buttons."""

from __future__ import annotations

from discord import app_commands
from discord.ext import commands

from cogs import _ui
from cogs._ui import Interaction


class Chapters(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @app_commands.command(name="chapter")
    @app_commands.describe(
        story="The story to read", chapter="The chapter: pick one, or type its number"
    )
    @app_commands.autocomplete(story=_ui.story_choices, chapter=_ui.chapter_choices)
    @app_commands.checks.cooldown(4, 10.0)
    async def chapter(self, interaction: Interaction, story: str, chapter: str) -> None:
        """Read a chapter, page by page."""
        library = _ui.library_of(interaction)
        found = await library.chapter(story, chapter, mature_ok=_ui.mature_ok(interaction))
        state = _ui.PagerState("pg", found.story.id, found.number, 0, interaction.user.id)
        await _ui.send_pager(interaction, state)


async def setup(bot: commands.Bot) -> None:
    bot.add_dynamic_items(*_ui.DYNAMIC_ITEMS)
    await bot.add_cog(Chapters(bot))
