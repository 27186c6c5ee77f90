"""What the searches keep in memory from the index: its vocabulary, reloaded when the
library changes.

Quote search keeps the index's words (``WordList``: which query words are rare, and the
corrections of misspelled ones); scene search keeps how many passages hold each stem
(``StemCounts``). Each sits in a ``Cached``: the store's signature of the library is checked
at most every SIGNATURE_TTL seconds, and one load runs at a time.
"""

from __future__ import annotations

import asyncio
import time
from array import array
from bisect import bisect_left
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.store import Store

SIGNATURE_TTL = 2.0  # seconds a cached vocabulary is trusted before checking the library
VOCAB_MAX_LEN = 32
VOCAB_SMALL = 100_000  # above this many terms, words seen in one text only are dropped
CORRECTIONS = 3  # vocabulary words tried per unknown query word

T = TypeVar("T")


class Cached(Generic[T]):
    """A vocabulary of one store, loaded on first use and again when the library changes.

    Owned by a search object (one per open library): no module state, so two libraries (a
    test's and a benchmark's, or two databases) never share a vocabulary.
    """

    def __init__(
        self,
        store: Store,
        load: Callable[[], Awaitable[T]],
        signature: Callable[[], Awaitable[tuple[int, ...]]] | None = None,
    ) -> None:
        """``signature``: what says the value may have changed (the library's by default)."""
        self._load = load
        self._signature_of = signature or store.library_signature
        self._value: T | None = None
        self._signature: tuple[int, ...] | None = None
        self._checked = 0.0  # when the signature was last compared with the database
        self._lock = asyncio.Lock()

    @property
    def last(self) -> T | None:
        """The value last loaded, if any, without asking the library (a hint only)."""
        return self._value

    def invalidate(self) -> None:
        """Something the signature does not cover changed (this process wrote it): the next
        ``get`` loads again."""
        self._signature = None
        self._checked = 0.0

    async def get(self) -> T:
        cached = self._value
        now = time.monotonic()
        if (
            cached is not None
            and self._signature is not None
            and now - self._checked < SIGNATURE_TTL
        ):
            return cached
        signature = await self._signature_of()
        if cached is not None and self._signature == signature:
            self._checked = now
            return cached
        async with self._lock:
            if self._value is not None and self._signature == signature:
                return self._value
            self._value = None  # let the old one go before building the new
            value = await self._load()
            self._value, self._signature, self._checked = value, signature, time.monotonic()
            return value


# ---- quote search: the index's words -------------------------------------------------------


@dataclass(slots=True)
class WordList:
    """The index's words by length, sorted, with how many texts hold each.

    Kept in memory so a search knows which query words are rare (FTS5's own count, through
    fts5vocab, reads a common word's whole doclist: 30 ms for "the" at 100 MB) and can
    correct misspelled words. Counts live in compact arrays.
    """

    by_length: dict[int, list[str]]
    counts: dict[int, array[int]]
    total: int  # texts in the library

    def count(self, word: str) -> int | None:
        """Texts holding ``word``; None when the vocabulary does not list it."""
        terms = self.by_length.get(len(word))
        if terms is None:
            return None
        at = bisect_left(terms, word)
        if at < len(terms) and terms[at] == word:
            return self.counts[len(word)][at]
        return None

    def corrections(self, word: str) -> list[str]:
        """Index words within a small edit distance of ``word``, closest and commonest first.

        Words with the same first letter are tried first (a slice of each sorted list, so a
        200,000-word vocabulary costs a few milliseconds); all words only if none is close.
        """
        if len(word) < 3 or not word.isalpha():
            return []
        return self._corrections(word, word[0]) or self._corrections(word, "")

    def _corrections(self, word: str, prefix: str) -> list[str]:
        most = 1 if len(word) <= 4 else 2 if len(word) <= 8 else 3
        found: list[tuple[int, int, str]] = []
        for length in range(max(2, len(word) - most), len(word) + most + 1):
            terms = self.by_length.get(length)
            if not terms:
                continue
            lo, hi = 0, len(terms)
            if prefix:
                lo = bisect_left(terms, prefix)
                hi = bisect_left(terms, prefix + "\U0010ffff", lo)
            counts = self.counts[length]
            for choice, distance, index in process.extract(
                word,
                terms[lo:hi] if prefix else terms,
                scorer=OSA.distance,
                score_cutoff=most,
                limit=CORRECTIONS * 4,
            ):
                found.append((int(distance), -counts[lo + index], choice))
        return [w for _, _, w in sorted(found)[:CORRECTIONS]]


async def load_words(store: Store) -> WordList:
    rows, total = await store.vocabulary(1, VOCAB_MAX_LEN)
    keep_single = len(rows) <= VOCAB_SMALL
    by_length: dict[int, list[str]] = {}
    counts: dict[int, array[int]] = {}
    for term, doc in rows:  # sorted by term, so every length's list is sorted too
        if doc > 1 or keep_single:
            by_length.setdefault(len(term), []).append(term)
            counts.setdefault(len(term), array("I")).append(doc)
    return WordList(by_length, counts, total)


# ---- scene search: the scene index's stems -------------------------------------------------


@dataclass(frozen=True, slots=True)
class StemCounts:
    """How many passages hold each stem of the scene index (a few thousand words for the
    seeds, tens of thousands for a big library)."""

    counts: dict[str, int]
    total: int


async def load_stems(store: Store) -> StemCounts:
    counts, total = await store.scene_vocabulary()
    return StemCounts(counts, total)
