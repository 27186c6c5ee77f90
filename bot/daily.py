"""The daily excerpt's clock: when a schedule is due, in the server's own time zone.

Pure functions, no I/O and no Discord: the cog's loop asks ``due_date(schedule, now)`` every
few seconds and posts when it returns a date. ``Daily``, a service of the Library, keeps the
servers' schedules and the claims on each day's post in the store.

The rules:

- A schedule posts once per *local* day (the date in its time zone), at or after its local
  time. The date of the last post is stored, so a restart never posts twice for one day.
- Catch-up: a bot that was down at the set minute posts as soon as it is back, provided it is
  still the same local day. A day that ended while the bot was down is not posted late.
- A schedule set after today's time has passed starts tomorrow (``first_last_posted``).
- Daylight saving: a time that does not exist that day (the clocks jump over 02:30) posts
  at the first instant after the jump; a time that happens twice posts at the first one.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.errors import StoryBotError
from bot.models import DailySchedule, Story
from bot.store import Store

__all__ = [
    "Daily",
    "DailySchedule",
    "NamedStory",
    "canonical_zone",
    "due_date",
    "first_last_posted",
    "format_time",
    "next_post",
    "parse_time",
    "suggest_zones",
    "zone",
]

DEFAULT_TIMEZONE = "UTC"
_HHMM = re.compile(r"^\s*(\d{1,2})[:.h](\d{2})\s*$")


def parse_time(text: str) -> time:
    """ "HH:MM" in 24-hour time ("7:05", "07:05" and "19:30" all work), else StoryBotError."""
    match = _HHMM.match(text)
    if match:
        hour, minute = int(match[1]), int(match[2])
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise StoryBotError(f"“{text.strip()[:20]}” is not a time: use 24-hour HH:MM, like 08:30.")


def format_time(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


@cache
def _zones() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def zone(name: str) -> ZoneInfo:
    """The time zone of an IANA name ("Europe/Paris", "utc" works too), else StoryBotError."""
    key = name.strip()
    if key.upper() == "UTC":
        return ZoneInfo("UTC")
    by_folded = {z.lower(): z for z in _zones()}
    canonical = by_folded.get(key.lower())
    if canonical is not None:
        try:
            return ZoneInfo(canonical)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    raise StoryBotError(
        f"“{key[:40]}” is not a time zone: pick one from the list, like Europe/London."
    )


def canonical_zone(name: str) -> str:
    return str(zone(name).key)


def suggest_zones(typed: str, limit: int = 25) -> list[str]:
    """Time zone names for autocomplete: prefix matches first, then any containing the text."""
    wanted = typed.strip().lower().replace(" ", "_")
    names = _zones()
    if not wanted:
        common = ["UTC", "Europe/London", "Europe/Berlin", "America/New_York"]
        common += ["America/Chicago", "America/Los_Angeles", "Asia/Tokyo", "Australia/Sydney"]
        return common[:limit]
    starts = [z for z in names if z.lower().startswith(wanted)]
    parts = [z for z in names if z not in starts and wanted in z.lower()]
    return (starts + parts)[:limit]


def _at(day: date, when: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time on ``day``.

    fold=0 reads a skipped time (spring forward) with the offset from before the gap, which
    lands just after the gap, and a repeated time (fall back) as its first occurrence.
    """
    return datetime.combine(day, when, tzinfo=tz).astimezone(UTC)


def local_date(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


def due_date(schedule: DailySchedule, now: datetime) -> date | None:
    """The local date to post for if the schedule is due at ``now`` (aware), else None."""
    tz = zone(schedule.timezone)
    at_time = parse_time(schedule.time)
    today = local_date(now, tz)
    if schedule.last_posted is not None and schedule.last_posted >= today:
        return None
    if now < _at(today, at_time, tz):
        return None
    return today


def first_last_posted(when: time, tz: ZoneInfo, now: datetime) -> date | None:
    """What to store as "last posted" for a new schedule so that it never posts at once for a
    time already past today: today's date when today's time has gone by, else None."""
    today = local_date(now, tz)
    return today if now >= _at(today, when, tz) else None


def next_post(schedule: DailySchedule, now: datetime) -> datetime:
    """When the next post is due (UTC); ``now`` itself when it is due already."""
    if due_date(schedule, now) is not None:
        return now
    tz = zone(schedule.timezone)
    at_time = parse_time(schedule.time)
    day = local_date(now, tz)
    for _ in range(3):
        at = _at(day, at_time, tz)
        if at > now and (schedule.last_posted is None or day > schedule.last_posted):
            return at
        day += timedelta(days=1)
    return _at(day, at_time, tz)


# A post that failed (Discord down, the database locked) is tried again after these many
# minutes, then every hour, for as long as it is still the same day where the server is.
RETRY_MINUTES = (1, 5, 15, 60)


def retry_at(
    schedule: DailySchedule, day: date, failures: int, failed_at: datetime
) -> datetime | None:
    """When to try ``day``'s post again after its ``failures``-th failure at ``failed_at``
    (aware); None when that would be on another local day: the post is then given up."""
    minutes = RETRY_MINUTES[min(max(failures, 1), len(RETRY_MINUTES)) - 1]
    at = failed_at + timedelta(minutes=minutes)
    return at if local_date(at, zone(schedule.timezone)) == day else None


# a story named by its file, as the catalogue finds it (mature_ok: may it be age-restricted)
Finder = Callable[..., Awaitable[Story]]


@dataclass(frozen=True, slots=True)
class NamedStory:
    """The story a schedule names: found, or gone from the library (``gone``: why, a line)."""

    story: Story | None
    gone: str | None = None


class Daily:
    """The servers' daily schedules (one per server) and the claims on each day's post."""

    def __init__(self, store: Store, find: Finder) -> None:
        self._store = store
        self._find = find

    async def named_story(self, file: str, *, mature_ok: bool) -> NamedStory:
        """The story a schedule names, or why it is not used (gone from the library, or not
        for this channel: the post falls back to a random story). A database error is not a
        story gone: it is raised (the round is skipped and tried again)."""
        try:
            return NamedStory(await self._find(file, mature_ok=mature_ok))
        except StoryBotError as exc:
            if not exc.usage:
                raise
            return NamedStory(None, exc.message)

    async def schedule(self, guild_id: int) -> DailySchedule | None:
        return await self._store.daily_schedule(guild_id)

    async def schedules(self) -> list[DailySchedule]:
        return await self._store.daily_schedules()

    async def set_schedule(self, schedule: DailySchedule) -> None:
        """Create or replace a server's schedule (one per server)."""
        await self._store.set_daily_schedule(schedule)

    async def delete_schedule(self, guild_id: int) -> bool:
        """Remove a server's schedule; False when it had none."""
        return await self._store.delete_daily_schedule(guild_id)

    async def claim_post(self, guild_id: int, day: date) -> bool:
        """Record that ``day``'s post is being made; False when it was already claimed."""
        return await self._store.claim_daily_post(guild_id, day)

    async def release_post(self, guild_id: int, day: date, previous: date | None) -> bool:
        """Give back ``day``'s claim after a failed post, so it is tried again that day."""
        return await self._store.release_daily_post(guild_id, day, previous)
