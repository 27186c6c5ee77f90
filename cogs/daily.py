"""/daily set | off | show, and the loop that posts each server's daily excerpt.

Every ``DAILY_CHECK_SECONDS`` (30 s) the loop reads the schedules of the servers this process
serves and posts those that are due (see bot/daily.py for when that is).

No double posts: the day is recorded in the database *before* the message is sent, by one
conditional UPDATE that only one caller can win. A restart, a second loop or a slow send can
therefore never post the same day twice. The price: if the process dies between recording and
sending (a window of one HTTP request), that day's post is lost. A post that cannot be made
(channel gone, permission missing) is logged once and tried again the next day, not every 30
seconds; one that fails for a while (Discord down, the database locked) is tried again the same
day, after 1, 5 and 15 minutes and then hourly (bot/daily.py, retry_at), its claim released
so that a restart in between tries it too.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot import daily
from bot.models import DailySchedule
from bot.runtime import StoryBot, log_discord_failure, tell
from cogs._admin import SERVER_ONLY, require_manage_guild
from cogs._choices import story_choices
from cogs._context import channel_mature_ok
from cogs._deadline import in_time
from cogs.excerpt import excerpt_message

if TYPE_CHECKING:
    from bot.library import Library
    from bot.settings import Settings

log = logging.getLogger(__name__)
GONE = "(no longer in the library: a random story)"  # a named story /daily show cannot find

READ_ONLY = (
    "This bot instance serves a read-only copy of the library (READ_ONLY is set), so it "
    "cannot save a daily excerpt."
)


@dataclass(frozen=True, slots=True)
class _Retry:
    """A post that failed: for which local day, how often, when to try again, and whether its
    claim was given back (when it was not, this process still holds it)."""

    day: date
    failures: int
    at: datetime
    released: bool


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
        self._retries: dict[int, _Retry] = {}  # by guild id

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
        # a write: under another process's lock it is deferred in time, then told by followup
        await in_time(interaction, self.library.set_daily_schedule(schedule), ephemeral=True)
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
        deleting = self.library.delete_daily_schedule(interaction.guild_id)
        if await in_time(interaction, deleting, ephemeral=True):
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
            named = await self.library.daily_story(schedule.story_file, mature_ok=True)
            title = named.story.title if named.story else f"{schedule.story_file} {GONE}"
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
                _log_failed("daily excerpts: cannot read schedules", exc)
                return
            self._schedules = {s.guild_id: s for s in stored}
        now = discord.utils.utcnow()
        for schedule in list(self._schedules.values()):
            if self.bot.get_guild(schedule.guild_id) is None:
                continue  # another shard's (or process's) server, or one we left
            retry = self._retries.get(schedule.guild_id)
            if retry is not None and now < retry.at:
                continue
            day = daily.due_date(schedule, now)
            if retry is not None and not retry.released:
                day = retry.day  # this process still holds that day's claim
            elif day is None:
                continue
            else:
                try:
                    # recorded before sending: see the module's docstring
                    claimed = await self.library.claim_daily_post(schedule.guild_id, day)
                except Exception as exc:  # the database is busy: the next tick tries again
                    _log_failed(
                        f"daily excerpt for guild {schedule.guild_id}: cannot claim {day}", exc
                    )
                    continue
                self._schedules[schedule.guild_id] = dataclasses.replace(schedule, last_posted=day)
                if not claimed:
                    self._retries.pop(schedule.guild_id, None)
                    continue
            try:
                await self._post(schedule)
            except Exception as exc:  # one server's failure must not stop the others
                await self._failed(schedule, day, retry, now, exc)
            else:
                self._retries.pop(schedule.guild_id, None)

    async def _failed(
        self,
        schedule: DailySchedule,
        day: date,
        retry: _Retry | None,
        now: datetime,
        exc: Exception,
    ) -> None:
        """Plan the next try of a post that failed (the same day only), and say so once."""
        failures = retry.failures + 1 if retry is not None else 1
        at = daily.retry_at(schedule, day, failures, now)
        where = f"daily excerpt for guild {schedule.guild_id} in channel {schedule.channel_id}"
        if at is None:
            self._retries.pop(schedule.guild_id, None)
            _log_failed(f"{where} failed; given up for {day}", exc)
            return
        released = False
        try:
            released = await self.library.release_daily_post(
                schedule.guild_id, day, schedule.last_posted
            )
        except Exception as release_error:  # still ours: this process tries again itself
            _log_failed(f"{where}: cannot release the claim", release_error)
        if released and self._schedules is not None:
            self._schedules[schedule.guild_id] = schedule  # due again, at the retry time
        self._retries[schedule.guild_id] = _Retry(day, failures, at, released)
        _log_failed(f"{where} failed; trying again at {at:%H:%M UTC}", exc)

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
            named = await self.library.daily_story(story, mature_ok=allowed)
            if named.story is None:
                log.warning(
                    "daily excerpt for guild %s: story %s not used (%s); posting a random one",
                    schedule.guild_id,
                    story,
                    named.gone,
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
            if exc.status >= 500 or exc.status == 429:  # Discord's trouble: try again today
                raise
            log.warning(  # refused (permissions, the channel): tried again tomorrow
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


def _log_failed(what: str, exc: Exception) -> None:
    """A failure in the loop, in one line (bot/runtime.py log_discord_failure)."""
    log_discord_failure(log, what, exc)


async def setup(bot: commands.Bot) -> None:
    assert isinstance(bot, StoryBot)
    await bot.add_cog(DailyCog(bot, bot.library, bot.settings))
