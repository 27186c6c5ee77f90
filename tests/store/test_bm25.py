"""SQLite's all-words search ranks as FTS5's bm25() does when it computes BM25 itself.

For a query holding a common word, ``texts_with_all`` ranks the matching texts in Python
(bot/store/sqlite/bm25.py) from the counts of texts it kept from its last read of the
vocabulary: the texts it gives, and their ranks to the last bit, must be FTS5's, for words
standing once or often in texts of every length, limited to some stories or not, in text of
every kind (accents, letters beyond Latin, quotes of every shape: its words counted as FTS5's
tokenizer cuts them, which FTS5 itself is asked), and after the index changed (FTS5 ranks
until the vocabulary is read again). A real SQLite file in tmp_path; FTS5's own bm25() is the
answer.
"""

from __future__ import annotations

import random
import sqlite3
import threading
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import bot.store.sqlite.search as search_module
from bot.ingest import ingest
from bot.store.sqlite import SQLiteStore
from bot.store.sqlite.bm25 import TOKENIZER, Folds, TermCounter, folds, single_tokens
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


async def _answer(
    store: SQLiteStore, words: Sequence[str], story_ids: Sequence[int] | None, limit: int
) -> tuple[list[tuple[int, float]], bool, bool]:
    """``texts_with_all``'s texts with their ranks, whether they are every text that matches
    (then unranked), and whether they were ranked here (bm25.py) rather than by FTS5."""
    here: list[bool] = []  # each ranking of bot/store/sqlite/search.py: done, or left to FTS5

    def ranked(*args: Any) -> Any:
        out = real(*args)
        here.append(out is not None)
        return out

    real = search_module._ranked
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search_module, "_ranked", ranked)
        found, complete = await store.texts_with_all(words, story_ids, limit, rank_cap=10_000)
    return [(t.id, rank) for t, rank in found], complete, here == [True]


async def _ours(
    store: SQLiteStore, words: Sequence[str], story_ids: Sequence[int] | None, limit: int
) -> list[tuple[int, float]]:
    """``texts_with_all``'s best ``limit`` texts, ranked here (not by FTS5)."""
    found, complete, here = await _answer(store, words, story_ids, limit)
    assert not complete and here, (words, story_ids, limit)
    return found


async def _left_to_fts5(
    store: SQLiteStore, words: Sequence[str], story_ids: Sequence[int] | None, limit: int
) -> list[tuple[int, float]]:
    """``texts_with_all``'s best ``limit`` texts, ranked by FTS5 (not here)."""
    found, complete, here = await _answer(store, words, story_ids, limit)
    assert not complete and not here, (words, story_ids, limit)
    return found


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


# text beyond ASCII: accents (composed and not), German, French and Greek letters, ligatures,
# marks FTS5 drops, quotes and dashes of every shape, a word in Cyrillic
_OTHER = [
    "café",
    "cafe\u0301",
    "Straße",
    "naïve",
    "Übermut",
    "fiancée",
    "cœur",
    "ΟΔΟΣ",
    "οδος",
    "ﬁne",
    "ǅemal",
    "İstanbul",
    "½",
    "x²",
    "«",
    "»",
    "„",
    "“",
    "”",
    "’",
    "‚",
    "—",
    "–",
    "…",
    "\u00a0",
    "\u2009",
    "дом",
    "e\u0308",
    "\u200b",
    "\U0001f600",
    "㐀",
    "ｆｕｌｌ",
]


def _other_paragraph(rng: random.Random) -> str:
    pools = (_WORDS, _COMMON, _OTHER)
    cut = [rng.choice(pools[rng.choice((0, 1, 1, 2))]) for _ in range(rng.randint(3, 40))]
    return " ".join(cut).capitalize() + rng.choice(".!?…»”")


async def test_text_that_is_not_plain_is_ranked_here_as_fts5_ranks_it(
    store: SQLiteStore, tmp_path: Path
) -> None:
    """Beside plain text, text of every kind (one in two paragraphs of a story), and words
    beyond ASCII: ranked here, not by FTS5, and to the last bit FTS5's ranks."""
    rng = random.Random(9)
    for n in range(3):
        paragraphs = [
            _other_paragraph(rng) if rng.random() < 0.5 else _paragraph(rng) for _ in range(80)
        ]
        write(tmp_path / "stories", f"other{n}.txt", "\n\n".join([f"Other {n}", *paragraphs]))
    write(tmp_path / "stories", "z.txt", "Story z\n\nThe café of the lantern, the fog.\n")
    await ingest(store, tmp_path / "stories")
    await store.vocabulary(1, 32)
    others = [s.id for s in await store.list_stories() if s.title.startswith("Other")]
    assert len(others) == 3
    queries = [*QUERIES, ["the", "cafe"], ["of", "straße"], ["and", "οδοσ"], ["the", "cœur"]]
    ranked = 0
    for words in queries:
        assert await _ranked_here(store, words, 5), words
        for story_ids in (None, others, others[:1]):
            for limit in (1, 5, 20):
                ours, complete, here = await _answer(store, words, story_ids, limit)
                theirs = await _fts5(store, words, story_ids, limit)
                if complete:  # every text that matches, unranked: the same texts as FTS5's
                    assert sorted(i for i, _ in ours) == sorted(i for i, _ in theirs)
                else:
                    assert here and ours == theirs, (words, story_ids, limit)
                    ranked += 1
    assert ranked >= 60
    # a word FTS5 cuts otherwise (a final sigma it folds, two words in one) is FTS5's to rank
    for words in (["the", "οδος"], ["the", "lantern fog"], ["the", "Lantern"]):
        assert not single_tokens(words)
        assert await _left_to_fts5(store, words, None, 5) == await _fts5(store, words, None, 5)


def test_the_tokens_counted_are_fts5s_on_text_of_every_kind(tmp_path: Path) -> None:
    """``Folds.tokens`` cuts text as the index's tokenizer does, and ``TermCounter`` counts
    its tokens, on random text drawn from ASCII (control characters too), every plane of
    Unicode, the separators, the marks FTS5 drops and the letters folding has cases for; FTS5
    (its fts5vocab) cuts the same text."""
    db = sqlite3.connect(tmp_path / "tokens.db")
    db.execute(f"CREATE VIRTUAL TABLE p USING fts5(x, tokenize='{TOKENIZER}')")
    db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(p, instance)")
    rng = random.Random(10)
    pools = [
        [chr(c) for c in range(128)],
        [chr(c) for c in range(0x80, 0x800)],
        [chr(rng.randrange(0x800, 0x10000)) for _ in range(2000)],
        [chr(rng.randrange(0x10000, 0x110000)) for _ in range(2000)],
        [chr(c) for c in range(0x300, 0x370)] + list("ΣσςßİıǅﬁŉẞK\u2009\u3000«»„“”’—…"),
    ]
    texts = [
        "".join(rng.choice(rng.choice(pools)) for _ in range(rng.randint(0, 30)))
        for _ in range(5000)
    ]
    texts = [t for t in texts if not any(0xD800 <= ord(c) < 0xE000 for c in t)]
    db.executemany("INSERT INTO p (rowid, x) VALUES (?, ?)", enumerate(texts, 1))
    theirs: dict[int, list[str]] = {}
    for term, doc in db.execute("SELECT term, doc FROM v ORDER BY doc, offset"):
        theirs.setdefault(doc, []).append(term)
    db.close()
    cut = folds()
    for n, text in enumerate(texts, 1):
        tokens = theirs.get(n, [])
        assert cut.tokens(text) == tokens, text
        # and the counts a text is ranked by: of some of its tokens, and of one it lacks
        terms = list(dict.fromkeys([*tokens[:3], *tokens[-2:], "a", "zq"]))
        assert TermCounter(terms).counts(text) == [tokens.count(t) for t in terms], text


def test_the_characters_learnt_are_bounded_and_past_the_bound_fts5_ranks() -> None:
    """A process learns about ``most`` characters at most: a text holding more new ones than
    there is room for is not cut here (None: FTS5 ranks it), and what was learnt still cuts
    as FTS5 does."""
    cut = Folds(most=128 + 40)
    chinese = "".join(chr(c) for c in range(0x4E00, 0x4E14))  # 20 letters, each its own fold
    assert cut.tokens(f"the {chinese} end") == ["the", chinese, "end"]
    more = "".join(chr(c) for c in range(0x4E20, 0x4E35))  # 21 more: room for 20 + 20
    assert cut.tokens(f"the {more}") is None
    assert len(cut.table) == 128 + 20
    assert cut.tokens(f"{chinese[5]}!{chinese[:2]}") == [chinese[5], chinese[:2]]


def test_characters_learnt_from_several_threads_keep_the_bound_and_cut_as_alone() -> None:
    """Texts are cut in several threads at once, each text holding characters new to the
    table, with room for one text's: learning is one thread at a time, so the bound holds
    (each thread finds room when it looks, but not for every thread's characters: the others
    are left to FTS5), and the one text learnt cuts as FTS5 does. Rounds of a fresh table, the
    threads started together; FTS5's probes let another thread run midway (on the old code
    two to four threads learnt in every run)."""
    threads, size = 4, 30
    for round_ in range(20):
        cut = Folds(most=128 + size + 5)  # room for one thread's characters, not two
        start = threading.Barrier(threads)
        base = 0x4E00 + round_ * threads * size
        texts = [
            "".join(chr(base + n * size + i) for i in range(size)) + " end" for n in range(threads)
        ]

        def learn(text: str, cut: Folds = cut, start: threading.Barrier = start) -> object:
            start.wait()
            return cut.tokens(text)

        with ThreadPoolExecutor(threads) as pool:
            found = list(pool.map(learn, texts))
        learnt = [(text, tokens) for text, tokens in zip(texts, found, strict=True) if tokens]
        assert len(cut.table) <= cut.most, (round_, len(cut.table), len(learnt))
        assert len(learnt) == 1, round_
        assert learnt[0][1] == learnt[0][0].split()


async def test_the_tokenizer_asked_is_the_index_s(store: SQLiteStore) -> None:
    rows = await store.db.execute_fetchall("SELECT sql FROM sqlite_master WHERE name = 'texts_fts'")
    assert f"tokenize='{TOKENIZER}'" in rows[0][0]


async def test_after_the_index_changes_fts5_ranks_until_the_vocabulary_is_read(
    store: SQLiteStore, tmp_path: Path
) -> None:
    await store.vocabulary(1, 32)
    before = dict(store._doc_counts.counts) if store._doc_counts else {}
    rng = random.Random(8)
    write(tmp_path / "stories", "more.txt", _story(rng, "More", 80))
    await ingest(store, tmp_path / "stories")
    for words in QUERIES:  # the counts kept are stale: never used
        assert await _left_to_fts5(store, words, None, 5) == await _fts5(store, words, None, 5)
    assert store._doc_counts is None
    await store.vocabulary(1, 32)
    assert store._doc_counts is not None
    assert store._doc_counts.counts["the"] > before["the"]
    for words in QUERIES:
        assert await _ranked_here(store, words, 5)
        assert await _ours(store, words, None, 5) == await _fts5(store, words, None, 5)
