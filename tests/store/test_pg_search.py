"""PostgreSQL search: planned for the stories it is limited to; indexes merged after writing.

A search limited to some stories is planned for those stories on every call.

PostgreSQL plans a cached statement once for any parameters after a few calls (its generic
plan). Such a plan cannot know that the stories given are one small story: it reads every
text of the library that holds the words and walks them for the few in scope (a common word
in one story of the 100 MB library: about 220 ms, where a plan for that story takes 4 ms).
So the scoped statements of quote and scene search are prepared for each call
(PostgresStore._all_planned), and no generic plan ever runs them.

GIN keeps what was written last in a pending list that every search reads through until it
is merged; the writer merges it (searches right after an ingest were 3-7 times slower).

A search stage reads what it needs only: the fuzzy stage's "two of the keys" reads each key
once as the rarer side of an AND, and a stage that finds more texts than it may rank (or no
more than it returns) computes no document's BM25 terms."""

from __future__ import annotations

from pathlib import Path

from bot.store.postgres.search import any_two_queries, candidates_sql
from tests.store.seeded import seeded_postgres


async def test_scoped_searches_never_run_a_generic_plan(tmp_path: Path, pg_url: str) -> None:
    # one connection: the statements it prepared are the ones listed below
    async with seeded_postgres(tmp_path, pg_url, pool_size=1) as store:
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
    # the connection's statements are listed (the unscoped search's, kept for reuse), and
    # none limited to stories ran a generic plan (those prepared per call are gone)
    assert any(r[0].startswith("WITH found") for r in rows), [r[0][:60] for r in rows]
    scoped = [r for r in rows if "story_id = ANY" in r[0]]
    assert [r[0][:60] for r in scoped if r[1] > 0] == []


async def test_written_stories_are_merged_into_the_search_indexes(
    tmp_path: Path, pg_url: str
) -> None:
    async with seeded_postgres(tmp_path, pg_url) as store:
        # pages still pending in either index (merging them now says how many there were)
        left = await store._value(  # pyright: ignore[reportPrivateUsage]
            "SELECT gin_clean_pending_list('texts_tsv'::regclass)"
            " + gin_clean_pending_list('scene_texts_tsv'::regclass)"
        )
    assert left == 0


def test_two_of_reads_each_key_once_as_the_rarer_side() -> None:
    # the keys come rarest first; one AND query per pair read the rarer keys again and again
    assert any_two_queries([["a"], ["b", "c"], ["d"], ["e"]]) == [
        "('a') & ('b' | 'c' | 'd' | 'e')",
        "('b' | 'c') & ('d' | 'e')",
        "('d') & ('e')",
    ]
    assert any_two_queries([["a", "b"]]) == ["('a' | 'b')"]


async def test_a_search_stage_computes_ranks_only_when_it_ranks(
    tmp_path: Path, pg_url: str
) -> None:
    async with seeded_postgres(tmp_path, pg_url) as store:
        lines: dict[str, list[str]] = {}
        # more texts hold "the" than 10 (too many to rank) and fewer than 100,000 (all are
        # returned unranked); more than 5 and fewer than 100,000 (the best 5, ranked)
        for case, limit, cap in (("too many", 5, 10), ("all", 100_000, 0), ("ranked", 5, 10**5)):
            plan = await store._all(  # pyright: ignore[reportPrivateUsage]
                "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) "
                + candidates_sql(many=False, scoped=False),
                "'the'",
                ["the"],
                max(limit, cap) + 1,
                limit,
                cap,
            )
            # the documents' terms, unnested for BM25
            lines[case] = [r[0].strip() for r in plan if "Function Scan on unnest u" in r[0]]
    assert lines["too many"] and all("never executed" in line for line in lines["too many"])
    assert lines["all"] and all("never executed" in line for line in lines["all"])
    assert lines["ranked"] and not any("never executed" in line for line in lines["ranked"])
