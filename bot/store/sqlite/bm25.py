"""FTS5's bm25() for an all-words query, computed here from what FTS5 stores.

FTS5's bm25() counts the texts holding each query word in the whole index on every call
(xQueryPhrase over the word's doclist): for a common word ("he", in 126,000 of the no-repeat
bench library's 404,000 texts) that is 5-10 ms, and each matching text's BM25 then reads
that word's positions in it. The store keeps the counts of the common words from its last
read of the vocabulary (``DocCounts``) and, for a query holding one, ranks the few hundred
matching texts here: the same formula, in the same order of operations on the same doubles,
so the same ranks to the last bit (tests/store/test_bm25.py holds them equal).

What each text needs: how often each word stands in it, counted in its text as FTS5 cuts it
(``TermCounter``: each character is a separator or folds to a fixed string, and what the
store's tokenizer makes of each one is asked of FTS5 itself the first time it is met,
``Folds``), and its length in tokens (FTS5's ``docsize`` record of it); what the query needs:
the number of texts and of tokens in the index (FTS5's averages record) and the number of texts
holding each word. Anything else (a lone surrogate, a word FTS5 would cut in two, a count
that disagrees with FTS5's match) leaves the ranking to FTS5.
"""

from __future__ import annotations

import functools
import math
import re
import sqlite3
import threading
from collections.abc import Sequence

K1 = 1.2  # FTS5's bm25() constants (fts5_aux.c)
B = 0.75
COMMON_TERM = 20_000  # texts holding a word from which its count is kept (DocCounts)

# texts_fts's tokenizer (schema.py; tests/store/test_bm25.py holds them the same)
TOKENIZER = "unicode61 remove_diacritics 2"
_ASCII = bytes(range(128))
_PROBE_BATCH = 4096
# the most characters a process learns (a library of every script holds about 150,000 letters;
# past this a text with a character not met is ranked by FTS5, so memory stays bounded)
MOST_KNOWN = 200_000


class Folds:
    """What FTS5's tokenizer (``TOKENIZER``) makes of each character: its folded form (lower
    case, no diacritics; "" for a mark it drops) or a space for a separator.

    unicode61 takes a text one character at a time, each one a separator or a token character
    folded on its own (fts5_tokenize.c; tests/store/test_bm25.py holds the tokens equal on
    random text of every kind, and so were those of every text of the bench library), so a
    text's tokens are what ``spaced_out`` leaves between spaces. Each character is asked of
    FTS5 the first time a text holds it, in an in-memory table: "a", the character, "a" makes
    one token or two."""

    def __init__(self, most: int = MOST_KNOWN) -> None:
        self.most = most
        self.table: dict[int, str] = {}
        self.odd: set[int] = set()  # characters FTS5 did not cut as expected (none known)
        self._separators = ""  # the characters beyond ASCII met that are separators
        self._learning = threading.Lock()
        self.known(set(map(chr, range(128))))
        ascii_folds = [self.table[c] if c < 128 else "" for c in range(256)]
        # text by bytes of its UTF-8 whose characters beyond ASCII are all separators: ASCII as
        # FTS5 folds it (separators a space), the bytes of any other character a space
        self._plain = bytes(ord(f) if c < 128 else 32 for c, f in enumerate(ascii_folds))

    def spaced_out(self, text: str) -> bytes | None:
        """The tokens of ``text`` as FTS5 cuts it, in UTF-8, each parted from the next by one
        space or more; None if it holds a lone surrogate (not UTF-8: no text SQLite holds)."""
        data = text.encode(errors="surrogatepass")
        extra = data.translate(None, _ASCII)
        if extra:
            others = extra.decode(errors="surrogatepass")
            # (str.strip of the separators met: several times as fast as a regular expression)
            if others.strip(self._separators):  # a character not met or not a separator
                if not self.known(set(others)):
                    return None
                if others.strip(self._separators):  # a token character beyond ASCII
                    # each character replaced by its fold, in one pass (one replace per
                    # distinct character cost that many passes: 59 ms for 5,000 characters of
                    # Chinese, against 0.4 ms)
                    return text.translate(self.table).encode()
        return data.translate(self._plain)

    def tokens(self, text: str) -> list[str] | None:
        """The tokens of ``text`` as FTS5 cuts it; None if it holds a lone surrogate."""
        spaced = self.spaced_out(text)
        return None if spaced is None else [t.decode() for t in spaced.split()]

    def known(self, chars: set[str]) -> bool:
        """Ask FTS5 about the characters not met before; False if one cannot be asked.

        Texts are cut in several threads: one thread at a time learns, checking the bound
        against what the others learnt, and what it learns joins the shared tables only once
        every fold is checked, so a text cut meanwhile never meets a fold still to be checked
        (``_learn``)."""
        if all(map(self.table.__contains__, map(ord, chars))):
            return True
        with self._learning:
            self._learn([c for c in chars if ord(c) not in self.table and ord(c) not in self.odd])
        return all(ord(c) in self.table for c in chars)  # (an odd one never is)

    def _learn(self, new: list[str]) -> None:
        """Learn the characters ``new``, or none of them: not a lone surrogate (not UTF-8),
        nor more than there is room for."""
        if any(0xD800 <= ord(c) < 0xE000 for c in new):
            return
        if len(self.table) + len(new) > self.most:  # (a fold learnt too adds one more at most)
            return
        table: dict[int, str] = {}  # learnt here: shared once checked
        odd: set[int] = set()
        asked, pending = [], new
        while pending:  # the characters, then what they fold to, until every fold is known
            for at in range(0, len(pending), _PROBE_BATCH):
                self._probe(pending[at : at + _PROBE_BATCH], table, odd)
            asked += pending
            folds = {table.get(ord(c), "") for c in pending}
            pending = [
                f for f in folds if len(f) == 1 and ord(f) not in table and ord(f) not in self.table
            ]
        for c in asked:  # a fold must be its own fold (``spaced_out`` folds in any order)
            fold = table.get(ord(c))
            if fold and fold.strip() and table.get(ord(fold), self.table.get(ord(fold))) != fold:
                del table[ord(c)]
                odd.add(ord(c))
        self.odd |= odd
        self.table.update(table)
        self._separators += "".join(chr(c) for c, f in table.items() if c >= 128 and f == " ")

    def _probe(self, chars: list[str], table: dict[int, str], odd: set[int]) -> None:
        """Ask FTS5 how it cuts each of ``chars`` between two "a"s: the folds into ``table``,
        the characters it cuts otherwise into ``odd``."""
        db = sqlite3.connect(":memory:")
        try:
            db.execute(f'CREATE VIRTUAL TABLE p USING fts5(x, tokenize="{TOKENIZER}")')
            db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(p, instance)")
            db.executemany(
                "INSERT INTO p (rowid, x) VALUES (?, ?)", [(ord(c), f"a{c}a") for c in chars]
            )
            tokens: dict[int, list[str]] = {}
            for term, doc in db.execute("SELECT term, doc FROM v ORDER BY doc, offset"):
                tokens.setdefault(doc, []).append(term)
        finally:
            db.close()
        for c in chars:
            cut = tokens.get(ord(c), [])
            if cut == ["a", "a"]:
                table[ord(c)] = " "
            elif len(cut) == 1 and cut[0][:1] == cut[0][-1:] == "a" and self._folds_to(c, cut[0]):
                table[ord(c)] = cut[0][1:-1]
            else:  # not one character at a time, as unicode61 cuts: never counted here
                odd.add(ord(c))

    def _folds_to(self, char: str, token: str) -> bool:
        """Whether ``token`` ("a", what ``char`` folds to, "a") is a fold ``spaced_out`` can
        keep: beyond ASCII, one with no ASCII character that is not its own fold."""
        return ord(char) < 128 or all(
            ord(c) >= 128 or self.table.get(ord(c)) == c for c in token[1:-1]
        )


@functools.cache
def folds() -> Folds:
    """The one table of the process (the tokenizer is SQLite's), made when first needed."""
    return Folds()


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


def single_tokens(terms: Sequence[str]) -> bool:
    """Whether FTS5 cuts every term into itself alone (a quoted term it cuts in two is a
    phrase, which ``TermCounter`` does not count)."""
    table = folds()
    return all(table.tokens(t) == [t] for t in terms)


class TermCounter:
    """How often each of ``terms`` (each one token, see ``single_tokens``) stands as a token
    in a text, as FTS5 cuts it (``Folds``)."""

    def __init__(self, terms: Sequence[str]) -> None:
        self._folds = folds()
        # a space, the word, a space, in the text's tokens spaced out (``Folds.spaced_out``):
        # the regular expression engine skips ahead to where the word is
        self._patterns = [re.compile(b" " + re.escape(t.encode()) + b"(?= )") for t in terms]

    def counts(self, text: str) -> list[int] | None:
        """The count of each term, or None for text FTS5 cannot be asked about."""
        spaced = self._folds.spaced_out(text)
        if spaced is None:
            return None
        spaced = b" " + spaced + b" "
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
