"""A reading club meets a database outage at release time (PostgreSQL stopped under the running
bot, a throwaway cluster of the test's own: tests/pgcluster.py). The outage is not the club's
fault: the release fails with the one line a user is told for a busy database, the club stays
active; when the loop meets the outage at release time it says so in one line (no
traceback) and looks again a minute later, and the chapter goes out once the database is back.

Before the fix, the release's store error was taken for "the story left the library" and the
club was paused (left paused until a manager resumed it by hand), or the release logged a
traceback and said "failed on our side"; the loop logged a traceback for the outage."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import discord
import pytest

from bot.runtime import StoryBot
from bot.settings import Settings
from bot.store.errors import BUSY
from cogs._club_post import Releaser
from tests import pgcluster
from tests.cogs.closing import BuildBot
from tests.cogs.helpers import started
from tests.cogs.test_club import HOUR, MINUTE, START, releases, start_monday_club


@pytest.fixture
def simcord_bot(
    cluster: pgcluster.Cluster, tmp_path: Path, stories_dir: Path, closing_bots: BuildBot
) -> StoryBot:
    return closing_bots(
        Settings(
            stories_dir=stories_dir,
            data_dir=tmp_path / "data",
            scene_model="off",
            database_url=cluster.url,
            daily_check_seconds=30,
        )
    )


async def test_a_database_outage_at_release_time_leaves_the_club_active(
    simcord_bot: StoryBot, cluster: pgcluster.Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    async with started(simcord_bot, at=START) as env:
        s, _ = await start_monday_club(env)
        club = await s.library.clubs.club(s.channel.id)
        releaser = getattr(simcord_bot.get_cog("ClubCog"), "releaser", None)
        assert isinstance(releaser, Releaser)
        # the stories are read again from the database (as after every look for news), and
        # the database is down just then: what the release loop meets between two reads
        s.library.catalogue.forget()
        await asyncio.to_thread(cluster.stop)
        try:
            with caplog.at_level(logging.INFO):
                outcome = await releaser.release(club, discord.utils.utcnow())
        finally:
            await asyncio.to_thread(cluster.start)
        assert not outcome.posted and outcome.text == BUSY, outcome
        assert (await s.library.clubs.club(s.channel.id)).state == "active"
        warned = [r for r in caplog.records if r.name == "cogs._club_post"]
        assert [r.levelno for r in warned] == [logging.WARNING], warned
        assert "cannot reach the database" in warned[0].getMessage()

        # down again when its time (19:00 in Paris) comes: the loop says so in a line and
        # looks again a minute later, when the database is back
        caplog.clear()
        await asyncio.to_thread(cluster.stop)
        try:
            with caplog.at_level(logging.INFO):
                await env.advance_time(HOUR + MINUTE)
        finally:
            await asyncio.to_thread(cluster.start)
        assert releases(s.channel) == []
        assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
        said = [r.getMessage() for r in caplog.records if r.name == "cogs.club"]
        assert said and all("cannot reach the database" in m for m in said), said
        await env.advance_time(2 * MINUTE)
        assert [m.embeds[0].title for m in releases(s.channel)] == ["Breaking alone · Part 1"]
