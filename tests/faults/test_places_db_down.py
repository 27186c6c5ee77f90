"""Reading places while PostgreSQL is down (a throwaway cluster of the test's own, stopped and
started on the same port: tests/pgcluster.py). A place the database could not take waits in
memory: /continue answers it without asking the database (the stories are in memory), and
/forget drops it, so the first write once the database is back does not bring it back.

Before the fix, /continue asked the database first and failed ("cannot reach the database"),
and the forgotten place was written by the next page turn (anyone's) once it was back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.library import Library
from bot.settings import Settings
from bot.store.errors import StoreUnreachable
from tests import pgcluster

ALICE, BOB = 4242, 4343


@pytest.fixture
async def library(
    cluster: pgcluster.Cluster, tmp_path: Path, stories_dir: Path
) -> AsyncIterator[Library]:
    settings = Settings(
        stories_dir=stories_dir,
        data_dir=tmp_path / "data",
        scene_model="off",
        database_url=cluster.url,
    )
    opened = await Library.open(settings)
    try:
        await opened.ingest()
        yield opened
    finally:
        await opened.close()


async def test_continue_and_forget_while_the_database_is_down(
    library: Library, cluster: pgcluster.Cluster
) -> None:
    story = await library.find_story("breaking-alone", mature_ok=True)
    other = await library.find_story("taking-steps", mature_ok=True)
    await library.readers.record_place(ALICE, story, story.chapters[1].first)
    await library.readers.settled()
    await asyncio.to_thread(cluster.stop)
    try:
        await library.readers.record_place(ALICE, story, story.chapters[2].first)
        await library.readers.settled()  # refused: the database cannot be reached
        place = await library.reading_place(ALICE, mature_ok=True)
        assert (place.chapter, place.position) == (3, story.chapters[2].first)
        with pytest.raises(StoreUnreachable):  # told: try again in a moment
            await library.forget_reader(ALICE)
    finally:
        await asyncio.to_thread(cluster.start)
    await library.readers.record_place(BOB, other, other.chapters[0].first)
    await library.readers.settled()  # the first write once it is back: Bob's place only
    [kept] = await library.store.reading_positions(ALICE)
    assert kept.position == story.chapters[1].first  # the stored one: /forget again deletes it
    assert (await library.forget_reader(ALICE)).positions == 1
    assert await library.store.reading_positions(ALICE) == []
