"""FTS5's bm25() for an all-words query, computed here from what FTS5 stores.

FTS5's bm25() counts the texts holding each query word in the whole index on every call
(xQueryPhrase over the word's doclist): for a common word ("he", in 126,000 of the no-repeat
bench library's 404,000 texts) that is 5-10 ms, and each matching text's BM25 then reads
that word's positions in it. The store keeps the counts of the common words from its last
read of the vocabulary (``DocCounts``) and, for a query holding one, ranks the few hundred
matching texts here: the same formula, in the same order of operations on the same doubles,
so the same ranks to the last bit (tests/store/test_bm25.py holds them equal).

What each text needs: how often each word stands in it, counted in its text (``TermCounter``,
for plain text only, where a token is a run of ASCII letters and digits, as FTS5's unicode61
tokenizer cuts it), and its length in tokens (FTS5's ``docsize`` record of it); what the
query needs: the number of texts and of tokens in the index (FTS5's averages record) and the
number of texts holding each word. Anything else (other text, a word that is not plain, a
count that disagrees with FTS5's match) leaves the ranking to FTS5.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

K1 = 1.2  # FTS5's bm25() constants (fts5_aux.c)
B = 0.75
COMMON_TERM = 20_000  # texts holding a word from which its count is kept (DocCounts)

# Plain text: ASCII, and beside it only the punctuation most texts hold (quotes, dashes,
# ellipsis, no-break space: each a separator to unicode61). Its words are runs of ASCII
# letters and digits, which these tables find byte by byte in its UTF-8.
_PLAIN_PUNCTUATION = "\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u00a0"
_ASCII = bytes(range(128))
_SPACED = bytes(
    c + 32 if 65 <= c <= 90 else c if chr(c).isalnum() and c < 128 else 32 for c in range(256)
)
_PLAIN_TERM = re.compile("[a-z0-9]+")


def varints(blob: bytes) -> list[int]:
    """The SQLite varints of ``blob`` (FTS5's averages and docsize records)."""
    out: list[int] = []
    at = 0
    while at < len(blob):
        value = 0
        for i in range(9):
            byte = blob[at]
            at += 1
            if i == 8:
                value = (value << 8) | byte
                break
            value = (value << 7) | (byte & 0x7F)
            if byte < 0x80:
                break
        out.append(value)
    return out


class DocCounts:
    """How many texts hold each common word (at least COMMON_TERM), as the index stood at
    ``version`` (FTS5's structure record, which changes whenever the index does)."""

    def __init__(self, counts: dict[str, int], version: bytes) -> None:
        self.counts = counts
        self.version = version

    def any_common(self, terms: Sequence[str]) -> bool:
        return any(t in self.counts for t in terms)


def plain_terms(terms: Sequence[str]) -> bool:
    """Whether every term is a run of ASCII letters and digits (``TermCounter`` counts those)."""
    return all(_PLAIN_TERM.fullmatch(t) for t in terms)


class TermCounter:
    """How often each of ``terms`` (plain, see ``plain_terms``) stands as a token in a text."""

    def __init__(self, terms: Sequence[str]) -> None:
        # a space, the word, a space, in the text's words spaced out (``_SPACED``): the regular
        # expression engine skips ahead to where the word is
        self._patterns = [re.compile(b" " + re.escape(t.encode()) + b"(?= )") for t in terms]

    def counts(self, text: str) -> list[int] | None:
        """The count of each term, or None for text that is not plain."""
        data = text.encode(errors="surrogatepass")
        extra = data.translate(None, _ASCII)
        if extra and extra.decode(errors="surrogatepass").strip(_PLAIN_PUNCTUATION):
            return None
        spaced = b" " + data.translate(_SPACED) + b" "
        return [len(p.findall(spaced)) for p in self._patterns]


def idf(rows: int, holding: int) -> float:
    """A word's inverse document frequency, as FTS5's bm25() computes it."""
    value = math.log((rows - holding + 0.5) / (holding + 0.5))
    return value if value > 0.0 else 1e-6


def rank(idfs: Sequence[float], freqs: Sequence[int], size: int, avgdl: float) -> float:
    """A text's bm25() (lower is better): ``freqs`` of each phrase, ``size`` in tokens."""
    score = 0.0
    for weight, freq in zip(idfs, freqs, strict=True):
        score += weight * ((freq * (K1 + 1.0)) / (freq + K1 * (1 - B + B * size / avgdl)))
    return -1.0 * score
