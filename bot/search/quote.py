"""Quote search: exact phrase, then all words (BM25), then fuzzy; "none" when nothing is close.

One ``QuoteSearch`` object, owned by the Library, holds what search keeps in memory (the index
vocabulary, bot/search/vocabulary.py). The user's text is folded and cut into words exactly
as the index's unicode61 tokenizer cuts text (bot/text/normalize.py); the store turns words
into FTS5 queries and quotes every one (bot/store/search.py), so nothing the user typed is
FTS5 syntax.

A hit carries its snippet as plain text and the character ranges of it that matched
(bot/search/snippets.py).

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
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from rapidfuzz import fuzz, process

from bot.models import Hit, IndexedText, MatchKind, Paragraph, SearchResult, Story
from bot.search.hits import chapter_label, or_none
from bot.search.snippets import Marks, joined, snippet
from bot.search.vocabulary import Cached, WordList, load_words
from bot.store import Store
from bot.text.normalize import phrase_in, phrase_test, query_tokens, spaced, word_spans, words

LOOKUP_EXTRA = 5  # texts looked up beyond the hits wanted, for lines a story repeats

CANDIDATES = 100  # texts fetched per stage
RANK_CAP = 300  # BM25 only when a query matches at most this many texts
WORDS_CLEAR = 90.0  # a words match this close is the answer; below, fuzzy may do better
FUZZY_MIN = 78.0  # below this closeness a fuzzy candidate is noise: answer "none"
FUZZY_MIN_SHORT = 88.0  # the same for queries of at most SHORT_QUERY characters
SHORT_QUERY = 12
FUZZY_KEYS = 4  # rarest query words used to find fuzzy candidates
SHORT_WORDS = 4  # a query of at most this many words also looks at texts holding one key
COMMON_SHARE = 0.2  # a word in more than this share of texts finds nothing useful
WORDS_KEYS = 3  # rarest words that find the candidates of the all-words stage
PHRASE_SCAN = 1000  # texts holding those words read for the phrase (_held_phrase)


# ---- query text -----------------------------------------------------------------------------


tokens = query_tokens  # the query's words, folded as the index folds them


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
    folded: bool = True  # False: a phrase found in plain text, folded when shown (_clip)


class _Normaliser:
    """Folds and scores texts for one query, each text once (the stages may meet a text twice),
    and each distinct run of words once (a score depends on the words alone, and a library
    may hold a paragraph many times with other punctuation)."""

    def __init__(self, query: Sequence[str]) -> None:
        self.query = query
        self.joined = " ".join(query)
        self._normal: dict[int, str] = {}
        self._spaced: dict[int, str | None] = {}
        self._scored: dict[tuple[str, MatchKind], tuple[MatchKind, float, int, int]] = {}

    def spaced(self, t: IndexedText) -> str | None:
        """The text's words parted by spaces (``spaced``), or None for text that is not plain."""
        if t.id in self._spaced:
            return self._spaced[t.id]
        found = self._spaced[t.id] = spaced(t.text)
        return found

    def candidate(self, t: IndexedText, rank: float, kind: MatchKind) -> _Candidate:
        normal = self._normal.get(t.id)
        if normal is None:
            plain = self.spaced(t)
            cut = words(t.text) if plain is None else plain.split()
            normal = self._normal[t.id] = " ".join(cut)
        return _Candidate(t, rank, kind, normal)

    def folded(self) -> list[int]:
        """The ids of the texts looked at so far (cut into words, or spaced) that have words
        (and scored, those that held every query word)."""
        seen = [text_id for text_id, normal in self._normal.items() if normal]
        return seen + [
            text_id
            for text_id, plain in self._spaced.items()
            if text_id not in self._normal and plain and not plain.isspace()
        ]

    def score(self, c: _Candidate) -> None:
        key = (c.normal, c.kind)
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
    if not c.folded:  # as _score would have placed the phrase
        c.normal, c.folded = " ".join(words(c.text.text)), True
        c.start = c.normal.count(" ", 0, f" {c.normal} ".find(f" {' '.join(query)} "))
        c.end = c.start + len(query)
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
    return joined(c.text.text, ((spans[i][0], spans[i][1]) for i in chosen), gap=3)


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


class QuoteSearch:
    """Quote search over one store, with what it keeps in memory: the index vocabulary.

    Owned by the Library (one per open library): no module state, so two libraries (a test's
    and a benchmark's, or two databases) never share a vocabulary.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._words: Cached[WordList] = Cached(store, lambda: load_words(store))

    async def warm(self) -> None:
        """Load the vocabulary now, so the first fuzzy search does not wait for it."""
        await self._words.get()

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
        found = self._find(query, query_words, stories, every=every, limit=limit, context=context)
        return await or_none(found, SearchResult(query, "none", ()), "quote", query)

    async def _find(
        self,
        query: str,
        query_words: list[str],
        stories: Sequence[Story],
        *,
        every: bool,
        limit: int,
        context: bool,
    ) -> SearchResult:
        by_id = {s.id: s for s in stories}
        story_ids = None if every else list(by_id)
        kind, chosen, extra = await self._cascade(query_words, story_ids)
        hits = await self._places(chosen, by_id, story_ids, limit, (query_words, extra))
        if context and hits:
            hits = await self._with_context(hits)
        return SearchResult(query, kind if hits else "none", tuple(hits))

    async def _places(
        self,
        chosen: list[_Candidate],
        by_id: dict[int, Story],
        story_ids: StoryIds,
        limit: int,
        marked: tuple[list[str], list[str]],
    ) -> list[Hit]:
        """The best texts' places in the stories, one hit per story and text, best text
        first, until ``limit``; ``marked``: the query's words and the corrections to mark."""
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
                        clip = clip or _clip(c, *marked)
                        hits.append(_hit(c, p, story, clip))
                if len(hits) >= limit:
                    return hits[:limit]
        return hits[:limit]

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
        vocabulary = await self._words.get()
        known = {w: vocabulary.count(w) for w in dict.fromkeys(query)}
        keys = _fuzzy_keys(vocabulary, known)
        fuzzy = _Ahead(None if keys is None else lambda: self._fuzzy_rows(keys, query, story_ids))
        if None in known.values():
            # a word the index does not hold (mostly a misspelling): no text holds every
            # word, so the fuzzy stage comes; its query runs beside the first stage's (the
            # store may answer both at once), and is waited for if it was not needed
            fuzzy.start()
        failed = True
        try:
            found = await self._stages(query, story_ids, known, keys, fuzzy)
            failed = False
            return found
        finally:
            await fuzzy.close(cancel=failed)

    async def _stages(
        self,
        query: list[str],
        story_ids: StoryIds,
        known: dict[str, int | None],
        keys: _FuzzyKeys | None,
        fuzzy: _Ahead,
    ) -> tuple[MatchKind, list[_Candidate], list[str]]:
        normaliser = _Normaliser(query)
        held, exact = await self._exact(query, story_ids, known, normaliser, fuzzy)
        if exact:
            return "exact", _best_first(exact), []

        found: list[_Candidate] = []
        if len(known) > 1:
            found = _best_first([c for c in held if c.kind == "words"])
            if _clear(found, query):
                return "words", found, []

        seen = {c.text.id for c in found}
        candidates: list[_Candidate] = []
        corrected: list[str] = []
        if keys is not None:
            rows = await fuzzy.result()
            candidates = _fuzzy_candidates(rows, seen, normaliser)
            corrected = keys.corrected
        floor = fuzzy_floor(" ".join(query))
        pool = _best_first(found + [c for c in candidates if c.score >= floor])
        if not pool:
            return "none", [], []
        if pool[0].kind == "words":
            return "words", pool, corrected
        return "fuzzy", [c for c in pool if c.score >= floor], corrected

    async def _exact(
        self,
        query: list[str],
        story_ids: StoryIds,
        known: dict[str, int | None],
        normaliser: _Normaliser,
        fuzzy: _Ahead,
    ) -> tuple[list[_Candidate], list[_Candidate]]:
        """The texts holding every query word, scored (the words stage's candidates), and
        those of them holding the phrase.

        FTS5 finds the texts holding the rarest few words (a phrase or an AND over common
        words reads their whole doclists and positions); the phrase and the other words are
        checked here. When the rare words are in more texts than that, the rest of them are
        read for the phrase (``_held_phrase``); only when they are too many does FTS5 check
        the phrase itself."""
        rarest = sorted(known, key=lambda w: known[w] or 0)[:WORDS_KEYS]
        rows, complete = await self._store.texts_with_all(
            rarest, story_ids, CANDIDATES, rank_cap=RANK_CAP
        )
        exact = _holding_the_phrase(rows, query, normaliser)
        if exact:
            return [], exact
        # " word " in " text ": the word is one of the text's words (no list, no set per text);
        # plain text is looked at spaced, and cut into words only when it holds them all
        wanted = [f" {w} " for w in known]
        held: list[_Candidate] = []
        for t, rank in rows:
            plain = normaliser.spaced(t)
            if plain is not None:
                padded = f" {plain} "  # once, not once per word
                if not all(w in padded for w in wanted):
                    continue
            c = normaliser.candidate(t, rank, "exact")
            padded = f" {c.normal} "
            if all(w in padded for w in wanted):
                normaliser.score(c)
                held.append(c)
        if not complete:
            if len(known) <= 1 or not _clear(_best_first(held), query):
                # unless the phrase is found, the fuzzy stage comes: its query runs while
                # the texts below are read here
                fuzzy.start()
            exact = await self._phrase_candidates(query, rarest, story_ids, normaliser)
        return held, exact

    async def _phrase_candidates(
        self, query: list[str], rarest: list[str], story_ids: StoryIds, normaliser: _Normaliser
    ) -> list[_Candidate]:
        """The texts in scope holding the query as a phrase, scored, none of them among those
        read already: those the texts holding its rarest words show (``_held_phrase``), or,
        when they are too many to read, FTS5's phrase check's (the first CANDIDATES it finds,
        in id order)."""
        held = await self._held_phrase(query, rarest, story_ids, normaliser)
        if held is None:
            phrase, _ = await self._store.texts_with_phrase(query, story_ids, CANDIDATES)
            texts = [t for t, _rank in phrase]
        else:  # the first CANDIDATES, as FTS5 finds them (rowid order)
            texts = sorted(held, key=lambda t: t.id)[:CANDIDATES]
        exact = [normaliser.candidate(t, 0.0, "exact") for t in texts]  # FTS5's rank 0.0 too
        for c in exact:
            normaliser.score(c)
        return [c for c in exact if c.kind == "exact"]

    async def _held_phrase(
        self, query: list[str], rarest: list[str], story_ids: StoryIds, normaliser: _Normaliser
    ) -> list[IndexedText] | None:
        """Every text in scope holding the query as a phrase, besides those read already
        (which hold none): [] when none does; None when more than PHRASE_SCAN texts hold its
        rarest words within the query's length (or, as the store may count, may hold the
        phrase), too many to read, and FTS5 is to check the phrase.

        Every text holding the phrase holds its rarest words that close together (the store
        may give more: those holding them anywhere; or fewer: PostgreSQL leaves out those its
        index says cannot hold the phrase), so the texts here are those FTS5's phrase check
        would find (which reads the positions of every word of the phrase, "the" and "and"
        too: several times slower), and it is not asked again for them. Those already folded
        were looked at (none held the phrase); plain text is looked at without cutting it
        into words (``phrase_test``)."""
        unread = await self._store.texts_with_all_besides(
            rarest, story_ids, PHRASE_SCAN, normaliser.folded(), within=len(query), phrase=query
        )
        if unread is None:
            return None
        holds = phrase_test(query)
        held: list[IndexedText] = []
        for t in unread:
            found = holds(t.text)
            if found is None:  # not plain: fold it as a candidate would be
                normal = normaliser.candidate(t, 0.0, "exact").normal
                found = bool(normal) and f" {normal} ".find(f" {normaliser.joined} ") >= 0
            if found:
                held.append(t)
        return held

    async def _fuzzy_rows(
        self, keys: _FuzzyKeys, query: list[str], story_ids: StoryIds
    ) -> list[_Row]:
        """The fuzzy stage's texts: those holding two of the keys (and, for a query of a few
        words, those holding one of its rarer words)."""
        rows, _ = await self._store.texts_with_two_of(
            keys.chosen, story_ids, CANDIDATES, rank_cap=RANK_CAP
        )
        if len(query) <= SHORT_WORDS:
            rows += await self._single_key_rows(keys.useful, story_ids)
        return rows

    async def _single_key_rows(
        self, keys: list[tuple[int, list[str]]], story_ids: StoryIds
    ) -> list[tuple[IndexedText, float]]:
        """For a query of a few words, the texts holding any one of its rarer words: with
        one word of three wrong and one common, no two of the others may be left to pair."""
        rows: list[tuple[IndexedText, float]] = []
        for count, alternatives in keys[:FUZZY_KEYS]:
            if len(alternatives) == 1 and count <= CANDIDATES:
                found, _ = await self._store.texts_with_all(
                    alternatives, story_ids, CANDIDATES, rank_cap=RANK_CAP
                )
                rows += found
        return rows


_Row = tuple[IndexedText, float]  # a text the store found, with its rank


class _Ahead:
    """The fuzzy stage's store query, started before it is known to be needed (the store
    answers it while Python reads what the first stage found) or when it comes; waited for,
    or cancelled when the search fails, before the search returns."""

    def __init__(self, query: Callable[[], Awaitable[list[_Row]]] | None) -> None:
        self._query = query
        self._future: asyncio.Future[list[_Row]] | None = None

    def start(self) -> None:
        if self._query is not None and self._future is None:
            self._future = asyncio.ensure_future(self._query())

    async def result(self) -> list[_Row]:
        self.start()
        if self._future is None:
            return []
        return await self._future

    async def close(self, *, cancel: bool) -> None:
        if self._future is not None:
            if cancel:
                self._future.cancel()
            await asyncio.gather(self._future, return_exceptions=True)


def _clear(found: list[_Candidate], query: Sequence[str]) -> bool:
    """Whether the all-words stage's best (``found``, best first) is the answer, and the
    fuzzy stage is not asked."""
    return bool(found) and (found[0].score >= WORDS_CLEAR or len(query) <= 3)


@dataclass(frozen=True, slots=True)
class _FuzzyKeys:
    """What the fuzzy stage looks for: each key a query word or, for a word the index does not
    hold, the word and its corrections, with how many texts hold it (rarest first); the
    keys asked for; the corrections (to mark)."""

    useful: list[tuple[int, list[str]]]
    chosen: list[list[str]]
    corrected: list[str]


def _fuzzy_keys(vocabulary: WordList, known: dict[str, int | None]) -> _FuzzyKeys | None:
    """The fuzzy stage's keys: each word the index does not know is corrected against the
    vocabulary; the rarest FUZZY_KEYS keys that are not too common are asked for (at least
    two when there are two). None when no word is known or corrected."""
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
        return None
    common = max(50, int(vocabulary.total * COMMON_SHARE))
    keys.sort(key=lambda k: k[0])
    useful = [k for k in keys if k[0] <= common] or keys[:1]
    if len(useful) < 2 and len(keys) >= 2:
        useful = keys[:2]
    chosen = [alternatives for _, alternatives in useful[:FUZZY_KEYS]]
    return _FuzzyKeys(useful, chosen, corrected)


def _holding_the_phrase(
    rows: list[_Row], query: list[str], normaliser: _Normaliser
) -> list[_Candidate]:
    """The texts of ``rows`` holding the query as a phrase (score 100). Plain text is looked
    at without cutting it into words (``phrase_test``), and cut only if it is shown (most
    of the first stage's texts are not); other text is folded and scored."""
    holds = phrase_in(query)
    exact: list[_Candidate] = []
    for t, rank in rows:
        plain = normaliser.spaced(t)
        found = None if plain is None else holds(plain)
        if found:
            exact.append(_Candidate(t, rank, "exact", "", 100.0, folded=False))
        elif found is None:
            c = normaliser.candidate(t, rank, "exact")
            normaliser.score(c)
            if c.kind == "exact" and c.normal:
                exact.append(c)
    return exact


def _fuzzy_candidates(
    rows: list[_Row], seen: set[int], normaliser: _Normaliser
) -> list[_Candidate]:
    """The fuzzy stage's texts (once each, but those an earlier stage found), scored."""
    candidates = [
        normaliser.candidate(t, rank, "fuzzy")
        for t, rank in {t.id: (t, rank) for t, rank in rows}.values()
        if t.id not in seen
    ]
    for c in candidates:
        normaliser.score(c)
    return candidates


def fuzzy_floor(joined: str) -> float:
    """The closeness a fuzzy match needs: more for short queries, which match anything loosely."""
    return FUZZY_MIN if len(joined) > SHORT_QUERY else FUZZY_MIN_SHORT


def _best_first(candidates: list[_Candidate]) -> list[_Candidate]:
    return sorted(candidates, key=lambda c: (-c.score, c.rank, len(c.text.text), c.text.id))


def _hit(c: _Candidate, p: Paragraph, story: Story, clip: tuple[str, Marks]) -> Hit:
    return Hit(
        story=story,
        chapter=p.chapter,
        chapter_label=chapter_label(story, p.chapter),
        position=p.position,
        text=p.text,
        snippet=clip[0],
        marks=clip[1],
        score=round(float(c.score), 1),
    )
