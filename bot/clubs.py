"""Reading together: a channel's club reads one story a chapter at a time.

No Discord here: the cog (cogs/club.py) asks ``due`` every tick, ``claim``s a release before
posting it (so it is posted once, whatever restarts or second processes do), ``record``s where
it went, and gives the claim back with ``unclaim`` when Discord refused it. The rules:

- Releases come at a local time, every day or every week on one weekday, in the club's time
  zone (daylight saving as the daily excerpt handles it: bot/daily.py).
- A release missed while the bot was down goes out once when it is back, and the next one is
  the next scheduled time after that: a club is never flooded with the chapters it missed.
- ``/club next`` releases early; the schedule keeps its times.
- After the last chapter the club is finished (and offers a vote for the next story).
- The progress board is the members and the furthest place each has read in the story (the
  readers' places: /chapter, the Read chapter button, and I've read it).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot import daily, readers
from bot.errors import StoryBotError, log_failure
from bot.models import (
    Chapter,
    ChapterInfo,
    Club,
    ClubMember,
    ClubRelease,
    ClubVote,
    Follow,
    ReaderData,
    Story,
    StoryGrowth,
)
from bot.store import ClubStore

log = logging.getLogger(__name__)

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
EVERY_CHOICES = ("day", "week", *WEEKDAYS)
OPENING_CHARS = 400  # a release quotes the chapter's first paragraph or so, never more
THREAD_NAME_LIMIT = 100  # Discord's limit on a thread's name
POLL_ANSWERS = 10  # Discord's limit on a poll's answers
POLL_ANSWER_CHARS = 55  # ... on an answer's text
POLL_QUESTION_CHARS = 300
VOTE_HOURS = (1, 768)  # a poll lasts 1 hour to 32 days
NO_CLUB = "There is no club in this channel: start one with /club start."
STATES = ("active", "paused", "finished")


class Catalogue(Protocol):
    """What clubs need of the stories: find one (checked against the channel's ratings), and
    a chapter's text."""

    async def find_story(self, ref: str | int | Story, *, mature_ok: bool) -> Story: ...

    async def chapter(
        self, story_ref: str | int, chapter_ref: str | int, *, mature_ok: bool
    ) -> Chapter: ...


@dataclass(frozen=True, slots=True)
class Release:
    """A release claimed and ready to post: the chapter, its opening lines, when the next
    comes (None after the last), and where it stands in the club (n of N)."""

    club: Club  # as it was before the claim (unclaim puts it back)
    story: Story
    chapter: Chapter
    opening: str
    number: int
    total: int
    next_at: datetime | None

    @property
    def last(self) -> bool:
        return self.number >= self.total

    @property
    def thread_name(self) -> str:
        return thread_name(self.story.title, self.chapter.label)


@dataclass(frozen=True, slots=True)
class BoardLine:
    """One member on the progress board: the chapter they have reached (None: not begun),
    and whether they are behind the chapter released last."""

    user_id: int
    chapter: int | None
    label: str | None
    behind: bool


@dataclass(frozen=True, slots=True)
class ClubStatus:
    club: Club
    story: Story
    released: int  # chapters released of ``total``
    total: int
    next_label: str | None  # the chapter that comes next (None when none is left)
    board: tuple[BoardLine, ...]


@dataclass(frozen=True, slots=True)
class Growth:
    """A story that gained chapters, with who and where to tell (bot/store/clubs.py claims it
    so that each follower is told once)."""

    growth: StoryGrowth
    story: Story
    followers: tuple[Follow, ...]
    clubs: tuple[Club, ...]


# ---- the schedule ---------------------------------------------------------------------------


def parse_every(every: str, now: datetime, timezone: str) -> tuple[str, int]:
    """("day" | "week", weekday) from what was typed: day, week (on today's weekday where the
    club is), or a weekday's name (every week on that day)."""
    key = every.strip().lower()
    today = daily.local_date(now, daily.zone(timezone)).weekday()
    if key in ("day", "daily", "every day"):
        return "day", today
    if key in ("week", "weekly", "every week"):
        return "week", today
    for number, name in enumerate(WEEKDAYS):
        if key in (name, name[:3], name + "s"):
            return "week", number
    raise StoryBotError(
        f"“{every.strip()[:20]}” is not a schedule: say day, week, or a weekday (monday)."
    )


def next_slot(club: Club, after: datetime, *, inclusive: bool) -> datetime:
    """The first release time of ``club``'s schedule at (``inclusive``) or after ``after``."""
    tz = daily.zone(club.timezone)
    at = daily.parse_time(club.at)
    day = daily.local_date(after, tz) - timedelta(days=1)
    for _ in range(10):
        if club.every == "day" or day.weekday() == club.weekday:
            slot = daily._at(day, at, tz)  # pyright: ignore[reportPrivateUsage]
            if slot > after or (inclusive and slot == after):
                return slot
        day += timedelta(days=1)
    raise AssertionError("a week always has a release day")  # pragma: no cover


def describe_schedule(club: Club) -> str:
    when = "every day" if club.every == "day" else f"every {WEEKDAYS[club.weekday].title()}"
    return f"{when} at {club.at} ({club.timezone})"


def club_chapters(story: Story, club: Club) -> list[ChapterInfo]:
    """The chapters the club reads, in order: from its starting chapter to the end."""
    return [c for c in story.chapters if c.number >= club.starting]


def next_chapter(story: Story, club: Club) -> ChapterInfo | None:
    for info in club_chapters(story, club):
        if club.last_chapter is None or info.number > club.last_chapter:
            return info
    return None


# ---- what a release and a poll say ----------------------------------------------------------


def opening_lines(chapter: Chapter, limit: int = OPENING_CHARS) -> str:
    """The chapter's first paragraph (and the next when the first is a line or two), cut at a
    sentence or a word so that it never passes ``limit`` characters."""
    texts = [p.text for p in chapter.paragraphs[:2]]
    if not texts:
        return ""
    shown = texts[0]
    if len(texts) > 1 and len(shown) < limit // 3 and len(shown) + len(texts[1]) + 2 <= limit:
        shown = f"{shown}\n\n{texts[1]}"
    if len(shown) <= limit:
        return shown
    cut = shown[: limit - 1]
    ends = [cut.rfind(mark) for mark in (". ", "! ", "? ", ".” ", "!” ", "?” ")]
    end = max(ends)
    if end >= limit // 2:
        return cut[: end + 1].rstrip()
    return cut[: cut.rfind(" ")].rstrip(" ,;:") + "…" if " " in cut else cut + "…"


def thread_name(title: str, label: str) -> str:
    name = f"{title} · {label}"
    if len(name) <= THREAD_NAME_LIMIT:
        return name
    room = THREAD_NAME_LIMIT - len(label) - 4
    return f"{title[:room].rstrip()}… · {label}"[:THREAD_NAME_LIMIT]


def poll_answer(title: str) -> str:
    return title if len(title) <= POLL_ANSWER_CHARS else title[: POLL_ANSWER_CHARS - 1] + "…"


def split_story_list(text: str) -> list[str]:
    """The stories of "a, b, c" (a name holding a comma is found by joining its parts)."""
    return [part.strip() for part in text.split(",") if part.strip()]


def winner(counts: Sequence[int]) -> tuple[int, bool]:
    """The index of the answer with the most votes (the first listed of a tie), and whether
    it was a tie."""
    best = max(counts)
    first = counts.index(best)
    return first, counts.count(best) > 1


# ---- the service ----------------------------------------------------------------------------


class Clubs:
    """Clubs, their members and votes, and story followers, over the store."""

    def __init__(
        self, store: ClubStore, catalogue: Catalogue, settle: Callable[[], Awaitable[None]]
    ) -> None:
        self.store = store
        self.catalogue = catalogue
        self._settle = settle  # waits until the readers' places recorded so far are written
        # called when a club or vote changes (the release loop looks again at once), and when
        # the library was ingested here (the follow loop looks for stories that grew)
        self.on_change: list[Callable[[], None]] = []
        self.on_ingest: list[Callable[[], None]] = []

    def _changed(self) -> None:
        for listener in self.on_change:
            listener()

    async def in_use(self) -> bool:
        """Whether there is any club, vote or follow (else nothing needs a loop)."""
        return await self.store.clubs_in_use()

    def ingested(self) -> None:
        """The library was ingested in this process: watched stories may have grown."""
        for listener in self.on_ingest:
            listener()

    async def club(self, channel_id: int) -> Club:
        found = await self.store.club(channel_id)
        if found is None:
            raise StoryBotError(NO_CLUB)
        return found

    async def find(self, channel_id: int) -> Club | None:
        return await self.store.club(channel_id)

    async def start(
        self,
        club: Club,
        story_ref: str,
        starting: str | None,
        *,
        mature_ok: bool,
        now: datetime,
    ) -> tuple[Club, Story]:
        """Start (or restart) the channel's club on a story; ``club`` holds the schedule."""
        story = await self.catalogue.find_story(story_ref, mature_ok=mature_ok)
        if not story.chapters:
            raise StoryBotError(f"“{story.title}” has no chapters to read.")
        first = story.chapters[0].number
        if starting is not None:
            first = (await self.catalogue.chapter(story.id, starting, mature_ok=mature_ok)).number
        existing = await self.store.club(club.channel_id)
        if existing is not None and existing.state != "finished":
            raise StoryBotError(
                "This channel already has a club: see it with /club status, or end it with "
                "/club stop first."
            )
        club = dataclasses.replace(
            club,
            story_id=story.id,
            starting=first,
            last_chapter=None,
            released=0,
            state="active",
            blocked=None,
        )
        club = dataclasses.replace(club, next_due=next_slot(club, now, inclusive=True))
        await self.store.save_club(club)
        self._changed()
        await self.store.watch_story(story.id)
        return club, story

    async def story_of(self, club: Club) -> Story:
        return await self.catalogue.find_story(club.story_id, mature_ok=True)

    async def status(self, channel_id: int) -> ClubStatus:
        club = await self.club(channel_id)
        story = await self.story_of(club)
        await self._settle()
        members = await self.store.club_members(club.channel_id, club.story_id)
        upcoming = next_chapter(story, club) if club.state != "finished" else None
        return ClubStatus(
            club=club,
            story=story,
            released=club.released,
            total=len(club_chapters(story, club)),
            next_label=upcoming.label if upcoming else None,
            board=tuple(board(story, club, members)),
        )

    async def scheduled(self, guild_ids: Sequence[int] | None) -> list[Club]:
        """The active clubs (of these servers), the first due first."""
        return [
            c
            for c in await self.store.clubs(guild_ids)
            if c.state == "active" and c.next_due is not None
        ]

    async def claim(self, club: Club, now: datetime, *, early: bool = False) -> Release | None:
        """Claim ``club``'s next release (as read: another process may have taken it since),
        or None when there is nothing to release or someone else claimed it. ``early``
        (/club next) keeps the schedule's next time."""
        story = await self.story_of(club)
        chapters = club_chapters(story, club)
        info = next_chapter(story, club)
        if info is None:
            return None
        chapter = await self.catalogue.chapter(story.id, info.number, mature_ok=True)
        number = chapters.index(info) + 1
        last = number >= len(chapters)
        if last:
            state, next_due = "finished", None
        elif early and club.next_due is not None:
            state, next_due = "active", club.next_due
        else:
            slot = club.next_due if club.next_due is not None and club.next_due <= now else now
            state, next_due = "active", next_slot(club, max(slot, now), inclusive=False)
        if not await self.store.claim_club_release(club, info.number, state, next_due):
            return None
        opening = opening_lines(chapter)
        return Release(club, story, chapter, opening, number, len(chapters), next_due)

    async def unclaim(self, release: Release) -> bool:
        return await self.store.unclaim_club_release(release.club, release.chapter.number)

    async def record(
        self, release: Release, message_id: int | None, thread_id: int | None, now: datetime
    ) -> None:
        await self.store.record_club_release(
            ClubRelease(release.club.channel_id, release.chapter.number, message_id, thread_id, now)
        )
        if release.club.blocked is not None:
            await self.store.set_club_blocked(release.club.channel_id, None)

    async def blocked(self, club: Club, missing: str | None) -> bool:
        """Record what the bot lacks to release in the club's channel (None: nothing); True
        when that is news, to be told (once) to the club's starter."""
        if club.blocked == missing:
            return False
        return await self.store.set_club_blocked(club.channel_id, missing)

    async def releases(self, channel_id: int) -> list[ClubRelease]:
        return await self.store.club_releases(channel_id)

    # ---- pause, resume, stop -------------------------------------------------------------

    async def pause(self, channel_id: int) -> Club:
        club = await self.club(channel_id)
        if club.state != "active":
            raise StoryBotError(f"The club is {club.state}: there is nothing to pause.")
        await self.store.set_club_state(channel_id, "paused", None)
        self._changed()
        return dataclasses.replace(club, state="paused", next_due=None)

    async def resume(self, channel_id: int, now: datetime) -> Club:
        """Go on from a pause (the next release at the next scheduled time), or with the
        chapters a finished club's story has gained since."""
        club = await self.club(channel_id)
        story = await self.story_of(club)
        if club.state == "active":
            raise StoryBotError("The club is not paused.")
        if next_chapter(story, club) is None:
            raise StoryBotError(
                f"The club has read all of “{story.title}”: pick the next story with /club vote."
            )
        due = next_slot(club, now, inclusive=True)
        await self.store.set_club_state(channel_id, "active", due)
        self._changed()
        return dataclasses.replace(club, state="active", next_due=due, blocked=None)

    async def stop(self, channel_id: int) -> bool:
        self._changed()
        return await self.store.delete_club(channel_id)

    # ---- members -------------------------------------------------------------------------

    async def join(self, channel_id: int, user_id: int) -> bool:
        await self.club(channel_id)
        return await self.store.join_club(channel_id, user_id)

    async def leave(self, channel_id: int, user_id: int) -> bool:
        await self.club(channel_id)
        return await self.store.leave_club(channel_id, user_id)

    async def manager_role(self, guild_id: int) -> int | None:
        return await self.store.club_manager_role(guild_id)

    async def set_manager_role(self, guild_id: int, role_id: int | None) -> None:
        await self.store.set_club_manager_role(guild_id, role_id)

    async def kept_about(self, user_id: int, data: ReaderData) -> ReaderData:
        clubs, follows = await self.store.clubs_and_follows(user_id)
        return dataclasses.replace(data, clubs=clubs, follows=follows)

    async def forget(self, user_id: int, data: ReaderData) -> ReaderData:
        clubs, follows = await self.store.forget_clubs_and_follows(user_id)
        return dataclasses.replace(data, clubs=clubs, follows=follows)

    # ---- votes ---------------------------------------------------------------------------

    async def vote_stories(self, text: str, *, mature_ok: bool) -> list[Story]:
        """The stories of a vote, each one found and allowed here; 2 to 10 of them."""
        names = split_story_list(text)
        found: list[Story] = []
        i = 0
        while i < len(names):
            story, used = await self._longest_name(names, i, mature_ok=mature_ok)
            if story.id not in {s.id for s in found}:
                found.append(story)
            i += used
        if len(found) < 2:
            raise StoryBotError("Name at least two stories, separated by commas.")
        if len(found) > POLL_ANSWERS:
            raise StoryBotError(f"A poll holds at most {POLL_ANSWERS} stories.")
        return found

    async def _longest_name(
        self, names: list[str], start: int, *, mature_ok: bool
    ) -> tuple[Story, int]:
        """The story named by names[start] (or by it joined with the next parts, for a title
        holding a comma), and how many parts it took."""
        error: StoryBotError | None = None
        for used in range(1, min(4, len(names) - start) + 1):
            try:
                joined = ", ".join(names[start : start + used])
                return await self.catalogue.find_story(joined, mature_ok=mature_ok), used
            except StoryBotError as exc:
                error = error or exc
        assert error is not None
        raise error

    async def add_vote(self, vote: ClubVote) -> None:
        await self.store.add_club_vote(vote)
        self._changed()

    async def votes(self, guild_ids: Sequence[int] | None) -> list[ClubVote]:
        """The open votes (of these servers), the first to end first."""
        wanted = None if guild_ids is None else set(guild_ids)
        return [v for v in await self.store.club_votes() if wanted is None or v.guild_id in wanted]

    async def claim_vote(self, vote: ClubVote) -> bool:
        return await self.store.claim_club_vote(vote.message_id)

    # ---- follows -------------------------------------------------------------------------

    async def follow(self, user_id: int, story: Story, channel_id: int | None) -> bool:
        new = await self.store.follow(Follow(user_id, story.id, channel_id))
        self._changed()
        return new

    async def unfollow(self, user_id: int, story: Story) -> bool:
        return await self.store.unfollow(user_id, story.id)

    async def growth(self, refresh: Callable[[], None]) -> list[Growth]:
        """Watched stories that gained chapters (whichever process ingested), each claimed:
        the caller tells their followers and clubs, once. A story that lost chapters is only
        seen anew. ``refresh`` drops the stories kept in memory (another process may have
        ingested). What is told is read before it is claimed: a database failure (raised)
        claims nothing, and the next look tells it. A failure on one story (its read or its
        claim) leaves that one unclaimed (logged) and the others are still told; with nothing to
        tell, the failure is raised."""
        found: list[Growth] = []
        failed: StoryBotError | None = None
        grown_stories = await self.store.grown_stories()
        if grown_stories:
            refresh()
        for grown in grown_stories:
            try:
                told = await self._told(grown)
                claimed = await self.store.claim_story_growth(grown)
            except StoryBotError as exc:
                log_failure(log, f"story {grown.story_id}: its news waits", exc)
                failed = failed or exc
                continue
            if claimed and told is not None:
                found.append(told)
        if failed is not None and not found:
            raise failed
        return found

    async def _told(self, grown: StoryGrowth) -> Growth | None:
        """Who is told of ``grown`` (None: nobody, the story shrank or is gone)."""
        if grown.after < grown.before:
            return None
        try:
            story = await self.catalogue.find_story(grown.story_id, mature_ok=True)
        except StoryBotError as exc:
            if not exc.usage:  # the database, not the story
                raise
            return None
        followers = tuple(await self.store.followers(story.id))
        clubs = tuple(await self.store.clubs_of_story(story.id))
        return Growth(grown, story, followers, clubs)


def board(story: Story, club: Club, members: Sequence[ClubMember]) -> list[BoardLine]:
    """The progress board: furthest first; members behind the chapter released last marked."""
    lines: list[BoardLine] = []
    for member in members:
        number = None
        if member.furthest is not None:
            number = readers.chapter_of_position(story, member.furthest)
        info = story.chapter_info(number) if number is not None else None
        behind = club.last_chapter is not None and (number is None or number < club.last_chapter)
        lines.append(BoardLine(member.user_id, number, info.label if info else None, behind))
    lines.sort(key=lambda line: (line.chapter is None, -(line.chapter or 0), line.user_id))
    return lines
