"""Documents and stems for the PostgreSQL engine, cut by SQLite's FTS5 tokenizers.

PostgreSQL's own parser cuts text differently from the SQLite index (apostrophes, hyphens,
diacritics, its English stop words), and search must find the same texts on both engines.
So this engine stores ``tsvector``s it builds itself, from the words and positions that
FTS5's tokenizers give, run in memory through Python's own sqlite3 module: ``unicode61
remove_diacritics 2`` for quote search (the words bot/text/normalize.py cuts a query into)
and ``porter`` on top for scene search (English stems). Every lexeme is written literally,
so PostgreSQL never re-parses it; queries are written in lexemes the same way.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass

MAX_POSITION = 16383  # tsvector's highest position (larger ones are clamped)
MAX_POSITIONS = 256  # positions kept per lexeme in a tsvector
MAX_LEXEME_BYTES = 2046  # tsvector's limit on one lexeme

_TABLES = {
    "words": "unicode61 remove_diacritics 2",
    "stems": "porter unicode61 remove_diacritics 2",
}


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
        self._lock = threading.Lock()
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
            db.execute("BEGIN")
            try:
                db.executemany(f"INSERT INTO {kind} (rowid, text) VALUES (?, ?)", enumerate(texts))
                for doc, term, offset in db.execute(f"SELECT doc, term, offset FROM {kind}_at"):
                    out.setdefault(doc, {}).setdefault(term, []).append(offset + 1)
            finally:
                db.execute("ROLLBACK")
        return out

    def documents(self, kind: str, texts: Sequence[str]) -> list[Document]:
        """Each text as a document of ``kind``: "words" (quote search) or "stems" (scenes)."""
        found = self._instances(kind, texts)
        out: list[Document] = []
        for i in range(len(texts)):
            lexemes = found.get(i, {})
            parts: list[str] = []
            tokens = 0
            for term, positions in lexemes.items():
                tokens += len(positions)
                if len(term.encode()) > MAX_LEXEME_BYTES:
                    continue
                kept = sorted({min(p, MAX_POSITION) for p in positions})[:MAX_POSITIONS]
                parts.append(f"{literal(term)}:{','.join(map(str, kept))}")
            out.append(Document(" ".join(parts), tokens, tuple(lexemes)))
        return out

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
