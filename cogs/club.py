"""/club: a channel reads a story together, a chapter at a time (bot/clubs.py has the rules).

/club start, next, pause, resume, stop and role are for managers (Manage Server, or the role
a server names with /club role); status, join, leave and vote for everyone. Every
``DAILY_CHECK_SECONDS`` (30 s) the loop releases the chapters that are due (cogs/_club_post.py)
and closes the votes whose poll has ended.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import re
from datetime import datetime, timedelta
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot import clubs as rules
from bot import daily
from bot.errors import StoryBotError, log_failure
from bot.models import Club, ClubVote
from bot.runtime import StoryBot, tell
from cogs._admin import SERVER_ONLY
from cogs._choices import chapter_choices, story_choices
from cogs._club_post import NONE, Releaser, missing_permissions
from cogs._club_views import ClubButton, result_text, stamp, status_embed
from cogs._context import Interaction, channel_mature_ok, library_of, mature_ok, report
from cogs._deadline import in_time
from cogs._follow_news import FollowNews
from cogs._render import escape

log = logging.getLogger(__name__)

READ_ONLY = "This bot instance serves a read-only copy of the library: it cannot run a club."
VOTE_GRACE = timedelta(minutes=10)  # a poll Discord has not finalized yet is waited for
VOTE_RECHECK = timedelta(minutes=1)
LOOK_AGAIN = timedelta(hours=1)  # the loop reads the clubs at least this often
RETRY_LOOP = timedelta(minutes=1)
# how often stories are checked for new chapters ingested by another process (`python -m bot
# ingest`); an ingest in this process is looked at at once (look_for_news)
LOOK_FOR_NEWS = timedelta(minutes=30)  # after the loop failed (the database locked)
ClubChannel = discord.TextChannel | discord.ForumChannel


def club_channel_id(interaction: Interaction) -> int:
    """The club's channel: the channel itself, or the parent of a release's thread."""
    channel = interaction.channel
    if isinstance(channel, discord.Thread) and channel.parent_id is not None:
        return channel.parent_id
    assert interaction.channel_id is not None
    return interaction.channel_id


async def is_manager(interaction: Interaction) -> bool:
    if interaction.guild is None:
        return False
    if interaction.permissions.manage_guild:
        return True
    role = await library_of(interaction).clubs.manager_role(interaction.guild.id)
    roles = getattr(interaction.user, "roles", [])
    return role is not None and any(r.id == role for r in roles)


async def require_manager(interaction: Interaction) -> bool:
    """True for a club manager; otherwise answers why not."""
    if await is_manager(interaction):
        return True
    await tell(
        interaction,
        "Only club managers can do that: members with *Manage Server*, or the role named "
        "with /club role.",
    )
    return False


def _writable(interaction: Interaction) -> None:
    if library_of(interaction).read_only:
        raise StoryBotError(READ_ONLY)


class ClubCog(commands.Cog):
    club_group = app_commands.Group(
        name="club",
        description="Read a story together, a chapter at a time.",
        guild_only=True,
        allowed_contexts=SERVER_ONLY,
        allowed_installs=app_commands.AppInstallationType(guild=True, user=False),
    )

    def __init__(self, bot: StoryBot) -> None:
        self.bot = bot
        self.releaser = Releaser(bot, bot.library.clubs)
        self.news = FollowNews(bot)
        self._news_at: datetime | None = None  # when to look for stories that grew (None: now)

    async def cog_load(self) -> None:
        if self.bot.settings.read_only:
            log.info("clubs are not released by a read-only instance")
            return
        clubs = self.bot.library.clubs
        clubs.on_change.append(self.look_now)
        clubs.on_ingest.append(self.look_for_news)
        if await clubs.in_use():  # else the loop starts with the first club, vote or follow
            self.tick.start()

    async def cog_unload(self) -> None:
        self.tick.cancel()
        clubs = self.bot.library.clubs
        for listeners, listener in (
            (clubs.on_change, self.look_now),
            (clubs.on_ingest, self.look_for_news),
        ):
            with contextlib.suppress(ValueError):
                listeners.remove(listener)

    def look_now(self) -> None:
        """A club, vote or follow changed: the loop looks again within a second."""
        if self.tick.is_running():
            self.tick.change_interval(seconds=1)
        else:
            self.tick.start()

    @commands.Cog.listener("on_guild_channel_update")
    @commands.Cog.listener("on_guild_role_update")
    async def permissions_changed(self, *_: object) -> None:
        """A channel's or a role's permissions changed: a waiting club may go on now."""
        if self.tick.is_running():
            self.look_now()

    def look_for_news(self) -> None:
        """The library was ingested here: the loop looks for stories that grew at once."""
        self._news_at = None
        self.look_now()

    # ---- starting and ending ---------------------------------------------------------------

    @club_group.command(name="start")
    @app_commands.autocomplete(story=story_choices, starting=chapter_choices)
    @app_commands.describe(
        story="The story to read together",
        every="How often a chapter comes: day, week, or a weekday (monday)",
        at="Local time of each release, 24-hour HH:MM (e.g. 19:00)",
        timezone="Time zone (IANA name, e.g. Europe/Paris); default UTC",
        channel="Where the club reads (a text or forum channel); default this one",
        starting="The chapter to begin with; default the first",
    )
    async def start(
        self,
        interaction: Interaction,
        *,
        story: str,
        every: str,
        at: str,
        timezone: str = daily.DEFAULT_TIMEZONE,
        channel: ClubChannel | None = None,
        starting: str | None = None,
    ) -> None:
        """Start a reading club: a chapter released at a set time, with a thread to talk in."""
        if not await require_manager(interaction):
            return
        _writable(interaction)
        assert interaction.guild is not None
        target = channel or interaction.channel
        if not isinstance(target, ClubChannel):
            await tell(interaction, "A club reads in a text or forum channel: name one.")
            return
        target = interaction.guild.get_channel(target.id) or target
        now = discord.utils.utcnow()
        zone = daily.canonical_zone(timezone)
        kind, weekday = rules.parse_every(every, now, zone)
        schedule = Club(
            channel_id=target.id,
            guild_id=interaction.guild.id,
            story_id=0,
            every=kind,
            weekday=weekday,
            at=daily.format_time(daily.parse_time(at)),
            timezone=zone,
            starting=0,
            last_chapter=None,
            released=0,
            next_due=None,
            state="active",
            starter_id=interaction.user.id,
        )
        starting_club = library_of(interaction).clubs.start(
            schedule, story, starting, mature_ok=channel_mature_ok(target), now=now
        )
        club, found = await in_time(interaction, starting_club, ephemeral=True)
        first = rules.next_chapter(found, club)
        assert club.next_due is not None and first is not None
        text = (
            f"📚 The reading club in <#{club.channel_id}> reads **{escape(found.title)}**, "
            f"{rules.describe_schedule(club)}. First: {escape(first.label)}, "
            f"{stamp(club.next_due)} ({stamp(club.next_due, 'R')})."
        )
        if isinstance(target, discord.abc.GuildChannel):
            missing = missing_permissions(target)
            if missing:
                text += f"\n⚠️ I need {missing} in <#{club.channel_id}> to release chapters."
        log.info("club started in channel %s: %s, %s", club.channel_id, found.file, club.every)
        await tell(interaction, text)

    @start.autocomplete("every")
    async def every_choices(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        typed = current.strip().lower()
        names = [n for n in rules.EVERY_CHOICES if n.startswith(typed)] or list(rules.EVERY_CHOICES)
        return [app_commands.Choice(name=n, value=n) for n in names]

    @start.autocomplete("timezone")
    async def timezone_choices(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=z, value=z) for z in daily.suggest_zones(current)]

    @club_group.command(name="stop")
    async def stop(self, interaction: Interaction) -> None:
        """End this channel's club (its threads stay)."""
        if not await require_manager(interaction):
            return
        _writable(interaction)
        stopping = library_of(interaction).clubs.stop(club_channel_id(interaction))
        if await in_time(interaction, stopping, ephemeral=True):
            await tell(interaction, "The club is stopped. Start another with /club start.")
        else:
            await tell(interaction, rules.NO_CLUB)

    @club_group.command(name="role")
    @app_commands.describe(role="Members with this role manage clubs; leave out to clear it")
    async def role(self, interaction: Interaction, role: discord.Role | None = None) -> None:
        """Name the role whose members manage clubs (besides Manage Server)."""
        if interaction.guild is None or not interaction.permissions.manage_guild:
            await tell(interaction, "You need the **Manage Server** permission to do that.")
            return
        _writable(interaction)
        clubs = library_of(interaction).clubs
        setting = clubs.set_manager_role(interaction.guild.id, role.id if role else None)
        await in_time(interaction, setting, ephemeral=True)
        if role is None:
            await tell(interaction, "Clubs are managed by members with *Manage Server* only.")
        else:
            await tell(interaction, f"Members with {role.mention} can manage clubs now.")

    # ---- the schedule ----------------------------------------------------------------------

    @club_group.command(name="next")
    async def next_(self, interaction: Interaction) -> None:
        """Release the next chapter now (the schedule keeps its times)."""
        if not await require_manager(interaction):
            return
        _writable(interaction)
        club = await library_of(interaction).clubs.club(club_channel_id(interaction))
        if club.state != "active":
            await tell(interaction, f"The club is {club.state}: /club resume first.")
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        outcome = await self.releaser.release(club, discord.utils.utcnow(), early=True)
        await tell(interaction, outcome.text)

    @club_group.command(name="pause")
    async def pause(self, interaction: Interaction) -> None:
        """Pause the club: no releases until /club resume."""
        if not await require_manager(interaction):
            return
        _writable(interaction)
        pausing = library_of(interaction).clubs.pause(club_channel_id(interaction))
        await in_time(interaction, pausing, ephemeral=True)
        await tell(interaction, "The club is paused. /club resume goes on.")

    @club_group.command(name="resume")
    async def resume(self, interaction: Interaction) -> None:
        """Go on after a pause, at the next scheduled time."""
        if not await require_manager(interaction):
            return
        _writable(interaction)
        resuming = library_of(interaction).clubs.resume(
            club_channel_id(interaction), discord.utils.utcnow()
        )
        club = await in_time(interaction, resuming, ephemeral=True)
        assert club.next_due is not None
        await tell(interaction, f"The club goes on: next release {stamp(club.next_due)}.")

    # ---- members ---------------------------------------------------------------------------

    @club_group.command(name="status")
    async def status(self, interaction: Interaction) -> None:
        """The club's story, schedule, next release, and who has read how far."""
        found = await library_of(interaction).clubs.status(club_channel_id(interaction))
        await interaction.response.send_message(
            embed=status_embed(found), allowed_mentions=NONE, ephemeral=True
        )

    @club_group.command(name="join")
    async def join(self, interaction: Interaction) -> None:
        """Join this channel's club: you appear on its progress board."""
        _writable(interaction)
        joining = library_of(interaction).clubs.join(
            club_channel_id(interaction), interaction.user.id
        )
        joined = await in_time(interaction, joining, ephemeral=True)
        if joined:
            await tell(interaction, "You are on the club's board. /club leave takes you off.")
        else:
            await tell(interaction, "You are on the club's board already.")

    @club_group.command(name="leave")
    async def leave(self, interaction: Interaction) -> None:
        """Leave this channel's club: you are taken off its progress board."""
        _writable(interaction)
        leaving = library_of(interaction).clubs.leave(
            club_channel_id(interaction), interaction.user.id
        )
        if await in_time(interaction, leaving, ephemeral=True):
            await tell(interaction, "You are off the club's board.")
        else:
            await tell(interaction, "You were not on the club's board.")

    # ---- the vote --------------------------------------------------------------------------

    @club_group.command(name="vote")
    @app_commands.describe(
        stories="Two to ten stories, separated by commas",
        hours="How long the vote lasts (1 to 768 hours); default 24",
    )
    async def vote(
        self,
        interaction: Interaction,
        stories: str,
        hours: app_commands.Range[int, 1, 768] = 24,
    ) -> None:
        """A poll for the club's next story; when it closes, the winner can be started."""
        _writable(interaction)
        clubs = library_of(interaction).clubs
        found = await clubs.vote_stories(stories, mature_ok=mature_ok(interaction))
        poll = discord.Poll(
            question="Which story should the club read next?", duration=timedelta(hours=hours)
        )
        for story in found:
            poll.add_answer(text=rules.poll_answer(story.title))
        await interaction.response.send_message(poll=poll, allowed_mentions=NONE)
        message = await interaction.original_response()
        ends = discord.utils.utcnow() + timedelta(hours=hours)
        if message.poll is not None and message.poll.expires_at is not None:
            ends = message.poll.expires_at
        assert interaction.guild_id is not None and interaction.channel_id is not None
        ids = tuple(s.id for s in found)
        vote = ClubVote(message.id, interaction.channel_id, interaction.guild_id, ids, ends)
        await clubs.add_vote(vote)

    # ---- the loop --------------------------------------------------------------------------

    @tasks.loop(seconds=1)
    async def tick(self) -> None:
        """Release what is due and close the votes that ended, then sleep until the next is
        due (a command changing a club or vote wakes it: look_now), an hour at most."""
        wake = discord.utils.utcnow() + LOOK_AGAIN
        try:
            wake = await self._step()
        except Exception as exc:  # said as what it is (busy, damaged, our fault): look again
            wake = discord.utils.utcnow() + RETRY_LOOP
            log_failure(log, f"clubs: the loop looks again in {RETRY_LOOP}", exc)
        seconds = (wake - discord.utils.utcnow()).total_seconds()
        self.tick.change_interval(seconds=min(max(seconds, 1.0), LOOK_AGAIN.total_seconds()))

    @tick.before_loop
    async def _wait_until_ready(self) -> None:
        await self.bot.wait_until_ready()

    async def _step(self) -> datetime:
        """Release what is due and close what has ended; when to look again."""
        now = discord.utils.utcnow()
        wake = now + LOOK_AGAIN
        upcoming = await self.releaser.release_due(now)
        if upcoming is not None:
            wake = min(wake, upcoming)
        ends = await self._close_votes()
        if ends is not None:
            wake = min(wake, ends)
        if self._news_at is None or self._news_at <= now:
            self._news_at = now + LOOK_FOR_NEWS
            await self.news.tell_all(await self.bot.library.story_growth())
        return min(wake, self._news_at)

    async def _close_votes(self) -> datetime | None:
        """Post the result of each vote whose poll has closed; when the next one ends."""
        clubs = self.bot.library.clubs
        now = discord.utils.utcnow()
        upcoming: list[datetime] = []
        for vote in await clubs.votes([g.id for g in self.bot.guilds]):
            if vote.ends_at > now:
                upcoming.append(vote.ends_at)
                continue
            try:
                if not await self._close_vote(vote, now):
                    upcoming.append(now + VOTE_RECHECK)
            except Exception as exc:
                log_failure(log, f"club vote {vote.message_id}: closing failed", exc)
                upcoming.append(now + VOTE_RECHECK)
        return min(upcoming, default=None)

    async def _close_vote(self, vote: ClubVote, now: datetime) -> bool:
        """Post a closed vote's result; False when Discord is still counting."""
        clubs = self.bot.library.clubs
        channel = self.bot.get_channel(vote.channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            await clubs.claim_vote(vote)  # the channel is gone: so is the vote
            return True
        try:
            message = await channel.fetch_message(vote.message_id)
        except discord.NotFound:
            await clubs.claim_vote(vote)
            return True
        poll = message.poll
        if poll is not None and not poll.is_finalized() and now < vote.ends_at + VOTE_GRACE:
            return False  # Discord is still counting
        if await clubs.claim_vote(vote):  # else another process posted it
            counts = [answer.vote_count for answer in poll.answers] if poll else []
            await self._post_result(channel, vote, counts)
        return True

    async def _post_result(
        self, channel: discord.abc.Messageable, vote: ClubVote, counts: list[int]
    ) -> None:
        library = self.bot.library
        if not counts or max(counts) == 0:
            await channel.send(result_text(None, 0, False, []), allowed_mentions=NONE)
            return
        index, tie = rules.winner(counts)
        story = await library.find_story(vote.story_ids[index], mature_ok=True)
        home = vote.channel_id
        if isinstance(channel, discord.Thread) and channel.parent_id is not None:
            home = channel.parent_id
        view = discord.ui.View(timeout=None)
        view.add_item(StartButton(home, story.id))
        text = result_text(story, counts[index], tie, [])
        await channel.send(text, view=view, allowed_mentions=NONE)


async def start_on_winner(interaction: Interaction, channel_id: int, story_id: int) -> None:
    """Start the channel's club on a vote's winner, on the last club's schedule."""
    if not await require_manager(interaction):
        return
    _writable(interaction)
    clubs = library_of(interaction).clubs
    previous = await clubs.find(channel_id)
    story = await library_of(interaction).find_story(story_id, mature_ok=True)
    if previous is None:
        await tell(
            interaction,
            f"Start it with `/club start story:{story.slug}` and a schedule (every, at).",
        )
        return
    channel = interaction.client.get_channel(channel_id)
    schedule = dataclasses.replace(previous, starter_id=interaction.user.id)
    starting = clubs.start(
        schedule, story.slug, None, mature_ok=channel_mature_ok(channel), now=discord.utils.utcnow()
    )
    club, found = await in_time(interaction, starting, ephemeral=True)
    assert club.next_due is not None
    await tell(
        interaction,
        f"📚 The club reads **{escape(found.title)}** next, {rules.describe_schedule(club)}: "
        f"the first chapter {stamp(club.next_due)}.",
    )


START_TEMPLATE = r"sb:cv:(?P<channel>\d+):(?P<story>\d+)"


class StartButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=START_TEMPLATE):
    """Under a vote's result: start the channel's club on the winner (managers only)."""

    def __init__(self, channel: int, story: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Start the club",
                emoji="▶️",
                style=discord.ButtonStyle.primary,
                custom_id=f"sb:cv:{channel}:{story}",
            )
        )
        self.channel, self.story = channel, story

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> StartButton:
        return cls(int(match["channel"]), int(match["story"]))

    async def callback(self, interaction: Interaction) -> None:
        try:
            await start_on_winner(interaction, self.channel, self.story)
        except Exception as exc:
            await report(interaction, exc, "club start on winner")


async def setup(bot: commands.Bot) -> None:
    assert isinstance(bot, StoryBot)
    bot.add_dynamic_items(ClubButton, StartButton)
    await bot.add_cog(ClubCog(bot))


async def teardown(bot: commands.Bot) -> None:
    bot.remove_dynamic_items(ClubButton, StartButton)
