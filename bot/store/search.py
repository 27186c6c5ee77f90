"""SQL for quote search: FTS5 candidates, the index vocabulary, neighbouring paragraphs.

FTS5 queries arrive already built and escaped by bot/search.py; nothing here looks at user text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

from bot.models import Paragraph

# fts5vocab over the paragraph index, per connection (a temp table works on a read-only file too)
_VOCAB = "temp.paragraphs_vocab"
_CREATE_VOCAB = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {_VOCAB} USING fts5vocab(main, paragraphs_fts, row)"
)
_VOCAB_BATCH = 4096


@dataclass(frozen=True, slots=True)
class StoryScope:
    """A WHERE fragment (over paragraphs ``p``) and its parameters."""

    where: str
    params: tuple[int, ...]


class SearchSQL:
    db: aiosqlite.Connection
    _vocab_ready: bool = False

    async def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        async with self.db.execute(sql, tuple(params)) as cursor:
            return list(await cursor.fetchall())

    async def story_scope(self, story_ids: Sequence[int]) -> StoryScope:
        """What limits a search to ``story_ids``: nothing when they are all the stories."""
        ids = tuple(dict.fromkeys(story_ids))
        total = await self._rows("SELECT count(*) FROM stories")
        if ids and len(ids) >= int(total[0][0]):
            return StoryScope("", ())
        if not ids:
            return StoryScope(" AND 0", ())
        return StoryScope(f" AND p.story_id IN ({','.join('?' * len(ids))})", ids)

    async def search_candidates(
        self, fts_query: str, scope: StoryScope, limit: int, *, rank_cap: int = 0
    ) -> tuple[list[tuple[Paragraph, float]], bool]:
        """Paragraphs matching an FTS5 query with their BM25 rank (lower is better), and
        whether they are all the paragraphs in scope that match.

        When more than ``limit`` match, BM25 picks the best ``limit`` if the query matches at
        most ``rank_cap`` rows of the whole index (BM25 costs a little for every matching row);
        otherwise the first ``limit`` come unranked (rank 0) and the caller ranks them by what
        they say.
        """
        select = (
            "SELECT p.id, p.story_id, p.chapter, p.position, p.scene, p.text, {rank}"
            " FROM paragraphs_fts JOIN paragraphs p ON p.id = paragraphs_fts.rowid"
            f" WHERE paragraphs_fts MATCH ?{scope.where}{{order}} LIMIT ?"
        )
        rows = await self._rows(
            select.format(rank="0.0", order=""), (fts_query, *scope.params, limit + 1)
        )
        complete = len(rows) <= limit
        if not complete and rank_cap > 0:
            count = await self._rows(
                "SELECT count(*) FROM (SELECT rowid FROM paragraphs_fts"
                " WHERE paragraphs_fts MATCH ? LIMIT ?)",
                (fts_query, rank_cap + 1),
            )
            if int(count[0][0]) <= rank_cap:
                rows = await self._rows(
                    select.format(
                        rank="paragraphs_fts.rank", order=" ORDER BY paragraphs_fts.rank"
                    ),
                    (fts_query, *scope.params, limit),
                )
        found = [(Paragraph(r[0], r[1], r[2], r[3], r[4], r[5]), float(r[6])) for r in rows]
        return found[:limit], complete

    async def other_texts(
        self, fts_query: str, scope: StoryScope, seen: Iterable[str], limit: int, *, scan: int
    ) -> tuple[list[Paragraph], bool]:
        """Paragraphs in scope matching an FTS5 query whose text is none of ``seen``, and
        whether they are all of them (at most ``limit``, and at most ``scan`` paragraphs of the
        whole index match the query; beyond that nothing is read).

        A library repeats passages (the benchmark holds every line under ~458 titles), so the
        first paragraphs of a query often say all there is to say: reading the others' text
        (microseconds each) proves it far more cheaply than an FTS5 phrase of common words.
        """
        rows = await self._rows(
            "WITH m AS MATERIALIZED (SELECT rowid AS id FROM paragraphs_fts"
            "  WHERE paragraphs_fts MATCH ? LIMIT ?),"
            " n AS (SELECT count(*) AS total FROM m)"
            " SELECT n.total, t.* FROM n LEFT JOIN"
            " (SELECT p.id, p.story_id, p.chapter, p.position, p.scene, p.text"
            "  FROM m JOIN paragraphs p ON p.id = m.id"
            "  WHERE (SELECT total FROM n) <= ?"
            f"  AND p.text NOT IN (SELECT value FROM json_each(?)){scope.where} LIMIT ?) t",
            (fts_query, scan + 1, scan, json.dumps(list(seen)), *scope.params, limit + 1),
        )
        found = [Paragraph(r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows if r[1] is not None]
        return found[:limit], int(rows[0][0]) <= scan and len(found) <= limit

    async def _ensure_vocab(self) -> None:
        if not self._vocab_ready:
            await self.db.execute(_CREATE_VOCAB)
            self._vocab_ready = True

    async def vocabulary(self, min_length: int, max_length: int) -> list[tuple[str, int]]:
        """Every indexed term of a plausible word length, with its paragraph count, by term.

        This reads the whole index (about 0.7 s for 100 MB of text): call it rarely, and cache.
        """
        await self._ensure_vocab()
        out: list[tuple[str, int]] = []
        async with self.db.execute(
            f"SELECT term, doc FROM {_VOCAB} WHERE length(term) BETWEEN ? AND ?",
            (min_length, max_length),
        ) as cursor:
            while batch := await cursor.fetchmany(_VOCAB_BATCH):
                out.extend((r[0], int(r[1])) for r in batch)
        return out

    async def library_signature(self) -> tuple[int, ...]:
        """Changes whenever the indexed text may have changed (by this connection or another)."""
        version = await self._rows("PRAGMA data_version")
        stories = await self._rows(
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
                "(story_id = ? AND chapter = ? AND position IN (?, ?))" for _ in chunk
            )
            params = [v for s, c, p in chunk for v in (s, c, p - 1, p + 1)]
            for r in await self._rows(
                f"SELECT story_id, position, text FROM paragraphs WHERE {clauses}", params
            ):
                out[(r[0], r[1])] = r[2]
        return out


def _chunks(items: list[tuple[int, int, int]], size: int) -> Iterator[list[tuple[int, int, int]]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
