"""The daily excerpt's clock: due times, catch-up, restarts, time zones and DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.daily import (
    DailySchedule,
    canonical_zone,
    due_date,
    first_last_posted,
    next_post,
    parse_time,
    suggest_zones,
    zone,
)
from bot.errors import StoryBotError
from bot.store.sqlite import SQLiteStore


def schedule(
    at: str = "09:00", tz: str = "UTC", last: date | None = None, story: str | None = None
) -> DailySchedule:
    return DailySchedule(1, 2, at, tz, story, last)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("09:00", time(9)), ("9:05", time(9, 5)), ("23:59", time(23, 59)), (" 00:00 ", time(0))],
)
def test_parse_time(text: str, expected: time) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["24:00", "12:60", "noon", "9", "9am", "", "12:5"])
def test_parse_time_refuses(text: str) -> None:
    with pytest.raises(StoryBotError, match="HH:MM"):
        parse_time(text)


def test_zones() -> None:
    assert canonical_zone("europe/paris") == "Europe/Paris"
    assert canonical_zone("utc") == "UTC"
    with pytest.raises(StoryBotError, match="not a time zone"):
        zone("Mars/Olympus")
    assert suggest_zones("europe/par")[0] == "Europe/Paris"
    assert "America/New_York" in suggest_zones("new_y")
    assert len(suggest_zones("a")) == 25
    assert suggest_zones("")[0] == "UTC"


def test_not_due_before_the_time() -> None:
    assert due_date(schedule(), utc(2026, 1, 1, 8, 59, 59)) is None


def test_due_at_and_after_the_time_until_posted() -> None:
    s = schedule()
    assert due_date(s, utc(2026, 1, 1, 9, 0)) == date(2026, 1, 1)
    assert due_date(s, utc(2026, 1, 1, 23, 59)) == date(2026, 1, 1)  # catch-up, same day


def test_posted_today_is_not_due_again() -> None:
    s = schedule(last=date(2026, 1, 1))
    assert due_date(s, utc(2026, 1, 1, 9, 0, 30)) is None
    assert due_date(s, utc(2026, 1, 1, 23, 59)) is None
    assert due_date(s, utc(2026, 1, 2, 9, 0)) == date(2026, 1, 2)


def test_a_missed_day_is_not_posted_late() -> None:
    # down all of Jan 1st after 08:00; back on the 2nd at 08:00: nothing until 09:00 on the 2nd
    s = schedule(last=date(2025, 12, 31))
    assert due_date(s, utc(2026, 1, 2, 8, 0)) is None
    assert due_date(s, utc(2026, 1, 2, 9, 0)) == date(2026, 1, 2)


def test_local_day_in_the_schedules_time_zone() -> None:
    # 09:00 in Tokyo is 00:00 UTC; 23:30 UTC on Jan 1st is already Jan 2nd, 08:30 in Tokyo
    s = schedule(tz="Asia/Tokyo", last=date(2026, 1, 1))
    assert due_date(s, utc(2026, 1, 1, 23, 30)) is None
    assert due_date(s, utc(2026, 1, 2, 0, 0)) == date(2026, 1, 2)
    # 20:00 in New York is 01:00 UTC the next day
    ny = schedule("20:00", "America/New_York")
    assert due_date(ny, utc(2026, 1, 2, 0, 59)) is None
    assert due_date(ny, utc(2026, 1, 2, 1, 0)) == date(2026, 1, 1)


def test_spring_forward_gap_posts_after_the_jump() -> None:
    # 2026-03-08: New York clocks jump from 02:00 to 03:00; 02:30 does not exist
    s = schedule("02:30", "America/New_York", last=date(2026, 3, 7))
    assert due_date(s, utc(2026, 3, 8, 6, 59)) is None  # 01:59 EST
    assert due_date(s, utc(2026, 3, 8, 7, 30)) == date(2026, 3, 8)  # 03:30 EDT


def test_fall_back_posts_once() -> None:
    # 2026-11-01: 01:30 happens twice in New York; the first one posts, the second does not
    s = schedule("01:30", "America/New_York", last=date(2026, 10, 31))
    first = utc(2026, 11, 1, 5, 30)  # 01:30 EDT
    assert due_date(s, first) == date(2026, 11, 1)
    posted = schedule("01:30", "America/New_York", last=date(2026, 11, 1))
    assert due_date(posted, first + timedelta(hours=1)) is None  # 01:30 EST


def test_new_schedule_after_todays_time_starts_tomorrow() -> None:
    tz = zone("UTC")
    assert first_last_posted(time(9), tz, utc(2026, 1, 1, 10)) == date(2026, 1, 1)
    assert first_last_posted(time(9), tz, utc(2026, 1, 1, 8)) is None


def test_next_post() -> None:
    s = schedule()
    assert next_post(s, utc(2026, 1, 1, 8)) == utc(2026, 1, 1, 9)
    now = utc(2026, 1, 1, 10)
    assert next_post(s, now) == now  # due: catch-up now
    done = schedule(last=date(2026, 1, 1))
    assert next_post(done, utc(2026, 1, 1, 10)) == utc(2026, 1, 2, 9)
    assert next_post(schedule(tz="Europe/Paris"), utc(2026, 7, 1, 6)) == utc(2026, 7, 1, 7)


@settings(max_examples=12, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
    ),
    st.integers(0, 23),
    st.integers(0, 59),
    st.sampled_from(
        ["UTC", "Europe/London", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"]
    ),
)
def test_posts_exactly_once_per_local_day(now: datetime, hour: int, minute: int, tz: str) -> None:
    """Stepping two days through in 1-minute ticks (the loop checks every 30 s), recording each
    post, gives exactly one post a local day: a 23:59 schedule is due for one minute."""
    s = schedule(f"{hour:02d}:{minute:02d}", tz, last=None)
    s = DailySchedule(1, 2, s.time, tz, None, first_last_posted(parse_time(s.time), zone(tz), now))
    posts: list[date] = []
    tick = now
    for _ in range(60 * 49):
        day = due_date(s, tick)
        if day is not None:
            posts.append(day)
            s = DailySchedule(1, 2, s.time, tz, None, day)
        assert next_post(s, tick) >= tick
        tick += timedelta(minutes=1)
    assert len(posts) == len(set(posts))
    assert 2 <= len(posts) <= 3


# ---- the stored schedule ----------------------------------------------------------------


async def test_schedule_survives_reopening_and_claims_once(tmp_path: Path) -> None:
    path = tmp_path / "data" / "stories.db"
    store = await SQLiteStore.open(path)
    try:
        assert await store.daily_schedule(1) is None
        await store.set_daily_schedule(schedule("07:30", "Europe/Paris", story="a.txt"))
    finally:
        await store.close()
    store = await SQLiteStore.open(path)
    try:
        saved = await store.daily_schedule(1)
        assert saved == schedule("07:30", "Europe/Paris", story="a.txt")
        day = date(2026, 1, 1)
        assert await store.claim_daily_post(1, day)
        assert not await store.claim_daily_post(1, day)  # a second claim for the same day fails
        assert not await store.claim_daily_post(1, day - timedelta(days=1))
        assert await store.claim_daily_post(1, day + timedelta(days=1))
        assert [s.guild_id for s in await store.daily_schedules()] == [1]
        assert await store.delete_daily_schedule(1)
        assert not await store.delete_daily_schedule(1)
        assert not await store.claim_daily_post(1, day + timedelta(days=2))
    finally:
        await store.close()
