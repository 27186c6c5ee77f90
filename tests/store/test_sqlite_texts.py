"""Schema 3 on a real SQLite file: texts are shared chapter by chapter.

A chapter whose paragraphs (the same texts, in the same order) are already stored takes the
same rows of ``texts``; any other chapter's paragraphs become new texts, even where one of
them matches a paragraph stored elsewhere. Removing or changing one story must keep what
the others still use, forget the rest (in ``texts`` and in the external-content FTS5 index
alike), never hand out a text id twice, and search must still answer one hit per story. A
schema-2 database is converted in place (nothing lost before the next ingest) and its
stories are re-read under their old ids.
"""

from __future__ import annotations

import os
import random
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from bot.ingest import ingest
from bot.library import Library
from bot.models import SearchResult, Story
from bot.store.sqlite import SCHEMA_VERSION, SQLiteStore
from bot.store.sqlite.schema import MIGRATIONS
from tests.test_ingest import write

SHARED = "The lighthouse keeper counted gulls every morning."
SHARED_2 = "Nobody answered the brass bell that night."
ONLY_A = "Marigold rowed across the harbour alone."
ONLY_B = "Quentin polished the telescope until dawn."
EDITED = "The lighthouse keeper counted herons every evening."
RAIN = "Rain drummed on the tin roof of the shed."
COMMON = [SHARED_2, RAIN]  # the chapter both stories of ingest_pair hold whole


@pytest.fixture
async def store(tmp_path: Path):
    s = await SQLiteStore.open(tmp_path / "db" / "stories.db")
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


async def search(
    store: SQLiteStore, text: str, stories: Sequence[Story], *, limit: int = 5
) -> SearchResult:
    """Quote search among some of the stories, through the Library's Search object."""
    library = Library(store, Path("unused"))
    every = len(stories) == len(await library.stories(mature_ok=True))
    return await library.quotes.find(text, stories, every=every, limit=limit)


async def rows(
    store: SQLiteStore, sql: str, params: tuple[object, ...] = ()
) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in await store.db.execute_fetchall(sql, params)]


async def scalar(store: SQLiteStore, sql: str, params: tuple[object, ...] = ()) -> int:
    return int((await rows(store, sql, params))[0][0])


async def check_consistent(store: SQLiteStore) -> None:
    """No orphan or missing texts; a text is shared only between identical chapters, at the
    same place; chapters have the same text hash exactly when they hold the same texts; and
    the FTS5 index agrees with ``texts`` (rank 1 makes integrity-check compare the index
    with the external content table; it raises if not)."""
    orphans = "SELECT count(*) FROM texts WHERE id NOT IN (SELECT text_id FROM paragraphs)"
    assert await scalar(store, orphans) == 0
    missing = "SELECT count(*) FROM paragraphs WHERE text_id NOT IN (SELECT id FROM texts)"
    assert await scalar(store, missing) == 0
    held: dict[object, set[tuple[object, object]]] = defaultdict(set)
    for text_id, offset, text_hash in await rows(
        store,
        "SELECT p.text_id, p.position - c.first_position, c.text_hash FROM paragraphs p"
        " JOIN chapters c ON c.story_id = p.story_id AND c.number = p.chapter",
    ):
        held[text_id].add((offset, text_hash))
    shared_wrongly = {t: places for t, places in held.items() if len(places) > 1}
    assert not shared_wrongly, "a text held at different places or by different chapters"
    contents: dict[tuple[object, ...], set[object]] = defaultdict(set)
    for story_id, number, text_hash in await rows(
        store, "SELECT story_id, number, text_hash FROM chapters"
    ):
        texts = [p.text for p in await store.chapter_paragraphs(story_id, number)]
        contents[tuple(texts)].add(text_hash)
    by_hash: dict[object, int] = defaultdict(int)
    for hashes in contents.values():
        assert len(hashes) == 1, "the same texts under two text hashes"
        by_hash[next(iter(hashes))] += 1
    assert all(n == 1 for h, n in by_hash.items() if h is not None), "one hash, two texts"
    await store.db.execute_fetchall(
        "INSERT INTO texts_fts(texts_fts, rank) VALUES('integrity-check', 1)"
    )


async def indexed(store: SQLiteStore, word: str) -> int:
    """Index entries matching a word, straight from FTS5 (not joined to ``texts``)."""
    return await scalar(store, "SELECT count(*) FROM texts_fts WHERE texts_fts MATCH ?", (word,))


async def count_texts(store: SQLiteStore, text: str | None = None) -> int:
    if text is None:
        return await scalar(store, "SELECT count(*) FROM texts")
    return await scalar(store, "SELECT count(*) FROM texts WHERE text = ?", (text,))


async def texts_of(store: SQLiteStore, story_id: int) -> list[list[str]]:
    chapters = next(s for s in await store.list_stories() if s.id == story_id).chapters
    return [[p.text for p in await store.chapter_paragraphs(story_id, c.number)] for c in chapters]


async def text_ids(store: SQLiteStore, story_id: int, chapter: int | None = None) -> list[int]:
    """The text id of each paragraph of a story (or of one chapter), in order."""
    where = "" if chapter is None else f" AND chapter = {int(chapter)}"
    found = await rows(
        store,
        f"SELECT text_id FROM paragraphs WHERE story_id = ?{where} ORDER BY position",
        (story_id,),
    )
    return [int(r[0]) for r in found]


async def ingest_pair(store: SQLiteStore, folder: Path) -> dict[str, int]:
    # chapter 1 of each holds SHARED among other paragraphs: not the same chapter, not shared;
    # chapter 2 is the same chapter in both: shared
    put(folder, "a.txt", story("Alpha Tale", [SHARED, ONLY_A], COMMON))
    put(folder, "b.txt", story("Beta Tale", [ONLY_B, SHARED], COMMON))
    assert (await ingest(store, folder)).added == ("a.txt", "b.txt")
    return {s.file: s.id for s in await store.list_stories()}


async def test_integrity_check_notices_an_index_out_of_step(store: SQLiteStore) -> None:
    await store.db.execute_fetchall("INSERT INTO texts (id, text) VALUES (1, 'gulls')")
    await store.db.execute_fetchall("INSERT INTO texts_fts (rowid, text) VALUES (1, 'gulls')")
    await store.db.execute_fetchall(
        "INSERT INTO texts_fts(texts_fts, rank) VALUES('integrity-check', 1)"
    )
    await store.db.execute_fetchall("DELETE FROM texts")  # FTS5 not told
    with pytest.raises(sqlite3.DatabaseError):
        await store.db.execute_fetchall(
            "INSERT INTO texts_fts(texts_fts, rank) VALUES('integrity-check', 1)"
        )


async def test_a_whole_chapter_is_shared_a_single_paragraph_is_not(
    store: SQLiteStore, tmp_path: Path
) -> None:
    ids = await ingest_pair(store, tmp_path / "stories")
    a, b = ids["a.txt"], ids["b.txt"]
    assert await texts_of(store, a) == [[SHARED, ONLY_A], COMMON]
    assert await texts_of(store, b) == [[ONLY_B, SHARED], COMMON]
    assert await scalar(store, "SELECT count(*) FROM paragraphs") == 8
    assert await count_texts(store) == 6, "a's four, and b's first chapter"
    assert await text_ids(store, b, 2) == await text_ids(store, a, 2)
    assert not set(await text_ids(store, b, 1)) & set(await text_ids(store, a))
    assert await count_texts(store, SHARED) == 2, "in two different chapters: stored twice"
    assert await count_texts(store, SHARED_2) == await count_texts(store, RAIN) == 1
    assert await indexed(store, "gulls") == 2
    assert await indexed(store, "brass") == await indexed(store, "rain") == 1
    await check_consistent(store)


async def test_only_the_same_texts_in_the_same_order_are_the_same_chapter(
    store: SQLiteStore, tmp_path: Path
) -> None:
    folder = tmp_path / "stories"
    await ingest_pair(store, folder)
    # the same paragraphs reordered, a part of the chapter, the chapter with one more paragraph,
    # and two chapters whose texts run together the same ("Ahoy!" three times) but split apart
    # differently
    put(folder, "c.txt", story("Gamma Tale", [RAIN, SHARED_2], [SHARED_2], [*COMMON, ONLY_B]))
    put(folder, "d.txt", story("Delta Tale", ["Ahoy!", "Ahoy!Ahoy!"]))
    put(folder, "e.txt", story("Epsilon Tale", ["Ahoy!Ahoy!", "Ahoy!"]))
    assert (await ingest(store, folder)).added == ("c.txt", "d.txt", "e.txt")
    ids = {s.file: s.id for s in await store.list_stories()}
    assert await texts_of(store, ids["c.txt"]) == [[RAIN, SHARED_2], [SHARED_2], [*COMMON, ONLY_B]]
    assert await texts_of(store, ids["d.txt"]) == [["Ahoy!", "Ahoy!Ahoy!"]]
    assert await texts_of(store, ids["e.txt"]) == [["Ahoy!Ahoy!", "Ahoy!"]]
    assert await count_texts(store) == 6 + 6 + 2 + 2, "nothing shared"
    await check_consistent(store)


async def test_a_story_filed_twice_is_stored_once(store: SQLiteStore, tmp_path: Path) -> None:
    folder = tmp_path / "stories"
    text = story("Alpha Tale", [SHARED, ONLY_A], COMMON, [ONLY_B])
    put(folder, "a.txt", text)
    put(folder, "copy.txt", text)
    assert (await ingest(store, folder)).added == ("a.txt", "copy.txt")
    stories = await store.list_stories()
    ids = {s.file: s.id for s in stories}
    first, second = sorted(ids.values())
    assert await texts_of(store, first) == await texts_of(store, second)
    assert await text_ids(store, first) == await text_ids(store, second)
    assert await scalar(store, "SELECT count(*) FROM paragraphs") == 10
    assert await count_texts(store) == 5, "the paragraphs of one copy"
    assert await indexed(store, "marigold") == 1
    await check_consistent(store)

    line = "Marigold rowed across the harbour"
    result = await search(store, line, stories)
    assert result.match == "exact"
    assert sorted((h.story.id, h.chapter, h.position) for h in result.hits) == [
        (first, 1, 1),
        (second, 1, 1),
    ]
    assert [h.story.id for h in (await search(store, line, stories, limit=1)).hits] == [first]
    only_second = [s for s in stories if s.id == second]
    result = await search(store, line, only_second)
    assert [(h.story.id, h.position) for h in result.hits] == [(second, 1)]
    # the first story's place (lower story id) must not use up the one hit asked for
    result = await search(store, line, only_second, limit=1)
    assert [(h.story.id, h.position) for h in result.hits] == [(second, 1)]
    only_first = [s for s in stories if s.id == first]
    result = await search(store, "nobody answered the brass bell", only_first, limit=1)
    assert [(h.story.id, h.chapter, h.position) for h in result.hits] == [(first, 2, 2)]


async def test_search_gives_one_hit_per_story(store: SQLiteStore, tmp_path: Path) -> None:
    ids = await ingest_pair(store, tmp_path / "stories")
    a, b = ids["a.txt"], ids["b.txt"]
    stories = await store.list_stories()
    # SHARED stands in two texts (one per story), SHARED_2 in one shared by both
    for line, places in [
        ("the lighthouse keeper counted gulls", [(a, 1, 0), (b, 1, 1)]),
        ("nobody answered the brass bell", [(a, 2, 2), (b, 2, 2)]),
    ]:
        result = await search(store, line, stories)
        assert result.match == "exact"
        assert sorted((h.story.id, h.chapter, h.position) for h in result.hits) == places
        only_b = [s for s in stories if s.id == b]
        for limit in (5, 1):
            result = await search(store, line, only_b, limit=limit)
            assert [(h.story.id, h.chapter, h.position) for h in result.hits] == places[1:]
    only_b = [s for s in stories if s.id == b]
    result = await search(store, "Marigold rowed across the harbour", only_b)
    assert result.match == "none", "a's own line is not in b"


async def test_a_line_repeated_in_one_story_gives_one_hit(
    store: SQLiteStore, tmp_path: Path
) -> None:
    folder = tmp_path / "stories"
    put(folder, "b.txt", story("Beta Tale", [ONLY_B, SHARED], [SHARED_2, SHARED]))
    await ingest(store, folder)
    stories = await store.list_stories()
    result = await search(store, "the lighthouse keeper counted gulls", stories)
    assert [(h.chapter, h.position) for h in result.hits] == [(1, 1)], "its first place"


async def test_a_chapter_repeated_in_one_story_is_stored_once(
    store: SQLiteStore, tmp_path: Path
) -> None:
    folder = tmp_path / "stories"
    put(folder, "a.txt", story("Alpha Tale", COMMON, [ONLY_A], COMMON))
    await ingest(store, folder)
    (story_id,) = [s.id for s in await store.list_stories()]
    assert await texts_of(store, story_id) == [COMMON, [ONLY_A], COMMON]
    assert await text_ids(store, story_id, 3) == await text_ids(store, story_id, 1)
    assert await count_texts(store) == 3
    stories = await store.list_stories()
    result = await search(store, "nobody answered the brass bell", stories)
    assert [(h.chapter, h.position) for h in result.hits] == [(1, 0)], "its first place"
    await check_consistent(store)


@pytest.mark.parametrize("gone", ["a.txt", "b.txt"])
async def test_removing_a_story_keeps_shared_texts(
    store: SQLiteStore, tmp_path: Path, gone: str
) -> None:
    folder = tmp_path / "stories"
    ids = await ingest_pair(store, folder)
    kept = "b.txt" if gone == "a.txt" else "a.txt"
    own_line = {"a.txt": ONLY_A, "b.txt": ONLY_B}
    kept_ids = await text_ids(store, ids[kept])
    (folder / gone).unlink()
    assert (await ingest(store, folder)).removed == (gone,)
    stories = await store.list_stories()
    assert [s.id for s in stories] == [ids[kept]]
    expected = [[SHARED, ONLY_A], COMMON] if kept == "a.txt" else [[ONLY_B, SHARED], COMMON]
    assert await texts_of(store, ids[kept]) == expected
    assert await text_ids(store, ids[kept]) == kept_ids
    assert await count_texts(store) == 4
    assert await count_texts(store, own_line[gone]) == 0
    assert await count_texts(store, SHARED) == 1
    assert await indexed(store, own_line[gone].split()[0]) == 0, "the index forgot its text"
    assert await indexed(store, own_line[kept].split()[0]) == 1
    assert await indexed(store, "gulls") == 1
    assert await indexed(store, "brass") == await indexed(store, "rain") == 1
    result = await search(store, own_line[gone], stories)
    assert result.match == "none"
    for line in ("nobody answered the brass bell", "the lighthouse keeper counted gulls"):
        result = await search(store, line, stories)
        assert [h.story.id for h in result.hits] == [ids[kept]]
    await check_consistent(store)


async def test_editing_a_shared_chapter_in_one_story(store: SQLiteStore, tmp_path: Path) -> None:
    folder = tmp_path / "stories"
    ids = await ingest_pair(store, folder)
    a, b = ids["a.txt"], ids["b.txt"]
    b_ids = await text_ids(store, b)
    put(folder, "a.txt", story("Alpha Tale", [SHARED, ONLY_A], [SHARED_2, EDITED]))
    assert (await ingest(store, folder)).changed == ("a.txt",)
    assert await texts_of(store, a) == [[SHARED, ONLY_A], [SHARED_2, EDITED]]
    assert await texts_of(store, b) == [[ONLY_B, SHARED], COMMON]
    assert await text_ids(store, b) == b_ids, "b's texts, its chapter 2 first a's, stay"
    assert not set(await text_ids(store, a)) & set(b_ids)
    assert await count_texts(store) == 8
    assert await count_texts(store, SHARED_2) == 2
    stories = await store.list_stories()
    for line, holders in [
        ("The lighthouse keeper counted gulls every morning", [a, b]),
        ("The lighthouse keeper counted herons every evening", [a]),
        ("Rain drummed on the tin roof of the shed", [b]),
        ("Nobody answered the brass bell that night", [a, b]),
    ]:
        result = await search(store, line, stories)
        assert result.match == "exact"
        assert sorted(h.story.id for h in result.hits) == holders, line
    await check_consistent(store)

    # b's chapter 2 becomes a's: it takes a's texts, and RAIN, held by no one, goes
    put(folder, "b.txt", story("Beta Tale", [ONLY_B, SHARED], [SHARED_2, EDITED]))
    assert (await ingest(store, folder)).changed == ("b.txt",)
    assert await texts_of(store, b) == [[ONLY_B, SHARED], [SHARED_2, EDITED]]
    assert await text_ids(store, b, 2) == await text_ids(store, a, 2)
    assert await count_texts(store) == 6
    assert await count_texts(store, RAIN) == 0
    assert await indexed(store, "rain") == 0
    assert await indexed(store, "herons") == await indexed(store, "brass") == 1
    stories = await store.list_stories()
    result = await search(store, "The lighthouse keeper counted herons every evening", stories)
    assert sorted(h.story.id for h in result.hits) == [a, b]
    await check_consistent(store)


async def test_text_ids_are_never_reused(tmp_path: Path) -> None:
    folder = tmp_path / "stories"
    db_path = tmp_path / "db" / "stories.db"
    store = await SQLiteStore.open(db_path)
    try:
        put(folder, "a.txt", story("Alpha Tale", [SHARED, ONLY_A]))
        await ingest(store, folder)
        put(folder, "b.txt", story("Beta Tale", [ONLY_B, SHARED], [RAIN]))
        await ingest(store, folder)
        ids = {s.file: s.id for s in await store.list_stories()}
        a_ids, b_ids = await text_ids(store, ids["a.txt"]), await text_ids(store, ids["b.txt"])
        seen = set(a_ids) | set(b_ids)
        assert len(seen) == 5
        assert min(b_ids) > max(a_ids), "b holds the highest ids"
        (folder / "b.txt").unlink()
        assert (await ingest(store, folder)).removed == ("b.txt",)
        put(folder, "c.txt", story("Gamma Tale", [ONLY_B, SHARED], [EDITED]))
        assert (await ingest(store, folder)).added == ("c.txt",)
        (c,) = [s.id for s in await store.list_stories() if s.file == "c.txt"]
        assert min(await text_ids(store, c)) > max(seen)
        seen |= set(await text_ids(store, c))
        # an edit replaces the story's texts by new ids too
        put(folder, "c.txt", story("Gamma Tale", [ONLY_B, SHARED], [RAIN]))
        assert (await ingest(store, folder)).changed == ("c.txt",)
        assert min(await text_ids(store, c)) > max(seen)
        seen |= set(await text_ids(store, c))
        (folder / "c.txt").unlink()
        assert (await ingest(store, folder)).removed == ("c.txt",)
    finally:
        await store.close()
    # and so does a store opened afresh, with the highest ids gone
    store = await SQLiteStore.open(db_path)
    try:
        put(folder, "d.txt", story("Delta Tale", [ONLY_A]))
        assert (await ingest(store, folder)).added == ("d.txt",)
        (d,) = [s.id for s in await store.list_stories() if s.file == "d.txt"]
        assert min(await text_ids(store, d)) > max(seen)
        await check_consistent(store)
    finally:
        await store.close()


POOL = [SHARED, SHARED_2, ONLY_A, ONLY_B, EDITED, RAIN]


async def test_random_edits_keep_texts_and_index_in_step(
    store: SQLiteStore, tmp_path: Path
) -> None:
    """A seeded walk of adds, edits and removals (several per ingest, so one batch) against
    a model of the folder, often copying a chapter from another story: every story reads
    back as written, identical chapters share their texts and no others do, texts are just
    those some paragraph holds, and occurrences() gives each story's first place of each."""
    folder = tmp_path / "stories"
    rng = random.Random(3)
    model: dict[str, list[list[str]]] = {}
    names = ["a.txt", "b.txt", "c.txt", "d.txt"]
    shared_chapters = 0
    for _ in range(40):
        for name in rng.sample(names, rng.randint(1, 3)):
            if name in model and rng.random() < 0.2:
                del model[name]
                (folder / name).unlink()
                continue
            others = [c for n, chapters in model.items() if n != name for c in chapters]
            chapters: list[list[str]] = []
            wanted = rng.randint(1, 3)
            while len(chapters) < wanted:
                if others and rng.random() < 0.4:
                    chapter = list(rng.choice(others))
                else:
                    chapter = rng.choices(POOL, k=rng.randint(1, 4))
                chapters.append(chapter)
            model[name] = chapters
            put(folder, name, story(f"Tale {name[0].upper()}", *chapters))
        report = await ingest(store, folder)
        assert not report.skipped
        by_file = {s.file: s.id for s in await store.list_stories()}
        assert set(by_file) == set(model)

        ids_of: dict[tuple[str, ...], set[tuple[int, ...]]] = defaultdict(set)
        places: dict[int, dict[int, tuple[int, int]]] = defaultdict(
            dict
        )  # text id: story id: (chapter, position)
        for name, chapters in model.items():
            story_id = by_file[name]
            assert await texts_of(store, story_id) == chapters
            position = 0
            for number, paragraphs in enumerate(chapters, 1):
                chapter_ids = await text_ids(store, story_id, number)
                ids_of[tuple(paragraphs)].add(tuple(chapter_ids))
                for text_id in chapter_ids:
                    places[text_id].setdefault(story_id, (number, position))
                    position += 1
        # the same chapter anywhere holds the same texts; different chapters share none
        assert all(len(held) == 1 for held in ids_of.values())
        everywhere = [i for held in ids_of.values() for i in next(iter(held))]
        assert len(everywhere) == len(set(everywhere))
        held_by = Counter(tuple(c) for chapters in model.values() for c in chapters)
        shared_chapters += sum(1 for n in held_by.values() if n > 1)
        assert await count_texts(store) == len(everywhere) == len(places)
        assert sorted(r[0] for r in await rows(store, "SELECT id FROM texts")) == sorted(places)
        for text_id, text in await rows(store, "SELECT id, text FROM texts"):
            assert isinstance(text_id, int)
            expected = sorted((s, c, p) for s, (c, p) in places[text_id].items())
            found = (await store.occurrences([text_id], None, 10))[text_id]
            assert [(p.story_id, p.chapter, p.position) for p in found] == expected
            assert all(p.text == text for p in found)
            first = (await store.occurrences([text_id], None, 1))[text_id]
            assert [(p.story_id, p.chapter, p.position) for p in first] == expected[:1]
            for story_id in by_file.values():
                scoped = await store.occurrences([text_id], [story_id], 10)
                mine = [e for e in expected if e[0] == story_id]
                assert [
                    (p.story_id, p.chapter, p.position) for p in scoped.get(text_id, [])
                ] == mine
        # all the texts in one query: the same places as one by one
        every = await store.occurrences(list(places), None, 10)
        assert {
            t: sorted((p.story_id, p.chapter, p.position) for p in found)
            for t, found in every.items()
        } == {t: sorted((s, c, p) for s, (c, p) in held.items()) for t, held in places.items()}
        await check_consistent(store)
    assert shared_chapters >= 20, "the walk shares chapters often enough to test sharing"


def build_schema_2(db_path: Path, state: tuple[int, int, str, str]) -> None:
    """A storybot-2 database holding story 7 (``old.txt``): two chapters, paragraph ids 41-43."""
    db = sqlite3.connect(db_path)
    db.executescript(MIGRATIONS[0] + MIGRATIONS[1] + "PRAGMA user_version = 2;")
    db.execute(
        "INSERT INTO stories (id, file, slug, title, words, paragraph_count, size, mtime_ns,"
        " hash, meta_hash) VALUES (7, 'old.txt', 'old-tale', 'Old Tale', 21, 3, ?, ?, ?, ?)",
        state,
    )
    db.execute(
        "INSERT INTO chapters (story_id, number, label, words, note, first_position,"
        " last_position) VALUES (7, 1, 'Chapter 1', 14, NULL, 0, 1),"
        " (7, 2, 'Chapter 2', 7, NULL, 2, 2)"
    )
    for position, (chapter, paragraph) in enumerate(OLD_CHAPTERS_FLAT):
        db.execute(
            "INSERT INTO paragraphs (id, story_id, chapter, position, scene, text)"
            " VALUES (?, 7, ?, ?, 1, ?)",
            (41 + position, chapter, position, paragraph),
        )
        db.execute(
            "INSERT INTO paragraphs_fts (rowid, text) VALUES (?, ?)", (41 + position, paragraph)
        )
    db.commit()
    db.close()


OLD_CHAPTERS = [[ONLY_A, SHARED], [SHARED_2]]
OLD_CHAPTERS_FLAT = [(n, p) for n, ps in enumerate(OLD_CHAPTERS, 1) for p in ps]


async def schema_2_database(tmp_path: Path) -> tuple[Path, Path]:
    """A stories folder holding old.txt and a schema-2 database that has read it."""
    folder = tmp_path / "stories"
    write(folder, "old.txt", story("Old Tale", *OLD_CHAPTERS))
    # the file state storybot 2 would have stored: same stat, bytes and metadata hashes, so
    # only the migration's blanked hashes can make the next ingest read the file again
    scratch = await SQLiteStore.open(tmp_path / "scratch.db")
    try:
        await ingest(scratch, folder)
        state = (await scratch.file_states())["old.txt"]
    finally:
        await scratch.close()
    db_path = tmp_path / "old.db"
    build_schema_2(db_path, (state.size, state.mtime_ns, state.hash, state.meta_hash))
    return db_path, folder


async def check_old_story_found(store: SQLiteStore) -> None:
    stories = await store.list_stories()
    assert [(s.id, s.title, s.slug) for s in stories] == [(7, "Old Tale", "old-tale")]
    assert await texts_of(store, 7) == OLD_CHAPTERS
    for line, place in [
        ("Marigold rowed across the harbour", (7, 1, 0)),
        ("nobody answered the brass bell", (7, 2, 2)),
    ]:
        result = await search(store, line, stories)
        assert result.match == "exact"
        assert [(h.story.id, h.chapter, h.position) for h in result.hits] == [place]
    await check_consistent(store)


async def test_schema_2_database_is_converted_in_place(tmp_path: Path) -> None:
    db_path, _ = await schema_2_database(tmp_path)
    store = await SQLiteStore.open(db_path)
    try:
        assert await scalar(store, "PRAGMA user_version") == SCHEMA_VERSION
        # nothing lost before any ingest: one text per old paragraph, under its id
        assert await rows(store, "SELECT id, text_id FROM paragraphs ORDER BY id") == [
            (41, 41),
            (42, 42),
            (43, 43),
        ]
        assert await rows(store, "SELECT id, text FROM texts ORDER BY id") == [
            (41 + i, p) for i, (_, p) in enumerate(OLD_CHAPTERS_FLAT)
        ]
        assert await indexed(store, "marigold") == 1
        await check_old_story_found(store)
        # marked changed, so the next ingest reads it again
        assert await rows(store, "SELECT hash, meta_hash FROM stories") == [("", "")]
    finally:
        await store.close()


async def test_schema_2_database_migrates_and_rereads(tmp_path: Path) -> None:
    db_path, folder = await schema_2_database(tmp_path)
    store = await SQLiteStore.open(db_path)
    try:
        report = await ingest(store, folder)
        assert report.changed == ("old.txt",) and not report.added
        await check_old_story_found(store)
        assert await scalar(store, "SELECT count(*) FROM chapters WHERE text_hash IS NULL") == 0
        assert min(await text_ids(store, 7)) > 43, "the converted texts' ids are not reused"
        assert (await ingest(store, folder)).unchanged == ("old.txt",)
    finally:
        await store.close()


@pytest.mark.parametrize("broken", [b"", b"\x00\x01\x02 binary now"])
async def test_schema_2_story_broken_at_the_first_ingest_keeps_its_text(
    tmp_path: Path, broken: bytes
) -> None:
    db_path, folder = await schema_2_database(tmp_path)
    write(folder, "old.txt", broken)
    store = await SQLiteStore.open(db_path)
    try:
        report = await ingest(store, folder)
        assert [name for name, _ in report.skipped] == ["old.txt"]
        assert not report.changed and not report.removed
        await check_old_story_found(store)
        # mended, it is read again under its id
        put(folder, "old.txt", story("Old Tale", *OLD_CHAPTERS))
        assert (await ingest(store, folder)).changed == ("old.txt",)
        await check_old_story_found(store)
    finally:
        await store.close()


async def test_a_batch_goes_into_each_search_index_as_one_segment(
    store: SQLiteStore, tmp_path: Path
) -> None:
    """FTS5 writes what a transaction adds as a new segment each time its pending entries
    pass its hashsize (1 MiB by default), and every segment is merged again later: the
    writer lets a whole batch wait in memory, so a story of 3 MB makes one segment per
    index (with the default it made 3 or more), and both indexes stay whole."""
    rng = random.Random(7)
    words = [
        "".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(3, 9)))
        for _ in range(30_000)
    ]
    paragraphs = [" ".join(rng.choices(words, k=60)).capitalize() + "." for _ in range(8_000)]
    text = story("Many Words", *(paragraphs[i : i + 400] for i in range(0, len(paragraphs), 400)))
    assert len(text) > 3_000_000
    put(tmp_path / "stories", "many.txt", text)
    assert (await ingest(store, tmp_path / "stories")).added == ("many.txt",)
    for index in ("texts_fts", "scenes_fts"):
        assert await scalar(store, f"SELECT count(DISTINCT segid) FROM {index}_idx") == 1, index
        await store.db.execute_fetchall(
            f"INSERT INTO {index}({index}, rank) VALUES('integrity-check', 1)"
        )
    assert await indexed(store, words[0]) > 0


async def test_a_batch_of_many_stories_makes_one_segment_per_index(
    store: SQLiteStore, tmp_path: Path
) -> None:
    """The writer writes a batch's rows several a statement (bot/store/sqlite/bulk.py) and its
    index entries last: a statement that may write several rows after an index entry of the
    same transaction would have FTS5 write out its pending entries as a segment each time."""
    for n in range(12):
        chapters = [
            [f"Story {n} chapter {c} line {p} of words." for p in range(150)] for c in range(2)
        ]
        put(tmp_path / "stories", f"s{n:02}.txt", story(f"Story {n}", *chapters))
    assert len((await ingest(store, tmp_path / "stories")).added) == 12
    for index in ("texts_fts", "scenes_fts"):
        assert await scalar(store, f"SELECT count(DISTINCT segid) FROM {index}_idx") == 1, index
        await store.db.execute_fetchall(
            f"INSERT INTO {index}({index}, rank) VALUES('integrity-check', 1)"
        )
    assert await scalar(store, "SELECT count(*) FROM paragraphs") == 12 * 300
    assert await indexed(store, "words") == 12 * 300
