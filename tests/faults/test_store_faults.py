"""The store under faults: ids never reused, another process holding the write lock."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.errors import StoryBotError
from bot.ingest import ingest
from bot.library import Library
from bot.settings import Settings
from bot.store.errors import StoreLocked
from bot.store.sqlite import SQLiteStore
from tests.faults.helpers import STORY, write
from tests.refusing import refuse


@pytest.fixture
def fast_lock_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SQLiteStore, "busy_timeout_ms", 50)
    monkeypatch.setattr("bot.store.sqlite.base.LOCK_BACKOFF", 0.01)  # every writer's


async def test_story_ids_are_never_reused(tmp_path: Path) -> None:
    folder = tmp_path / "stories"
    write(folder, "a.txt", STORY.format(title="Alpha"))
    write(folder, "b.txt", STORY.format(title="Beta"))
    store = await SQLiteStore.open(tmp_path / "s.db")
    try:
        await ingest(store, folder)
        ids = {s.file: s.id for s in await store.list_stories()}
        (folder / "b.txt").unlink()  # the story with the highest id goes
        await ingest(store, folder)
        write(folder, "c.txt", STORY.format(title="Gamma"))
        await ingest(store, folder)
        new = {s.file: s.id for s in await store.list_stories()}
        assert new["c.txt"] > max(ids.values())
    finally:
        await store.close()
    reopened = await SQLiteStore.open(tmp_path / "s.db")  # and across a restart
    try:
        (folder / "c.txt").unlink()
        await ingest(reopened, folder)
        write(folder, "d.txt", STORY.format(title="Delta"))
        await ingest(reopened, folder)
        assert {s.file: s.id for s in await reopened.list_stories()}["d.txt"] > new["c.txt"]
    finally:
        await reopened.close()


async def test_a_gone_story_id_says_so(tmp_path: Path) -> None:
    folder = tmp_path / "stories"
    write(folder, "a.txt", STORY.format(title="Alpha"))
    write(folder, "b.txt", STORY.format(title="Beta"))
    library = await Library.open(Settings(stories_dir=folder, data_dir=tmp_path / "d"))
    try:
        await library.ingest()
        gone = (await library.find_story("beta", mature_ok=True)).id
        (folder / "b.txt").unlink()
        await library.ingest()
        with pytest.raises(StoryBotError, match="no longer in the library"):
            await library.find_story(gone, mature_ok=True)
    finally:
        await library.close()


@pytest.fixture
async def locked(tmp_path: Path, fast_lock_timeout: None):
    """A store, a folder with one story, and another connection holding the write lock."""
    folder = tmp_path / "stories"
    write(folder, "a.txt", STORY.format(title="Alpha"))
    store = await SQLiteStore.open(tmp_path / "s.db")
    other = sqlite3.connect(tmp_path / "s.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    yield store, folder, other
    await store.close()


async def test_a_writer_locked_out_says_so_in_one_line(locked) -> None:
    store, folder, other = locked
    try:
        with pytest.raises(StoryBotError, match="locked by another process") as caught:
            await ingest(store, folder)
        assert "\n" not in caught.value.message and not caught.value.usage
        with pytest.raises(StoryBotError, match="locked by another process"):
            await store.delete_daily_schedule(1)
    finally:
        other.execute("ROLLBACK")
        other.close()


async def test_a_writer_retries_until_the_lock_is_released(locked) -> None:
    store, folder, other = locked
    # released while the writer waits or retries: the lock was busy, then free
    release = threading.Timer(0.02, lambda: (other.execute("ROLLBACK"), other.close()))
    release.start()
    try:
        report = await ingest(store, folder)
        assert report.added == ("a.txt",)
    finally:
        release.join()


@pytest.fixture
async def a_refused(
    tmp_path: Path, fast_lock_timeout: None
) -> AsyncIterator[tuple[SQLiteStore, Path, sqlite3.Connection]]:
    """A store, a folder of two stories, a.txt of which the database refuses (a trigger), and
    another connection to the database (to take its write lock)."""
    folder = tmp_path / "stories"
    write(folder, "a.txt", STORY.format(title="Alpha"))
    write(folder, "b.txt", STORY.format(title="Beta"))
    store = await SQLiteStore.open(tmp_path / "s.db")
    other = sqlite3.connect(tmp_path / "s.db", isolation_level=None, check_same_thread=False)
    await refuse(
        Settings(stories_dir=folder, data_dir=tmp_path, database_path=tmp_path / "s.db"),
        "stories",
        "INSERT",
        "NEW.file = 'a.txt'",
    )
    yield store, folder, other


async def test_a_lock_taken_while_stories_are_written_one_by_one_is_not_a_story_refused(
    a_refused: tuple[SQLiteStore, Path, sqlite3.Connection], caplog: pytest.LogCaptureFixture
) -> None:
    """A batch with a story the database refuses is written again one story at a time, each
    in a transaction of its own: another process taking the write lock between two of them
    is the database busy (the store's StoreLocked), not the next story refused. Before the
    fix: that story was reported 'the database refused it' (database is locked)."""
    store, folder, other = a_refused

    class TakeTheLock(logging.Handler):  # in the writer's thread, between the two stories
        def emit(self, record: logging.LogRecord) -> None:
            if "refused a.txt" in record.getMessage() and not other.in_transaction:
                other.execute("BEGIN IMMEDIATE")

    taker = TakeTheLock()
    logging.getLogger("bot.store.sqlite.library").addHandler(taker)
    try:
        with caplog.at_level(logging.WARNING), pytest.raises(StoreLocked):
            await ingest(store, folder)
        assert other.in_transaction  # the lock was taken after a.txt was refused
        assert "refused b.txt" not in caplog.text
    finally:
        logging.getLogger("bot.store.sqlite.library").removeHandler(taker)
        if other.in_transaction:
            other.execute("ROLLBACK")
        other.close()
        await store.close()


async def test_a_lock_held_a_moment_while_stories_are_written_one_by_one_is_waited_for(
    a_refused: tuple[SQLiteStore, Path, sqlite3.Connection],
) -> None:
    """The story-by-story writes after a refused batch wait for another process's lock as
    the batch does (one retry, bot/store/sqlite/base.py retry_locked): a real second
    connection takes the write lock after a.txt is refused and lets it go a moment later;
    b.txt is written. Before the fix: StoreLocked at b.txt's first try (no retry there)."""
    store, folder, other = a_refused
    released = threading.Event()

    def let_go() -> None:
        other.execute("ROLLBACK")
        released.set()

    class TakeTheLock(logging.Handler):  # in the writer's thread, between the two stories
        def emit(self, record: logging.LogRecord) -> None:
            if "refused a.txt" in record.getMessage() and not other.in_transaction:
                other.execute("BEGIN IMMEDIATE")
                threading.Timer(0.1, let_go).start()  # past one busy_timeout (50 ms)

    taker = TakeTheLock()
    logging.getLogger("bot.store.sqlite.library").addHandler(taker)
    try:
        report = await ingest(store, folder)
        assert released.is_set()  # the lock was held while b.txt waited, and let go
        assert report.added == ("b.txt",) and [f for f, _ in report.skipped] == ["a.txt"]
    finally:
        logging.getLogger("bot.store.sqlite.library").removeHandler(taker)
        released.wait(5)
        other.close()
        await store.close()
