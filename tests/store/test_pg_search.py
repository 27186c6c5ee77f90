"""A PostgreSQL search limited to some stories is planned for those stories on every call.

PostgreSQL plans a cached statement once for any parameters after a few calls (its generic
plan). Such a plan cannot know that the stories given are one small story: it reads every
text of the library that holds the words and walks them for the few in scope (a common word
in one story of the 100 MB library: about 220 ms, where a plan for that story takes 4 ms).
So the scoped statements of quote and scene search are prepared for each call
(PostgresStore._all_planned), and no generic plan ever runs them."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.ingest import ingest
from bot.store import open_store
from bot.store.postgres import PostgresStore
from tests.conftest import SEEDS


async def test_scoped_searches_never_run_a_generic_plan(tmp_path: Path, pg_url: str) -> None:
    folder = tmp_path / "stories"
    shutil.copytree(SEEDS, folder)
    # one connection: the statements it prepared are the ones listed below
    store = await open_store(tmp_path / "unused.db", url=pg_url, pool_size=1)
    try:
        assert isinstance(store, PostgresStore)
        await ingest(store, folder)
        one = [min(s.id for s in await store.list_stories())]
        for _ in range(12):
            await store.texts_with_all(["the", "and"], one, 5, rank_cap=10)
            await store.texts_with_two_of([["the"], ["and"], ["was"]], one, 5, rank_cap=10)
            await store.texts_with_all_besides(["the", "and"], one, 1000, [])
            await store.paragraphs_with_phrase(["of", "the"], one, 5)
            await store.scene_candidates(["the", "night"], one, 5)
        unscoped = await store.texts_with_all(["the", "and"], None, 5, rank_cap=10)
        assert unscoped[0]
        rows = await store._all(  # pyright: ignore[reportPrivateUsage]
            "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
        )
    finally:
        await store.close()
    # the connection's statements are listed (the unscoped search's, kept for reuse), and
    # none limited to stories ran a generic plan (those prepared per call are gone)
    assert any(r[0].startswith("WITH found") for r in rows), [r[0][:60] for r in rows]
    scoped = [r for r in rows if "story_id = ANY" in r[0]]
    assert [r[0][:60] for r in scoped if r[1] > 0] == []
