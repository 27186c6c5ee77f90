"""Reading places are not lost while another process holds the write lock (issue 17, item 7):
they are retried like bookmarks, and no task fails unseen. Before the fix the place task died
with "database is locked" after 5 s ("Task exception was never retrieved") and the place was
gone."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from bot.errors import StoryBotError
from bot.library import Library
from bot.settings import Settings
from bot.store.sqlite import SQLiteStore
from tests.faults.lock_holder import LockHolder

ALICE = 4242
BOB = 4343


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


# ---- places the database failed to save (issue: fixes, item 2) -------------------------------
# A place whose write failed waits in memory for the next turn to try again. /continue reads
# it first (before the fix it answered the older place in the store), and /forget drops it, so
# it is never written after the reader asked to be forgotten (before the fix the next page
# turn, anyone's, wrote it back).


async def _unsaved_place(library: Library, settings: Settings) -> tuple[int, int]:
    """Alice's place in Part 2 saved, then one in Part 3 that the database refused (another
    process held the write lock past every retry); the two positions."""
    story = await library.find_story("breaking-alone", mature_ok=True)
    saved, unsaved = story.chapters[1].first, story.chapters[2].first
    await library.readers.record_place(ALICE, story, saved)
    await library.readers.settled()
    with LockHolder(settings.db_path):
        await library.readers.record_place(ALICE, story, unsaved)
        await library.readers.settled()  # refused: the place waits in memory
    [stored] = await library.store.reading_positions(ALICE)
    assert stored.position == saved
    return saved, unsaved


async def test_continue_reads_a_place_the_database_failed_to_save(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SQLiteStore, "busy_timeout_ms", 100)  # refused in seconds, not 20
    library = await Library.open(settings)
    try:
        await library.ingest()
        _, unsaved = await _unsaved_place(library, settings)
        for story in (None, "breaking-alone"):
            place = await library.reading_place(ALICE, story, mature_ok=True)
            assert (place.chapter, place.position) == (3, unsaved), story
    finally:
        await library.close()


async def test_forget_drops_the_places_the_database_failed_to_save(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SQLiteStore, "busy_timeout_ms", 100)
    library = await Library.open(settings)
    try:
        await library.ingest()
        await _unsaved_place(library, settings)
        gone = await library.forget_reader(ALICE)
        assert gone.positions == 1
        story = await library.find_story("taking-steps", mature_ok=True)
        await library.readers.record_place(BOB, story, story.chapters[0].first)
        await library.readers.settled()  # Bob's turn writes what waits: none of Alice's
        assert await library.store.reading_positions(ALICE) == []
        with pytest.raises(StoryBotError, match="nothing to continue"):
            await library.reading_place(ALICE, mature_ok=True)
    finally:
        await library.close()
    again = await Library.open(settings)  # nor at close
    try:
        assert await again.store.reading_positions(ALICE) == []
    finally:
        await again.close()


async def test_a_place_the_database_failed_to_save_is_written_at_close(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before the fix, close() only waited for a write in flight: a place refused earlier
    waited for a page turn that never came, and was lost (the reopened library answered the
    older place: (2, 68) == (3, 120))."""
    monkeypatch.setattr(SQLiteStore, "busy_timeout_ms", 100)
    library = await Library.open(settings)
    try:
        await library.ingest()
        _, unsaved = await _unsaved_place(library, settings)
    finally:
        await library.close()  # the lock is gone: the waiting place is written now
    again = await Library.open(settings)
    try:
        place = await again.reading_place(ALICE, mature_ok=True)
        assert (place.chapter, place.position) == (3, unsaved)
    finally:
        await again.close()


async def test_forget_counts_a_place_written_while_it_waits_once(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Alice has a place stored (Part 2 of one story) and one waiting in the write-behind
    queue (another story: its write refused under a lock). /forget's delete waits for that
    lock; meanwhile the waiting place lands from the other connection (another host writing
    it), before the delete. Alice had places in two stories: /forget says two. Before the fix
    it said three: it counted the waiting place as not stored in a read of its own, then the
    delete counted it again."""
    monkeypatch.setattr(SQLiteStore, "busy_timeout_ms", 50)  # the queue's write refused soon
    library = await Library.open(settings)
    try:
        await library.ingest()
        first = await library.find_story("breaking-alone", mature_ok=True)
        second = await library.find_story("taking-steps", mature_ok=True)
        await library.readers.record_place(ALICE, first, first.chapters[1].first)
        await library.readers.settled()
        other = sqlite3.connect(settings.db_path, isolation_level=None, check_same_thread=False)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute(
                "INSERT INTO reading_positions VALUES (?, ?, 1, ?, ?, 9)",
                (ALICE, second.id, second.chapters[0].first, second.chapters[0].first),
            )
            await library.readers.record_place(ALICE, second, second.chapters[0].first)
            await library.readers.settled()  # refused: the place waits in the queue
            forgetting = asyncio.ensure_future(library.forget_reader(ALICE))
            await asyncio.sleep(1.0)  # its delete waits for the lock, retrying (0.5 s, 1 s...)
            assert not forgetting.done()
            other.execute("COMMIT")  # the waiting place is in the store before the delete
            gone = await forgetting
        finally:
            other.close()
        assert gone.positions == 2
        assert await library.store.reading_positions(ALICE) == []
    finally:
        await library.close()
