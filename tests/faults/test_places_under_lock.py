"""Reading places are not lost while another process holds the write lock (issue 17, item 7):
they are retried like bookmarks, and no task fails unseen. Before the fix the place task died
with "database is locked" after 5 s ("Task exception was never retrieved") and the place was
gone."""

from __future__ import annotations

import asyncio
import sqlite3

from bot.library import Library
from bot.settings import Settings

ALICE = 4242


async def test_a_page_turn_under_an_8_second_lock_keeps_its_place(settings: Settings) -> None:
    library = await Library.open(settings)
    try:
        await library.ingest()
        story = await library.find_story("breaking-alone", mature_ok=True)
        other = sqlite3.connect(settings.db_path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")  # another process's ingest, say
        try:
            await library.readers.record_place(ALICE, story, story.chapters[1].first)
            await asyncio.sleep(8)
        finally:
            other.execute("ROLLBACK")
            other.close()
        await library.readers.settled()
        data = await library.reader_data(ALICE)
        assert data.positions == 1
        place = await library.reading_place(ALICE, mature_ok=True)
        assert place.position == story.chapters[1].first
    finally:
        await library.close()
