"""SQL for quote search in PostgreSQL: tsvector/GIN candidates, BM25 over a bounded set, the
vocabulary, where texts stand, neighbours.

Queries are written in lexemes (bot/store/postgres/tokens.py quotes each word), so nothing a
user typed is tsquery syntax: a phrase is ``'a' <-> 'b'``, all words ``'a' & 'b'``. Ranking
is FTS5's BM25 (k1 1.2, b 0.75, the same idf), over the texts that matched, with the index
statistics the writer keeps, and only when at most ``rank_cap`` texts match: so a rank means
the same on both engines, and ranking reads those texts only. A quote search stage ranks its
few hundred texts here, from each one's counts of the query terms (``_bm25``); scene search
ranks in SQL (``bm25``).

Counting the texts that match (up to ``rank_cap`` and one more) costs what finding them
costs: GIN reads the postings of the query's words, whatever the limit. So a search of the
whole library for all words or two of the keys reads the banded index, a band of text ids
at a time, and stops once it has enough (``BANDED_TEXTS``). A search limited to
some stories counts the matching texts of those stories; PostgreSQL reads either the
stories' paragraphs or the index, whichever its plan finds smaller, so such a statement is
planned for its own stories on every call (``_all_planned``): a plan made for any stories
reads every text of the library that holds the words, walking them for the few in scope.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Collection, Sequence
from typing import Any

from bot.models import IndexedText, Paragraph
from bot.store.interface import Found
from bot.store.postgres.base import PGBase
from bot.store.postgres.schema import BAND_EDGES, BAND_LEXEME_BYTES
from bot.store.postgres.tokens import MAX_LEXEME_BYTES, literal

_PARAGRAPH_COLUMNS = "p.id, p.story_id, p.chapter, p.position, p.scene, t.text"


def phrase_query(words: Sequence[str]) -> str:
    return " <-> ".join(literal(w) for w in words)


def all_words_query(words: Sequence[str]) -> str:
    return " & ".join(literal(w) for w in dict.fromkeys(words))


def _any_of(alternatives: Sequence[str]) -> str:
    return "(" + " | ".join(literal(w) for w in alternatives) + ")"


def any_two_queries(keys: Sequence[Sequence[str]]) -> list[str]:
    """Texts holding at least two of the keys, as AND queries any of which may match: each
    key with any of the keys after it (``k1 & (k2 | k3 | k4)``, ``k2 & (k3 | k4)``,
    ``k3 & k4``), the same texts as one query per pair. GIN answers an AND from its rarer
    side, skipping through the other side's postings, where one query ORing the pairs reads
    every posting of every key; and a key is read once as the rarer side, where one query
    per pair read it once for every key after it. The keys come rarest first."""
    if len(keys) == 1:
        return [_any_of(keys[0])]
    return [
        f"{_any_of(key)} & {_any_of([w for later in keys[i + 1 :] for w in later])}"
        for i, key in enumerate(keys[:-1])
    ]


def bm25(terms: str, stats: str, matched: str) -> str:
    """A query giving (id, rank) for the documents ``matched`` (a SELECT of id, tokens, tsv),
    BM25 as FTS5 computes it (lower is better; ``_bm25`` computes the same in Python, to the
    last bit); the query words are parameter $2. The statistics and each word's idf are
    computed once (MATERIALIZED), not per document; a document's query words are picked out
    of its tsvector in C (the stored vectors carry no weights: the query words are given
    weight A, then only those kept), not row by row. Each document's terms are summed in the
    order of the terms, the rows coming sorted by document and term from one sort (an
    aggregate's own ORDER BY sorted each document's few rows apart: a sort per document).
    The terms' order is their bytes' (``COLLATE "C"``, a tsvector's order of its lexemes),
    not the database's collation: with another, a sum could differ in its last bit."""
    return (
        f"WITH s AS MATERIALIZED (SELECT greatest(docs, 1)::float8 AS n,"
        f" greatest(tokens, 1)::float8 / greatest(docs, 1) AS avgdl"
        f" FROM index_stats WHERE name = '{stats}'),"
        f" q AS MATERIALIZED (SELECT w.term, greatest(ln((s.n - coalesce(k.docs, 0) + 0.5)"
        f" / (coalesce(k.docs, 0) + 0.5)), 1e-6) AS idf"
        f" FROM s, unnest($2::text[]) AS w(term) LEFT JOIN {terms} k ON k.term = w.term),"
        f" m AS ({matched})"
        f" SELECT m.id, -sum(m.x) AS rank FROM (SELECT m.id,"
        f" q.idf * f.n * 2.2 / (f.n + 1.2 * (0.25 + 0.75 * m.tokens / s.avgdl)) AS x"
        f" FROM s, m, LATERAL (SELECT u.lexeme, array_length(u.positions, 1) AS n"
        f" FROM unnest(ts_filter(setweight(m.tsv, 'A', $2), '{{a}}')) AS u) AS f"
        f' JOIN q ON q.term = f.lexeme ORDER BY m.id, q.term COLLATE "C") AS m'
        f" GROUP BY m.id"
    )


# ---- the banded index ------------------------------------------------------------------------
# A search of the whole library for all words or two of the keys reads the banded index
# (schema step 3 -> 4) band by band, the lowest text ids first, and stops at its LIMIT:
# GIN reads the whole posting list of every word it is asked for before it returns a row,
# and for common words that was most of a search (two common words of four: 15-25 ms on the
# 100 MB library, where the first 301 texts holding them are in the first band). The texts
# come band by band, each band's as its rows lie, which is the order of their ids as the
# writer appends them: the texts the plain index finds first. The query is written once
# with BAND where each lexeme names its band, and each band's is made in SQL.
BAND = "{b}"
_LEXEME = re.compile(r"'((?:[^']|'')*)'")


def banded(query: str) -> str:
    """An all-words or any-of query (not a phrase) in the banded index's lexemes."""
    return _LEXEME.sub(lambda m: f"'{BAND}:{m.group(1)}'", query)


def bandable(terms: Sequence[str]) -> bool:
    """Whether the banded index holds every one of these lexemes."""
    return all(len(t.encode()) <= BAND_LEXEME_BYTES and BAND not in t for t in terms)


# The texts matching any of the banded queries $1 (text[]), band by band, as ``t``. $1 is read
# through a subquery: a plan made for its value and one made for any value are then the same
# plan (see ``_CANDIDATES``).
BANDED_TEXTS = (
    f"generate_series(0, width_bucket((SELECT max(id) FROM texts), '{BAND_EDGES}'::bigint[]))"
    " AS b(band), LATERAL (SELECT t.id, t.text, t.tokens, t.tsv FROM texts t"
    " WHERE storybot_banded(t.tsv, t.id) @@ ANY(ARRAY(SELECT replace(q, '" + BAND + "',"
    " b.band::text)::tsquery FROM unnest((SELECT $1::text[])) AS q))) AS t"
)


def _text_scope(param: int) -> str:
    return (
        " AND EXISTS (SELECT 1 FROM paragraphs p WHERE p.text_id = t.id"
        f" AND p.story_id = ANY(${param}::bigint[]))"
    )


# The candidates of a quote search stage in one round trip. $1 the tsquery (``_ONE``), or the
# tsqueries any of which may match, as text (``_ANY``: a tsquery[] parameter would cost each
# new connection a type lookup); $2 their terms (for BM25), ($3 the stories); {look} how
# many matching texts to look at, {limit} the limit, {cap} the rank cap (numbers written in:
# constants of the callers). The texts found, in the order found (``k``), with how many were
# found (``n``): the first {limit} of them, or, when they are to be ranked (more than {limit}
# and at most {cap}), all of them with the query terms each holds and how often ("3:door"),
# and what BM25 needs of the index statistics (``_S``: documents, tokens, and the documents
# holding each of the terms $2). The ranking is ``_bm25``'s, here:
# the BM25 of a few hundred documents in SQL (a row per document and term, grouped, each
# group's terms sorted for a sum in a fixed order) was most of such a statement's time, and
# planning it another tenth. Whether to rank is asked once (``_RANKING``, a condition on no
# row of its own, evaluated before the rows), so texts that will not be ranked are not cut.
# The numbers written in and the parameters read through subqueries leave nothing a plan for
# the parameters' values could know better than a plan for any: PostgreSQL keeps the banded
# statement's plan after five calls (its generic plan) instead of planning each call again
# (1 ms of a 4-5 ms statement); a parameter it could see (an array's length, a LIMIT) made
# the plan for any value look dearer, and each call was planned.
_ONE = "t.tsv @@ $1::tsquery"
_ANY = "t.tsv @@ ANY($1::text[]::tsquery[])"
_RANKING = "(SELECT n FROM n) > {limit} AND (SELECT n FROM n) <= {cap}"
_S = (
    "(SELECT ARRAY[docs, tokens] || ARRAY(SELECT coalesce(k.docs, 0)::bigint"
    " FROM unnest((SELECT $2::text[])) WITH ORDINALITY AS w(term, i) LEFT JOIN terms k"
    " ON k.term = w.term ORDER BY w.i) FROM index_stats WHERE name = 'texts')"
)
_CANDIDATES = (
    "WITH found AS MATERIALIZED (SELECT t.id, t.text, t.tokens, t.tsv,"
    " row_number() OVER () AS k FROM {texts} LIMIT {look}),"
    " n AS MATERIALIZED (SELECT count(*) AS n FROM found)"
    f" SELECT f.id, f.text, f.tokens, (SELECT n FROM n), CASE WHEN {_RANKING} THEN"
    " ARRAY(SELECT array_length(u.positions, 1) || ':' || u.lexeme"
    " FROM unnest(ts_filter(setweight(f.tsv, 'A', $2), '{a}')) AS u) END,"
    f" CASE WHEN f.k = 1 AND {_RANKING} THEN {_S} END"
    f" FROM found f WHERE f.k <= {{limit}} OR ({_RANKING}) ORDER BY f.k"
)


# A phrase over the whole library: the texts GIN finds by the phrase's RAREST_WORDS rarest words
# (the fewest texts in ``terms``; $3 the words' lexemes quoted, beside their terms $2), the
# phrase checked on each one's tsvector (``ts_match_vq``, what ``@@`` calls: PostgreSQL does
# not give it to the index). GIN given the phrase reads the postings of every word of it,
# "the" and "was" too (about 220,000 and 135,000 of the 404,000 texts of the 100 MB
# library: 15-25 ms of a 25-50 ms statement), for texts that hold the rarest words nearly
# all (2,563 against 2,796 for "or was the only one"). The same texts in the same order:
# a text holding the phrase holds its rarest words, and the bitmap's rows come as they lie.
RAREST_WORDS = 3
_PHRASE = (
    "t.tsv @@ (SELECT string_agg(w.l, ' & ')::tsquery FROM (SELECT w.l"
    " FROM unnest((SELECT $2::text[]), (SELECT $3::text[])) WITH ORDINALITY AS w(term, l, i)"
    " LEFT JOIN terms k ON k.term = w.term ORDER BY coalesce(k.docs, 0), w.i"
    f" LIMIT {RAREST_WORDS}) AS w) AND ts_match_vq(t.tsv, $1::tsquery)"
)


# A text that may hold a phrase (``texts_with_all_besides``), asked of its tsvector in SQL
# (a recheck in C) rather than of the text in Python: it holds the phrase's lexemes one
# position after another, or it has 256 words or more, where a tsvector may have lost
# positions (it keeps 256 per lexeme, up to position 16,383) and the phrase is looked for
# in the text itself. The tsvector's positions are the words as ``words`` cuts the text
# (bot/store/postgres/tokens.py), so a text of fewer words that fails the test cannot hold
# the phrase. On the 100 MB library a query's 100-900 texts holding its rarest words were
# all sent and read to rule its phrase out; the tsvector says no to most of them.
# Over the whole library the test is made as the plain index's texts are read, and the
# texts that may hold the phrase are counted against the limit (None when more may hold it):
# counting the texts holding the words first (the banded index, up to the limit and one more)
# read each of them twice, and when there were more (2,796 hold "only", "or" and "one")
# the count was thrown away and the phrase asked of every one again (``texts_with_phrase``):
# 8-14 ms of server CPU of the 100 MB library's slowest "word dropped" queries. Its
# ``ts_match_vq`` is not given to the index (GIN would read the postings of every phrase word).
_MAY_HOLD = (
    " AND (ts_match_vq(t.tsv, (SELECT ${param}::tsquery)) OR t.tokens > 16383 OR (t.tokens >= 256"
    " AND EXISTS (SELECT 1 FROM unnest(ts_filter(setweight(t.tsv, 'A', ${words}::text[]),"
    " '{{a}}')) AS u WHERE cardinality(u.positions) >= 256)))"
)


def _bm25(rows: Sequence[Any], terms: Sequence[str], limit: int) -> list[tuple[int, str, float]]:
    """The ``limit`` best of ``rows`` (``_CANDIDATES``'s, to be ranked) by FTS5's BM25 (k1
    1.2, b 0.75, the same idf; lower is better), then id: each text's terms summed in the
    order of the terms, one float operation after another as PostgreSQL computes it in SQL
    (``bm25``), so the ranks are those it gives, to the last bit. A text holding none of the
    terms is left out, as the join left it out there."""
    stats = rows[0][5]
    docs, tokens, held = stats[0], stats[1], stats[2:]
    n = float(max(docs, 1))
    avgdl = float(max(tokens, 1)) / max(docs, 1)
    idf = {
        term: max(math.log((n - held[i] + 0.5) / (held[i] + 0.5)), 1e-6)
        for i, term in enumerate(terms)
    }
    repeats = Counter(terms)  # a term given twice counts twice, as in SQL
    # "3:door" (the text holds "door" three times) -> idf * 3 * 2.2, 3, how many times given
    parts: dict[str, tuple[float, int, int]] = {}
    ranked: list[tuple[float, int, str]] = []
    for r in rows:
        norm = 1.2 * (0.25 + 0.75 * r[2] / avgdl)
        total: float | None = None
        # the text's terms as its tsvector orders its lexemes (bytewise: the terms' sorted
        # order, which the SQL summed in)
        for held_term in r[4]:
            part = parts.get(held_term)
            if part is None:
                count, _, term = held_term.partition(":")
                f = int(count)
                part = parts[held_term] = (idf[term] * f * 2.2, f, repeats[term])
            for _ in range(part[2]):
                x = part[0] / (part[1] + norm)
                total = x if total is None else total + x
        if total is not None:
            ranked.append((-total, r[0], r[1]))
    ranked.sort()
    return [(i, text, rank) for rank, i, text in ranked[:limit]]


def candidates_sql(
    *, many: bool, scoped: bool, banded: bool = False, phrase: bool = False, limit: int, cap: int
) -> str:
    """The statement of a quote search stage (``_CANDIDATES``): one tsquery or several, all
    stories or some; ``banded``: banded queries (text[]) over the banded index, all stories;
    ``phrase``: a phrase over the whole library, found by its rarest words (``_PHRASE``);
    the first ``limit`` texts found, or the best ``limit`` when more and at most ``cap``."""
    if banded:
        texts = BANDED_TEXTS
    elif phrase:
        texts = "texts t WHERE " + _PHRASE
    else:
        texts = "texts t WHERE " + (_ANY if many else _ONE) + (_text_scope(3) if scoped else "")
    numbers = {"{look}": max(limit, cap) + 1, "{limit}": limit, "{cap}": cap}
    sql = _CANDIDATES
    for name, value in numbers.items():
        sql = sql.replace(name, str(int(value)))
    return sql.replace("{texts}", texts)


def _besides_sql(
    words: Sequence[str],
    story_ids: Sequence[int] | None,
    limit: int,
    besides: Collection[int],
    phrase: Sequence[str] | None,
) -> tuple[str, list[Any]]:
    """``texts_with_all_besides``'s statement and parameters: the whole library's words in the
    banded index, or with a phrase in the plain one, the phrase asked as the texts are read
    and those that may hold it counted (``_MAY_HOLD``); some stories' texts counted, then
    asked the phrase."""
    scoped = story_ids is not None
    query: Any = all_words_query(words)
    texts = "texts t WHERE t.tsv @@ $1::tsquery" + (_text_scope(3) if scoped else "")
    checked = bool(phrase) and all(len(w.encode()) <= MAX_LEXEME_BYTES for w in phrase or [])
    if not scoped and bandable(words) and not checked:  # the whole library: banded
        texts, query = BANDED_TEXTS, [banded(query)]
    params: list[Any] = [query, list(dict.fromkeys(besides))]
    if story_ids is not None:
        params.append(list(story_ids))
    maybe = found = ""
    if phrase and checked:
        params += [phrase_query(phrase), list(dict.fromkeys(phrase))]
        maybe = _MAY_HOLD.format(param=len(params) - 1, words=len(params))
        if not scoped:  # one read: those that may hold it are counted (_MAY_HOLD)
            found, maybe = maybe, ""
    sql = (
        f"WITH r AS MATERIALIZED (SELECT t.id FROM {texts}{found} LIMIT {limit + 1})"
        " SELECT NULL::bigint, NULL::text, count(*) FROM r UNION ALL"
        " SELECT t.id, t.text, NULL FROM r JOIN texts t ON t.id = r.id"
        f" WHERE (SELECT count(*) FROM r) <= {limit}"
        f" AND r.id <> ALL(coalesce((SELECT $2::bigint[]), '{{}}')){maybe}"
    )
    return sql, params


class SearchSQL(PGBase):
    async def texts_with_all(
        self, words: Sequence[str], story_ids: Sequence[int] | None, limit: int, *, rank_cap: int
    ) -> Found:
        return await self._candidates(
            [all_words_query(words)],
            list(dict.fromkeys(words)),
            story_ids,
            limit,
            rank_cap,
            bands=True,
        )

    async def texts_with_phrase(
        self, words: Sequence[str], story_ids: Sequence[int] | None, limit: int
    ) -> Found:
        if story_ids is not None or not words:
            return await self._candidates([phrase_query(words)], list(words), story_ids, limit, 0)
        rows = await self._all(
            candidates_sql(many=False, scoped=False, phrase=True, limit=limit, cap=0),
            phrase_query(words),
            list(words),
            [literal(w) for w in words],
        )
        found = int(rows[0][3]) if rows else 0
        return [(IndexedText(r[0], r[1]), 0.0) for r in rows], found <= limit

    async def texts_with_all_besides(
        self,
        words: Sequence[str],
        story_ids: Sequence[int] | None,
        limit: int,
        besides: Collection[int],
        *,
        within: int | None = None,  # not used: every text holding the words is counted
        phrase: Sequence[str] | None = None,
    ) -> list[IndexedText] | None:
        if not words or (story_ids is not None and not story_ids):
            return []
        # one round trip: how many texts hold the words (up to limit + 1), and their texts
        # only when there are few enough; the limit written in and the texts besides read
        # through a subquery, so the whole library's statement keeps its plan (as
        # ``_CANDIDATES``)
        limit = int(limit)
        sql, params = _besides_sql(words, story_ids, limit, besides, phrase)
        rows = await (self._all_planned if story_ids is not None else self._all)(sql, *params)
        if any(r[0] is None and r[2] > limit for r in rows):
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
        terms = list(dict.fromkeys(w for key in keys for w in key))
        return await self._candidates(
            any_two_queries(keys), terms, story_ids, limit, rank_cap, bands=True
        )

    async def _candidates(
        self,
        queries: list[str],
        terms: list[str],
        story_ids: Sequence[int] | None,
        limit: int,
        rank_cap: int,
        *,
        bands: bool = False,
    ) -> Found:
        """Texts in scope matching any of ``queries`` with their rank, and whether they are all
        that match (see the SQLite engine's ``_candidates``: the same contract), in one query:
        the texts in scope that match, up to the larger of ``limit`` and ``rank_cap`` (and
        one more), ranked by BM25 when there are more than ``limit`` and at most
        ``rank_cap``; otherwise the first ``limit`` as found. ``bands``: the queries are
        all-words or any-of queries, which the banded index answers for the whole library."""
        if not terms or (story_ids is not None and not story_ids):
            return [], True
        scoped = story_ids is not None
        params = [list(story_ids)] if story_ids is not None else []
        banded_index = bands and not scoped and bandable(terms)
        if banded_index:
            queries = [banded(q) for q in queries]
        rows = await (self._all_planned if scoped else self._all)(
            candidates_sql(
                many=len(queries) > 1,
                scoped=scoped,
                banded=banded_index,
                limit=limit,
                cap=rank_cap,
            ),
            queries[0] if len(queries) == 1 and not banded_index else queries,
            terms,
            *params,
        )
        found = int(rows[0][3]) if rows else 0
        if limit < found <= rank_cap:
            chosen = _bm25(rows, terms, limit)
        else:
            chosen = [(r[0], r[1], 0.0) for r in rows]
        return [(IndexedText(i, text), rank) for i, text, rank in chosen], found <= limit

    async def occurrences(
        self, text_ids: Sequence[int], story_ids: Sequence[int] | None, per_text: int
    ) -> dict[int, list[Paragraph]]:
        ids = list(dict.fromkeys(text_ids))
        if not ids or (story_ids is not None and not story_ids):
            return {}
        scope = " AND p.story_id = ANY($3::bigint[])" if story_ids is not None else ""
        params = [list(story_ids)] if story_ids is not None else []
        rows = await self._all(
            "SELECT o.id, o.story_id, o.chapter, o.position, o.scene, t.text, x.tid"
            " FROM unnest($1::bigint[]) AS x(tid) JOIN texts t ON t.id = x.tid,"
            " LATERAL (SELECT DISTINCT ON (p.story_id) p.id, p.story_id, p.chapter, p.position,"
            f" p.scene FROM paragraphs p WHERE p.text_id = x.tid{scope}"
            " ORDER BY p.story_id, p.position LIMIT $2) AS o ORDER BY x.tid, o.story_id",
            ids,
            per_text,
            *params,
        )
        out: dict[int, list[Paragraph]] = {}
        for r in rows:
            out.setdefault(r[6], []).append(Paragraph(r[0], r[1], r[2], r[3], r[4], r[5]))
        return out

    async def paragraphs_with_phrase(
        self, words: Sequence[str], story_ids: Sequence[int] | None, limit: int
    ) -> list[Paragraph]:
        if not words or (story_ids is not None and not story_ids):
            return []
        scope = " AND p.story_id = ANY($3::bigint[])" if story_ids is not None else ""
        params = [list(story_ids)] if story_ids is not None else []
        rows = await (self._all_planned if story_ids is not None else self._all)(
            f"SELECT {_PARAGRAPH_COLUMNS} FROM texts t JOIN paragraphs p ON p.text_id = t.id"
            f" WHERE t.tsv @@ $1::tsquery{scope} ORDER BY t.id, p.story_id, p.position LIMIT $2",
            phrase_query(words),
            limit,
            *params,
        )
        return [Paragraph(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]

    async def vocabulary(
        self, min_length: int, max_length: int
    ) -> tuple[list[tuple[str, int]], int]:
        rows = await self._all(
            "SELECT term, docs FROM terms WHERE docs > 0"
            ' AND char_length(term) BETWEEN $1 AND $2 ORDER BY term COLLATE "C"',
            min_length,
            max_length,
        )
        total = await self._value("SELECT docs FROM index_stats WHERE name = 'texts'")
        return [(r[0], int(r[1])) for r in rows], int(total or 0)

    async def library_signature(self) -> tuple[int, ...]:
        row = await self._one(
            "SELECT (SELECT version FROM library_version), count(*), coalesce(max(id), 0),"
            " coalesce(sum(paragraph_count), 0), coalesce(sum(words), 0) FROM stories"
        )
        assert row is not None
        return tuple(int(v) for v in row)

    async def neighbours(
        self, wanted: Sequence[tuple[int, int, int]]
    ) -> dict[tuple[int, int], str]:
        unique = list(dict.fromkeys(wanted))
        if not unique:
            return {}
        rows = await self._all(
            "SELECT DISTINCT p.story_id, p.position, t.text"
            " FROM unnest($1::bigint[], $2::int[], $3::int[]) AS w(s, c, pos)"
            " JOIN paragraphs p ON p.story_id = w.s AND p.chapter = w.c"
            " AND p.position IN (w.pos - 1, w.pos + 1) JOIN texts t ON t.id = p.text_id",
            [w[0] for w in unique],
            [w[1] for w in unique],
            [w[2] for w in unique],
        )
        return {(r[0], r[1]): r[2] for r in rows}
