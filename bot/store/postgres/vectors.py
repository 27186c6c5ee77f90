"""SQL for scene vectors in PostgreSQL: one embedding per scene text (bot/search/vectors.py).

The same table as the SQLite engine (bot/store/sqlite/vectors.py) with the vector as BYTEA
(int8 bytes) and its scale. No pgvector: ranking is a matrix product in numpy over the rows
read here, as on SQLite, so both engines rank alike and nothing needs an extension. A vector
goes with its scene text (``ON DELETE CASCADE``: the writer deletes the scene texts no story
holds any more), and one written for a text that is gone meanwhile is not written.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.store.interface import VectorRow
from bot.store.passages import SEPARATOR
from bot.store.postgres.base import PGBase
from bot.store.postgres.scenes import SCENE_TEXTS

_SCENE_BATCH = 500


class VectorSQL(PGBase):
    async def vector_signature(self, model: str) -> tuple[int, ...]:
        row = await self._one(
            "SELECT count(*), coalesce(max(text_id), 0) FROM scene_vectors WHERE model = $1",
            model,
        )
        assert row is not None
        return (int(row[0]), int(row[1]))

    async def vector_counts(self, model: str) -> dict[int, tuple[int, int]]:
        """Each story's scene texts: (how many, how many have a vector of ``model``)."""
        rows = await self._all(
            "SELECT s.story_id, count(*), count(v.text_id) FROM scenes s"
            " LEFT JOIN scene_vectors v ON v.text_id = s.text_id AND v.model = $1"
            " GROUP BY s.story_id",
            model,
        )
        return {int(r[0]): (int(r[1]), int(r[2])) for r in rows}

    async def vector_pending(self, model: str, story_id: int, limit: int) -> list[tuple[int, str]]:
        """Up to ``limit`` scene texts of a story with no vector of ``model``, in story order,
        each with its text (read through the story's first passage holding it)."""
        found = await self._all(
            "SELECT s.text_id, (array_agg(s.id ORDER BY s.first_position))[1] FROM scenes s"
            " LEFT JOIN scene_vectors v ON v.text_id = s.text_id AND v.model = $1"
            " WHERE s.story_id = $2 AND v.text_id IS NULL"
            " GROUP BY s.text_id ORDER BY min(s.first_position) LIMIT $3",
            model,
            story_id,
            limit,
        )
        if not found:
            return []
        texts = await self._all(SCENE_TEXTS, [int(r[1]) for r in found], SEPARATOR)
        bodies = {r[0]: r[1] for r in texts}
        return [(int(r[0]), bodies[r[1]]) for r in found if bodies.get(r[1])]

    async def write_vectors(self, model: str, rows: Sequence[tuple[int, float, bytes]]) -> int:
        """Store (text id, scale, int8 bytes) vectors of ``model``, replacing any other
        model's; a text that is gone is skipped. Returns how many were written."""
        latest = {int(text_id): (float(scale), bytes(v)) for text_id, scale, v in rows}
        if not latest:
            return 0
        return await self._execute(
            "INSERT INTO scene_vectors (text_id, model, scale, vector)"
            " SELECT u.i, $1, u.s, u.v FROM unnest($2::bigint[], $3::float8[], $4::bytea[])"
            " AS u(i, s, v) JOIN scene_texts st ON st.id = u.i"
            " ON CONFLICT (text_id) DO UPDATE SET model = excluded.model,"
            " scale = excluded.scale, vector = excluded.vector",
            model,
            list(latest),
            [s for s, _ in latest.values()],
            [v for _, v in latest.values()],
        )

    async def scene_vector_rows(self, model: str, story_ids: Sequence[int]) -> list[VectorRow]:
        """Every passage of ``story_ids`` whose text has a vector of ``model``, in story
        order (a text held twice comes once per passage holding it)."""
        ids = list(dict.fromkeys(story_ids))
        out: list[VectorRow] = []
        for at in range(0, len(ids), _SCENE_BATCH):
            rows = await self._all(
                "SELECT s.id, s.story_id, s.chapter, s.first_position, s.last_position,"
                " s.text_id, v.scale, v.vector FROM scenes s"
                " JOIN scene_vectors v ON v.text_id = s.text_id AND v.model = $1"
                " WHERE s.story_id = ANY($2::bigint[]) ORDER BY s.story_id, s.first_position",
                model,
                ids[at : at + _SCENE_BATCH],
            )
            out += [
                VectorRow(r[0], r[1], r[2], r[3], r[4], r[5], float(r[6]), bytes(r[7]))
                for r in rows
            ]
        return out

    async def forget_vectors(self, model: str | None = None) -> None:
        """Drop the vectors of every model but ``model`` (all of them with None)."""
        if model is None:
            await self._execute("DELETE FROM scene_vectors")
        else:
            await self._execute("DELETE FROM scene_vectors WHERE model <> $1", model)
