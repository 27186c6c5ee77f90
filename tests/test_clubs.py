"""bot/clubs.py and bot/store/clubs.py on a real SQLite file: the schedule (time zones, daylight
saving), the claim that posts a release once even when two processes race for it, the
opening lines, the board, and story growth told once."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from bot.clubs import next_slot, opening_lines, parse_every, thread_name
from bot.errors import StoryBotError
from bot.library import Library
from bot.models import Club, Paragraph
from bot.settings import Settings
from bot.store.errors import StoreError
from tests.refusing import WORDS, allow, refuse

MONDAY = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def schedule(**changes: object) -> Club:
    club = Club(
        channel_id=10,
        guild_id=1,
        story_id=0,
        every="week",
        weekday=0,
        at="19:00",
        timezone="Europe/Paris",
        starting=0,
        last_chapter=None,
        released=0,
        next_due=None,
        state="active",
        starter_id=7,
    )
    return dataclasses.replace(club, **changes)  # type: ignore[arg-type]


def test_weekly_slots_are_local_times_across_daylight_saving() -> None:
    club = schedule()
    first = next_slot(club, MONDAY, inclusive=True)
    assert first == datetime(2026, 1, 5, 18, 0, tzinfo=UTC)  # 19:00 in Paris, winter
    assert next_slot(club, first, inclusive=True) == first
    assert next_slot(club, first, inclusive=False) == first + timedelta(days=7)
    # the clocks go forward on Sunday 2026-03-29: Monday 19:00 is 17:00 UTC from then on
    spring = next_slot(club, datetime(2026, 3, 28, tzinfo=UTC), inclusive=True)
    assert spring == datetime(2026, 3, 30, 17, 0, tzinfo=UTC)


def test_every_takes_day_week_or_a_weekday() -> None:
    assert parse_every("day", MONDAY, "UTC") == ("day", 0)
    assert parse_every("week", MONDAY, "UTC") == ("week", 0)  # on today's weekday
    assert parse_every("Friday", MONDAY, "Asia/Tokyo") == ("week", 4)
    assert parse_every("fri", MONDAY, "UTC") == ("week", 4)
    with pytest.raises(StoryBotError, match="not a schedule"):
        parse_every("fortnight", MONDAY, "UTC")


def test_opening_lines_never_pass_the_limit_and_end_cleanly() -> None:
    long = "She ran. " * 100
    chapter = _chapter([long, "Second paragraph."])
    shown = opening_lines(chapter)
    assert len(shown) <= 400 and shown.endswith("She ran.")
    short = opening_lines(_chapter(["“Hi.”", "He waved back at her from the crypt door."]))
    assert short == "“Hi.”\n\nHe waved back at her from the crypt door."
    assert len(thread_name("T" * 200, "Part 1")) <= 100
    assert thread_name("T" * 200, "Part 1").endswith("· Part 1")


def _chapter(texts: list[str]) -> object:
    from bot.models import Chapter, Story

    story = Story(1, "s", "S", "s.txt", None, "general", None, 10, ())
    paragraphs = tuple(Paragraph(i, 1, 1, i, 0, t) for i, t in enumerate(texts))
    return Chapter(story, 1, "Part 1", None, paragraphs)


async def test_two_processes_racing_for_one_release_post_it_once(
    library: Library, settings: Settings
) -> None:
    """Two Library objects on one database file are two processes: each reads the club as
    due and claims its release at the same moment; exactly one wins, every time."""
    club, _ = await library.clubs.start(
        schedule(), "breaking-alone", None, mature_ok=False, now=MONDAY
    )
    other = await Library.open(settings)
    try:
        for _ in range(5):
            due = await library.clubs.club(club.channel_id)
            again = await other.clubs.club(club.channel_id)
            now = (due.next_due or MONDAY) + timedelta(seconds=1)
            won = await asyncio.gather(library.clubs.claim(due, now), other.clubs.claim(again, now))
            assert sum(r is not None for r in won) == 1, won
        after = await library.clubs.club(club.channel_id)
        assert after.released == 5 and after.last_chapter == 5
    finally:
        await other.close()


async def test_an_unclaimed_release_is_released_again_once(library: Library) -> None:
    club, _ = await library.clubs.start(
        schedule(), "breaking-alone", None, mature_ok=False, now=MONDAY
    )
    now = MONDAY + timedelta(hours=7)
    release = await library.clubs.claim(club, now)
    assert release is not None and release.chapter.label == "Part 1"
    assert await library.clubs.unclaim(release)  # Discord refused it: given back
    back = await library.clubs.club(club.channel_id)
    assert back.released == 0 and back.next_due == club.next_due
    again = await library.clubs.claim(back, now)
    assert again is not None and again.chapter.label == "Part 1"
    assert await library.clubs.claim(back, now) is None  # the stale copy loses


async def test_a_mature_story_is_refused_for_an_ordinary_channel(library: Library) -> None:
    with pytest.raises(StoryBotError, match="age-restricted"):
        await library.clubs.start(schedule(), "taking-steps", None, mature_ok=False, now=MONDAY)
    with pytest.raises(StoryBotError, match="age-restricted"):
        await library.clubs.vote_stories("breaking-alone, taking-steps", mature_ok=False)


async def test_a_story_that_grows_is_told_once_whoever_looks(
    library: Library, settings: Settings
) -> None:
    story = await library.find_story("breaking-alone", mature_ok=False)
    assert await library.clubs.follow(42, story, None)
    assert not await library.clubs.follow(42, story, None)  # already
    path = settings.stories_dir / story.file
    path.write_text(path.read_text(encoding="utf-8") + "\n\nPart 11\n\nMore.\n", encoding="utf-8")
    await library.ingest()
    other = await Library.open(settings)
    try:
        seen = await asyncio.gather(library.story_growth(), other.story_growth())
    finally:
        await other.close()
    told = [g for found in seen for g in found]
    assert len(told) == 1
    assert told[0].growth.new == ((11, "Part 11"),)
    assert [f.user_id for f in told[0].followers] == [42]
    assert await library.story_growth() == []


async def test_a_story_whose_claim_the_database_refuses_leaves_the_others_told(
    library: Library, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Two followed stories grew; the database refuses the second's claim (a trigger): the
    first is told, the second waits, unclaimed, for the next look. Before the fix the refusal
    left the loop and the first, already claimed, was never told (StoreError raised)."""
    little = settings.stories_dir / "little.txt"
    little.write_text("Little Story\n\nChapter 1\n\nThe first paragraph.\n", encoding="utf-8")
    await library.ingest()
    ours = await library.find_story("breaking-alone", mature_ok=False)
    refused = await library.find_story("little.txt", mature_ok=True)
    for story in (ours, refused):
        assert await library.clubs.follow(42, story, None)
        path = settings.stories_dir / story.file
        text = path.read_text(encoding="utf-8")
        path.write_text(text + "\n\nChapter 11\n\nMore.\n", encoding="utf-8")
    await library.ingest()
    await refuse(settings, "story_watch", "UPDATE", f"NEW.story_id = {refused.id}")
    with caplog.at_level(logging.WARNING):
        told = await library.story_growth()
    assert [g.story.id for g in told] == [ours.id]
    # the database failed (not busy): said at error, through bot.errors.log_failure
    said = [r for r in caplog.records if WORDS in r.getMessage()]
    assert [(r.name, r.levelno) for r in said] == [("bot.clubs", logging.ERROR)], said
    await allow(settings, "story_watch")
    assert [g.story.id for g in await library.story_growth()] == [refused.id]


async def test_news_of_a_grown_story_is_not_lost_to_a_database_failure(
    pg_url: str, tmp_path: Path, stories_dir: Path
) -> None:
    """A host whose database fails while it reads what to tell (here a role that may not read
    the stories table, on a real PostgreSQL: the claim's write goes through, the catalogue's
    read fails) claims nothing, so another look tells the news. Before the fix, the growth was
    claimed first and the failure taken for a story gone: nobody was ever told (the failing
    host returned [] where it should raise, and the other host found nothing either)."""
    settings = Settings(
        stories_dir=stories_dir, data_dir=tmp_path / "data", scene_model="off", database_url=pg_url
    )
    library = await Library.open(settings)
    role = f"limited_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(pg_url)
    try:
        await library.ingest()
        story = await library.find_story("breaking-alone", mature_ok=False)
        assert await library.clubs.follow(42, story, None)
        path = stories_dir / story.file
        text = await asyncio.to_thread(path.read_text, encoding="utf-8")
        await asyncio.to_thread(path.write_text, text + "\n\nPart 11\n\nMore.\n", encoding="utf-8")
        await library.ingest()
        for sql in (
            f"CREATE ROLE {role} LOGIN",
            f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}",
            f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}",
            f"REVOKE SELECT ON stories FROM {role}",
        ):
            await admin.execute(sql)
        url = pg_url.replace("://storybot@", f"://{role}@")
        assert url != pg_url
        failing = await Library.open(dataclasses.replace(settings, database_url=url))
        try:
            with pytest.raises(StoreError, match="permission denied"):
                await failing.story_growth()
        finally:
            await failing.close()
        told = await library.story_growth()
        assert [(g.growth.new, [f.user_id for f in g.followers]) for g in told] == [
            (((11, "Part 11"),), [42])
        ]
    finally:
        await library.close()
        await admin.execute(f"DROP OWNED BY {role}")
        await admin.execute(f"DROP ROLE IF EXISTS {role}")
        await admin.close()
