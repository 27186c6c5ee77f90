"""Posting a club's release: the message, its thread, and the edit that links them (three
requests; in a forum channel, one: a post). bot/clubs.py decides what and when.

Once: the release is claimed in the database before it is posted (bot/clubs.py), as the daily
excerpt is, so restarts and second processes never post it twice; a release Discord refused
gives its claim back. Missing permissions are checked from the cache before claiming, told
once to the member who started the club (a DM), and the club waits, trying nothing, until
they are given. A database out of reach (a store error that is not a usage fault) pauses
nothing: the release says so, and the loop's next look tries again. A store error after
the post (saving the release's message and thread) is logged, and the release counts as
posted: the chapter is out and claimed, and a retry would release the next one early.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import discord
from discord.ext import commands

from bot.clubs import Clubs, Release
from bot.errors import StoryBotError, log_failure
from bot.models import Club
from cogs._club_views import release_embed, release_view

log = logging.getLogger(__name__)

RELEASE_SPACING = 0.25  # seconds between two clubs' releases: 100 clubs at one minute take 25 s
RETRY_MINUTES = (1, 5, 15, 60)  # after Discord failed (5xx, 429): try again after these
THREAD_ARCHIVE_MINUTES = 10080  # a week: the discussion stays open until the next chapter
NONE = discord.AllowedMentions.none()


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one release attempt, in words for /club next."""

    posted: bool
    text: str


def missing_permissions(channel: discord.abc.GuildChannel) -> str | None:
    """The permissions the bot lacks to release in ``channel`` (as words), or None."""
    me = channel.guild.me
    perms = channel.permissions_for(me)
    forum = isinstance(channel, discord.ForumChannel)
    need = [
        ("view_channel", "View Channel"),
        ("send_messages", "Create Posts" if forum else "Send Messages"),
        ("embed_links", "Embed Links"),
    ]
    if not forum:
        need.append(("create_public_threads", "Create Public Threads"))
    missing = [f"*{name}*" for attr, name in need if not getattr(perms, attr)]
    return ", ".join(missing) or None


class Releaser:
    """Releases clubs' chapters in the channels this process serves."""

    def __init__(self, bot: commands.Bot, clubs: Clubs) -> None:
        self.bot = bot
        self.clubs = clubs
        self._retries: dict[int, tuple[datetime, int]] = {}  # channel -> (when, failures)

    async def release_due(self, now: datetime) -> datetime | None:
        """Release every club whose time has come, one at a time, RELEASE_SPACING apart so
        that a hundred clubs at one minute stay within Discord's rate limits; returns when
        the next club is due (None: no club is waiting)."""
        served = [g.id for g in self.bot.guilds]
        upcoming: list[datetime] = []
        posted = 0
        for club in await self.clubs.scheduled(served):
            assert club.next_due is not None
            retry = self._retries.get(club.channel_id)
            if club.next_due > now or (retry is not None and now < retry[0]):
                upcoming.append(club.next_due if retry is None else max(club.next_due, retry[0]))
                continue
            if posted:
                await asyncio.sleep(RELEASE_SPACING)
            outcome = await self.release(club, discord.utils.utcnow())
            posted += outcome.posted
            if not outcome.posted and club.channel_id in self._retries:
                upcoming.append(self._retries[club.channel_id][0])
        return min(upcoming, default=None)

    async def release(self, club: Club, now: datetime, *, early: bool = False) -> Outcome:
        """Claim and post ``club``'s next chapter; never raises (one club must not stop the
        others)."""
        try:
            return await self._release(club, now, early=early)
        except StoryBotError as exc:  # the database failed or is out of reach (the claim)
            log_failure(log, f"club in channel {club.channel_id}: the release failed", exc)
            return Outcome(False, exc.public)
        except Exception as exc:
            log_failure(log, f"club in channel {club.channel_id}: the release failed", exc)
            return Outcome(False, "The release failed on our side; it has been logged.")

    async def _release(self, club: Club, now: datetime, *, early: bool) -> Outcome:
        channel = self.bot.get_channel(club.channel_id)
        if not isinstance(channel, discord.TextChannel | discord.ForumChannel):
            log.warning("club in channel %s: the channel is gone", club.channel_id)
            return Outcome(False, "The club's channel is gone.")
        try:
            story = await self.clubs.story_of(club)
        except StoryBotError as exc:
            if not exc.usage:  # the database failed or is out of reach: the next look tries
                log_failure(log, f"club in channel {club.channel_id} waits", exc)
                return Outcome(False, exc.public)
            # the story left the library: the club stops there
            await self.clubs.pause(club.channel_id)
            log.warning("club in channel %s paused: %s", club.channel_id, exc.message)
            return Outcome(False, f"The club is paused: {exc.public}")
        missing = missing_permissions(channel)
        if story.mature and not channel.is_nsfw():  # fail closed; the story is not named
            missing = f"*Age-Restricted Channel* on (the club's story is rated {story.rating})"
        if missing is not None:
            await self._blocked(club, channel, missing)
            return Outcome(False, f"The club waits: I need {missing} in {channel.mention}.")
        release = await self.clubs.claim(club, now, early=early)
        if release is None:
            return Outcome(False, "There is no chapter left to release.")
        try:
            message_id, thread_id = await self._post(channel, release)
        except discord.HTTPException as exc:
            await self.clubs.unclaim(release)
            return await self._refused(club, channel, exc, now)
        self._retries.pop(club.channel_id, None)
        released = f"Released **{release.chapter.label}** in {channel.mention}"
        try:
            await self.clubs.record(release, message_id, thread_id, discord.utils.utcnow())
        except StoryBotError as exc:  # posted and claimed: a retry would release the next one
            log_failure(
                log,
                f"club in channel {club.channel_id} released {release.chapter.label} of"
                f" {release.story.file}, but its link was not saved",
                exc,
            )
            return Outcome(True, f"{released} (its link could not be saved).")
        log.info(
            "club in channel %s released %s of %s",
            club.channel_id,
            release.chapter.label,
            release.story.file,
        )
        return Outcome(True, f"{released}.")

    async def _post(
        self, channel: discord.TextChannel | discord.ForumChannel, release: Release
    ) -> tuple[int, int | None]:
        """Post the release; (message id, thread id)."""
        embed, view = release_embed(release), release_view(release)
        if isinstance(channel, discord.ForumChannel):
            created = await channel.create_thread(
                name=release.thread_name,
                embed=embed,
                view=view,
                allowed_mentions=NONE,
                auto_archive_duration=THREAD_ARCHIVE_MINUTES,
            )
            return created.message.id, created.thread.id
        message = await channel.send(embed=embed, view=view, allowed_mentions=NONE)
        try:
            thread = await message.create_thread(
                name=release.thread_name, auto_archive_duration=THREAD_ARCHIVE_MINUTES
            )
            await message.edit(view=release_view(release, thread.jump_url))
        except discord.HTTPException as exc:  # the chapter is out: its thread is not vital
            log.warning("club in channel %s: no thread: %s", channel.id, exc.text or exc.status)
            return message.id, None
        return message.id, thread.id

    async def _refused(
        self,
        club: Club,
        channel: discord.TextChannel | discord.ForumChannel,
        exc: discord.HTTPException,
        now: datetime,
    ) -> Outcome:
        if exc.status in (401, 403):  # a permission the cache did not know about
            await self._blocked(club, channel, "the permissions to post there")
            return Outcome(False, f"Discord refused the release in {channel.mention}.")
        failures = self._retries.get(club.channel_id, (now, 0))[1] + 1
        minutes = RETRY_MINUTES[min(failures, len(RETRY_MINUTES)) - 1]
        self._retries[club.channel_id] = (now + timedelta(minutes=minutes), failures)
        log.error(
            "club in channel %s: the release failed (%s); trying again in %d min",
            club.channel_id,
            exc.status,
            minutes,
        )
        return Outcome(False, "Discord failed to take the release; it is tried again soon.")

    async def _blocked(
        self, club: Club, channel: discord.TextChannel | discord.ForumChannel, missing: str
    ) -> None:
        """Tell the club's starter, once, what the bot lacks (a DM); the club waits."""
        if not await self.clubs.blocked(club, missing):
            return
        log.warning("club in channel %s waits: missing %s", club.channel_id, missing)
        server = discord.utils.escape_markdown(channel.guild.name)
        text = (
            f"The reading club in {channel.mention} (**{server}**)"
            f" is waiting: I need {missing} there to release the next chapter. It goes on by"
            " itself once I have them."
        )
        try:
            user = self.bot.get_user(club.starter_id) or await self.bot.fetch_user(club.starter_id)
            await user.send(text, allowed_mentions=NONE)
        except discord.HTTPException as exc:  # DMs closed: the log and /club status say it
            log.warning("club in channel %s: cannot tell its starter: %s", club.channel_id, exc)
