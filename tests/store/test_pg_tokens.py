"""The PostgreSQL engine cuts plain text (ASCII, curly quotes, dashes) itself and any other
text through FTS5's own tokenizers (bot/store/postgres/tokens.py): both ways give the same
documents, words and English stems, as FTS5 alone would."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.store.postgres.tokens import Document, Tokenizer, _document
from tests.conftest import SEEDS

TOKENIZER = Tokenizer()


def _by_fts5(kind: str, texts: list[str]) -> list[Document]:
    """Every text cut by FTS5 (the way every text was cut before plain text was cut here)."""
    found = TOKENIZER._instances(kind, texts)  # pyright: ignore[reportPrivateUsage]
    return [
        _document({t: sorted(ps) for t, ps in found.get(i, {}).items()}) for i in range(len(texts))
    ]


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
