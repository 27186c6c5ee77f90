"""What every engine of the store promises (bot/store/interface.py), on each engine."""

from __future__ import annotations

import asyncio
import logging
import shutil
import sqlite3
from datetime import date
from pathlib import Path

import asyncpg
import pytest

from bot.ingest import ingest
from bot.models import DailySchedule
from bot.settings import Settings
from bot.store import Store, StoreTooNew, open_store
from bot.store.errors import (
    REFUSED,
    STOPPING,
    StoreClosed,
    StoreDamaged,
    StoreError,
    StoreLocked,
    StoreUnreachable,
    StoreUnwritable,
)
from bot.store.sqlite import SQLiteStore
from tests.conftest import SEEDS
from tests.refusing import refuse


async def _seeded(store: Store, tmp_path: Path) -> Path:
    folder = tmp_path / "stories"
    shutil.copytree(SEEDS, folder)
    report = await ingest(store, folder)
    assert len(report.added) == 5
    return folder


async def test_stories_chapters_and_paragraphs(store: Store, tmp_path: Path) -> None:
    await _seeded(store, tmp_path)
    stories = await store.list_stories()
    assert [s.title for s in stories] == sorted((s.title for s in stories), key=str.lower)
    story = stories[0]
    first = story.chapters[0]
    paragraphs = await store.chapter_paragraphs(story.id, first.number)
    assert [p.position for p in paragraphs] == list(range(first.first, first.last + 1))
    between = await store.paragraphs_between(story.id, 1, 3)
    assert [p.position for p in between] == [1, 2, 3]
    assert between[0].text == paragraphs[1].text


async def test_unchanged_files_are_not_written_again(store: Store, tmp_path: Path) -> None:
    folder = await _seeded(store, tmp_path)
    signature = await store.library_signature()
    again = await ingest(store, folder)
    assert not again.added and not again.changed and len(again.unchanged) == 5
    assert await store.library_signature() == signature


async def test_story_ids_are_never_reused(store: Store, tmp_path: Path) -> None:
    folder = await _seeded(store, tmp_path)
    before = {s.file: s.id for s in await store.list_stories()}
    gone = sorted(before)[-1]
    moved = (folder / gone).read_bytes()
    (folder / gone).unlink()
    assert (await ingest(store, folder)).removed == (gone,)
    (folder / ("z" + gone)).write_bytes(moved)
    await ingest(store, folder)
    after = {s.file: s.id for s in await store.list_stories()}
    assert after["z" + gone] > max(before.values())
    assert {f: after[f] for f in before if f != gone} == {f: before[f] for f in before if f != gone}


async def test_a_changed_story_keeps_its_id_and_readers(store: Store, tmp_path: Path) -> None:
    folder = await _seeded(store, tmp_path)
    story = (await store.list_stories())[0]
    await store.record_positions([(7, story.id, story.chapters[0].number, 2)])
    path = folder / story.file
    path.write_bytes(path.read_bytes() + b"\n\nOne more paragraph at the very end.\n")
    assert (await ingest(store, folder)).changed == (story.file,)
    same = next(s for s in await store.list_stories() if s.file == story.file)
    assert same.id == story.id
    assert [p.story_id for p in await store.reading_positions(7)] == [story.id]


async def test_quote_candidates(store: Store, tmp_path: Path) -> None:
    await _seeded(store, tmp_path)
    found, complete = await store.texts_with_phrase(["soaked", "in", "sorry"], None, 10)
    assert complete and len(found) == 1 and "soaked in sorry" in found[0][0].text
    found, _ = await store.texts_with_all(["sorry", "soaked"], None, 10, rank_cap=300)
    assert any("soaked in sorry" in t.text for t, _ in found)
    ranked, complete = await store.texts_with_all(["willow"], None, 5, rank_cap=100_000)
    assert not complete and len(ranked) == 5
    assert [r for _, r in ranked] == sorted(r for _, r in ranked) and ranked[0][1] < 0
    two, _ = await store.texts_with_two_of(
        [["soaked"], ["sorry"], ["zzzz"]], None, 10, rank_cap=300
    )
    assert any("soaked in sorry" in t.text for t, _ in two)
    places = await store.occurrences([found[0][0].id], None, 5)
    assert places[found[0][0].id][0].text == found[0][0].text
    assert await store.texts_with_all(["willow"], [], 5, rank_cap=300) == ([], True)


async def test_two_of_finds_every_text_holding_two_of_the_keys(
    store: Store, tmp_path: Path
) -> None:
    """The fuzzy stage's candidates: the texts holding at least two of the keys (a key is a
    word or its alternatives), exactly those, in whatever order the keys come."""
    await _seeded(store, tmp_path)
    keys = [["willow"], ["door", "night"], ["rain"], ["home", "house"]]
    holding: dict[str, set[int]] = {}
    for word in (w for key in keys for w in key):
        found, complete = await store.texts_with_all([word], None, 100_000, rank_cap=0)
        assert complete and found
        holding[word] = {t.id for t, _ in found}
    every = set().union(*holding.values())
    wanted = {
        text for text in every if sum(any(text in holding[w] for w in key) for key in keys) >= 2
    }
    assert len(wanted) > 5
    for order in (keys, keys[::-1], [keys[2], keys[0], keys[3], keys[1]], keys[1:3]):
        found, complete = await store.texts_with_two_of(order, None, 100_000, rank_cap=0)
        expected = {
            text
            for text in every
            if sum(any(text in holding[w] for w in key) for key in order) >= 2
        }
        assert complete and {t.id for t, _ in found} == expected


async def test_quote_candidates_in_a_scope(store: Store, tmp_path: Path) -> None:
    """Searches limited to some stories (a channel that may not see all; a story named)."""
    await _seeded(store, tmp_path)
    ids = {s.title: s.id for s in await store.list_stories()}
    mine, other = [ids["Soaked in Sorry"]], [ids["Finally Home"]]
    found, complete = await store.texts_with_phrase(["soaked", "in", "sorry"], mine, 10)
    assert complete and len(found) == 1
    assert await store.texts_with_phrase(["soaked", "in", "sorry"], other, 10) == ([], True)
    found, _ = await store.texts_with_all(["sorry", "soaked"], mine, 10, rank_cap=300)
    assert any("soaked in sorry" in t.text for t, _ in found)
    two, _ = await store.texts_with_two_of([["soaked"], ["sorry"]], mine, 10, rank_cap=300)
    assert any("soaked in sorry" in t.text for t, _ in two)
    ranked, complete = await store.texts_with_all(
        ["willow"], [ids["Breaking alone"]], 5, rank_cap=100_000
    )
    assert not complete and len(ranked) == 5 and ranked[0][1] < 0
    places = await store.occurrences([found[0][0].id], mine, 5)
    assert [p.story_id for p in places[found[0][0].id]] == mine
    assert await store.paragraphs_with_phrase(["soaked", "in", "sorry"], other, 5) == []
    assert len(await store.paragraphs_with_phrase(["soaked", "in", "sorry"], mine, 5)) == 1


async def test_a_scoped_search_is_ranked_by_the_texts_in_its_scope(
    store: Store, tmp_path: Path
) -> None:
    """Whether a search is ranked (BM25) is decided by how many texts in its scope match: a
    story named gets its best matches first, however often the words come elsewhere."""
    await _seeded(store, tmp_path)
    story = next(s for s in await store.list_stories() if s.file.startswith("004_"))
    mine, _ = await store.texts_with_all(["willow"], [story.id], 100_000, rank_cap=0)
    every, _ = await store.texts_with_all(["willow"], None, 100_000, rank_cap=0)
    assert len(every) > len(mine) > 5
    ranked, complete = await store.texts_with_all(["willow"], [story.id], 5, rank_cap=len(mine))
    assert not complete and len(ranked) == 5 and all(rank < 0 for _, rank in ranked)
    best, _ = await store.texts_with_all(["willow"], [story.id], 5, rank_cap=100_000)
    assert [(t.id, round(r, 6)) for t, r in ranked] == [(t.id, round(r, 6)) for t, r in best]
    unranked, _ = await store.texts_with_all(["willow"], [story.id], 5, rank_cap=len(mine) - 1)
    assert len(unranked) == 5 and all(rank == 0.0 for _, rank in unranked)


async def test_texts_holding_all_words_but_those_read(store: Store, tmp_path: Path) -> None:
    await _seeded(store, tmp_path)
    every, complete = await store.texts_with_all(["willow"], None, 100_000, rank_cap=0)
    assert complete and len(every) > 10
    ids = sorted(t.id for t, _ in every)
    read = ids[:3]
    rest = await store.texts_with_all_besides(["willow"], None, len(ids), read)
    assert rest is not None and sorted(t.id for t in rest) == ids[3:]
    assert {t.id: t.text for t in rest} == {t.id: t.text for t, _ in every if t.id not in read}
    assert await store.texts_with_all_besides(["willow"], None, len(ids) - 1, read) is None
    assert await store.texts_with_all_besides(["willow"], None, len(ids), ids) == []
    assert await store.texts_with_all_besides(["willow"], [], 5, []) == []
    story = (await store.list_stories())[0]
    mine, _ = await store.texts_with_all(["the"], [story.id], 100_000, rank_cap=0)
    scoped = await store.texts_with_all_besides(["the"], [story.id], 100_000, [])
    assert scoped is not None and sorted(t.id for t in scoped) == sorted(t.id for t, _ in mine)


async def test_texts_holding_the_words_close_together(store: Store, tmp_path: Path) -> None:
    """``within``: every text where the words stand within that many words in a row is among
    the answer (an engine may answer more: those holding the words anywhere, never fewer);
    SQLite answers those alone (FTS5's NEAR), so quote search reads fewer texts to rule a
    phrase out."""
    folder = tmp_path / "close"
    folder.mkdir()
    lines = [
        "The heron stood by the millpond.",  # heron .. millpond: 5 words in a row
        "A heron, tall and grey, never left the old millpond at all.",  # 9 words
        "The heron flew off at dawn, over the hills and the long valley, far from the millpond.",
    ]
    (folder / "001_close.txt").write_text(
        "Close\n\nChapter 1\n\n" + "\n\n".join(lines) + "\n", encoding="utf-8"
    )
    await ingest(store, folder)

    async def texts(within: int | None) -> list[str]:
        found = await store.texts_with_all_besides(
            ["millpond", "heron"], None, 100, [], within=within
        )
        assert found is not None
        return sorted(t.text for t in found)

    every = await texts(None)
    assert every == sorted(lines)
    for within, close in [(4, []), (5, lines[:1]), (9, lines[:2]), (40, lines)]:
        answered = await texts(within)
        assert set(close) <= set(answered) <= set(every)
        if isinstance(store, SQLiteStore):
            assert answered == sorted(close)


async def test_texts_read_again_after_another_host_wrote(
    store: Store, other_store: Store, tmp_path: Path
) -> None:
    """texts_with_all_besides right after texts_with_all for the same words answers for the
    library as it is then: a text another process (host) added in between is among them
    (the SQLite engine reuses the matches texts_with_all found, while the database is
    unchanged)."""
    folder = await _seeded(store, tmp_path)
    found, complete = await store.texts_with_all(["willow"], None, 5, rank_cap=100_000)
    assert not complete and len(found) == 5
    (folder / "zz_millpond.txt").write_text(
        "The Millpond\n\nChapter 1\n\nA willow leaned over the millpond all summer.\n",
        encoding="utf-8",
    )
    assert len((await ingest(other_store, folder)).added) == 1
    rest = await store.texts_with_all_besides(["willow"], None, 100_000, [t.id for t, _ in found])
    assert rest is not None and any("millpond" in t.text for t in rest)


async def test_query_words_are_only_words(store: Store, tmp_path: Path) -> None:
    await _seeded(store, tmp_path)
    for word in ["'", "\\", "a:*", "&", "|", "!", "<->", '"', "(", "NEAR", "*"]:
        await store.texts_with_all([word], None, 5, rank_cap=300)
        await store.texts_with_phrase([word, "the"], None, 5)
        await store.texts_with_all_besides([word], None, 5, [1])
        await store.texts_with_two_of([[word], ["the"]], None, 5, rank_cap=300)
        await store.scene_candidates([word], None, 5)


async def test_vocabulary_counts_texts(store: Store, tmp_path: Path) -> None:
    await _seeded(store, tmp_path)
    terms, total = await store.vocabulary(1, 32)
    counts = dict(terms)
    assert [t for t, _ in terms] == sorted(t for t, _ in terms)
    assert 0 < counts["willow"] < total
    found, complete = await store.texts_with_all(["willow"], None, 100_000, rank_cap=0)
    assert complete and len(found) == counts["willow"]


async def test_scene_candidates_and_texts(store: Store, tmp_path: Path) -> None:
    await _seeded(store, tmp_path)
    stems = await store.scene_stems(["eating", "cream", "drives"])
    assert stems == ["eat", "cream", "drive"]
    vocabulary, total = await store.scene_vocabulary()
    assert vocabulary["cream"] < total
    passages = await store.scene_candidates(["ic", "cream", "eat"], None, 5)
    assert 0 < len(passages) <= 5
    assert [p.rank for p in passages] == sorted(p.rank for p in passages)
    assert all("cream" in p.text.lower() or "eat" in p.text.lower() for p in passages)
    # words as a description gives them: the engine stems them as its index does
    as_typed = await store.scene_candidates(["eating", "cream", "drives"], None, 5)
    assert (
        [(p.id, round(p.rank, 9)) for p in as_typed]
        == [(p.id, round(p.rank, 9)) for p in await store.scene_candidates(stems, None, 5)]
        != []
    )
    assert await store.scene_candidates(["everyone"], None, 5)
    story = passages[0].story_id
    cuts = await store.story_passages(story)
    assert (passages[0].chapter, passages[0].first, passages[0].last) in cuts


async def test_readers(store: Store, tmp_path: Path) -> None:
    await _seeded(store, tmp_path)
    a, b = [s.id for s in (await store.list_stories())[:2]]
    await store.record_positions([(1, a, 1, 5), (1, b, 1, 3)])
    await store.record_positions([(1, a, 1, 2)])
    places = await store.reading_positions(1)
    assert [(p.story_id, p.position, p.furthest) for p in places] == [(a, 2, 5), (b, 3, 3)]
    first = await store.add_bookmark(1, a, 1, 2, "some words")
    second = await store.add_bookmark(1, b, 1, 3, "more words")
    again = await store.add_bookmark(1, a, 1, 2, "some words")
    assert [m.id for m in await store.bookmarks(1)] == [again, second] and again > first
    assert await store.bookmark(2, second) is None
    assert await store.remove_bookmark(1, second) and not await store.remove_bookmark(1, second)
    assert (await store.reader_data(1)).bookmarks == 1
    gone = await store.forget_reader(1)
    assert (gone.positions, gone.bookmarks) == (2, 1)
    assert await store.reading_positions(1) == []


async def test_shuffles_never_give_a_place_twice(store: Store, tmp_path: Path) -> None:
    await _seeded(store, tmp_path)
    story = (await store.list_stories())[0].id
    taken = await asyncio.gather(
        *(store.next_in_shuffle(9, story, "all", 20, 5) for _ in range(20))
    )
    assert sorted(i for _, i in taken) == list(range(20))
    seed, index = await store.next_in_shuffle(9, story, "all", 20, 6)
    assert (seed, index) == (6, 0)  # used up: a new shuffle


async def test_daily_claims_are_once_per_day(store: Store) -> None:
    await store.set_daily_schedule(DailySchedule(5, 6, "09:00", "UTC", None, None))
    day = date(2026, 1, 2)
    claims = await asyncio.gather(*(store.claim_daily_post(5, day) for _ in range(8)))
    assert claims.count(True) == 1
    assert await store.release_daily_post(5, day, None)
    assert await store.claim_daily_post(5, day)
    assert (await store.daily_schedule(5)).last_posted == day  # type: ignore[union-attr]
    assert await store.delete_daily_schedule(5)
    assert await store.daily_schedules() == []


async def test_a_newer_schema_is_refused(tmp_path: Path, store_url: str | None) -> None:
    path = tmp_path / "data" / "stories.db"
    store = await open_store(path, url=store_url)
    await store.close()
    if store_url is None:
        import sqlite3

        with sqlite3.connect(path) as db:
            db.execute("PRAGMA user_version = 999")
    else:
        import asyncpg

        conn = await asyncpg.connect(store_url)
        await conn.execute("UPDATE storybot_schema SET version = 999")
        await conn.close()
    with pytest.raises(StoreTooNew, match="newer storybot") as caught:
        await open_store(path, url=store_url)
    assert caught.value.usage and "\n" not in str(caught.value)


async def test_exclusive_ingest(store: Store) -> None:
    async with store.exclusive_ingest():
        pass
    async with store.exclusive_ingest():
        pass


async def test_a_closed_store_raises_its_own_error(
    tmp_path: Path, store_url: str | None, stories_dir: Path
) -> None:
    """Before the fix, SQLite raised its driver's ValueError ("Connection closed", "no active
    connection"); an ingest after close would have opened a new bulk connection."""
    store = await open_store(tmp_path / "data" / "stories.db", url=store_url)
    await store.close()
    calls = {
        "read": store.list_stories,
        "reader's read": lambda: store.reading_positions(1),
        "write": lambda: store.record_positions([(1, 1, 1, 1)]),
        "transaction": lambda: store.forget_reader(1),
        "ingest": lambda: ingest(store, stories_dir),
    }
    for name, call in calls.items():
        with pytest.raises(StoreClosed, match="closed before this call") as caught:
            await call()
        assert not caught.value.usage and caught.value.public == STOPPING, name
    await store.close()  # closing again does nothing


_REFUSE_SQLITE = (
    "CREATE TRIGGER refuse BEFORE INSERT ON stories WHEN NEW.file = '{file}'"
    " BEGIN SELECT RAISE(ABORT, 'xyzzy refused by a trigger'); END"
)
_REFUSE_PG = (
    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " IF NEW.file = '{file}' THEN RAISE EXCEPTION 'xyzzy refused by a trigger'; END IF;"
    " RETURN NEW; END $$;"
    " CREATE TRIGGER refuse BEFORE INSERT ON stories FOR EACH ROW EXECUTE FUNCTION refuse()"
)


async def test_a_story_the_database_refuses_is_reported_without_its_words(
    store: Store, tmp_path: Path, store_url: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    """The ingest report (shown to Discord admins by /library add and reload) says the
    database refused a story; the database's own words go to the host's log. Before the fix
    the report's reason was the driver's message ('xyzzy refused by a trigger')."""
    folder = tmp_path / "stories"
    shutil.copytree(SEEDS, folder)
    refused = sorted(p.name for p in folder.glob("*.txt"))[0]
    if store_url is None:
        with sqlite3.connect(tmp_path / "data" / "stories.db") as db:
            db.execute(_REFUSE_SQLITE.format(file=refused))
    else:
        conn = await asyncpg.connect(store_url)
        try:
            await conn.execute(_REFUSE_PG.format(file=refused))
        finally:
            await conn.close()
    with caplog.at_level(logging.WARNING):
        report = await ingest(store, folder)
    assert len(report.added) == 4 and refused not in report.added
    [reason] = [r for f, r in report.skipped if f == refused]
    assert reason == f"database error: {REFUSED}" and "xyzzy" not in reason
    logged = [r.getMessage() for r in caplog.records if "xyzzy" in r.getMessage()]
    assert len(logged) == 1 and refused in logged[0], logged


async def test_damage_postgresql_reports_while_a_story_is_written_is_raised(
    tmp_path: Path, pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL saying a page is damaged (SQLSTATE XX001, data_corrupted) while one story
    is written is the store's damage (StoreDamaged: the host is told the database is damaged),
    not that story refused. SQLite's real damaged file: tests/faults/test_corruption.py.
    Before the fix: the story was reported 'database error: the database refused it ...'."""
    folder = tmp_path / "stories"
    shutil.copytree(SEEDS, folder)
    damaged = sorted(p.name for p in folder.glob("*.txt"))[0]
    settings = Settings(stories_dir=folder, data_dir=tmp_path / "data", database_url=pg_url)
    store = await open_store(settings.db_path, url=pg_url)
    try:
        await refuse(settings, "stories", "INSERT", f"NEW.file = '{damaged}'", "XX001")
        with caplog.at_level(logging.WARNING), pytest.raises(StoreDamaged, match="damaged"):
            await ingest(store, folder)
    finally:
        await store.close()
    assert "refused" not in caplog.text


@pytest.mark.parametrize(
    ("errcode", "raised"),
    [
        ("55P03", (StoreLocked, "moment")),
        ("40P01", (StoreLocked, "moment")),
        ("57014", (StoreLocked, "moment")),
        ("57P01", (StoreUnreachable, "moment")),
        ("53100", (StoreUnwritable, "disk is full")),
        ("58030", (StoreUnwritable, "disk or system failed")),
        ("25006", (StoreUnwritable, "takes no writes")),
    ],
    ids=[
        "lock_not_available",
        "deadlock",
        "statement_timeout",
        "admin_shutdown",
        "disk_full",
        "io_error",
        "read_only_sql_transaction",
    ],
)
async def test_a_busy_or_stopping_postgresql_while_a_story_is_written_is_not_that_story(
    tmp_path: Path,
    pg_url: str,
    caplog: pytest.LogCaptureFixture,
    errcode: str,
    raised: tuple[type[StoreError], str],
) -> None:
    """PostgreSQL busy (a lock not granted in time, a deadlock, a statement timed out),
    stopping (admin_shutdown) or unable to write (its disk full or failing, a server taking no
    writes) while one story is written is the database's state, said as what it is (the
    store's StoreLocked or StoreUnreachable: try again in a moment; StoreUnwritable: the
    host's to fix), not that story refused. Before the fix: the story was reported 'database
    error: the database refused it ...' and the ingest went on (the last three: until
    StoreUnwritable)."""
    folder = tmp_path / "stories"
    shutil.copytree(SEEDS, folder)
    busy = sorted(p.name for p in folder.glob("*.txt"))[0]
    settings = Settings(stories_dir=folder, data_dir=tmp_path / "data", database_url=pg_url)
    store = await open_store(settings.db_path, url=pg_url)
    try:
        await refuse(settings, "stories", "INSERT", f"NEW.file = '{busy}'", errcode)
        with caplog.at_level(logging.WARNING), pytest.raises(raised[0], match=raised[1]):
            await ingest(store, folder)
    finally:
        await store.close()
    assert "refused" not in caplog.text
