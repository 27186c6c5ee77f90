"""The quick paths of quote search give what the plain ones gave.

``words``, ``word_spans`` and ``fold`` are held equal to their plain definitions;
``phrase_test`` to looking for the phrase in a text's words; and the all-words stage, which
reads the texts holding the rarest words for the phrase instead of asking FTS5 for it
(``QuoteSearch._held_phrase``), answers as FTS5's phrase check does, on a library where those
words are in more texts than a stage reads, on each engine.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bot.search.quote as quote_module
from bot.library import Library
from bot.settings import Settings
from bot.store import StoreLocked
from bot.text.normalize import (
    _NOT_PLAIN,
    _PUNCT,
    _TEXT_WORD,
    _WORD,
    fold,
    phrase_test,
    word_spans,
    words,
)

_ALPHABET = "aBcÉé\u0301\u034fßİıŁ½x’‘“”—–…\u00a0 \t\n\x1c\u2028'-_.🧛™℃ΣΔǅ\ufb01" + "ab" * 5


def _fold_plainly(text: str) -> str:
    text = text.translate(_PUNCT).lower()
    if not text.isascii():
        text = (
            "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
            .lower()
            .replace("ς", "σ")
        )  # a final sigma is a sigma (FTS5's folding)
    return re.sub(r"\s+", " ", text).strip()


def _words_plainly(text: str) -> list[str]:
    text = text.lower()
    if _NOT_PLAIN.search(text) is None:
        return re.findall(r"[^\W_]+", text)
    return _WORD.findall(_fold_plainly(text))


@settings(max_examples=1000)
@given(st.text(alphabet=_ALPHABET, max_size=40) | st.text())
def test_fold_and_words_are_their_plain_definitions(text: str) -> None:
    assert fold(text) == _fold_plainly(text)
    assert words(text) == _words_plainly(text)


def _word_spans_plainly(text: str) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []
    for m in _TEXT_WORD.finditer(text):  # every combining mark inside the word
        word = m.group()
        if word.isascii():
            spans.append((m.start(), m.end(), word.lower()))
        else:
            spans.extend((m.start(), m.end(), p) for p in _WORD.findall(_fold_plainly(word)))
    return spans


@settings(max_examples=1000)
@given(
    st.text(alphabet="aZ9 ’“”—…\u00a0\u00b4-'_.,\t", max_size=40)  # plain text
    | st.text(alphabet=_ALPHABET, max_size=40)
    | st.text()
)
def test_word_spans_are_their_plain_definition(text: str) -> None:
    assert word_spans(text) == _word_spans_plainly(text)


@settings(max_examples=1000)
@given(
    st.text(alphabet="ab AB1’“”—…\u00a0-'_.,\tté", max_size=30),
    st.lists(st.sampled_from(["a", "b", "ab", "aa", "1", "t", "te", "ba"]), min_size=1, max_size=3),
    st.data(),
)
def test_phrase_test_agrees_with_the_words(
    text: str, other: list[str], data: st.DataObject
) -> None:
    cut = words(text)
    phrase = other
    if cut and data.draw(st.booleans()):
        start = data.draw(st.integers(0, len(cut) - 1))
        phrase = cut[start : data.draw(st.integers(start + 1, len(cut)))]
    found = phrase_test(phrase)(text)
    if found is not None:  # None: not plain text, to be cut with words()
        assert found == (f" {' '.join(phrase)} " in f" {' '.join(cut)} ")


_FILLER = "Harriet waited by the old mill pond while the rain kept falling on the roof"
_LINE = (
    "The rain kept falling on the old mill pond while Harriet waited by the roof, and nobody"
    " came to see them at all that long grey evening."
)


@asynccontextmanager
async def _crowded(tmp_path: Path, url: str | None = None) -> AsyncIterator[Library]:
    """A library of 31 paragraphs holding the same words, each a little different: one of
    them, longer than the rest (so BM25 puts it last), holds "falling on the old mill pond"."""
    folder = tmp_path / "stories"
    folder.mkdir()
    for n in range(6):
        paragraphs = [f"{_FILLER}, said voice {n}-{k}." for k in range(5)]
        if n == 5:
            paragraphs.append(_LINE)
        (folder / f"{n:03d}_story.txt").write_text(
            f"Story {n}\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8"
        )
    settings = Settings(
        stories_dir=folder, data_dir=tmp_path / "data", scene_model="off", database_url=url
    )
    library = await Library.open(settings)
    await library.ingest()
    try:
        yield library
    finally:
        await library.close()


@pytest.fixture
async def crowded(tmp_path: Path) -> AsyncIterator[Library]:
    async with _crowded(tmp_path) as library:
        yield library


@pytest.fixture(params=["sqlite", "postgresql"])
async def crowded_on(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Library]:
    """The crowded library on each engine."""
    url = None if request.param == "sqlite" else str(request.getfixturevalue("pg_url"))
    async with _crowded(tmp_path, url) as library:
        yield library


@pytest.mark.parametrize("candidates", [4, 1])
@pytest.mark.parametrize(
    "text",
    [
        "falling on the old mill pond",  # held by one text, beyond the first read
        "waited by the mill pond while",  # a word dropped: held by none
        "the rain kept falling on the old mill pond while",
        "mill pond while the rain",  # held by every text: found in the first read
        "kept falling on the mill pond",
        "said voice 3",  # held by five texts (story 3's): more than a stage's candidates
    ],
)
async def test_ruling_a_phrase_out_answers_as_fts5_does(
    crowded_on: Library, monkeypatch: pytest.MonkeyPatch, text: str, candidates: int
) -> None:
    """The texts holding the rarest words, read here, answer as FTS5's phrase check does
    (PHRASE_SCAN 0: too many to read, FTS5 decides), and FTS5 is not asked again for them.
    On 8c7788c it was, whenever one of them held the phrase ("falling on the old mill pond":
    texts_with_phrase was asked after the texts holding "falling", "mill" and "pond" were
    read and one held it)."""
    # fewer candidates than texts holding the rarest words: the phrase is not among them
    monkeypatch.setattr(quote_module, "CANDIDATES", candidates)
    asked: list[object] = []
    phrase_check = crowded_on.store.texts_with_phrase

    async def counted(*args: Any, **kwargs: Any) -> Any:
        asked.append(args)
        return await phrase_check(*args, **kwargs)

    monkeypatch.setattr(crowded_on.store, "texts_with_phrase", counted)
    monkeypatch.setattr(quote_module, "PHRASE_SCAN", 0)  # too many to read: FTS5 decides
    by_fts5 = await crowded_on.quote(text, mature_ok=True, limit=10)
    stage_decided = not asked  # the phrase was in the first texts read
    asked.clear()
    monkeypatch.setattr(quote_module, "PHRASE_SCAN", 1000)
    read = await crowded_on.quote(text, mature_ok=True, limit=10)
    assert read == by_fts5
    assert not asked, "FTS5 was asked for the phrase after the texts that hold it were read"
    if text.startswith("falling"):
        assert read.match == "exact" and read.hits[0].text == _LINE and not stage_decided
    if text.startswith("waited") and candidates == 4:
        assert read.match == "words"
    if text.startswith("said"):
        assert read.match == "exact"


def _spied(
    library: Library,
    monkeypatch: pytest.MonkeyPatch,
    events: list[str],
    names: tuple[str, ...] = ("texts_with_all", "texts_with_two_of"),
) -> None:
    """Note when the store's searches ``names`` (first stage and fuzzy stage) start and end."""
    for name in names:
        real = getattr(library.store, name)

        async def spy(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            events.append(f"{_name} asked")
            try:
                return await _real(*args, **kwargs)
            finally:
                events.append(f"{_name} answered")

        monkeypatch.setattr(library.store, name, spy)


async def test_a_misspelled_query_asks_for_fuzzy_texts_beside_the_first_stage(
    crowded: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A word the index does not hold: no text holds every word, so the fuzzy stage's texts
    are asked for while the first stage runs (the store may answer both at once). With every
    word known, the fuzzy stage is asked for only if it comes."""
    events: list[str] = []
    _spied(crowded, monkeypatch, events)
    found = await crowded.quote("rain kept falling on the old mill pnd", mature_ok=True)
    assert found.match == "fuzzy" and found.hits[0].text == _LINE
    assert events.index("texts_with_two_of asked") < events.index("texts_with_all answered")
    events.clear()
    found = await crowded.quote("the rain kept falling on the old mill pond", mature_ok=True)
    assert found.match == "exact" and "texts_with_two_of asked" not in events


@pytest.fixture
async def crowded_pg(tmp_path: Path, pg_url: str) -> AsyncIterator[Library]:
    """The crowded library on a real PostgreSQL."""
    async with _crowded(tmp_path, pg_url) as library:
        yield library


async def _waiting(
    watch: asyncpg.Connection, holder: int, count: int, search: asyncio.Future[Any] | None = None
) -> list[tuple[int, str]]:
    """The storybot statements (pid, text) waiting for a lock ``holder`` holds, once there
    are ``count`` of them (at most a minute, for a loaded machine), while ``search`` runs.

    ``watch`` is a session in no transaction: within one, pg_stat_activity shows what it
    showed when first read there, to the transaction's end (PostgreSQL's statistics
    snapshot), so a statement that starts after the first look is never seen."""
    rows: list[Any] = []
    for _ in range(1200):
        if search is not None and search.done():
            raise AssertionError(f"the search ended before it waited: {search!r}")
        rows = await watch.fetch(
            "SELECT pid, query FROM pg_stat_activity WHERE application_name = 'storybot'"
            " AND state = 'active' AND $1 = ANY(pg_blocking_pids(pid))",
            holder,
        )
        if len(rows) == count:
            return [(int(r[0]), str(r[1])) for r in rows]
        await asyncio.sleep(0.05)
    raise AssertionError(f"not {count} statements waiting for backend {holder}: {rows}")


async def test_a_failing_first_stage_leaves_no_search_running(
    crowded_pg: Library, pg_url: str
) -> None:
    """The database fails the first stage while the fuzzy stage's search is out: the failure
    is said as before, and the other search is over by then, in the server too.

    A second session locks the texts, so both stages' statements wait on the server; the
    first stage's is cancelled there (pg_cancel_backend: what statement_timeout does, the
    same SQLSTATE 57014). PostgreSQL, as the stages run on two connections of its pool at
    once; SQLite's reads queue on one connection's thread. Limited to one story, so the two
    statements differ (the whole library's go through the banded index, in one text)."""
    query, story = "rain kept falling on the old mill pnd", "story-5"
    assert (await crowded_pg.quote(query, story, mature_ok=True)).match == "fuzzy"
    holder = await asyncpg.connect(pg_url)
    watch = await asyncpg.connect(pg_url)  # looks at the server outside holder's transaction
    try:
        await holder.execute("BEGIN; LOCK TABLE texts IN ACCESS EXCLUSIVE MODE")
        search = asyncio.ensure_future(crowded_pg.quote(query, story, mature_ok=True))
        waiting = await _waiting(watch, holder.get_server_pid(), 2, search)
        first = [pid for pid, sql in waiting if "ANY($1::text[]::tsquery[])" not in sql]
        assert len(first) == 1, waiting  # the other is the fuzzy stage's (its tsqueries)
        assert await watch.fetchval("SELECT pg_cancel_backend($1)", first[0])
        # bounded: a search still waiting for its fuzzy stage would wait for the lock forever
        await asyncio.wait({search}, timeout=60)
        assert search.done(), "the failed search still waits for its fuzzy stage's statement"
        with pytest.raises(StoreLocked):
            await search
        assert asyncio.all_tasks() == {asyncio.current_task()}
        # the fuzzy stage's statement no longer waits: cancelled, not left to run
        assert await _waiting(watch, holder.get_server_pid(), 0) == []
        await holder.execute("ROLLBACK")
    finally:
        await watch.close()
        await holder.close()
    found = await crowded_pg.quote(query, story, mature_ok=True)
    assert found.match == "fuzzy" and found.hits[0].text == _LINE


async def test_the_fuzzy_texts_are_asked_for_while_the_phrase_is_ruled_out(
    crowded: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every word known, no text holds the phrase and the all-words stage's best is not close
    enough to be the answer: the fuzzy stage's texts are asked for while the texts that rule
    the phrase out are read (the store answers one after the other, and Python reads the
    first meanwhile), and the answer is what it was."""
    monkeypatch.setattr(quote_module, "CANDIDATES", 4)  # the first read is not every text
    text = "waited by the pond while the rain kept"  # "old mill" and "falling" left out
    before = await crowded.quote(text, mature_ok=True, limit=10)
    events: list[str] = []
    _spied(crowded, monkeypatch, events, ("texts_with_all_besides", "texts_with_two_of"))
    found = await crowded.quote(text, mature_ok=True, limit=10)
    assert found == before and found.match == "words"
    assert events.index("texts_with_two_of asked") < events.index("texts_with_all_besides answered")


async def test_an_exact_line_cuts_into_words_only_the_texts_it_shows(
    crowded: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The phrase is in 30 of the texts the first stage reads, all plain text: they are
    looked at without cutting them into words, and only the three hits shown are cut (to
    place the phrase in their snippets)."""
    line = "mill pond while the rain"
    before = await crowded.quote(line, mature_ok=True, limit=3)
    cut: list[str] = []
    real = quote_module.words

    def counted(text: str) -> list[str]:
        cut.append(text)
        return real(text)

    monkeypatch.setattr(quote_module, "words", counted)
    found = await crowded.quote(line, mature_ok=True, limit=3)
    assert found == before and found.match == "exact" and len(found.hits) == 3
    assert sorted(cut) == sorted(h.text for h in found.hits)
