"""Telling followers and clubs that a story gained chapters (the club loop, cogs/club.py, asks
which stories grew; bot/clubs.py claims each, so one process tells, once).

Each follower gets one DM naming the story and its new chapters with a Read button; each club
reading the story announces them in its channel. Mature and explicit stories are never named in
a DM: they can be followed only in an age-restricted channel, and are announced there instead.
"""

from __future__ import annotations

import asyncio
import logging

import discord
from discord.ext import commands

from bot.clubs import Growth
from bot.errors import log_failure
from bot.models import Story
from cogs._club_post import NONE, RELEASE_SPACING
from cogs._club_views import growth_text
from cogs._views import ReadButton

log = logging.getLogger(__name__)


def _read_view(story: Story, number: int) -> discord.ui.View:
    info = story.chapter_info(number)
    view = discord.ui.View(timeout=None)
    view.add_item(ReadButton(story.id, number, info.first if info else 0, label="Read"))
    return view


class FollowNews:
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    async def tell_all(self, grown: list[Growth]) -> None:
        for growth in grown:
            try:
                await self.tell(growth)
            except Exception as exc:
                log_failure(log, f"follows: telling about story {growth.story.file} failed", exc)

    async def tell(self, growth: Growth) -> None:
        story = growth.story
        labels = [label for _, label in growth.growth.new]
        first = growth.growth.new[0][0]
        channels: dict[int, str] = {}
        for club in growth.clubs:
            channels[club.channel_id] = growth_text(story, labels, club=club)
        sent = 0
        for follow in growth.followers:
            if follow.channel_id is not None:
                channels.setdefault(follow.channel_id, growth_text(story, labels))
                continue
            if story.mature:  # fail closed: a mature story is never named in a DM
                continue
            if sent:
                await asyncio.sleep(RELEASE_SPACING)
            sent += await self._dm(follow.user_id, growth_text(story, labels), story, first)
        for channel_id, text in channels.items():
            await self._announce(channel_id, text, story, first)
        log.info("story %s grew by %d chapters: %d DMs", story.file, len(labels), sent)

    async def _dm(self, user_id: int, text: str, story: Story, first: int) -> bool:
        try:
            user = self.bot.get_user(user_id) or await self.bot.fetch_user(user_id)
            await user.send(text, view=_read_view(story, first), allowed_mentions=NONE)
        except discord.HTTPException as exc:  # DMs closed, or the user is gone
            log.info("follows: no DM to user %s: %s", user_id, exc.text or exc.status)
            return False
        return True

    async def _announce(self, channel_id: int, text: str, story: Story, first: int) -> None:
        channel = self.bot.get_channel(channel_id)
        if not isinstance(channel, discord.TextChannel | discord.ForumChannel | discord.Thread):
            return
        if story.mature and not channel.is_nsfw():  # the channel stopped being age-restricted
            return
        view = _read_view(story, first)
        try:
            if isinstance(channel, discord.ForumChannel):
                name = f"{story.title}: new chapters"[:100]
                await channel.create_thread(name=name, content=text, view=view)
            else:
                await channel.send(text, view=view, allowed_mentions=NONE)
        except discord.HTTPException as exc:
            log.warning("follows: cannot announce in channel %s: %s", channel_id, exc.status)
