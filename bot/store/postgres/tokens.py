"""Documents and stems for the PostgreSQL engine, cut by SQLite's FTS5 tokenizers.

PostgreSQL's own parser cuts text differently from the SQLite index (apostrophes, hyphens,
diacritics, its English stop words), and search must find the same texts on both engines.
So this engine stores ``tsvector``s it builds itself, from the words and positions that
FTS5's tokenizers give, run in memory through Python's own sqlite3 module: ``unicode61
remove_diacritics 2`` for quote search (the words bot/text/normalize.py cuts a query into)
and ``porter`` on top for scene search (English stems). Every lexeme is written literally,
so PostgreSQL never re-parses it; queries are written in lexemes the same way.

Most prose is plain: ASCII, curly quotes, dashes, ellipses. FTS5 cuts such a text at every
character that is not an ASCII letter or digit, and lower-cases it: that is done here without
the round trip through SQLite (several times faster at ingest), and a word's English stem is
asked of FTS5 once and kept. Any other text goes through FTS5 itself. tests/store/
test_pg_tokens.py holds both ways equal.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

MAX_POSITION = 16383  # tsvector's highest position (larger ones are clamped)
MAX_POSITIONS = 256  # positions kept per lexeme in a tsvector
MAX_LEXEME_BYTES = 2046  # tsvector's limit on one lexeme

_TABLES = {
    "words": "unicode61 remove_diacritics 2",
    "stems": "porter unicode61 remove_diacritics 2",
}


# characters beside ASCII that FTS5's unicode61 takes for separators, as plain prose has them
_PLAIN_SEPARATORS = (
    "\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u2032\u2033\u00ab\u00bb"
    "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2026\u00a0"
)
_NOT_PLAIN = re.compile(f"[^\\x00-\\x7f{_PLAIN_SEPARATORS}]")
# each byte of plain text as FTS5 cuts it: an ASCII letter lower-cased, a digit kept, anything
# else a space (plain text's other characters are separators, encoded as "?")
_ASCII_CUT = bytes(ord(chr(c).lower()) if c < 128 and chr(c).isalnum() else 32 for c in range(256))
_CHUNK = 64  # texts cut by FTS5 at a time (``_instances``)
MAX_STEMS = 20_000  # words whose stems are kept, the most recently used (``_stemmed``)


def plain_words(text: str) -> list[str] | None:
    """The tokens FTS5's unicode61 cuts ``text`` into, when the text is plain (ASCII and
    the separators above); None for any other text."""
    if not text.isascii() and _NOT_PLAIN.search(text) is not None:
        return None
    # every character left beyond ASCII is a separator: encoded as "?", cut as a space
    return text.encode("ascii", "replace").translate(_ASCII_CUT).decode("ascii").split()


def _document(lexemes: dict[str, list[int]]) -> Document:
    """A document from each lexeme's positions (from 1, ascending)."""
    parts: list[str] = []
    tokens = 0
    for term, positions in lexemes.items():
        tokens += len(positions)
        if len(term.encode()) > MAX_LEXEME_BYTES:
            continue
        kept = positions
        if positions[-1] > MAX_POSITION or len(positions) > MAX_POSITIONS:
            kept = sorted({min(p, MAX_POSITION) for p in positions})[:MAX_POSITIONS]
        quoted = literal(term) if "'" in term or "\\" in term else f"'{term}'"
        if len(kept) == 1:
            parts.append(f"{quoted}:{kept[0]}")
        else:
            parts.append(f"{quoted}:{','.join(map(str, kept))}")
    return Document(" ".join(parts), tokens, tuple(lexemes))


_NUMBERS = tuple(map(str, range(MAX_POSITION + 1)))  # each position as the vector writes it
_QUOTED = re.compile(r"['\\]")  # what a lexeme is quoted for (``literal``)


def _plain_document(words: list[str]) -> Document:
    """``_document(_positions(words))``, made quicker for the usual text: at most
    MAX_POSITION words (nothing to clamp), no lexeme to quote or leave out as too long.
    Any other text is given to ``_document``."""
    if len(words) > MAX_POSITION:
        return _document(_positions(words))
    at: dict[str, list[str]] = {}
    numbers = _NUMBERS
    for i, word in enumerate(words, 1):
        held = at.get(word)
        if held is None:
            at[word] = [numbers[i]]
        else:
            held.append(numbers[i])
    # a lexeme of at most MAX_LEXEME_BYTES // 4 characters is within the limit in any encoding
    if not at or max(map(len, at)) > MAX_LEXEME_BYTES // 4 or _QUOTED.search("".join(at)):
        return _document(_positions(words))
    if len(words) > MAX_POSITIONS:
        vector = " ".join([f"'{t}':{','.join(ps[:MAX_POSITIONS])}" for t, ps in at.items()])
    else:
        vector = " ".join([f"'{t}':{','.join(ps)}" for t, ps in at.items()])
    return Document(vector, len(words), tuple(at))


def _positions(words: list[str]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for at, word in enumerate(words, 1):
        held = out.get(word)
        if held is None:
            out[word] = [at]
        else:
            held.append(at)
    return out


@dataclass(frozen=True, slots=True)
class Document:
    """A text as PostgreSQL stores it: its tsvector (as text), its number of tokens and its
    distinct lexemes."""

    vector: str
    tokens: int
    lexemes: tuple[str, ...]


def literal(lexeme: str) -> str:
    """A lexeme quoted for tsvector or tsquery input (nothing in it is syntax)."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


class Tokenizer:
    """FTS5's tokenizers on an in-memory SQLite database; safe to share between threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # the in-memory database
        self._stems_lock = threading.Lock()  # the stems kept
        self._stems: OrderedDict[str, str] = OrderedDict()  # plain word -> stem, oldest use first
        self._db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        for name, tokenize in _TABLES.items():
            self._db.execute(
                f"CREATE VIRTUAL TABLE {name} USING fts5 (text, tokenize='{tokenize}')"
            )
            self._db.execute(f"CREATE VIRTUAL TABLE {name}_at USING fts5vocab({name}, instance)")

    def _instances(self, kind: str, texts: Sequence[str]) -> dict[int, dict[str, list[int]]]:
        """For each text (by index), its lexemes with their positions (from 1)."""
        out: dict[int, dict[str, list[int]]] = {}
        with self._lock:
            db = self._db
            # a few texts at a time: listing the instances of uncommitted rows costs more than
            # linearly (1,000 paragraphs at once take 30 times as long as 100)
            for start in range(0, len(texts), _CHUNK):
                db.execute("BEGIN")
                try:
                    db.executemany(
                        f"INSERT INTO {kind} (rowid, text) VALUES (?, ?)",
                        enumerate(texts[start : start + _CHUNK], start),
                    )
                    for doc, term, at in db.execute(f"SELECT doc, term, offset FROM {kind}_at"):
                        out.setdefault(doc, {}).setdefault(term, []).append(at + 1)
                finally:
                    db.execute("ROLLBACK")
        return out

    def documents(self, kind: str, texts: Sequence[str]) -> list[Document]:
        """Each text as a document of ``kind``: "words" (quote search) or "stems" (scenes)."""
        out: list[Document | None] = []
        other: list[int] = []  # texts that are not plain: cut by FTS5
        for i, text in enumerate(texts):
            words = plain_words(text)
            if words is None:
                other.append(i)
                out.append(None)
                continue
            if kind == "stems":
                words = self._stemmed(words)
            out.append(_plain_document(words))
        if other:
            found = self._instances(kind, [texts[i] for i in other])
            for j, i in enumerate(other):
                out[i] = _document({t: sorted(ps) for t, ps in found.get(j, {}).items()})
        return [d for d in out if d is not None]

    def _stemmed(self, words: list[str]) -> list[str]:
        """Plain words as the scene tokenizer stems them, each distinct word asked once.

        The stems of the MAX_STEMS words used last are kept (a bounded cache: a library's
        vocabulary has no bound, and a few thousand words make most of any prose); the cache
        is read and written under its own lock, as ingest cuts texts in threads."""
        known: dict[str, str] = {}
        with self._stems_lock:
            for word in dict.fromkeys(words):
                stem = self._stems.get(word)
                if stem is not None:
                    self._stems.move_to_end(word)
                    known[word] = stem
        unknown = [w for w in dict.fromkeys(words) if w not in known]
        if unknown:
            found = self._instances("stems", unknown)
            for i, word in enumerate(unknown):
                cut = found.get(i, {})
                known[word] = next(iter(cut)) if len(cut) == 1 else word
            with self._stems_lock:
                for word in unknown:
                    self._stems[word] = known[word]
                    self._stems.move_to_end(word)
                while len(self._stems) > MAX_STEMS:
                    self._stems.popitem(last=False)
        return [known[w] for w in words]

    def stems(self, words: Sequence[str]) -> list[str]:
        """Each word as the scene documents store it (porter-stemmed, folded); the words as
        they are when the tokenizer cuts them into more or fewer pieces."""
        if not words:
            return []
        found = self._instances("stems", [" ".join(words)]).get(0, {})
        by_position = sorted((p, term) for term, positions in found.items() for p in positions)
        stems = [term for _, term in by_position]
        return stems if len(stems) == len(words) else list(words)

    def query_stems(self, words: Sequence[str]) -> list[str]:
        """The lexemes FTS5 looks for when given ``words`` as a scene query: each word cut and
        stemmed by the scene tokenizer on its own (a stem stems to itself, mostly; a word
        the tokenizer cuts in two gives both), in order, once each."""
        found = self._instances("stems", list(words))
        out: dict[str, None] = {}
        for i in range(len(words)):
            by_position = sorted((p, t) for t, ps in found.get(i, {}).items() for p in ps)
            out.update((term, None) for _, term in by_position)
        return list(out)
