"""Quote search: exact phrase, then all words (BM25), then fuzzy; "none" when nothing is close.

One ``Search`` object, owned by the Library, holds what search keeps in memory (the index
vocabulary). The user's text is folded and cut into words exactly as the index's unicode61
tokenizer cuts text (bot/text/normalize.py); the store turns words into FTS5 queries and
quotes every one (bot/store/search.py), so nothing the user typed is FTS5 syntax.

A hit carries its snippet as plain text and the character ranges of it that matched; each
front end renders them its own way (bold in an embed, asterisks in a terminal, ranges in
JSON).

The index holds paragraph texts, and a chapter stored twice shares them (bot/store/schema.py),
so a search ranks texts; the best are then looked up in the stories that hold them, one hit
per story.

Document frequencies come from the index vocabulary, loaded once into memory (sorted lists
by word length with counts in arrays; reloaded when the library changes). FTS5 is asked for
the texts holding the rarest few query words, which is cheap; the phrase and the other
words are checked here on folded text. Only when those rare words are in more texts than we
look at does FTS5 check the phrase itself (positions of common words are costly).

Every candidate, whichever stage found it, is scored by how closely the query lines up with
some stretch of the text (rapidfuzz partial_ratio over folded words, 0-100): an exact
phrase scores 100; a paragraph that merely holds all the words, scattered, scores low and
loses to a fuzzy match of the actual line.

Fuzzy candidates: each query word the index does not know is corrected against the
vocabulary (OSA edit distance via rapidfuzz, words of similar length only); then an FTS5
query asks for texts holding at least two of the four rarest words or corrections (any
pair), so one swapped, dropped or misspelled word does not lose the line. A fuzzy candidate
below FUZZY_MIN closeness is noise, and the answer is "none".
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.models import Hit, IndexedText, MatchKind, Paragraph, SearchResult, Story
from bot.store import Store
from bot.text.normalize import query_tokens, word_spans, words

log = logging.getLogger(__name__)

SNIPPET_CHARS = 300
LOOKUP_EXTRA = 5  # texts looked up beyond the hits wanted, for lines a story repeats

CANDIDATES = 100  # texts fetched per stage
RANK_CAP = 300  # BM25 only when a query matches at most this many texts
WORDS_CLEAR = 90.0  # a words match this close is the answer; below, fuzzy may do better
FUZZY_MIN = 78.0  # below this closeness a fuzzy candidate is noise: answer "none"
FUZZY_MIN_SHORT = 88.0  # the same for queries of at most SHORT_QUERY characters
SHORT_QUERY = 12
FUZZY_KEYS = 4  # rarest query words used to find fuzzy candidates
COMMON_SHARE = 0.2  # a word in more than this share of texts finds nothing useful
CORRECTIONS = 3  # vocabulary words tried per unknown query word
VOCAB_MAX_LEN = 32
SIGNATURE_TTL = 2.0  # seconds a cached vocabulary is trusted before checking the library
WORDS_KEYS = 3  # rarest words that find the candidates of the all-words stage
VOCAB_SMALL = 100_000  # above this many terms, words seen in one text only are dropped


# ---- query text -----------------------------------------------------------------------------


tokens = query_tokens  # the query's words, folded as the index folds them


# ---- the vocabulary, for correcting misspelled words ----------------------------------------


@dataclass(slots=True)
class _Vocabulary:
    """The index's words by length, sorted, with how many texts hold each.

    Kept in memory so a search knows which query words are rare (FTS5's own count, through
    fts5vocab, reads a common word's whole doclist: 30 ms for "the" at 100 MB) and can
    correct misspelled words. Counts live in compact arrays.
    """

    signature: tuple[int, ...]
    checked: float  # when the signature was last compared with the database
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


Marks = tuple[tuple[int, int], ...]
StoryIds = Sequence[int] | None  # None: every story in the library

# ---- scoring --------------------------------------------------------------------------------


@dataclass(slots=True)
class _Candidate:
    text: IndexedText
    rank: float  # BM25 from FTS5, lower is better; 0 when unranked
    kind: MatchKind
    normal: str  # the text's folded words, joined by single spaces
    score: float = 0.0
    start: int = 0  # the best-aligned stretch, as word indices [start, end)
    end: int = 0


class _Normaliser:
    """Folds and scores texts for one query, each text once (the stages may meet a text twice)."""

    def __init__(self, query: Sequence[str]) -> None:
        self.query = query
        self.joined = " ".join(query)
        self._normal: dict[int, str] = {}
        self._scored: dict[tuple[int, MatchKind], tuple[MatchKind, float, int, int]] = {}

    def candidate(self, t: IndexedText, rank: float, kind: MatchKind) -> _Candidate:
        normal = self._normal.get(t.id)
        if normal is None:
            normal = self._normal[t.id] = " ".join(words(t.text))
        return _Candidate(t, rank, kind, normal)

    def score(self, c: _Candidate) -> None:
        key = (c.text.id, c.kind)
        done = self._scored.get(key)
        if done is None:
            _score(c, self.query, self.joined)
            self._scored[key] = (c.kind, c.score, c.start, c.end)
        else:
            c.kind, c.score, c.start, c.end = done


def _score(c: _Candidate, query: Sequence[str], joined: str) -> None:
    """Closeness of the query to the best-matching stretch of the text, 0-100."""
    text = c.normal
    if not text:
        return
    if c.kind == "exact":
        at = f" {text} ".find(f" {joined} ")
        if at >= 0:
            c.score, c.start = 100.0, text.count(" ", 0, at)
            c.end = c.start + len(query)
            return
        c.kind = "words"  # FTS5 saw a phrase our words do not: score it like the others
    if len(text) < len(joined):
        # a text shorter than the query must match all of it, not be found inside it
        c.score = fuzz.ratio(joined, text)
        c.start, c.end = 0, text.count(" ") + 1
        return
    found = fuzz.partial_ratio_alignment(joined, text)
    if found is None:
        return
    c.score = found.score
    c.start, c.end = _word_range(text, found.dest_start, found.dest_end)


def _word_range(text: str, start: int, end: int) -> tuple[int, int]:
    """Word indices [first, last) covering characters [start, end) of the space-joined words."""
    first = text.count(" ", 0, start)
    last = first + text.count(" ", start, max(start, end - 1)) + 1
    return first, last


# ---- snippets -------------------------------------------------------------------------------


def _clip(c: _Candidate, query: Sequence[str], extra: Iterable[str]) -> tuple[str, Marks]:
    """The candidate's snippet: its text around where the line was found, and the ranges of
    it to mark."""
    spans = _spans(c)
    return snippet(c.text.text, _marks(c, spans, query, extra), _focus(c, spans))


def _marks(
    c: _Candidate, spans: Sequence[tuple[int, int, str]], query: Sequence[str], extra: Iterable[str]
) -> list[tuple[int, int]]:
    """Character ranges of the text to mark: the phrase, or the matching words near it.

    Where the line was found (the aligned stretch) every query word is marked; elsewhere only
    longer words, and only when the alignment is weak, so "my" is not marked all over.
    """
    if not spans:
        return []
    if c.kind == "exact" and c.score >= 100.0 and c.end <= len(spans):
        return [(spans[c.start][0], spans[c.end - 1][1])]
    wanted = set(query) | set(extra)
    lo, hi = max(0, c.start - 1), min(len(spans), c.end + 1)
    scattered = c.score < WORDS_CLEAR
    chosen: list[int] = []
    for i, (_, _, word) in enumerate(spans):
        near = lo <= i < hi
        if near:
            hit = word in wanted or (len(word) >= 4 and _close_to(word, wanted))
        else:
            hit = scattered and len(word) >= 4 and word in wanted
        if hit:
            chosen.append(i)
    ranges: list[tuple[int, int]] = []
    for i in chosen:
        start, end, _ = spans[i]
        if ranges and _joinable(c.text.text, ranges[-1][1], start):
            ranges[-1] = (ranges[-1][0], end)
        else:
            ranges.append((start, end))
    return ranges


def _spans(c: _Candidate) -> list[tuple[int, int, str]]:
    """The text's words with their offsets (word_spans, computed once per snippet)."""
    spans = word_spans(c.text.text)
    if len(spans) != c.normal.count(" ") + 1:  # cannot happen, but never mark the wrong words
        c.start, c.end = 0, 0
    return spans


def _focus(c: _Candidate, spans: Sequence[tuple[int, int, str]]) -> tuple[int, int]:
    """Characters of the text where the line was found."""
    if not spans:
        return 0, 0
    end = min(max(c.end, c.start + 1), len(spans))
    return spans[min(c.start, len(spans) - 1)][0], spans[end - 1][1]


def _close_to(word: str, wanted: set[str]) -> bool:
    return process.extractOne(word, wanted, scorer=fuzz.ratio, score_cutoff=80) is not None


def _joinable(text: str, end: int, start: int) -> bool:
    gap = text[end:start]
    return len(gap) <= 3 and "\n" not in gap and not any(ch.isalnum() for ch in gap)


def snippet(
    text: str,
    marks: Sequence[tuple[int, int]],
    focus: tuple[int, int] | None = None,
    width: int = SNIPPET_CHARS,
) -> tuple[str, Marks]:
    """A window of about ``width`` characters around ``focus`` (else the first mark), cut at
    spaces, with "…" where it was cut; and the marks that fall inside it, as character ranges
    of the window."""
    if len(text) <= width:
        start, end = 0, len(text)
    else:
        if focus is None:
            focus = marks[0] if marks else (0, 0)
        lo, hi = focus[0], max(focus)
        span = max(width, hi - lo)
        start = max(0, lo - (span - (hi - lo)) // 3)
        end = min(len(text), start + span)
        start = max(0, min(start, end - span))
        if start > 0:
            cut = text.find(" ", start, lo)
            start = cut + 1 if cut >= 0 else start
        if end < len(text):
            cut = text.rfind(" ", max(hi, start + 1), end)
            end = cut if cut > 0 else end
    window = text[start:end]
    body = window.strip()
    lead = "…" if start > 0 else ""
    shift = len(lead) - start - (len(window) - len(window.lstrip()))
    shown: list[tuple[int, int]] = []
    at = 0
    for mark_start, mark_end in marks:
        lo, hi = max(mark_start, start) + shift, min(mark_end, end) + shift
        lo, hi = max(lo, len(lead)), min(hi, len(lead) + len(body))
        if lo >= hi or lo < at:
            continue
        shown.append((lo, hi))
        at = hi
    return lead + body + ("…" if end < len(text) else ""), tuple(shown)


class Search:
    """Quote search over one store, with what it keeps in memory: the index vocabulary.

    Owned by the Library (one per open library): no module state, so two libraries (a test's
    and a benchmark's, or two databases) never share a vocabulary.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._vocabulary: _Vocabulary | None = None
        self._lock = asyncio.Lock()

    async def warm(self) -> None:
        """Load the vocabulary now, so the first fuzzy search does not wait for it."""
        await self._vocab()

    async def _vocab(self) -> _Vocabulary:
        cached = self._vocabulary
        now = time.monotonic()
        if cached is not None and now - cached.checked < SIGNATURE_TTL:
            return cached
        signature = await self._store.library_signature()
        if cached is not None and cached.signature == signature:
            cached.checked = now
            return cached
        async with self._lock:
            cached = self._vocabulary
            if cached is not None and cached.signature == signature:
                return cached
            self._vocabulary = None  # let the old one go before building the new
            rows, total = await self._store.vocabulary(1, VOCAB_MAX_LEN)
            keep_single = len(rows) <= VOCAB_SMALL
            by_length: dict[int, list[str]] = {}
            counts: dict[int, array[int]] = {}
            for term, doc in rows:  # sorted by term, so every length's list is sorted too
                if doc > 1 or keep_single:
                    by_length.setdefault(len(term), []).append(term)
                    counts.setdefault(len(term), array("I")).append(doc)
            del rows
            self._vocabulary = _Vocabulary(signature, time.monotonic(), by_length, counts, total)
            return self._vocabulary

    async def find(
        self,
        query: str,
        stories: Sequence[Story],
        *,
        every: bool,
        limit: int = 5,
        context: bool = False,
    ) -> SearchResult:
        """The paragraphs of ``stories`` that best match ``query``, best first; ``every`` says
        the stories are the whole library (no story filter is needed).

        Each matching text gives a hit in every story that holds it (the first place in each),
        best text first, until ``limit``.
        """
        query_words = tokens(query)
        if not query_words or not stories or limit < 1:
            return SearchResult(query, "none", ())
        by_id = {s.id: s for s in stories}
        story_ids = None if every else list(by_id)
        try:
            kind, chosen, extra = await self._cascade(query_words, story_ids)
            hits: list[Hit] = []
            shown: set[tuple[int, str]] = set()  # a story repeating a line shows it once
            # the best texts are looked up in one query: ``limit`` texts give ``limit`` hits
            # unless stories repeat lines, and a few more cover that; rarely, a second batch
            for at in range(0, len(chosen), limit + LOOKUP_EXTRA):
                batch = chosen[at : at + limit + LOOKUP_EXTRA]
                places = await self._store.occurrences([c.text.id for c in batch], story_ids, limit)
                for c in batch:
                    clip: tuple[str, Marks] | None = None
                    for p in places.get(c.text.id, ()):
                        story = by_id.get(p.story_id)  # None: a story not in the list given
                        if story is not None and (p.story_id, p.text) not in shown:
                            shown.add((p.story_id, p.text))
                            clip = clip or _clip(c, query_words, extra)
                            hits.append(_hit(c, p, story, clip))
                    if len(hits) >= limit:
                        break
                if len(hits) >= limit:
                    break
            hits = hits[:limit]
            if context and hits:
                hits = await self._with_context(hits)
        except sqlite3.OperationalError as exc:  # never the user's fault: our queries are escaped
            log.warning("quote search failed for %r: %s", query[:80], exc)
            return SearchResult(query, "none", ())
        return SearchResult(query, kind if hits else "none", tuple(hits))

    async def _with_context(self, hits: list[Hit]) -> list[Hit]:
        beside = await self._store.neighbours([(h.story.id, h.chapter, h.position) for h in hits])
        return [
            replace(
                h,
                before=beside.get((h.story.id, h.position - 1)),
                after=beside.get((h.story.id, h.position + 1)),
            )
            for h in hits
        ]

    async def _cascade(
        self, query: list[str], story_ids: StoryIds
    ) -> tuple[MatchKind, list[_Candidate], list[str]]:
        store = self._store
        joined = " ".join(query)
        normaliser = _Normaliser(query)
        vocabulary = await self._vocab()
        known = {w: vocabulary.count(w) for w in dict.fromkeys(query)}

        # FTS5 finds the texts holding the rarest few words (a phrase or an AND over common
        # words reads their whole doclists and positions); the phrase and the other words are
        # checked here. Only when the rare words are in too many texts to look at them all
        # does FTS5 check the phrase itself.
        rarest = sorted(known, key=lambda w: known[w] or 0)[:WORDS_KEYS]
        rows, complete = await store.texts_with_all(
            rarest, story_ids, CANDIDATES, rank_cap=RANK_CAP
        )
        wanted = set(known)
        held: list[_Candidate] = []
        for t, rank in rows:
            c = normaliser.candidate(t, rank, "exact")
            if wanted.issubset(c.normal.split(" ")):
                normaliser.score(c)
                held.append(c)
        exact = [c for c in held if c.kind == "exact"]
        if not exact and not complete:
            phrase, _ = await store.texts_with_phrase(query, story_ids, CANDIDATES)
            exact = [normaliser.candidate(t, rank, "exact") for t, rank in phrase]
            for c in exact:
                normaliser.score(c)
            exact = [c for c in exact if c.kind == "exact"]
        if exact:
            return "exact", _best_first(exact), []

        found: list[_Candidate] = []
        if len(known) > 1:
            found = _best_first([c for c in held if c.kind == "words"])
            if found and (found[0].score >= WORDS_CLEAR or len(query) <= 3):
                return "words", found, []

        seen = {c.text.id for c in found}
        fuzzy, corrected = await self._fuzzy(
            query, story_ids, vocabulary=vocabulary, known=known, seen=seen, normaliser=normaliser
        )
        floor = fuzzy_floor(joined)
        pool = _best_first(found + [c for c in fuzzy if c.score >= floor])
        if not pool:
            return "none", [], []
        if pool[0].kind == "words":
            return "words", pool, corrected
        return "fuzzy", [c for c in pool if c.score >= floor], corrected

    async def _fuzzy(
        self,
        query: list[str],
        story_ids: StoryIds,
        *,
        vocabulary: _Vocabulary,
        known: dict[str, int | None],
        seen: set[int],
        normaliser: _Normaliser,
    ) -> tuple[list[_Candidate], list[str]]:
        keys: list[tuple[int, list[str]]] = []  # (texts holding it, alternatives)
        corrected: list[str] = []
        for word, count in known.items():
            if count is not None:
                keys.append((count, [word]))
                continue
            alternatives = vocabulary.corrections(word)
            if alternatives:
                corrected += alternatives
                total = sum(vocabulary.count(a) or 0 for a in alternatives)
                keys.append((total, [word, *alternatives]))
        if not keys:
            return [], corrected
        common = max(50, int(vocabulary.total * COMMON_SHARE))
        keys.sort(key=lambda k: k[0])
        useful = [k for k in keys if k[0] <= common] or keys[:1]
        if len(useful) < 2 and len(keys) >= 2:
            useful = keys[:2]
        chosen = [alternatives for _, alternatives in useful[:FUZZY_KEYS]]
        rows, _ = await self._store.texts_with_two_of(
            chosen, story_ids, CANDIDATES, rank_cap=RANK_CAP
        )
        candidates = [
            normaliser.candidate(t, rank, "fuzzy") for t, rank in rows if t.id not in seen
        ]
        for c in candidates:
            normaliser.score(c)
        return candidates, corrected


def fuzzy_floor(joined: str) -> float:
    """The closeness a fuzzy match needs: more for short queries, which match anything loosely."""
    return FUZZY_MIN if len(joined) > SHORT_QUERY else FUZZY_MIN_SHORT


def _best_first(candidates: list[_Candidate]) -> list[_Candidate]:
    return sorted(candidates, key=lambda c: (-c.score, c.rank, len(c.text.text), c.text.id))


def _hit(c: _Candidate, p: Paragraph, story: Story, clip: tuple[str, Marks]) -> Hit:
    info = story.chapter_info(p.chapter)
    return Hit(
        story=story,
        chapter=p.chapter,
        chapter_label=info.label if info else str(p.chapter),
        position=p.position,
        text=p.text,
        snippet=clip[0],
        marks=clip[1],
        score=round(float(c.score), 1),
    )
