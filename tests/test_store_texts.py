"""Schema 3 on a real SQLite file: each distinct paragraph text is stored and indexed once.

Stories that share paragraphs share rows of ``texts``; removing or changing one story must
keep what the others still use, forget the rest (in ``texts`` and in the external-content
FTS5 index alike), and search must still answer one hit per story. A schema-2 database
migrates and re-reads its stories under their old ids.
"""

from __future__ import annotations

import os
import random
import sqlite3
from pathlib import Path

import pytest

from bot.ingest import ingest
from bot.search import search
from bot.store import SCHEMA_VERSION, Store
from bot.store.schema import MIGRATIONS
from bot.store.search import StoryScope
from tests.test_ingest import write

SHARED = "The lighthouse keeper counted gulls every morning."
SHARED_2 = "Nobody answered the brass bell that night."
ONLY_A = "Marigold rowed across the harbour alone."
ONLY_B = "Quentin polished the telescope until dawn."
EDITED = "The lighthouse keeper counted herons every evening."


@pytest.fixture
async def store(tmp_path: Path):
    s = await Store.open(tmp_path / "db" / "stories.db")
    yield s
    await s.close()


def story(title: str, *chapters: list[str]) -> str:
    parts = [title]
    for number, paragraphs in enumerate(chapters, 1):
        parts += [f"Chapter {number}", *paragraphs]
    return "\n\n".join(parts) + "\n"


_mtime = [1_000_000_000_000_000_000]


def put(folder: Path, name: str, text: str) -> None:
    """Write a story file with a fresh mtime, so ingest never takes an edit for unchanged."""
    path = write(folder, name, text)
    _mtime[0] += 1_000_000_000
    os.utime(path, ns=(_mtime[0], _mtime[0]))


async def scalar(store: Store, sql: str, params: tuple[object, ...] = ()) -> int:
    rows = list(await store.db.execute_fetchall(sql, params))
    return int(rows[0][0])


async def check_consistent(store: Store) -> None:
    """No orphan or duplicate texts, and the FTS5 index agrees with ``texts`` (rank 1 makes
    integrity-check compare the index with the external content table; it raises if not)."""
    orphans = "SELECT count(*) FROM texts WHERE id NOT IN (SELECT text_id FROM paragraphs)"
    assert await scalar(store, orphans) == 0
    missing = "SELECT count(*) FROM paragraphs WHERE text_id NOT IN (SELECT id FROM texts)"
    assert await scalar(store, missing) == 0
    distinct = await scalar(store, "SELECT count(DISTINCT text) FROM texts")
    assert await scalar(store, "SELECT count(*) FROM texts") == distinct
    await store.db.execute_fetchall(
        "INSERT INTO texts_fts(texts_fts, rank) VALUES('integrity-check', 1)"
    )


async def indexed(store: Store, word: str) -> int:
    """Index entries matching a word, straight from FTS5 (not joined to ``texts``)."""
    return await scalar(store, "SELECT count(*) FROM texts_fts WHERE texts_fts MATCH ?", (word,))


async def texts_of(store: Store, story_id: int) -> list[list[str]]:
    chapters = next(s for s in await store.list_stories() if s.id == story_id).chapters
    return [[p.text for p in await store.chapter_paragraphs(story_id, c.number)] for c in chapters]


async def ingest_pair(store: Store, folder: Path) -> dict[str, int]:
    put(folder, "a.txt", story("Alpha Tale", [SHARED, ONLY_A], [SHARED_2]))
    # b holds SHARED twice: its first place (chapter 2) is where search must point
    put(folder, "b.txt", story("Beta Tale", [ONLY_B], [SHARED, SHARED_2, SHARED]))
    assert (await ingest(store, folder)).added == ("a.txt", "b.txt")
    return {s.file: s.id for s in await store.list_stories()}


async def test_integrity_check_notices_an_index_out_of_step(store: Store) -> None:
    await store.db.execute_fetchall("INSERT INTO texts (id, hash, text) VALUES (1, 0, 'gulls')")
    await store.db.execute_fetchall("INSERT INTO texts_fts (rowid, text) VALUES (1, 'gulls')")
    await store.db.execute_fetchall(
        "INSERT INTO texts_fts(texts_fts, rank) VALUES('integrity-check', 1)"
    )
    await store.db.execute_fetchall("DELETE FROM texts")  # FTS5 not told
    with pytest.raises(sqlite3.DatabaseError):
        await store.db.execute_fetchall(
            "INSERT INTO texts_fts(texts_fts, rank) VALUES('integrity-check', 1)"
        )


async def test_shared_paragraphs_are_stored_once(store: Store, tmp_path: Path) -> None:
    ids = await ingest_pair(store, tmp_path / "stories")
    assert await scalar(store, "SELECT count(*) FROM texts WHERE text = ?", (SHARED,)) == 1
    assert await scalar(store, "SELECT count(*) FROM texts") == 4
    assert await scalar(store, "SELECT count(*) FROM paragraphs") == 7
    assert await indexed(store, "gulls") == 1
    assert await texts_of(store, ids["a.txt"]) == [[SHARED, ONLY_A], [SHARED_2]]
    assert await texts_of(store, ids["b.txt"]) == [[ONLY_B], [SHARED, SHARED_2, SHARED]]
    await check_consistent(store)


async def test_search_gives_one_hit_per_story(store: Store, tmp_path: Path) -> None:
    ids = await ingest_pair(store, tmp_path / "stories")
    stories = await store.list_stories()
    result = await search(store, "the lighthouse keeper counted gulls", stories)
    assert result.match == "exact"
    assert sorted((h.story.id, h.chapter, h.position) for h in result.hits) == [
        (ids["a.txt"], 1, 0),
        (ids["b.txt"], 2, 1),
    ]
    only_b = [s for s in stories if s.id == ids["b.txt"]]
    result = await search(store, "the lighthouse keeper counted gulls", only_b)
    assert [(h.story.id, h.position) for h in result.hits] == [(ids["b.txt"], 1)]
    # a's place (lower story id) must not use up the one hit asked for
    result = await search(store, "the lighthouse keeper counted gulls", only_b, limit=1)
    assert [(h.story.id, h.position) for h in result.hits] == [(ids["b.txt"], 1)]
    result = await search(store, "Marigold rowed across the harbour", only_b)
    assert result.match == "none", "a's own line is not in b"


async def test_removing_a_story_keeps_shared_texts(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "stories"
    ids = await ingest_pair(store, folder)
    (folder / "a.txt").unlink()
    assert (await ingest(store, folder)).removed == ("a.txt",)
    stories = await store.list_stories()
    assert [s.id for s in stories] == [ids["b.txt"]]
    assert await texts_of(store, ids["b.txt"]) == [[ONLY_B], [SHARED, SHARED_2, SHARED]]
    assert await scalar(store, "SELECT count(*) FROM texts WHERE text = ?", (ONLY_A,)) == 0
    assert await indexed(store, "marigold") == 0, "the index forgot a's own text"
    assert await indexed(store, "gulls") == 1
    result = await search(store, "Marigold rowed across the harbour alone", stories)
    assert result.match == "none"
    result = await search(store, "nobody answered the brass bell", stories)
    assert [h.story.id for h in result.hits] == [ids["b.txt"]]
    await check_consistent(store)


async def test_editing_a_shared_paragraph_in_one_story(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "stories"
    ids = await ingest_pair(store, folder)
    put(folder, "a.txt", story("Alpha Tale", [EDITED, ONLY_A], [SHARED_2]))
    assert (await ingest(store, folder)).changed == ("a.txt",)
    assert await texts_of(store, ids["a.txt"]) == [[EDITED, ONLY_A], [SHARED_2]]
    assert await texts_of(store, ids["b.txt"]) == [[ONLY_B], [SHARED, SHARED_2, SHARED]]
    stories = await store.list_stories()
    old = await search(store, "The lighthouse keeper counted gulls every morning", stories)
    assert old.match == "exact"
    assert [h.story.id for h in old.hits] == [ids["b.txt"]]
    new = await search(store, "The lighthouse keeper counted herons every evening", stories)
    assert new.match == "exact"
    assert [h.story.id for h in new.hits] == [ids["a.txt"]]
    assert await scalar(store, "SELECT count(*) FROM texts") == 5
    await check_consistent(store)


POOL = [SHARED, SHARED_2, ONLY_A, ONLY_B, EDITED, "Rain drummed on the tin roof of the shed."]


async def test_random_edits_keep_texts_and_index_in_step(store: Store, tmp_path: Path) -> None:
    """A seeded walk of adds, edits and removals (several per ingest, so one batch) against
    a model of the folder: every story reads back as written, each text stands once, and
    occurrences() gives each story's first place of every text."""
    folder = tmp_path / "stories"
    rng = random.Random(3)
    model: dict[str, list[list[str]]] = {}
    for _ in range(25):
        for name in rng.sample(["a.txt", "b.txt", "c.txt", "d.txt"], rng.randint(1, 3)):
            if name in model and rng.random() < 0.25:
                del model[name]
                (folder / name).unlink()
            else:
                chapters = [
                    rng.choices(POOL, k=rng.randint(1, 4)) for _ in range(rng.randint(1, 2))
                ]
                model[name] = chapters
                put(folder, name, story(f"Tale {name[0].upper()}", *chapters))
        report = await ingest(store, folder)
        assert not report.skipped
        by_file = {s.file: s.id for s in await store.list_stories()}
        assert set(by_file) == set(model)
        expected: dict[str, list[tuple[int, int]]] = {}
        for name, chapters in model.items():
            assert await texts_of(store, by_file[name]) == chapters
            flat = [text for paragraphs in chapters for text in paragraphs]
            for position, text in enumerate(flat):
                firsts = expected.setdefault(text, [])
                if by_file[name] not in [s for s, _ in firsts]:
                    firsts.append((by_file[name], position))
        rows = list(await store.db.execute_fetchall("SELECT id, text FROM texts"))
        assert sorted(r[1] for r in rows) == sorted(expected)
        for text_id, text in rows:
            found = await store.occurrences(text_id, StoryScope(None), 10)
            assert sorted((p.story_id, p.position) for p in found) == sorted(expected[text])
            assert all(p.text == text for p in found)
            for story_id in by_file.values():
                scoped = await store.occurrences(text_id, StoryScope((story_id,)), 10)
                mine = [e for e in expected[text] if e[0] == story_id]
                assert [(p.story_id, p.position) for p in scoped] == mine
        await check_consistent(store)


async def test_schema_2_database_migrates_and_rereads(tmp_path: Path) -> None:
    folder = tmp_path / "stories"
    text = story("Old Tale", [ONLY_A, SHARED])
    write(folder, "old.txt", text)
    # the file state storybot 2 would have stored: same stat, bytes and metadata hashes, so
    # only the migration's blanked hashes can make the next ingest read the file again
    scratch = await Store.open(tmp_path / "scratch.db")
    try:
        await ingest(scratch, folder)
        state = (await scratch.file_states())["old.txt"]
    finally:
        await scratch.close()
    db_path = tmp_path / "old.db"
    db = sqlite3.connect(db_path)
    db.executescript(MIGRATIONS[0] + MIGRATIONS[1] + "PRAGMA user_version = 2;")
    db.execute(
        "INSERT INTO stories (id, file, slug, title, words, paragraph_count, size, mtime_ns,"
        " hash, meta_hash) VALUES (7, 'old.txt', 'old-tale', 'Old Tale', 14, 2, ?, ?, ?, ?)",
        (state.size, state.mtime_ns, state.hash, state.meta_hash),
    )
    db.execute(
        "INSERT INTO chapters (story_id, number, label, words, note, first_position,"
        " last_position) VALUES (7, 1, 'Chapter 1', 14, NULL, 0, 1)"
    )
    for position, paragraph in enumerate([ONLY_A, SHARED]):
        db.execute(
            "INSERT INTO paragraphs (id, story_id, chapter, position, scene, text)"
            " VALUES (?, 7, 1, ?, 1, ?)",
            (position + 1, position, paragraph),
        )
        db.execute(
            "INSERT INTO paragraphs_fts (rowid, text) VALUES (?, ?)", (position + 1, paragraph)
        )
    db.commit()
    db.close()

    store = await Store.open(db_path)
    try:
        assert await scalar(store, "PRAGMA user_version") == SCHEMA_VERSION == 3
        report = await ingest(store, folder)
        assert report.changed == ("old.txt",) and not report.added
        stories = await store.list_stories()
        assert [(s.id, s.title, s.slug) for s in stories] == [(7, "Old Tale", "old-tale")]
        assert await texts_of(store, 7) == [[ONLY_A, SHARED]]
        result = await search(store, "Marigold rowed across the harbour", stories)
        assert result.match == "exact"
        assert [(h.story.id, h.chapter, h.position) for h in result.hits] == [(7, 1, 0)]
        await check_consistent(store)
        assert (await ingest(store, folder)).unchanged == ("old.txt",)
    finally:
        await store.close()
