"""SQL for per-server settings: the daily excerpt schedule. A claim is one UPDATE whose
WHERE is re-checked under the row's lock, so however many hosts race for a day's post,
one wins."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.models import DailySchedule
from bot.store.postgres.base import PGBase

_COLUMNS = "guild_id, channel_id, time, timezone, story_file, last_posted"


def _schedule(row: Any) -> DailySchedule:
    last = date.fromisoformat(row[5]) if row[5] else None
    return DailySchedule(int(row[0]), int(row[1]), row[2], row[3], row[4], last)


class GuildSQL(PGBase):
    async def daily_schedule(self, guild_id: int) -> DailySchedule | None:
        row = await self._one(
            f"SELECT {_COLUMNS} FROM daily_schedules WHERE guild_id = $1", guild_id
        )
        return _schedule(row) if row else None

    async def daily_schedules(self) -> list[DailySchedule]:
        rows = await self._all(f"SELECT {_COLUMNS} FROM daily_schedules ORDER BY guild_id")
        return [_schedule(row) for row in rows]

    async def set_daily_schedule(self, schedule: DailySchedule) -> None:
        """Create or replace a server's schedule (one per server)."""
        await self._execute(
            f"INSERT INTO daily_schedules ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
            " ON CONFLICT (guild_id) DO UPDATE SET channel_id = excluded.channel_id,"
            " time = excluded.time, timezone = excluded.timezone,"
            " story_file = excluded.story_file, last_posted = excluded.last_posted",
            schedule.guild_id,
            schedule.channel_id,
            schedule.time,
            schedule.timezone,
            schedule.story_file,
            schedule.last_posted.isoformat() if schedule.last_posted else None,
        )

    async def delete_daily_schedule(self, guild_id: int) -> bool:
        return await self._execute("DELETE FROM daily_schedules WHERE guild_id = $1", guild_id) > 0

    async def claim_daily_post(self, guild_id: int, day: date) -> bool:
        """Record that ``day``'s post is being made; False when any process recorded it."""
        return (
            await self._execute(
                "UPDATE daily_schedules SET last_posted = $2 WHERE guild_id = $1"
                " AND (last_posted IS NULL OR last_posted < $2)",
                guild_id,
                day.isoformat(),
            )
            == 1
        )

    async def release_daily_post(self, guild_id: int, day: date, previous: date | None) -> bool:
        return (
            await self._execute(
                "UPDATE daily_schedules SET last_posted = $3 WHERE guild_id = $1"
                " AND last_posted = $2",
                guild_id,
                day.isoformat(),
                previous.isoformat() if previous else None,
            )
            == 1
        )
