"""SQL for quote search: FTS5 candidates, the index vocabulary, where texts stand, neighbours.

The index is over table ``texts`` (a chapter stored twice shares its texts); a search finds
texts, then the paragraphs (story, chapter, position) that hold them.

The FTS5 query grammar lives here and nowhere else: callers hand over words (already folded
and cut as the index's unicode61 tokenizer cuts text, bot/text/normalize.py) and story ids,
and every word is quoted here, so quotes, ``*``, ``^``, NEAR, AND/OR/NOT, parentheses and
column filters in what a user typed are just words.

Story ids: a sequence limits a query to those stories; None means every story (no filter,
which is cheaper: the caller knows when its stories are all of them).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Literal

from bot.models import IndexedText, Paragraph
from bot.store.sqlite.base import IN_TRANSACTION, SQLBase, sql_errors
from bot.store.sqlite.bm25 import (
    COMMON_TERM,
    DocCounts,
    TermCounter,
    idf,
    rank,
    single_tokens,
    varints,
)

# fts5vocab over the text index, per connection (a temp table works on a read-only file too)
_VOCAB = "temp.texts_vocab"
_CREATE_VOCAB = f"CREATE VIRTUAL TABLE IF NOT EXISTS {_VOCAB} USING fts5vocab(main, texts_fts, row)"
_VOCAB_BATCH = 4096
_PARAGRAPH_COLUMNS = "p.id, p.story_id, p.chapter, p.position, p.scene, t.text"
# the state of the database a reading connection sees: another connection's commit changes
# data_version, this connection's own writes total_changes()
_VERSION = "(SELECT data_version FROM pragma_data_version), total_changes()"
# the state of the text index itself: FTS5's structure record, rewritten (its cookie counted
# up) whenever the index changes
_INDEX_STATE = "(SELECT block FROM texts_fts_data WHERE id = 10)"
MATCHES_KEPT = 8  # all-words searches whose matching texts are kept for texts_with_all_besides


# ---- the FTS5 grammar -------------------------------------------------------------------------


def _quoted(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def phrase_query(words: Sequence[str]) -> str:
    """An FTS5 phrase: the words, in order, next to each other."""
    return _quoted(" ".join(words))


def all_words_query(words: Sequence[str]) -> str:
    """Texts holding every one of the words, anywhere."""
    return " AND ".join(_quoted(w) for w in dict.fromkeys(words))


def near_query(words: Sequence[str], within: int | None) -> str:
    """Texts holding every one of the words within some ``within`` words in a row (FTS5's
    NEAR counts the words between the first and the last); anywhere when ``within`` is None."""
    unique = list(dict.fromkeys(words))
    if within is None or len(unique) < 2:
        return all_words_query(unique)
    return f"NEAR({' '.join(_quoted(w) for w in unique)}, {max(0, within - 2)})"


def _any_of(alternatives: Sequence[str]) -> str:
    if len(alternatives) == 1:
        return _quoted(alternatives[0])
    return "(" + " OR ".join(_quoted(w) for w in alternatives) + ")"


def any_two_query(keys: Sequence[Sequence[str]]) -> str:
    """Texts holding at least two of the keys (each key: one word or its alternatives)."""
    if len(keys) == 1:
        return _any_of(keys[0])
    return " OR ".join(f"({_any_of(a)} AND {_any_of(b)})" for a, b in combinations(keys, 2))


# ---- limiting a query to some stories ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Scope:
    """The stories a query looks in: ``story_ids``, or every story when None."""

    story_ids: tuple[int, ...] | None

    @classmethod
    def of(cls, story_ids: Sequence[int] | None) -> _Scope:
        return cls(None if story_ids is None else tuple(dict.fromkeys(story_ids)))

    @property
    def empty(self) -> bool:
        return self.story_ids == ()

    def over_paragraphs(self) -> str:
        """A WHERE fragment over paragraphs ``p`` (its parameters: ``params``)."""
        if self.story_ids is None:
            return ""
        # unary + keeps SQLite from probing (text_id, story_id) once per story id: for a
        # long list (a channel without mature stories) that is hundreds of probes per text
        return f" AND +p.story_id IN ({','.join('?' * len(self.story_ids))})"

    def over_texts(self, text_id: str = "t.id") -> str:
        """A WHERE fragment over texts (their ids: ``text_id``): some paragraph in scope holds
        the text."""
        if self.story_ids is None:
            return ""
        return (
            f" AND EXISTS (SELECT 1 FROM paragraphs p WHERE p.text_id = {text_id}"
            f"{self.over_paragraphs()})"
        )

    @property
    def params(self) -> tuple[int, ...]:
        return self.story_ids or ()


Found = tuple[list[tuple[IndexedText, float]], bool]


class SearchSQL(SQLBase):
    _vocab_ready: bool = False
    # all-words queries (FTS5 query, scope) -> (the database's version, the ids of every text
    # in scope that matched), from the last few texts_with_all: texts_with_all_besides reads
    # those texts without asking FTS5 again
    _matches: dict[tuple[str, tuple[int, ...] | None], tuple[tuple[int, int], str]] | None = None
    # the common words' counts of texts from the last read of the vocabulary (bm25.py)
    _doc_counts: DocCounts | None = None
    common_term = COMMON_TERM

    async def texts_with_all(
        self, words: Sequence[str], story_ids: Sequence[int] | None, limit: int, *, rank_cap: int
    ) -> Found:
        """Texts holding every word (see ``_candidates``). When one of the words is common,
        BM25 is computed here rather than by FTS5 (``_ranked_here``), with the same ranks."""
        fts_query = all_words_query(words)
        terms = list(dict.fromkeys(words))
        counts = self._doc_counts
        if (
            counts is not None
            and limit < rank_cap
            and not IN_TRANSACTION.get()
            and counts.any_common(terms)
            and single_tokens(terms)
        ):
            found = await self._ranked_here(fts_query, terms, _Scope.of(story_ids), limit, rank_cap)
            if found is not None:
                return found
        return await self._candidates(fts_query, story_ids, limit, rank_cap, keep=True)

    async def texts_with_phrase(
        self, words: Sequence[str], story_ids: Sequence[int] | None, limit: int
    ) -> Found:
        """Texts holding the words as a phrase (see ``_candidates``)."""
        return await self._candidates(phrase_query(words), story_ids, limit, 0)

    async def texts_with_all_besides(
        self,
        words: Sequence[str],
        story_ids: Sequence[int] | None,
        limit: int,
        besides: Collection[int],
        *,
        within: int | None = None,
        phrase: Sequence[str] | None = None,  # not used: ``within`` (NEAR) narrows enough
    ) -> list[IndexedText] | None:
        """Every text in scope holding every word but those in ``besides``, in no order; None
        when more than ``limit`` texts in scope hold them. One query: the ids first, and the
        texts only when there are few enough. When texts_with_all just found every one of
        those texts (at most its ``rank_cap``), their ids are taken from it (``_kept``).

        ``within``: only texts where the words stand within some ``within`` words in a row
        are needed (FTS5's NEAR reads where common words stand, as a phrase would, but skips
        like an AND over rare words: on the no-repeat bench library, a quarter of the texts
        for about the cost of the AND). The kept ids, when there are some, are read instead:
        reading a few hundred texts costs less than asking FTS5 again."""
        scope = _Scope.of(story_ids)
        if scope.empty or not words:
            return []
        skip = list(dict.fromkeys(besides))
        kept = await self._kept(all_words_query(words), scope, limit, skip)
        if kept is False:
            return None
        if kept is not None:
            return kept
        rows = await self._all(
            "WITH r(id) AS MATERIALIZED (SELECT rowid FROM texts_fts WHERE texts_fts MATCH ?"
            f"{scope.over_texts('texts_fts.rowid')} LIMIT ?)"
            " SELECT NULL, NULL, count(*) FROM r UNION ALL"
            " SELECT t.id, t.text, NULL FROM r JOIN texts t ON t.id = r.id"
            f" WHERE (SELECT count(*) FROM r) <= ? AND r.id NOT IN ({','.join('?' * len(skip))})",
            (near_query(words, within), *scope.params, limit + 1, limit, *skip),
        )
        if any(r[0] is None and r[2] > limit for r in rows):
            return None
        return [IndexedText(r[0], r[1]) for r in rows if r[0] is not None]

    async def _kept(
        self, fts_query: str, scope: _Scope, limit: int, skip: list[int]
    ) -> list[IndexedText] | Literal[False] | None:
        """``texts_with_all_besides`` from the ids texts_with_all kept for the same query and
        scope: the texts (a list), False for more than ``limit`` of them; None when none are
        kept or the database changed since (then FTS5 is asked)."""
        kept = (self._matches or {}).get((fts_query, scope.story_ids))
        if kept is None or IN_TRANSACTION.get():
            return None
        version, listed = kept
        ids = [int(i) for i in listed.split(",")] if listed else []
        if len(ids) > limit:
            return False
        unread = list(set(ids).difference(skip))
        rows = await self._all(
            f"SELECT NULL, NULL, {_VERSION} UNION ALL SELECT id, text, NULL, NULL FROM texts"
            f" WHERE id IN ({','.join('?' * len(unread))})",
            unread,
        )
        if next((r[2], r[3]) for r in rows if r[0] is None) != version:
            return None
        return [IndexedText(r[0], r[1]) for r in rows if r[0] is not None]

    async def texts_with_two_of(
        self,
        keys: Sequence[Sequence[str]],
        story_ids: Sequence[int] | None,
        limit: int,
        *,
        rank_cap: int,
    ) -> Found:
        """Texts holding at least two of the keys, each key a word or its alternatives."""
        return await self._candidates(any_two_query(keys), story_ids, limit, rank_cap)

    async def _candidates(
        self,
        fts_query: str,
        story_ids: Sequence[int] | None,
        limit: int,
        rank_cap: int,
        *,
        keep: bool = False,
    ) -> Found:
        """Texts in scope matching an FTS5 query with their BM25 rank (lower is better), and
        whether they are all the texts in scope that match.

        When more than ``limit`` match, BM25 picks the best ``limit`` if at most ``rank_cap``
        texts in scope match (a story named: its own matches, however common the words are
        elsewhere); otherwise the first ``limit`` come unranked (rank 0) and the caller ranks
        them by what they say. ``keep``: when at most ``rank_cap`` match, keep their ids for
        ``texts_with_all_besides``.

        Limited to some stories, finding and counting walk the library's matches in id order,
        looking each one up in the paragraphs, until enough are in scope: for common words
        and one small story, every match in the library (100 MB library, "was" and "she" in
        one story of 24 paragraphs: about 30 ms for the count). Going from the story's
        paragraphs instead is cheaper only for small scopes, and slower for large ones.
        """
        scope = _Scope.of(story_ids)
        if scope.empty:
            return [], True
        if rank_cap <= limit:  # the count cannot decide anything: the texts alone
            rows = await self._all(
                "SELECT t.id, t.text FROM texts_fts JOIN texts t ON t.id = texts_fts.rowid"
                f" WHERE texts_fts MATCH ?{scope.over_texts()} LIMIT ?",
                (fts_query, *scope.params, limit + 1),
            )
            return [(IndexedText(r[0], r[1]), 0.0) for r in rows[:limit]], len(rows) <= limit
        head, rows = await self._counted(fts_query, scope, limit, rank_cap, keep=keep)
        count = int(head[1])
        if limit < count <= rank_cap:  # ranked: best first, ties by id (as PostgreSQL)
            rows.sort(key=lambda r: (r[3], r[1]))
        if keep and head[2] is not None and not IN_TRANSACTION.get():
            self._keep((fts_query, scope.story_ids), ((head[3], head[4]), head[2]))
        return [(IndexedText(r[1], r[2]), float(r[3])) for r in rows[:limit]], count <= limit

    async def _ranked_here(
        self, fts_query: str, terms: list[str], scope: _Scope, limit: int, rank_cap: int
    ) -> Found | None:
        """``_candidates`` for an all-words query holding a common word (``keep`` too), FTS5's
        bm25() computed here (bm25.py): one statement reads the matching ids (up to
        ``rank_cap`` + 1), their count, FTS5's averages record, the database's version, the
        count of texts holding each word not counted in ``_doc_counts``, and the texts (all
        of them when they are to be ranked, with their sizes; the first ``limit`` + 1
        otherwise). None when FTS5 must rank them: the database changed since the counts were
        read, or a text's counts cannot be taken (bm25.py: never for text SQLite can hold)."""
        if scope.empty:
            return [], True
        counts = self._doc_counts
        assert counts is not None
        rare = [t for t in terms if t not in counts.counts]
        rows = await self._all(
            "WITH r(id) AS MATERIALIZED (SELECT rowid FROM texts_fts WHERE texts_fts MATCH ?"
            f"{scope.over_texts('texts_fts.rowid')} LIMIT ?),"
            " n(c) AS MATERIALIZED (SELECT count(*) FROM r)"
            " SELECT 0, c, (SELECT block FROM texts_fts_data WHERE id = 1),"
            f" {_VERSION}, {_INDEX_STATE} FROM n"
            + " UNION ALL SELECT 2, ?, NULL, count(*), NULL, NULL FROM texts_fts"
            " WHERE texts_fts MATCH ?"
            * len(rare)
            + " UNION ALL SELECT 1, t.id, t.text, d.sz, NULL, NULL FROM (SELECT id FROM r LIMIT"
            " (SELECT CASE WHEN c <= ? THEN c ELSE ? END FROM n)) AS f"
            " JOIN texts t ON t.id = f.id LEFT JOIN texts_fts_docsize d ON d.id = f.id",
            (
                fts_query,
                *scope.params,
                rank_cap + 1,
                *(v for t in rare for v in (t, _quoted(t))),
                rank_cap,
                limit + 1,
            ),
        )
        head = next(r for r in rows if r[0] == 0)
        count, version = int(head[1]), (head[3], head[4])
        texts = [r for r in rows if r[0] == 1]
        if count <= rank_cap:
            self._keep((fts_query, scope.story_ids), (version, ",".join(str(r[1]) for r in texts)))
        if not limit < count <= rank_cap:
            return [(IndexedText(r[1], r[2]), 0.0) for r in texts[:limit]], count <= limit
        if head[5] != counts.version:  # stale counts: FTS5 ranks until the next vocabulary
            return self._drop_counts(counts)
        holding = counts.counts | {r[1]: int(r[3]) for r in rows if r[0] == 2}
        ranked = _ranked(terms, holding, varints(head[2]), texts)
        if ranked is None:
            return None
        return [(IndexedText(r[1], r[2]), score) for score, r in ranked[:limit]], False

    def _drop_counts(self, counts: DocCounts) -> None:
        """Forget stale document counts, unless newer ones were read meanwhile."""
        if self._doc_counts is counts:
            self._doc_counts = None

    def _keep(
        self, key: tuple[str, tuple[int, ...] | None], value: tuple[tuple[int, int], str]
    ) -> None:
        matches = self._matches
        if matches is None:
            matches = self._matches = {}
        matches.pop(key, None)
        matches[key] = value
        while len(matches) > MATCHES_KEPT:
            del matches[next(iter(matches))]

    async def _counted(
        self, fts_query: str, scope: _Scope, limit: int, rank_cap: int, *, keep: bool
    ) -> tuple[Any, list[Any]]:
        """In one statement: how many texts in scope match ``fts_query`` (counted up to
        ``rank_cap`` + 1), with (when ``keep`` and at most ``rank_cap``) their ids and the
        database's version; and the texts a search takes (rows of 1, id, text, rank): the
        first ``limit`` + 1 as found (rank 0), or, when more than ``limit`` and at most
        ``rank_cap`` match, the best ``limit`` by FTS5's BM25, ranked without the texts,
        which are read for the best only.

        The matching rowids are read once, up to the cap, and the count and the first texts
        come from them (a count of its own read the same doclists again: on the no-repeat
        bench library, where a rare word is in 450 texts, a second pass of every stage that
        finds more than ``limit``). A LIMIT of 0 skips the part not needed before it reads
        anything: BM25's own pass over the matches (which counts every word's texts in the
        whole index) when the texts go unranked, the first texts when they are ranked."""
        within = scope.over_texts("texts_fts.rowid")
        ranking = "c > ? AND c <= ?"
        rows = await self._all(
            "WITH r(id) AS MATERIALIZED (SELECT rowid FROM texts_fts WHERE texts_fts MATCH ?"
            f"{within} LIMIT ?), n(c) AS MATERIALIZED (SELECT count(*) FROM r)"
            " SELECT 0, c, CASE WHEN ? AND c <= ? THEN (SELECT group_concat(id) FROM r) END,"
            f" {_VERSION} FROM n UNION ALL"
            " SELECT 1, t.id, t.text, 0.0, NULL FROM (SELECT id FROM r LIMIT"
            f" (SELECT CASE WHEN {ranking} THEN 0 ELSE ? END FROM n)) AS f"
            " JOIN texts t ON t.id = f.id UNION ALL"
            " SELECT 1, t.id, t.text, m.r, NULL FROM (SELECT rowid AS id, bm25(texts_fts) AS r"
            f" FROM texts_fts WHERE texts_fts MATCH ?{within} ORDER BY r, id LIMIT"
            f" (SELECT CASE WHEN {ranking} THEN ? ELSE 0 END FROM n)) AS m"
            " JOIN texts t ON t.id = m.id",
            (
                fts_query,
                *scope.params,
                rank_cap + 1,
                keep,
                rank_cap,
                limit,
                rank_cap,
                limit + 1,
                fts_query,
                *scope.params,
                limit,
                rank_cap,
                limit,
            ),
        )
        head = next(r for r in rows if r[0] == 0)
        return head, [r for r in rows if r[0] == 1]

    async def occurrences(
        self, text_ids: Sequence[int], story_ids: Sequence[int] | None, per_text: int
    ) -> dict[int, list[Paragraph]]:
        """Where each text stands in scope: its first paragraph in each story (by story id, at
        most ``per_text`` stories), for all the texts in one query."""
        scope = _Scope.of(story_ids)
        ids = list(dict.fromkeys(text_ids))
        if scope.empty or not ids:
            return {}
        # one query, one part per text: each part walks the (text_id, story_id) index and stops
        # after ``per_text`` stories (a text a library repeats is in hundreds). SQLite takes
        # the bare columns of an aggregate query from the row min() picked.
        within, params = "", ()
        if scope.story_ids is not None:  # named once, for every part
            within = f"WITH scope(id) AS (VALUES {','.join(['(?)'] * len(scope.story_ids))}) "
            params = scope.story_ids
        part = (
            "SELECT * FROM (SELECT p.id, p.story_id, p.chapter, min(p.position), p.scene,"
            " t.text, p.text_id FROM paragraphs p JOIN texts t ON t.id = p.text_id"
            f" WHERE p.text_id = ?{' AND +p.story_id IN scope' if within else ''}"
            " GROUP BY p.story_id ORDER BY p.story_id LIMIT ?)"
        )
        rows = await self._all(
            within + " UNION ALL ".join([part] * len(ids)),
            [*params, *(v for text_id in ids for v in (text_id, per_text))],
        )
        out: dict[int, list[Paragraph]] = {}
        for r in rows:
            out.setdefault(r[6], []).append(Paragraph(r[0], r[1], r[2], r[3], r[4], r[5]))
        return out

    async def paragraphs_with_phrase(
        self, words: Sequence[str], story_ids: Sequence[int] | None, limit: int
    ) -> list[Paragraph]:
        """Paragraphs holding the words as a phrase, unranked, in index order (oldest text
        first); the query stops at ``limit``."""
        scope = _Scope.of(story_ids)
        if scope.empty or not words:
            return []
        rows = await self._all(
            f"SELECT {_PARAGRAPH_COLUMNS}"
            " FROM texts_fts JOIN paragraphs p ON p.text_id = texts_fts.rowid"
            f" JOIN texts t ON t.id = p.text_id WHERE texts_fts MATCH ?{scope.over_paragraphs()}"
            " LIMIT ?",
            (phrase_query(words), *scope.params, limit),
        )
        return [Paragraph(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]

    async def _ensure_vocab(self) -> None:
        if not self._vocab_ready:
            with sql_errors(self.path):
                await (await self.reads.execute(_CREATE_VOCAB)).close()
            self._vocab_ready = True

    async def vocabulary(
        self, min_length: int, max_length: int
    ) -> tuple[list[tuple[str, int]], int]:
        """Every indexed term of a plausible word length with the number of texts holding it,
        by term; and the number of texts.

        This reads the whole index (about 0.7 s for 100 MB of distinct text): call it rarely,
        and cache.
        """
        await self._ensure_vocab()
        out: list[tuple[str, int]] = []
        with sql_errors(self.path):
            before = list(await self.reads.execute_fetchall(f"SELECT {_INDEX_STATE}"))
            async with self.reads.execute(
                f"SELECT term, doc FROM {_VOCAB} WHERE length(term) BETWEEN ? AND ?",
                (min_length, max_length),
            ) as cursor:
                while batch := await cursor.fetchmany(_VOCAB_BATCH):
                    out.extend((r[0], int(r[1])) for r in batch)
            total = list(
                await self.reads.execute_fetchall(f"SELECT count(*), {_INDEX_STATE} FROM texts")
            )
        self._doc_counts = None
        if before[0][0] == total[0][1]:  # the terms were read from one state of the index
            common = {term: doc for term, doc in out if doc >= self.common_term}
            self._doc_counts = DocCounts(common, total[0][1])
        return out, int(total[0][0])

    async def library_signature(self) -> tuple[int, ...]:
        """Changes whenever the indexed text may have changed (by this connection or another)."""
        version = await self._all("PRAGMA data_version")
        stories = await self._all(
            "SELECT count(*), coalesce(max(id), 0), total(paragraph_count), total(words)"
            " FROM stories"
        )
        return (int(version[0][0]), *(int(v) for v in stories[0]))

    async def neighbours(
        self, wanted: Sequence[tuple[int, int, int]]
    ) -> dict[tuple[int, int], str]:
        """Text of the paragraphs beside each (story id, chapter, position), same chapter only.

        Returns {(story id, position): text} for the positions one before and one after.
        """
        out: dict[tuple[int, int], str] = {}
        for chunk in _chunks(list(dict.fromkeys(wanted)), 100):
            clauses = " OR ".join(
                "(p.story_id = ? AND p.chapter = ? AND p.position IN (?, ?))" for _ in chunk
            )
            params = [v for s, c, p in chunk for v in (s, c, p - 1, p + 1)]
            for r in await self._all(
                "SELECT p.story_id, p.position, t.text"
                f" FROM paragraphs p JOIN texts t ON t.id = p.text_id WHERE {clauses}",
                params,
            ):
                out[(r[0], r[1])] = r[2]
        return out


def _ranked(
    terms: list[str], holding: dict[str, int], averages: list[int], texts: list[Any]
) -> list[tuple[float, Any]] | None:
    """``texts`` (rows of 1, id, text, docsize record) with their bm25() for the all-words
    query of ``terms``, best first (ties by id, as FTS5's ORDER BY rank, id); ``holding``: how
    many texts hold each term; ``averages``: FTS5's averages record (texts, then tokens of
    each column). None when a text's counts cannot be taken or disagree with the match."""
    rows, tokens = averages[0], sum(averages[1:])
    avgdl = tokens / rows
    idfs = [idf(rows, holding[t]) for t in terms]
    counter = TermCounter(terms)
    ranked: list[tuple[float, Any]] = []
    for r in texts:
        freqs = counter.counts(r[2])
        if freqs is None or r[3] is None or 0 in freqs:
            return None
        ranked.append((rank(idfs, freqs, sum(varints(r[3])), avgdl), r))
    ranked.sort(key=lambda x: (x[0], x[1][1]))
    return ranked


def _chunks(items: list[tuple[int, int, int]], size: int) -> Iterator[list[tuple[int, int, int]]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
