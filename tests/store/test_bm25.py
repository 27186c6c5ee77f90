"""SQLite's all-words search ranks as FTS5's bm25() does when it computes BM25 itself.

For a query holding a common word, ``texts_with_all`` ranks the matching texts in Python
(bot/store/sqlite/bm25.py) from the counts of texts it kept from its last read of the
vocabulary: the texts it gives, and their ranks to the last bit, must be FTS5's, for words
standing once or often in texts of every length, limited to some stories or not, beside text
that is not plain (FTS5 ranks then), and after the index changed (FTS5 ranks until the
vocabulary is read again). A real SQLite file in tmp_path; FTS5's own bm25() is the answer.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from bot.ingest import ingest
from bot.store.sqlite import SQLiteStore
from bot.store.sqlite.search import _Scope, all_words_query
from tests.test_ingest import write

_WORDS = ["lantern", "harbour", "gull", "rope", "tide", "keeper", "bell", "fog"]
_COMMON = ["the", "of", "and"]


def _paragraph(rng: random.Random) -> str:
    cut = [rng.choice(_WORDS if rng.random() < 0.4 else _COMMON) for _ in range(rng.randint(3, 40))]
    text = " ".join(cut).capitalize() + "."
    return f"“{text}” — she said…" if rng.random() < 0.3 else text


def _story(rng: random.Random, title: str, paragraphs: int) -> str:
    return "\n\n".join([title, *(_paragraph(rng) for _ in range(paragraphs))]) + "\n"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    rng = random.Random(7)
    folder = tmp_path / "stories"
    for n in range(4):
        write(folder, f"{n}.txt", _story(rng, f"Story {n}", 60))
    opened = await SQLiteStore.open(tmp_path / "db" / "stories.db")
    opened.common_term = 50  # "the", "of", "and" and some more count as common here
    await ingest(opened, folder)
    yield opened
    await opened.close()


async def _fts5(
    store: SQLiteStore, words: Sequence[str], story_ids: Sequence[int] | None, limit: int
) -> list[tuple[int, float]]:
    """The best ``limit`` texts in scope by FTS5's own bm25(), ties by id."""
    scope = ""
    if story_ids is not None:
        marks = ",".join("?" * len(story_ids))
        scope = " AND rowid IN (SELECT text_id FROM paragraphs WHERE story_id IN (" + marks + "))"
    rows = await store.db.execute_fetchall(
        "SELECT rowid, bm25(texts_fts) AS r FROM texts_fts WHERE texts_fts MATCH ?"
        f"{scope} ORDER BY r, rowid LIMIT ?",
        (all_words_query(words), *(story_ids or ()), limit),
    )
    return [(int(r[0]), float(r[1])) for r in rows]


async def _ours(
    store: SQLiteStore, words: Sequence[str], story_ids: Sequence[int] | None, limit: int
) -> list[tuple[int, float]]:
    found, complete = await store.texts_with_all(words, story_ids, limit, rank_cap=10_000)
    assert not complete
    return [(t.id, rank) for t, rank in found]


async def _ranked_here(store: SQLiteStore, words: list[str], limit: int) -> bool:
    """Whether ``texts_with_all`` ranks ``words`` itself (not FTS5)."""
    found = await store._ranked_here(all_words_query(words), words, _Scope.of(None), limit, 10_000)
    return found is not None


QUERIES = [["lantern", "the"], ["of"], ["the", "and", "gull"], ["tide", "of", "fog"]]


async def test_ranks_are_fts5s_to_the_last_bit(store: SQLiteStore) -> None:
    await store.vocabulary(1, 32)
    assert store._doc_counts is not None
    assert {"the", "of", "and"} <= store._doc_counts.counts.keys()
    stories = [s.id for s in await store.list_stories()]
    for words in QUERIES:
        assert await _ranked_here(store, words, 5), words
        for story_ids in (None, stories[:1], stories[1:3]):
            for limit in (1, 5, 20):
                assert await _ours(store, words, story_ids, limit) == await _fts5(
                    store, words, story_ids, limit
                ), (words, story_ids, limit)


async def test_text_that_is_not_plain_is_ranked_by_fts5(store: SQLiteStore, tmp_path: Path) -> None:
    write(tmp_path / "stories", "z.txt", "Story z\n\nThe café of the lantern, the fog.\n")
    await ingest(store, tmp_path / "stories")
    await store.vocabulary(1, 32)
    words = ["lantern", "the"]
    assert not await _ranked_here(store, words, 5)  # the café's text is among them
    assert await _ranked_here(store, ["gull", "the"], 5)
    for query in (words, ["gull", "the"]):
        assert await _ours(store, query, None, 5) == await _fts5(store, query, None, 5)


async def test_after_the_index_changes_fts5_ranks_until_the_vocabulary_is_read(
    store: SQLiteStore, tmp_path: Path
) -> None:
    await store.vocabulary(1, 32)
    before = dict(store._doc_counts.counts) if store._doc_counts else {}
    rng = random.Random(8)
    write(tmp_path / "stories", "more.txt", _story(rng, "More", 80))
    await ingest(store, tmp_path / "stories")
    for words in QUERIES:  # the counts kept are stale: never used
        assert await _ours(store, words, None, 5) == await _fts5(store, words, None, 5)
    assert store._doc_counts is None
    await store.vocabulary(1, 32)
    assert store._doc_counts is not None
    assert store._doc_counts.counts["the"] > before["the"]
    for words in QUERIES:
        assert await _ranked_here(store, words, 5)
        assert await _ours(store, words, None, 5) == await _fts5(store, words, None, 5)
