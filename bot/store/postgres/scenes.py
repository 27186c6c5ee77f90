"""SQL for scene search in PostgreSQL: passages' tsvectors of English (porter) stems, BM25
over the passages that hold the rarest words, each best text placed in the first story in
scope that holds it. The same contract as the SQLite engine (bot/store/sqlite/scenes.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from bot.models import ScenePassage
from bot.store.passages import SEPARATOR
from bot.store.postgres.base import PGBase
from bot.store.postgres.search import bm25
from bot.store.postgres.tokens import Tokenizer, literal

MAX_TERMS = 32

# each passage's text (by scene id, $1), its paragraphs joined by $2
SCENE_TEXTS = (
    "SELECT s.id, string_agg(t.text, $2 ORDER BY p.position) FROM scenes s"
    " JOIN paragraphs p ON p.story_id = s.story_id"
    " AND p.position BETWEEN s.first_position AND s.last_position"
    " JOIN texts t ON t.id = p.text_id WHERE s.id = ANY($1::bigint[]) GROUP BY s.id"
)


class SceneSQL(PGBase):
    stemmer: Tokenizer

    async def scene_stems(self, words: Sequence[str]) -> list[str]:
        return await asyncio.to_thread(self.stemmer.stems, list(words))

    async def scene_vocabulary(self) -> tuple[dict[str, int], int]:
        rows = await self._all("SELECT term, docs FROM scene_terms WHERE docs > 0")
        total = await self._value("SELECT docs FROM index_stats WHERE name = 'scene_texts'")
        return {r[0]: int(r[1]) for r in rows}, int(total or 0)

    async def scene_candidates(
        self, words: Sequence[str], story_ids: Sequence[int] | None, limit: int
    ) -> list[ScenePassage]:
        if limit < 1 or (story_ids is not None and not story_ids):
            return []
        # as FTS5 does with a query: every word through the index's own tokenizer
        wanted = [w for w in dict.fromkeys(list(words)[:MAX_TERMS]) if w]
        terms = await asyncio.to_thread(self.stemmer.query_stems, wanted) if wanted else []
        if not terms:
            return []
        held = "o.text_id = r.id"
        in_scope = ""
        params: list[object] = []
        if story_ids is not None:
            held += " AND o.story_id = ANY($4::bigint[])"
            in_scope = (
                " AND EXISTS (SELECT 1 FROM scenes o WHERE o.text_id = st.id"
                " AND o.story_id = ANY($4::bigint[]))"
            )
            params = [list(dict.fromkeys(story_ids))]
        matched = (
            f"SELECT st.id, st.tokens, st.tsv FROM scene_texts st WHERE st.tsv @@ $1::tsquery"
            f"{in_scope}"
        )
        # limited to some stories: planned for them (``_all_planned``), or a plan made for
        # any stories walks every matching passage of the library for the few in scope
        found = await (self._all_planned if params else self._all)(
            "SELECT s.id, s.story_id, s.chapter, s.first_position, s.last_position, r.rank"
            f" FROM ({bm25('scene_terms', 'scene_texts', matched)} ORDER BY rank, m.id LIMIT $3) r,"
            f" LATERAL (SELECT o.* FROM scenes o WHERE {held}"
            " ORDER BY o.story_id, o.first_position LIMIT 1) s ORDER BY r.rank, r.id",
            " | ".join(literal(t) for t in terms),
            terms,
            limit,
            *params,
        )
        if not found:
            return []
        texts = await self.scene_texts([r[0] for r in found])
        return [
            ScenePassage(r[0], r[1], r[2], r[3], r[4], texts.get(r[0], ""), float(r[5]))
            for r in found
        ]

    async def scene_texts(self, scene_ids: Sequence[int]) -> dict[int, str]:
        if not scene_ids:
            return {}
        rows = await self._all(SCENE_TEXTS, list(scene_ids), SEPARATOR)
        return {r[0]: r[1] for r in rows}

    async def story_passages(self, story_id: int) -> list[tuple[int, int, int]]:
        rows = await self._all(
            "SELECT chapter, first_position, last_position FROM scenes WHERE story_id = $1"
            " ORDER BY first_position",
            story_id,
        )
        return [(r[0], r[1], r[2]) for r in rows]
