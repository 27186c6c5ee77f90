"""PostgreSQL: the upkeep after a batch of stories is committed (the GIN pending lists merged,
ANALYZE once much is new) failing does not make the ingest report the batch as failed.

The stories are in the database once the batch commits; what follows only makes searches
faster, and VACUUM (autovacuum) does it later. Here it fails as it does on a busy server: it
waits for a lock another session holds (an index being altered, a table a DBA's VACUUM or
CREATE INDEX CONCURRENTLY holds), and the wait is cancelled (as statement_timeout,
lock_timeout or pg_cancel_backend end it). No trigger, no mock: two more sessions on the same
real database. Before the fix, the ingest raised StoreLocked for stories it had saved."""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest

from bot.ingest import ingest
from bot.store import open_store
from bot.store.errors import StoreDamaged
from tests.conftest import SEEDS

WAITED = 60.0  # seconds a step of the dance may take on a loaded machine, at most


async def waiting_for(watch: asyncpg.Connection, holder: int, query: str) -> int:
    """The backend whose statement (like ``query``) waits for a lock ``holder`` holds."""
    for _ in range(int(WAITED / 0.05)):
        pid = await watch.fetchval(
            "SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))"
            " AND query LIKE $2 LIMIT 1",
            holder,
            query,
        )
        if pid is not None:
            return int(pid)
        await asyncio.sleep(0.05)
    raise AssertionError(f"nothing like {query!r} waited for backend {holder}")


async def until_cancelled(watch: asyncpg.Connection, pid: int, query: str) -> None:
    """Until backend ``pid`` no longer runs a statement like ``query``."""
    for _ in range(int(WAITED / 0.05)):
        if not await watch.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND state = 'active'"
            " AND query LIKE $2",
            pid,
            query,
        ):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"backend {pid} still runs {query!r}")


async def index_altered_after_commit(url: str, watch: asyncpg.Connection) -> asyncpg.Connection:
    """Hold a lock on texts_tsv from the moment the writer's batch commits: the merge waits.

    Another session holds the library_version row, which the batch writes last (its texts are
    written by then); a third alters the index (or queues behind the writer for it); the row
    is let go, the batch commits, and the third session holds the index until it ends its
    transaction."""
    row = await asyncpg.connect(url)
    await row.execute("BEGIN; SELECT version FROM library_version FOR UPDATE")
    writer = await waiting_for(watch, await row.fetchval("SELECT pg_backend_pid()"), "UPDATE%")
    alter = await asyncpg.connect(url)
    await alter.execute("BEGIN")
    altering = asyncio.ensure_future(alter.execute("ALTER INDEX texts_tsv SET (fastupdate = on)"))
    # granted at once, or (if the writer holds the index by then) once the batch commits
    for _ in range(int(WAITED / 0.05)):
        if altering.done() or await watch.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'ALTER INDEX%'"
            " AND $1 = ANY(pg_blocking_pids(pid))",
            writer,
        ):
            break
        await asyncio.sleep(0.05)
    await row.execute("ROLLBACK")
    await row.close()
    await asyncio.wait_for(altering, WAITED)
    return alter


async def table_held(url: str, watch: asyncpg.Connection) -> asyncpg.Connection:
    """Hold the terms table as VACUUM or CREATE INDEX CONCURRENTLY does (SHARE UPDATE
    EXCLUSIVE): rows are written to it freely, ANALYZE waits."""
    held = await asyncpg.connect(url)
    await held.execute("BEGIN; LOCK TABLE terms IN SHARE UPDATE EXCLUSIVE MODE")
    return held


Holder = Callable[[str, asyncpg.Connection], Awaitable[asyncpg.Connection]]


@pytest.mark.parametrize(
    ("hold", "upkeep"),
    [(index_altered_after_commit, "SELECT gin_clean_pending_list%"), (table_held, "ANALYZE%")],
    ids=["merge", "analyze"],
)
async def test_upkeep_failing_after_the_commit_leaves_the_batch_written(
    tmp_path: Path, pg_url: str, caplog: pytest.LogCaptureFixture, hold: Holder, upkeep: str
) -> None:
    folder = tmp_path / "stories"
    shutil.copytree(SEEDS, folder)
    store = await open_store(tmp_path / "unused.db", url=pg_url)
    watch = await asyncpg.connect(pg_url)
    holder: asyncpg.Connection | None = None
    try:
        if hold is table_held:
            holder = await hold(pg_url, watch)
        ingesting = asyncio.ensure_future(ingest(store, folder))
        if holder is None:
            holder = await hold(pg_url, watch)
        holder_pid = int(await holder.fetchval("SELECT pg_backend_pid()"))
        with caplog.at_level(logging.WARNING):
            waiting = await waiting_for(watch, holder_pid, upkeep)
            assert await watch.fetchval("SELECT pg_cancel_backend($1)", waiting)
            await until_cancelled(watch, waiting, upkeep)
            await holder.execute("ROLLBACK")  # what follows (ANALYZE after the merge) may run
            report = await asyncio.wait_for(ingesting, WAITED)
        assert len(report.added) == 5 and report.skipped == ()
        assert len(await store.list_stories()) == 5
        warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert any("the stories were written, but" in m for m in warned), warned
    finally:
        if holder is not None:
            await holder.close()
        await watch.close()
        await store.close()


async def test_damage_met_by_the_upkeep_is_raised_not_left_to_vacuum(
    tmp_path: Path, pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The merge of the pending lists meeting a damaged index (SQLSTATE XX002,
    index_corrupted) is the database's damage, for the host to be told (StoreDamaged), not
    upkeep left to VACUUM. The real server raises it: the database's search_path puts public
    before pg_catalog, and public's gin_clean_pending_list raises XX002 as a damaged index
    does. Before the fix: the ingest succeeded, logging 'the stories were written, but merging
    the search indexes' pending lists failed (left to VACUUM)'."""
    folder = tmp_path / "stories"
    shutil.copytree(SEEDS, folder)
    admin = await asyncpg.connect(pg_url)
    try:
        name = await admin.fetchval("SELECT current_database()")
        await admin.execute(f'ALTER DATABASE "{name}" SET search_path = public, pg_catalog')
        await admin.execute(
            "CREATE FUNCTION public.gin_clean_pending_list(regclass) RETURNS bigint"
            ' LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION \'index "%" contains unexpected'
            " zero page', $1 USING ERRCODE = 'XX002'; END $$"
        )
    finally:
        await admin.close()
    store = await open_store(tmp_path / "unused.db", url=pg_url)
    try:
        with caplog.at_level(logging.WARNING), pytest.raises(StoreDamaged, match="damaged"):
            await ingest(store, folder)
        assert len(await store.list_stories()) == 5  # the batch was committed before
    finally:
        await store.close()
    assert "left to VACUUM" not in caplog.text
