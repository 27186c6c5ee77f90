"""SQL for per-server settings: the daily excerpt schedule."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.models import DailySchedule
from bot.store.sqlite.base import SQLBase

_COLUMNS = "guild_id, channel_id, time, timezone, story_file, last_posted"


def _schedule(row: Any) -> DailySchedule:
    last = date.fromisoformat(row[5]) if row[5] else None
    return DailySchedule(int(row[0]), int(row[1]), row[2], row[3], row[4], last)


class GuildSQL(SQLBase):
    async def daily_schedule(self, guild_id: int) -> DailySchedule | None:
        row = await self._one(
            f"SELECT {_COLUMNS} FROM daily_schedules WHERE guild_id = ?", (guild_id,)
        )
        return _schedule(row) if row else None

    async def daily_schedules(self) -> list[DailySchedule]:
        rows = await self._all(f"SELECT {_COLUMNS} FROM daily_schedules ORDER BY guild_id")
        return [_schedule(row) for row in rows]

    async def set_daily_schedule(self, schedule: DailySchedule) -> None:
        """Create or replace a server's schedule (one per server)."""
        last = schedule.last_posted.isoformat() if schedule.last_posted else None
        async with self.transaction() as db:
            await db.execute(
                f"INSERT OR REPLACE INTO daily_schedules ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    schedule.guild_id,
                    schedule.channel_id,
                    schedule.time,
                    schedule.timezone,
                    schedule.story_file,
                    last,
                ),
            )

    async def delete_daily_schedule(self, guild_id: int) -> bool:
        async with self.transaction() as db:
            cursor = await db.execute("DELETE FROM daily_schedules WHERE guild_id = ?", (guild_id,))
            return cursor.rowcount > 0

    async def claim_daily_post(self, guild_id: int, day: date) -> bool:
        """Record that ``day``'s post is being made; False when it was already recorded.

        The check and the write are one statement, so two loops (or a loop racing a restart)
        can never both claim the same day.
        """
        async with self.transaction() as db:
            cursor = await db.execute(
                "UPDATE daily_schedules SET last_posted = ? WHERE guild_id = ?"
                " AND (last_posted IS NULL OR last_posted < ?)",
                (day.isoformat(), guild_id, day.isoformat()),
            )
            return cursor.rowcount == 1

    async def release_daily_post(self, guild_id: int, day: date, previous: date | None) -> bool:
        """Undo ``claim_daily_post`` for a post that failed, so that it is tried again the same
        day (see daily.retry_at); False when the claim is no longer ``day`` (a new schedule)."""
        async with self.transaction() as db:
            cursor = await db.execute(
                "UPDATE daily_schedules SET last_posted = ? WHERE guild_id = ? AND last_posted = ?",
                (previous.isoformat() if previous else None, guild_id, day.isoformat()),
            )
            return cursor.rowcount == 1
