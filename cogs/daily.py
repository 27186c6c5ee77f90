"""/daily set | off | show, and the loop that posts each server's daily excerpt.

Every ``DAILY_CHECK_SECONDS`` (30 s) the loop reads the schedules of the servers this process
serves and posts those that are due (see bot/daily.py for when that is).

No double posts: the day is recorded in the database *before* the message is sent, by one
conditional UPDATE that only one caller can win. A restart, a second loop or a slow send can
therefore never post the same day twice. The price: if the process dies between recording and
sending (a window of one HTTP request), that day's post is lost; a post that fails (channel
gone, permission missing) is logged once and tried again the next day, not every 30 seconds.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot import daily
from bot.errors import StoryBotError
from bot.models import DailySchedule
from bot.runtime import StoryBot, tell
from cogs._admin import SERVER_ONLY, require_manage_guild
from cogs._choices import story_choices
from cogs._context import channel_mature_ok
from cogs.excerpt import excerpt_message

if TYPE_CHECKING:
    from bot.library import Library
    from bot.settings import Settings

log = logging.getLogger(__name__)

READ_ONLY = (
    "This bot instance serves a read-only copy of the library (READ_ONLY is set), so it "
    "cannot save a daily excerpt."
)


class DailyCog(commands.Cog):
    daily_group = app_commands.Group(
        name="daily",
        description="A random excerpt posted every day at a set time (needs Manage Server).",
        guild_only=True,
        allowed_contexts=SERVER_ONLY,
        allowed_installs=app_commands.AppInstallationType(guild=True, user=False),
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, bot: commands.Bot, library: Library, settings: Settings) -> None:
        self.bot = bot
        self.library = library
        self.settings = settings
        # The schedules, read once and kept in step by /daily set and off: a server's schedule
        # changes only through the process that serves it, so a tick reads no database.
        self._schedules: dict[int, DailySchedule] | None = None

    async def cog_load(self) -> None:
        if self.settings.read_only:
            log.info("daily excerpts are not posted by a read-only instance")
            return
        # a schedule set for 23:59 is due for one minute before its local day ends
        self.post_due.change_interval(seconds=min(self.settings.daily_check_seconds, 60))
        self.post_due.start()

    async def cog_unload(self) -> None:
        self.post_due.cancel()

    # ---- commands ------------------------------------------------------------------------

    @daily_group.command(name="set")
    @app_commands.autocomplete(story=story_choices)
    @app_commands.describe(
        channel="Where to post",
        time="Local time, 24-hour HH:MM (e.g. 08:30)",
        timezone="Time zone (IANA name, e.g. Europe/London); default UTC",
        story="Always from this story; default: a random story each day",
    )
    async def set_daily(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel,
        time: str,
        timezone: str = daily.DEFAULT_TIMEZONE,
        story: str | None = None,
    ) -> None:
        """Post an excerpt in a channel every day at a set time."""
        if not await require_manage_guild(interaction):
            return
        if self.settings.read_only:
            await tell(interaction, READ_ONLY)
            return
        assert interaction.guild is not None
        at = daily.parse_time(time)
        zone = daily.canonical_zone(timezone)
        chosen = (
            await self.library.find_story(story, mature_ok=channel_mature_ok(channel))
            if story
            else None
        )
        me = interaction.guild.me
        if me is not None:
            perms = channel.permissions_for(me)
            if not (perms.view_channel and perms.send_messages and perms.embed_links):
                await tell(
                    interaction,
                    f"I cannot post in {channel.mention}: give me *View Channel*, "
                    "*Send Messages* and *Embed Links* there first.",
                )
                return
        now = discord.utils.utcnow()
        schedule = DailySchedule(
            guild_id=interaction.guild.id,
            channel_id=channel.id,
            time=daily.format_time(at),
            timezone=zone,
            story_file=chosen.file if chosen else None,
            last_posted=daily.first_last_posted(at, daily.zone(zone), now),
        )
        await self.library.set_daily_schedule(schedule)
        if self._schedules is not None:
            self._schedules[schedule.guild_id] = schedule
        log.info(
            "daily excerpt set in guild %s: channel %s at %s %s, story %s",
            schedule.guild_id,
            schedule.channel_id,
            schedule.time,
            zone,
            schedule.story_file or "random",
        )
        await tell(interaction, self._describe(schedule, chosen.title if chosen else None, now))

    @daily_group.command(name="off")
    async def off(self, interaction: discord.Interaction) -> None:
        """Stop the daily excerpt in this server."""
        if not await require_manage_guild(interaction):
            return
        if self.settings.read_only:
            await tell(interaction, READ_ONLY)
            return
        assert interaction.guild_id is not None
        if self._schedules is not None:
            self._schedules.pop(interaction.guild_id, None)
        if await self.library.delete_daily_schedule(interaction.guild_id):
            log.info("daily excerpt off in guild %s", interaction.guild_id)
            await tell(interaction, "The daily excerpt is off.")
        else:
            await tell(interaction, "There was no daily excerpt to turn off.")

    @daily_group.command(name="show")
    async def show(self, interaction: discord.Interaction) -> None:
        """Show this server's daily excerpt: where, when, and the next post."""
        assert interaction.guild_id is not None
        schedule = await self.library.daily_schedule(interaction.guild_id)
        if schedule is None:
            await tell(interaction, "No daily excerpt is set. Set one with `/daily set`.")
            return
        title = None
        if schedule.story_file:
            try:
                title = (await self.library.find_story(schedule.story_file, mature_ok=True)).title
            except StoryBotError:
                title = f"{schedule.story_file} (no longer in the library: a random story)"
        await tell(interaction, self._describe(schedule, title, discord.utils.utcnow()))

    def _describe(self, schedule: DailySchedule, title: str | None, now: datetime) -> str:
        upcoming = int(daily.next_post(schedule, now).timestamp())
        source = f"from **{title}**" if title else "from a random story"
        return (
            f"Daily excerpt {source} in <#{schedule.channel_id}> at **{schedule.time}** "
            f"({schedule.timezone}). Next post: <t:{upcoming}:F> (<t:{upcoming}:R>)."
        )

    @set_daily.autocomplete("timezone")
    async def timezone_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=z, value=z) for z in daily.suggest_zones(current)]

    # ---- the loop ------------------------------------------------------------------------

    @tasks.loop(seconds=30)
    async def post_due(self) -> None:
        if self._schedules is None:
            try:
                stored = await self.library.daily_schedules()
            except Exception as exc:  # the database is busy or gone: try again next tick
                log.error("daily excerpts: cannot read schedules: %s", exc)
                return
            self._schedules = {s.guild_id: s for s in stored}
        now = discord.utils.utcnow()
        for schedule in list(self._schedules.values()):
            day = daily.due_date(schedule, now)
            if day is None or self.bot.get_guild(schedule.guild_id) is None:
                continue  # not due, or another shard's (or process's) server, or one we left
            try:
                # recorded before sending: see the module's docstring
                self._schedules[schedule.guild_id] = dataclasses.replace(schedule, last_posted=day)
                if not await self.library.claim_daily_post(schedule.guild_id, day):
                    continue
                await self._post(schedule)
            except Exception as exc:  # one server's failure must not stop the others
                log.error(
                    "daily excerpt for guild %s in channel %s failed: %s: %s",
                    schedule.guild_id,
                    schedule.channel_id,
                    type(exc).__name__,
                    exc,
                )

    @post_due.before_loop
    async def _wait_until_ready(self) -> None:
        await self.bot.wait_until_ready()

    async def _post(self, schedule: DailySchedule) -> None:
        channel = self.bot.get_channel(schedule.channel_id)
        if not isinstance(channel, discord.TextChannel):
            log.warning(
                "daily excerpt for guild %s not posted: channel %s is gone",
                schedule.guild_id,
                schedule.channel_id,
            )
            return
        allowed = channel_mature_ok(channel)
        story: str | None = schedule.story_file
        if story is not None:
            try:
                await self.library.find_story(story, mature_ok=allowed)
            except StoryBotError as exc:
                log.warning(
                    "daily excerpt for guild %s: story %s not used (%s); posting a random one",
                    schedule.guild_id,
                    story,
                    exc.message,
                )
                story = None
        excerpt = await self.library.excerpt(story, mature_ok=allowed, channel=channel.id)
        try:
            scope = excerpt.story.id if story is not None else None
            message = excerpt_message(
                excerpt, scope_story=scope, scope_chapter=None, character=None
            )
            await channel.send(
                "**Today's excerpt**", allowed_mentions=discord.AllowedMentions.none(), **message
            )
        except discord.HTTPException as exc:
            log.warning(
                "daily excerpt for guild %s not posted in channel %s: %s",
                schedule.guild_id,
                schedule.channel_id,
                exc.text or exc.status,
            )
            return
        log.info(
            "daily excerpt posted in guild %s channel %s: %s",
            schedule.guild_id,
            schedule.channel_id,
            excerpt.story.file,
        )


async def setup(bot: commands.Bot) -> None:
    assert isinstance(bot, StoryBot)
    await bot.add_cog(DailyCog(bot, bot.library, bot.settings))
