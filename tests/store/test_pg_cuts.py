"""PostgreSQL: a batch's documents are cut in a thread, ahead of the writing
(bot/store/postgres/library.py, ``_Cuts``). What the review of 91ba58d asked of it, on a real
database (a throwaway cluster) and real story files:

- a story that cannot be cut is refused by name, with the store's message (never "cannot
  reach the database"), the rest of the batch is written, and its previous version is kept;
- the write lock is not taken while the first story is cut;
- a batch cancelled while a story is cut returns only once that cut has ended;
- no cut's failure is left unread (asyncio's "Task exception was never retrieved");
- a story written is held no more: a batch holds the story being written and the one cut
  ahead, never all its documents at once."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.ingest.reading import Job, load_file
from bot.models import StoryMeta
from bot.store import StoryWrite, open_store
from bot.store.cut import Row
from bot.store.postgres import PostgresStore
from bot.store.postgres.base import NAMESPACE, WRITE_LOCK
from bot.store.postgres.library import AHEAD, CUT_FAILED, _Prepared
from tests.conftest import SEEDS

WAITED = 60.0  # seconds a step may take on a loaded machine, at most


def story_of(path: Path) -> StoryWrite:
    """A story file read and parsed as ingest does (bot/ingest/reading.py)."""
    job = Job(path, path.stat().st_size, StoryMeta(rating="teen"), "meta", None, 20 << 20)
    loaded = load_file(job)
    assert loaded.write is not None, loaded.problem
    return loaded.write


def seed(n: int) -> StoryWrite:
    return story_of(next(SEEDS.glob(f"{n:03d}_*.txt")))


def long_accented(tmp_path: Path, paragraphs: int = 12_000) -> StoryWrite:
    """A story whose text is not plain: FTS5 cuts it (about a second of work here)."""
    path = tmp_path / "long-accented.txt"
    path.write_text(
        "\n\n".join(
            f"Café {i}: the naïve fiancée read her résumé aloud, and nobody listened."
            for i in range(paragraphs)
        ),
        encoding="utf-8",
    )
    return story_of(path)


class RowsOnDisk(Sequence[Row]):
    """A story's rows read from a file each time they are read: once the file is gone,
    reading them raises FileNotFoundError (an OSError), as reading a story file may."""

    def __init__(self, path: Path, rows: Sequence[Row]) -> None:
        self.path = path
        path.write_text(json.dumps(list(rows)), encoding="utf-8")

    def _rows(self) -> list[Row]:
        return [tuple(r) for r in json.loads(self.path.read_text(encoding="utf-8"))]

    def __len__(self) -> int:
        return len(self._rows())

    def __getitem__(self, i: Any) -> Any:
        return self._rows()[i]


def with_rows(item: StoryWrite, rows: Sequence[Row]) -> StoryWrite:
    return dataclasses.replace(item, cut=dataclasses.replace(item.cut, rows=rows))


def unreadable(item: StoryWrite, tmp_path: Path) -> StoryWrite:
    rows = RowsOnDisk(tmp_path / "rows.json", item.cut.rows)
    rows.path.unlink()
    return with_rows(item, rows)


def lone_surrogate(item: StoryWrite, _tmp_path: Path) -> StoryWrite:
    """A paragraph holding a lone surrogate: not UTF-8, which FTS5 cannot be given."""
    first = item.cut.rows[0]
    return with_rows(item, ((*first[:3], "caf\u00e9 \ud800"), *item.cut.rows[1:]))


@pytest.fixture
async def store(pg_url: str, tmp_path: Path) -> AsyncIterator[PostgresStore]:
    opened = await open_store(tmp_path / "unused.db", url=pg_url)
    assert isinstance(opened, PostgresStore)
    try:
        yield opened
    finally:
        await opened.close()


async def snapshot(store: PostgresStore, file: str) -> tuple[Any, ...]:
    story = next(s for s in await store.list_stories() if s.file == file)
    chapters = [await store.chapter_paragraphs(story.id, c.number) for c in story.chapters]
    return story, chapters


@pytest.mark.parametrize("spoil", [unreadable, lone_surrogate])
async def test_a_story_that_cannot_be_cut_is_refused_by_name_and_the_rest_written(
    store: PostgresStore, tmp_path: Path, spoil: Any
) -> None:
    """On 91ba58d the cut's exception came out of write_stories inside pg_errors: the file gone
    was StoreUnreachable ("cannot reach the database"), the lone surrogate a bare
    UnicodeEncodeError (a traceback); either way the whole batch was rolled back."""
    before = [seed(0), seed(1)]
    assert await store.write_stories(before) == [None, None]
    kept = await snapshot(store, before[1].file)
    again = dataclasses.replace(seed(0), parsed=dataclasses.replace(before[0].parsed, title="New"))
    batch = [again, spoil(seed(1), tmp_path), seed(2)]
    assert await store.write_stories(batch) == [None, CUT_FAILED, None]
    assert "reach" not in CUT_FAILED
    assert await snapshot(store, before[1].file) == kept  # its previous version
    titles = {s.file: s.title for s in await store.list_stories()}
    assert titles[again.file] == "New" and batch[2].file in titles


async def test_the_write_lock_is_not_taken_while_the_first_story_is_cut(
    store: PostgresStore, pg_url: str, tmp_path: Path
) -> None:
    """On 91ba58d the lock was taken, then the first story's cut awaited under it: another
    writer waited for Python's work."""
    item = long_accented(tmp_path)
    watch = await asyncpg.connect(pg_url)
    try:
        writing = asyncio.ensure_future(store.write_stories([item]))
        for _ in range(int(WAITED / 0.001)):  # until FTS5 cuts the story
            if store.tokenizer._lock.locked() or writing.done():
                break
            await asyncio.sleep(0.001)
        seen = 0
        while store.tokenizer._lock.locked():
            seen += 1
            held = await watch.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND classid = $1 AND objid = $2",
                NAMESPACE,
                WRITE_LOCK,
            )
            assert held == 0, "the write lock was held while the first story was cut"
            await asyncio.sleep(0.01)
        assert seen, "the cut was not seen"
        assert await writing == [None]
    finally:
        await watch.close()


async def test_a_batch_cancelled_while_a_story_is_cut_waits_for_that_cut(
    store: PostgresStore, tmp_path: Path
) -> None:
    """On 91ba58d the cut's future was cancelled and its thread left cutting: the
    tokenizer was still busy (its lock held) after the cancelled batch had returned."""
    item = long_accented(tmp_path)
    writing = asyncio.ensure_future(store.write_stories([seed(0), item]))
    for _ in range(int(WAITED / 0.001)):
        if store.tokenizer._lock.locked():
            break
        await asyncio.sleep(0.001)
    assert store.tokenizer._lock.locked(), "the cut was not seen"
    writing.cancel()
    await asyncio.wait([writing])
    assert writing.cancelled()
    assert not store.tokenizer._lock.locked(), "a cut went on after its batch was cancelled"
    assert await store.list_stories() == []  # the batch rolled back whole
    assert await store.write_stories([seed(0)]) == [None]


async def test_a_failed_cut_is_said_even_when_its_batch_ends_before_it(
    store: PostgresStore, pg_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A batch cancelled while it waits for the write lock, its first story's cut having
    failed: the failure reaches the host's log, and asyncio has nothing left unread ("Task
    exception was never retrieved"). On 91ba58d the failed future was "cancelled" (a no-op
    once done, which also silences asyncio's report) and dropped: nothing was logged."""
    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    holder = await asyncpg.connect(pg_url)
    bad = lone_surrogate(seed(1), tmp_path)
    try:
        await holder.execute("SELECT pg_advisory_lock($1, $2)", NAMESPACE, WRITE_LOCK)
        pid = holder.get_server_pid()
        writing = asyncio.ensure_future(store.write_stories([bad, seed(0)]))
        for _ in range(int(WAITED / 0.01)):  # until the writer waits for the lock
            if await holder.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
                pid,
            ):
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the writer never waited for the write lock")
        await asyncio.sleep(0.5)  # the failing cut (milliseconds) is over
        writing.cancel()
        await asyncio.wait([writing])
        del writing
        gc.collect()
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(None)
        await holder.close()
    assert not reported, [c.get("message") for c in reported]
    said = [
        r
        for r in caplog.records
        if r.name == "bot.store.postgres.library" and bad.file in r.getMessage()
    ]
    assert said and said[0].levelname == "ERROR" and said[0].exc_info is not None
    assert isinstance(said[0].exc_info[1], UnicodeEncodeError)


async def test_a_story_written_is_held_no_more(store: PostgresStore) -> None:
    """While a batch is written, the stories' documents alive (_Prepared, counted among all
    the objects the collector tracks, at every turn the writer gives the loop) are never
    more than the story being written and AHEAD cut ahead of it. On 6bf44c9 each story's
    future kept its documents until write_stories returned: all five were held at once."""
    batch = [seed(n) for n in range(5)]
    files = {item.file for item in batch}
    gc.collect()
    most = 0

    def held() -> int:
        # counted under the tokenizer's lock: the list of all objects holds, for a moment,
        # the cutting thread's sqlite3 cursors too, and the last of those let go here would
        # reset its statement from this thread while that thread's next one runs on the
        # same connection ("bad parameter or other API misuse": a cut refused)
        with store.tokenizer._lock:
            return sum(
                1 for o in gc.get_objects() if isinstance(o, _Prepared) and o.item.file in files
            )

    gc.disable()  # counted as the references leave them, not as a collection finds them
    try:
        writing = asyncio.ensure_future(store.write_stories(batch))
        turns = 0
        while not writing.done():
            most = max(most, held())
            turns += 1
            await asyncio.sleep(0)
    finally:
        gc.enable()
    assert await writing == [None] * len(batch)
    assert turns > 2 * len(batch), "the writing was not watched"
    assert 0 < most <= AHEAD + 1, f"{most} stories' documents held at once"
    gc.collect()
    assert held() == 0
