"""SQL for quote search: FTS5 candidates, the index vocabulary, where texts stand, neighbours.

The index is over table ``texts`` (a chapter stored twice shares its texts); a search finds
texts, then the paragraphs (story, chapter, position) that hold them.

FTS5 queries arrive already built and escaped by bot/search.py; nothing here looks at user text.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from bot.models import IndexedText, Paragraph
from bot.store.base import SQLBase

# fts5vocab over the text index, per connection (a temp table works on a read-only file too)
_VOCAB = "temp.texts_vocab"
_CREATE_VOCAB = f"CREATE VIRTUAL TABLE IF NOT EXISTS {_VOCAB} USING fts5vocab(main, texts_fts, row)"
_VOCAB_BATCH = 4096


@dataclass(frozen=True, slots=True)
class StoryScope:
    """The stories a search looks in: ``story_ids``, or every story when None."""

    story_ids: tuple[int, ...] | None

    def over_paragraphs(self) -> str:
        """A WHERE fragment over paragraphs ``p`` (its parameters: ``params``)."""
        if self.story_ids is None:
            return ""
        # unary + keeps SQLite from probing (text_id, story_id) once per story id: for a
        # long list (a channel without mature stories) that is hundreds of probes per text
        return f" AND +p.story_id IN ({','.join('?' * len(self.story_ids))})"

    def over_texts(self) -> str:
        """A WHERE fragment over texts ``t``: some paragraph in scope holds the text."""
        if self.story_ids is None:
            return ""
        return (
            " AND EXISTS (SELECT 1 FROM paragraphs p WHERE p.text_id = t.id"
            f"{self.over_paragraphs()})"
        )

    @property
    def params(self) -> tuple[int, ...]:
        return self.story_ids or ()


class SearchSQL(SQLBase):
    _vocab_ready: bool = False

    async def story_scope(self, story_ids: Sequence[int]) -> StoryScope:
        """What limits a search to ``story_ids``: nothing when they are all the stories."""
        ids = tuple(dict.fromkeys(story_ids))
        total = await self._all("SELECT count(*) FROM stories")
        if ids and len(ids) >= int(total[0][0]):
            return StoryScope(None)
        return StoryScope(ids)

    async def search_candidates(
        self, fts_query: str, scope: StoryScope, limit: int, *, rank_cap: int = 0
    ) -> tuple[list[tuple[IndexedText, float]], bool]:
        """Texts in scope matching an FTS5 query with their BM25 rank (lower is better), and
        whether they are all the texts in scope that match.

        When more than ``limit`` match, BM25 picks the best ``limit`` if the query matches at
        most ``rank_cap`` texts of the whole index (BM25 costs a little for every matching row);
        otherwise the first ``limit`` come unranked (rank 0) and the caller ranks them by what
        they say.
        """
        if scope.story_ids == ():
            return [], True
        select = (
            "SELECT t.id, t.text, {rank} FROM texts_fts JOIN texts t ON t.id = texts_fts.rowid"
            f" WHERE texts_fts MATCH ?{scope.over_texts()}{{order}} LIMIT ?"
        )
        rows = await self._all(
            select.format(rank="0.0", order=""), (fts_query, *scope.params, limit + 1)
        )
        complete = len(rows) <= limit
        if not complete and rank_cap > 0:
            count = await self._all(
                "SELECT count(*) FROM (SELECT rowid FROM texts_fts"
                " WHERE texts_fts MATCH ? LIMIT ?)",
                (fts_query, rank_cap + 1),
            )
            if int(count[0][0]) <= rank_cap:
                rows = await self._all(
                    select.format(rank="texts_fts.rank", order=" ORDER BY texts_fts.rank"),
                    (fts_query, *scope.params, limit),
                )
        found = [(IndexedText(r[0], r[1]), float(r[2])) for r in rows]
        return found[:limit], complete

    async def occurrences(self, text_id: int, scope: StoryScope, limit: int) -> list[Paragraph]:
        """Where a text stands in scope: its first paragraph in each story, by story id."""
        # SQLite takes the bare columns of an aggregate query from the row min() picked
        rows = await self._all(
            "SELECT p.id, p.story_id, p.chapter, min(p.position), p.scene, t.text"
            " FROM paragraphs p JOIN texts t ON t.id = p.text_id"
            f" WHERE p.text_id = ?{scope.over_paragraphs()}"
            " GROUP BY p.story_id ORDER BY p.story_id LIMIT ?",
            (text_id, *scope.params, limit),
        )
        return [Paragraph(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]

    async def _ensure_vocab(self) -> None:
        if not self._vocab_ready:
            await self.db.execute(_CREATE_VOCAB)
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
        async with self.db.execute(
            f"SELECT term, doc FROM {_VOCAB} WHERE length(term) BETWEEN ? AND ?",
            (min_length, max_length),
        ) as cursor:
            while batch := await cursor.fetchmany(_VOCAB_BATCH):
                out.extend((r[0], int(r[1])) for r in batch)
        total = await self._all("SELECT count(*) FROM texts")
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


def _chunks(items: list[tuple[int, int, int]], size: int) -> Iterator[list[tuple[int, int, int]]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
