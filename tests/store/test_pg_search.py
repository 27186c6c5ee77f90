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

import random
import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.ingest import ingest
from bot.models import IndexedText
from bot.store import open_store
from bot.store.postgres import SCHEMA_VERSION, PostgresStore, search
from bot.store.postgres.search import all_words_query, any_two_queries, bm25, candidates_sql
from tests.conftest import SEEDS
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


async def test_the_whole_librarys_banded_stages_keep_their_plan(
    tmp_path: Path, pg_url: str
) -> None:
    """A stage over the whole library (the banded index), and the read of the texts holding
    the words besides those seen, are planned five times, then run the plan PostgreSQL made
    for any parameters: nothing in their parameters could make a plan for their values
    better, and planning was a fifth of the stage's statement."""
    async with seeded_postgres(tmp_path, pg_url, pool_size=1) as store:
        for words in (["the", "and"], ["door"], ["she", "was", "her"]) * 4:
            await store.texts_with_all(words, None, 5, rank_cap=10)
            await store.texts_with_two_of([[words[0]], ["was"], ["her"]], None, 5, rank_cap=10)
            await store.texts_with_all_besides(words, None, 1000, [1, 2])
        rows = await store._all(  # pyright: ignore[reportPrivateUsage]
            "SELECT left(statement, 20), generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE 'WITH %' AND statement LIKE '%storybot_banded%'"
            " ORDER BY statement"
        )
    # the stage (all words and two of the keys alike, 24 calls) and the texts besides (12)
    assert [tuple(r) for r in rows] == [
        ("WITH found AS MATERI", 19, 5),
        ("WITH r AS MATERIALIZ", 7, 5),
    ]


async def test_written_stories_are_merged_into_the_search_indexes(
    tmp_path: Path, pg_url: str
) -> None:
    async with seeded_postgres(tmp_path, pg_url) as store:
        # pages still pending in either index (merging them now says how many there were)
        left = await store._value(  # pyright: ignore[reportPrivateUsage]
            "SELECT gin_clean_pending_list('texts_tsv'::regclass)"
            " + gin_clean_pending_list('texts_banded'::regclass)"
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
                + candidates_sql(many=False, scoped=False, limit=limit, cap=cap),
                "'the'",
                ["the"],
            )
            # the documents' terms, unnested for BM25
            lines[case] = [r[0].strip() for r in plan if "Function Scan on unnest u" in r[0]]
    assert lines["too many"] and all("never executed" in line for line in lines["too many"])
    assert lines["all"] and all("never executed" in line for line in lines["all"])
    assert lines["ranked"] and not any("never executed" in line for line in lines["ranked"])


async def test_a_stage_ranks_as_bm25_in_sql_does_to_the_last_bit(
    tmp_path: Path, pg_url: str
) -> None:
    """A quote search stage ranks the texts it found in Python (search._bm25), from each one's
    counts of the query terms: the same texts in the same order with the same ranks, float
    for float, as the BM25 in SQL that scene search keeps (search.bm25) gives them."""
    matched = "SELECT t.id, t.tokens, t.tsv FROM texts t WHERE t.tsv @@ $1::tsquery"
    async with seeded_postgres(tmp_path, pg_url) as store:
        for words in (["the", "and"], ["door", "the", "was"], ["said", "her"], ["she"]):
            rows, _ = await store.texts_with_all(words, None, 5, rank_cap=10**5)
            terms = list(dict.fromkeys(words))
            want = await store._all(  # pyright: ignore[reportPrivateUsage]
                bm25("terms", "texts", matched) + " ORDER BY rank, m.id",
                all_words_query(words),
                terms,
            )
            assert len(want) > 5, words  # more texts than the limit: ranked
            assert [(t.id, rank) for t, rank in rows] == [(r[0], r[1]) for r in want[:5]], words
        keys = [["door"], ["time", "times"], ["was"]]
        rows, _ = await store.texts_with_two_of(keys, None, 20, rank_cap=10**5)
        terms = list(dict.fromkeys(w for key in keys for w in key))
        want = await store._all(  # pyright: ignore[reportPrivateUsage]
            bm25("terms", "texts", matched.replace("$1::tsquery", "ANY($1::text[]::tsquery[])"))
            + " ORDER BY rank, m.id LIMIT 20",
            any_two_queries(keys),
            terms,
        )
        assert len(want) == 20
        assert [(t.id, rank) for t, rank in rows] == [(r[0], r[1]) for r in want]


@asynccontextmanager
async def _banded_library(tmp_path: Path, pg_url: str) -> AsyncIterator[PostgresStore]:
    """The seeds, their texts numbered from just below the second band's first id (16,384),
    so that they fill the first band's last ids and run on into the second."""
    store = await open_store(tmp_path / "unused.db", url=pg_url)
    assert isinstance(store, PostgresStore)
    try:
        await store._execute("SELECT setval('text_ids', 16384 - 400)")  # pyright: ignore[reportPrivateUsage]
        folder = tmp_path / "stories"
        shutil.copytree(SEEDS, folder)
        await ingest(store, folder)
        yield store
    finally:
        await store.close()


async def test_the_banded_index_finds_what_the_plain_one_finds(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole library's all-words and two-of-the-keys stages read the banded index; they
    find the same texts with the same ranks as the plain index, for words in both bands, in
    one band only, and in none: all of them when there are few, the same best ones when they
    are ranked, as many when there are too many to rank (the first found: the plain index
    gives them as their rows lie, the banded one band by band, so they may differ)."""
    cases = [["the"], ["the", "and"], ["said", "she"], ["door"], ["zzyzx"], ["the", "zzyzx"]]
    keys = [[["she"], ["door", "doors"], ["was"]], [["time"], ["the"]], [["zzyzx"], ["and"]]]
    async with _banded_library(tmp_path, pg_url) as store:
        top = await store._value("SELECT max(id) FROM texts")  # pyright: ignore[reportPrivateUsage]
        assert top > 16384

        def seen(found: tuple[list[tuple[IndexedText, float]], bool]) -> object:
            rows, complete = found
            listed = [(t.id, t.text, rank) for t, rank in rows]
            if any(rank for _, rank in rows):  # ranked: best first, ties by id
                return complete, listed
            return complete, sorted(listed) if complete else len(rows)

        async def answers() -> list[object]:
            out: list[object] = []
            for limit, cap in ((5, 10), (5, 300), (100_000, 0), (3, 100_000)):
                for words in cases:
                    out.append(seen(await store.texts_with_all(words, None, limit, rank_cap=cap)))
                    unread = await store.texts_with_all_besides(words, None, limit, [1, 2])
                    out.append(None if unread is None else sorted(t.id for t in unread))
                for k in keys:
                    out.append(seen(await store.texts_with_two_of(k, None, limit, rank_cap=cap)))
            return out

        banded = await answers()
        monkeypatch.setattr(search, "bandable", lambda terms: False)
        assert await answers() == banded
        assert sum(isinstance(a, tuple) and bool(a[1]) for a in banded) > 20  # texts found


async def test_a_search_of_the_whole_library_stops_at_the_band_that_completes_it(
    tmp_path: Path, pg_url: str
) -> None:
    """A word in most texts: the first band holds more texts with it than the search looks
    at, and the second band is never read. The plain index read every posting of the word."""
    async with _banded_library(tmp_path, pg_url) as store:
        plan = await store._all(  # pyright: ignore[reportPrivateUsage]
            "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) "
            + candidates_sql(many=False, scoped=False, banded=True, limit=5, cap=10),
            [search.banded("'the'")],
            ["the"],
        )
    scans = [r[0].strip() for r in plan if "Bitmap Heap Scan" in r[0]]
    assert scans and all("loops=1)" in line for line in scans), scans
    assert any("texts_banded" in r[0] for r in plan)


async def test_a_library_of_schema_3_gains_the_banded_index(tmp_path: Path, pg_url: str) -> None:
    """The upgrade (schema 3 -> 4) builds the banded index from the texts already stored."""
    async with seeded_postgres(tmp_path, pg_url) as store:
        before = await store.texts_with_all(["door"], None, 100, rank_cap=300)
        await store._execute(  # pyright: ignore[reportPrivateUsage]
            "DROP INDEX texts_banded; DROP FUNCTION storybot_banded(tsvector, bigint);"
            " UPDATE storybot_schema SET version = 3"
        )
    store = await open_store(tmp_path / "unused.db", url=pg_url)
    try:
        assert isinstance(store, PostgresStore)
        assert await store._value("SELECT version FROM storybot_schema") == SCHEMA_VERSION  # pyright: ignore[reportPrivateUsage]
        assert await store._value("SELECT to_regclass('texts_banded') IS NOT NULL")  # pyright: ignore[reportPrivateUsage]
        assert await store.texts_with_all(["door"], None, 100, rank_cap=300) == before
        assert before[0]
    finally:
        await store.close()


async def test_texts_that_cannot_hold_the_phrase_are_left_out_in_sql(
    tmp_path: Path, pg_url: str
) -> None:
    """``texts_with_all_besides`` with a phrase sends only the texts that may hold it: those
    whose tsvector holds it, and those whose tsvector may have lost the positions that would
    (a lexeme kept 256 times: the phrase after its 256th "heron" is not in the tsvector), so
    quote search still finds the phrase in those; a long text whose phrase words are not cut
    short is asked of its tsvector like a short one. Over the whole library the limit counts
    the texts that may hold the phrase, found in one read (the texts holding the words were
    counted first, then read again)."""
    many = " ".join(["heron"] * 300)
    lines = {
        "holds": "The heron stood by the millpond.",
        "scattered": "By the millpond the heron stood.",
        "lost": f"{many} heron stood by the millpond.",
        "long, scattered": " ".join(["the heron", *["and so on"] * 100, "stood by a millpond"]),
    }
    folder = tmp_path / "stories"
    folder.mkdir()
    (folder / "001_heron.txt").write_text(
        "Heron\n\nChapter 1\n\n" + "\n\n".join(lines.values()) + "\n", encoding="utf-8"
    )
    store = await open_store(tmp_path / "unused.db", url=pg_url)
    try:
        await ingest(store, folder)
        words = ["heron", "millpond"]
        every = await store.texts_with_all_besides(words, None, 100, [])
        assert every is not None and sorted(t.text for t in every) == sorted(lines.values())
        phrase = ["heron", "stood", "by"]
        sent = await store.texts_with_all_besides(words, None, 100, [], phrase=phrase)
        assert sent is not None
        assert sorted(t.text for t in sent) == sorted([lines["holds"], lines["lost"]])
        # over the whole library the limit counts the texts that may hold the phrase (they
        # are found in one read); limited to some stories, every text holding the words
        assert await store.texts_with_all_besides(words, None, 1, [], phrase=phrase) is None
        two = await store.texts_with_all_besides(words, None, 2, [], phrase=phrase)
        assert two is not None and sorted(t.id for t in two) == sorted(t.id for t in sent)
        story = [s.id for s in await store.list_stories()]
        assert await store.texts_with_all_besides(words, story, 3, [], phrase=phrase) is None
        scoped = await store.texts_with_all_besides(words, story, 4, [], phrase=phrase)
        assert scoped is not None and sorted(t.id for t in scoped) == sorted(t.id for t in sent)
        # the texts read are left out, and counted
        held = await store.texts_with_all_besides(words, None, 2, [sent[0].id], phrase=phrase)
        assert held is not None and [t.id for t in held] == [t.id for t in sent[1:]]
        found = await store.texts_with_phrase(phrase, None, 100)
        assert [t.text for t, _ in found[0]] == [lines["holds"]]  # the tsvector lost the other
    finally:
        await store.close()


@asynccontextmanager
async def _database_sorting_by_icu(pg_server: str) -> AsyncIterator[str]:
    """A new database whose default collation is ICU's English (``ß`` sorts as ``ss``, before
    ``t``; bytewise it sorts after every ASCII letter), dropped afterwards."""
    import asyncpg

    name = f"t_icu_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(pg_server)
    try:
        await admin.execute(
            f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'"
            " LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"
        )
        try:
            yield pg_server.rsplit("/", 1)[0] + "/" + name
        finally:
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


_FILLER = ["the", "fen", "reed", "heron", "mist", "pool", "bank", "willow", "sedge", "eel"]


async def test_bm25_in_sql_sums_the_terms_in_byte_order_whatever_the_collation(
    tmp_path: Path, pg_server: str
) -> None:
    """Scene search's BM25 in SQL (search.bm25) sums each document's terms in the terms'
    byte order, as the ranking in Python does (search._bm25), in a database whose collation
    orders them otherwise: the same floats, to the last bit, so a rank does not depend on how
    the host's database was created. Float addition is not associative: (a + b) + c and
    (a + c) + b may differ in the last bit, and over a hundred texts some do."""
    rng = random.Random(11)
    words = ["and", "groß", "grot"]  # bytewise: and, grot, groß; in ICU's English: and, groß, grot
    paragraphs = [
        " ".join(rng.choice([*words, *_FILLER]) for _ in range(rng.randint(3, 60)))
        for _ in range(400)
    ]
    folder = tmp_path / "stories"
    folder.mkdir()
    (folder / "001_fen.txt").write_text(
        "Fen\n\nChapter 1\n\n" + "\n\n".join(p.capitalize() + "." for p in paragraphs) + "\n",
        encoding="utf-8",
    )
    matched = "SELECT t.id, t.tokens, t.tsv FROM texts t WHERE t.tsv @@ $1::tsquery"
    async with _database_sorting_by_icu(pg_server) as url:
        store = await open_store(tmp_path / "unused.db", url=url)
        try:
            assert isinstance(store, PostgresStore)
            ordered = await store._all("SELECT w FROM unnest($1::text[]) AS w ORDER BY w", words)  # pyright: ignore[reportPrivateUsage]
            assert [r[0] for r in ordered] == ["and", "groß", "grot"]  # the collation is ICU's
            await ingest(store, folder)
            every, _ = await store.texts_with_all(words, None, 100_000, rank_cap=0)
            rows, _ = await store.texts_with_all(words, None, len(every) - 1, rank_cap=100_000)
            want = await store._all(  # pyright: ignore[reportPrivateUsage]
                bm25("terms", "texts", matched) + " ORDER BY rank, m.id",
                all_words_query(words),
                words,
            )
        finally:
            await store.close()
    assert len(want) == len(every) > 50
    assert [(t.id, rank) for t, rank in rows] == [(r[0], r[1]) for r in want[:-1]]


async def test_tsvectors_are_kept_in_their_rows(tmp_path: Path, pg_url: str) -> None:
    """The tsvectors of texts and scene passages are stored in their rows (STORAGE MAIN: a
    phrase checked on thousands of them read each one stored out of line through TOAST),
    compressed with lz4 where the server has it; a library of schema 4 gains it on upgrade
    and answers as before."""

    async def layout(store: PostgresStore) -> list[tuple[str, str, str]]:
        rows = await store._all(  # pyright: ignore[reportPrivateUsage]
            "SELECT attrelid::regclass::text, attstorage::text, attcompression::text"
            " FROM pg_attribute WHERE attname = 'tsv'"
            " AND attrelid IN ('texts'::regclass, 'scene_texts'::regclass) ORDER BY 1"
        )
        return [(r[0], r[1], r[2]) for r in rows]

    async with seeded_postgres(tmp_path, pg_url) as store:
        lz4 = await store._value(  # pyright: ignore[reportPrivateUsage]
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
        wanted = [(name, "m", "l" if lz4 else "") for name in ("scene_texts", "texts")]
        assert await layout(store) == wanted
        before = await store.texts_with_phrase(["the", "door"], None, 100)
        await store._execute(  # pyright: ignore[reportPrivateUsage]
            "ALTER TABLE texts ALTER COLUMN tsv SET STORAGE EXTENDED,"
            " ALTER COLUMN tsv SET COMPRESSION default;"
            " ALTER TABLE scene_texts ALTER COLUMN tsv SET STORAGE EXTENDED,"
            " ALTER COLUMN tsv SET COMPRESSION default;"
            " UPDATE storybot_schema SET version = 4"
        )
    store = await open_store(tmp_path / "unused.db", url=pg_url)
    try:
        assert isinstance(store, PostgresStore)
        assert await store._value("SELECT version FROM storybot_schema") == SCHEMA_VERSION == 5  # pyright: ignore[reportPrivateUsage]
        assert await layout(store) == wanted
        assert await store.texts_with_phrase(["the", "door"], None, 100) == before
        assert before[0]
    finally:
        await store.close()


async def test_a_phrase_over_the_whole_library_is_found_by_its_rarest_words(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIN is given the phrase's rarest words, not the phrase (which read the postings of
    "the" and "was" too), and the phrase is checked on the tsvectors it finds: the same
    texts in the same order as every text whose tsvector holds the phrase, as they lie."""
    phrases = [
        ["the", "door"],
        ["of", "the"],
        ["said", "the", "old", "man"],
        ["the", "zzyzx"],
        ["the", "the"],
        ["that", "it", "was"],
    ]
    async with seeded_postgres(tmp_path, pg_url) as store:
        sent: list[tuple[str, tuple[object, ...]]] = []
        real = store._all  # pyright: ignore[reportPrivateUsage]

        async def spied(sql: str, *params: object) -> list[object]:
            sent.append((sql, params))
            return await real(sql, *params)

        monkeypatch.setattr(store, "_all", spied)
        for words in phrases:
            sent.clear()
            found, complete = await store.texts_with_phrase(words, None, 100_000)
            wanted = await real(
                "SELECT id FROM texts WHERE tsv @@ $1::tsquery ORDER BY ctid",
                search.phrase_query(words),
            )
            assert complete and [t.id for t, _ in found] == [r[0] for r in wanted], words
            plan = [
                r[0].strip() for r in await real("EXPLAIN (COSTS OFF) " + sent[-1][0], *sent[-1][1])
            ]
            cond = [line for line in plan if line.startswith("Index Cond: (tsv @@")]
            assert cond and not any("<->" in line for line in cond), plan
        assert await store.texts_with_phrase(["of", "the"], None, 100_000) != ([], True)
