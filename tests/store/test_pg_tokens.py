"""The PostgreSQL engine cuts plain text (ASCII, curly quotes, dashes) itself and any other
text through FTS5's own tokenizers (bot/store/postgres/tokens.py): both ways give the same
documents, words and English stems, as FTS5 alone would."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.store.postgres import tokens
from bot.store.postgres.tokens import (
    Document,
    Tokenizer,
    _document,
    _plain_document,
    _positions,
)
from tests.conftest import SEEDS

TOKENIZER = Tokenizer()


def _by_fts5(kind: str, texts: list[str]) -> list[Document]:
    """Every text cut by FTS5 (the way every text was cut before plain text was cut here)."""
    found = TOKENIZER._instances(kind, texts)
    return [
        _document({t: sorted(ps) for t, ps in found.get(i, {}).items()}) for i in range(len(texts))
    ]


def _shape(d: Document) -> tuple[list[str], int, list[str]]:
    """A document in a form that does not depend on the order of its lexemes."""
    return sorted(d.vector.split(" ")), d.tokens, sorted(d.lexemes)


def _same(kind: str, texts: list[str]) -> None:
    ours = TOKENIZER.documents(kind, texts)
    theirs = _by_fts5(kind, texts)
    assert len(ours) == len(theirs) == len(texts)
    for text, a, b in zip(texts, ours, theirs, strict=True):
        assert (sorted(a.vector.split(" ")), a.tokens, sorted(a.lexemes)) == (
            sorted(b.vector.split(" ")),
            b.tokens,
            sorted(b.lexemes),
        ), text


def test_the_seeds_are_cut_as_fts5_cuts_them() -> None:
    paragraphs = [
        p
        for path in sorted(SEEDS.glob("*.txt"))
        for p in path.read_text(encoding="utf-8", errors="replace").splitlines()
        if p.strip()
    ]
    assert len(paragraphs) > 1000
    for kind in ("words", "stems"):
        _same(kind, paragraphs)
        _same(kind, ["\n\n".join(paragraphs[i : i + 7]) for i in range(0, len(paragraphs), 7)])


_PIECES = (
    list("abcXYZ019 _'\"-.,;:!?\n\t")
    + list("\u2018\u2019\u201c\u201d\u2014\u2013\u2026\u00a0\u00b4\u02bc\u2032")
    + list("éÉßﬁ\u0301ıİÆ½²٣")
    + ["running", "Runs", "happily", "fiancé", "don’t", "caresses", "x" * 70]
)
_PROSE = st.lists(st.sampled_from(_PIECES), max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PROSE, min_size=1, max_size=5))
def test_any_text_is_cut_as_fts5_cuts_it(texts: list[str]) -> None:
    _same("words", texts)
    _same("stems", texts)


def _words(n: int, start: int = 0) -> list[str]:
    """``n`` distinct plain words ("walkingaa", "walkingab", ...), each with an English stem."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    return [f"walking{letters[i // 26 % 26]}{letters[i % 26]}s" for i in range(start, start + n)]


def test_the_stems_kept_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stems are kept for the MAX_STEMS words used last, however many words one text has
    (a library's vocabulary has no bound); the words used last are the ones kept."""
    monkeypatch.setattr(tokens, "MAX_STEMS", 50)
    tokenizer = Tokenizer()
    text = " ".join(_words(200))
    assert [_shape(d) for d in tokenizer.documents("stems", [text])] == [
        _shape(d) for d in _by_fts5("stems", [text])
    ]
    kept = tokenizer._stems
    assert len(kept) <= 50
    tokenizer.documents("stems", ["walkingaas"])
    tokenizer.documents("stems", [" ".join(_words(30, 300))])
    assert "walkingaas" in kept and len(kept) <= 50


def test_threads_cut_stems_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ingest cuts texts in threads with one tokenizer: each thread gets its own texts'
    stems while others fill and empty the stems kept."""
    monkeypatch.setattr(tokens, "MAX_STEMS", 40)
    tokenizer = Tokenizer()
    texts = [" ".join(_words(30, 17 * i)) for i in range(24)]
    expected = [_shape(d) for d in _by_fts5("stems", texts)]
    failures: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for round_ in range(30):
                i = (offset + round_) % len(texts)
                got = tokenizer.documents("stems", [texts[i]])
                assert [_shape(d) for d in got] == [expected[i]]
        except BaseException as exc:  # the main thread reports it
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(k * 3,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, repr(failures[0])


_LEXEMES = ["door", "the", "o'brien", "back\\slash", "é", "x" * 511, "y" * 512, "ß" * 600]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_LEXEMES), max_size=700))
def test_the_quick_document_is_the_general_one(words: list[str]) -> None:
    """A text of plain words is written by a quicker way (no lexeme to quote, none too long,
    nothing to clamp) and any other text by the general one: the same document, to the
    byte, over 256 positions of a word, quotes and lexemes near tsvector's limit."""
    assert _plain_document(words) == _document(_positions(words))


def test_the_quick_document_of_a_text_past_the_last_position() -> None:
    words = [f"w{i % 300}" for i in range(tokens.MAX_POSITION + 50)]
    assert _plain_document(words) == _document(_positions(words))
    assert _plain_document(words[:999]) == _document(_positions(words[:999]))
