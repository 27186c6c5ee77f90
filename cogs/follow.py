"""/follow and /unfollow: a reader is told when a story gains chapters.

The club loop (cogs/club.py) looks for stories that grew after each ingest in this process and
every half hour (an ingest by another process: `python -m bot ingest`), and cogs/_follow_news.py
tells: one DM per follower, an announcement in each club reading the story. Mature and explicit
stories are never named in a DM: they can be followed only in an age-restricted channel, and
their news is announced there instead.
"""

from __future__ import annotations

import logging

from discord import app_commands
from discord.ext import commands

from bot.runtime import StoryBot, tell
from cogs._choices import story_choices
from cogs._context import Interaction, library_of, mature_ok
from cogs._deadline import in_time
from cogs._limits import COMMAND_PER, COMMAND_RATE
from cogs._render import escape

log = logging.getLogger(__name__)


class Follow(commands.Cog):
    def __init__(self, bot: StoryBot) -> None:
        self.bot = bot

    @app_commands.command(name="follow")
    @app_commands.describe(story="The story to follow")
    @app_commands.autocomplete(story=story_choices)
    @app_commands.checks.cooldown(COMMAND_RATE, COMMAND_PER)
    async def follow(self, interaction: Interaction, story: str) -> None:
        """Be told (by a DM) when a story gains chapters."""
        library = library_of(interaction)
        if library.read_only:
            await tell(interaction, "This copy of the bot is read-only: it cannot save follows.")
            return
        found = await library.find_story(story, mature_ok=mature_ok(interaction))
        # a mature story's news is never a DM: it is announced in this age-restricted channel
        channel = interaction.channel_id if found.mature else None
        following = library.clubs.follow(interaction.user.id, found, channel)
        new = await in_time(interaction, following, ephemeral=True)
        title = escape(found.title)
        where = "announced in this channel" if found.mature else "sent to you in a direct message"
        already = "" if new else " (you were following it already)"
        await tell(interaction, f"You follow **{title}**{already}: its new chapters are {where}.")

    @app_commands.command(name="unfollow")
    @app_commands.describe(story="The story to stop following")
    @app_commands.autocomplete(story=story_choices)
    @app_commands.checks.cooldown(COMMAND_RATE, COMMAND_PER)
    async def unfollow(self, interaction: Interaction, story: str) -> None:
        """Stop being told when a story gains chapters."""
        library = library_of(interaction)
        # a mature story is refused here as /follow refuses it, and a typo is never answered
        # with its title where it may not be read
        found = await library.find_story(story, mature_ok=mature_ok(interaction))
        unfollowing = library.clubs.unfollow(interaction.user.id, found)
        if await in_time(interaction, unfollowing, ephemeral=True):
            await tell(interaction, f"You no longer follow **{escape(found.title)}**.")
        else:
            await tell(interaction, f"You were not following **{escape(found.title)}**.")


async def setup(bot: commands.Bot) -> None:
    assert isinstance(bot, StoryBot)
    await bot.add_cog(Follow(bot))
