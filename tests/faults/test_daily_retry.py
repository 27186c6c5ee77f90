"""A daily post that failed is tried again the same day, never twice once made, never late."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from bot.daily import DailySchedule, due_date, retry_at
from bot.store.sqlite import SQLiteStore

PARIS = DailySchedule(1, 2, "08:30", "Europe/Paris", None, date(2026, 3, 1))


async def test_a_released_claim_is_due_again_the_same_day(tmp_path: Path) -> None:
    store = await SQLiteStore.open(tmp_path / "s.db")
    try:
        await store.set_daily_schedule(PARIS)
        now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 10:00 in Paris
        day = due_date(PARIS, now)
        assert day == date(2026, 3, 2)
        assert await store.claim_daily_post(1, day)
        claimed = await store.daily_schedule(1)
        assert claimed is not None and due_date(claimed, now) is None
        # the send failed: release it, and the same day's post is due again
        assert await store.release_daily_post(1, day, PARIS.last_posted)
        released = await store.daily_schedule(1)
        assert released == PARIS and due_date(released, now) == day
        assert await store.claim_daily_post(1, day)  # and can be claimed once more
        assert not await store.release_daily_post(1, date(2026, 3, 5), PARIS.last_posted)
    finally:
        await store.close()


def test_retry_backs_off_and_stops_at_the_end_of_the_local_day() -> None:
    day = date(2026, 3, 2)
    failed = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    waits = [retry_at(PARIS, day, n, failed) for n in (1, 2, 3, 4, 9)]
    assert [(w - failed).total_seconds() / 60 for w in waits if w] == [1, 5, 15, 60, 60]
    late = datetime(2026, 3, 2, 22, 30, tzinfo=UTC)  # 23:30 in Paris: an hour is tomorrow
    assert retry_at(PARIS, day, 4, late) is None
    assert retry_at(PARIS, day, 1, late) is not None
