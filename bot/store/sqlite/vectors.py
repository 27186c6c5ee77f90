"""SQL for scene vectors: one embedding per scene text (bot/search/vectors.py).

Table ``scene_vectors`` holds, for a scene text (``scene_texts.id``, see bot/store/scenes.py),
the model that embedded it, and its vector as int8 bytes with one scale (vector ≈ bytes /
scale). Vectors are stored with the passage texts and shared like them: a passage held by
two stories is one scene text, embedded once. A vector goes in the transaction that drops
its text (``DELETE_SCENE_ROWS`` in bot/store/scenes.py), and a vector written for a text
that is gone meanwhile (a story re-read while the worker embedded it) is not written.

Nothing here needs an extension: ranking is a matrix product in numpy over the rows read
by ``scene_vector_rows``, so the same SQL (plain tables, a BLOB and a REAL) serves any
engine; a PostgreSQL twin stores ``vector`` as BYTEA.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.store.interface import VectorRow
from bot.store.sqlite.base import SQLBase

BATCH_ROWS = 4096


class VectorSQL(SQLBase):
    async def vector_signature(self, model: str) -> tuple[int, ...]:
        rows = await self._all(
            "SELECT count(*), coalesce(max(text_id), 0) FROM scene_vectors WHERE model = ?",
            (model,),
        )
        return (int(rows[0][0]), int(rows[0][1]))

    async def vector_counts(self, model: str) -> dict[int, tuple[int, int]]:
        """Each story's scene texts: (how many, how many have a vector of ``model``)."""
        rows = await self._all(
            "SELECT s.story_id, count(*), count(v.text_id) FROM scenes s"
            " LEFT JOIN scene_vectors v ON v.text_id = s.text_id AND v.model = ?"
            " GROUP BY s.story_id",
            (model,),
        )
        return {int(r[0]): (int(r[1]), int(r[2])) for r in rows}

    async def vector_pending(self, model: str, story_id: int, limit: int) -> list[tuple[int, str]]:
        """Up to ``limit`` scene texts of a story with no vector of ``model``, in story order,
        each with its text."""
        found = await self._all(
            "SELECT s.text_id FROM scenes s"
            " LEFT JOIN scene_vectors v ON v.text_id = s.text_id AND v.model = ?"
            " WHERE s.story_id = ? AND v.text_id IS NULL"
            " GROUP BY s.text_id ORDER BY min(s.first_position) LIMIT ?",
            (model, story_id, limit),
        )
        ids = [int(r[0]) for r in found]
        if not ids:
            return []
        bodies = dict(
            await self._all(
                f"SELECT id, text FROM scene_bodies WHERE id IN ({','.join('?' * len(ids))})",
                ids,
            )
        )
        return [(i, bodies[i]) for i in ids if bodies.get(i)]

    async def write_vectors(self, model: str, rows: Sequence[tuple[int, float, bytes]]) -> int:
        """Store (text id, scale, int8 bytes) vectors of ``model``, replacing any other
        model's; a text that is gone is skipped. Returns how many were written."""
        written = 0
        async with self.transaction() as db:
            for text_id, scale, vector in rows:
                cursor = await db.execute(
                    "INSERT OR REPLACE INTO scene_vectors (text_id, model, scale, vector)"
                    " SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM scene_texts WHERE id = ?1)",
                    (text_id, model, scale, vector),
                )
                written += max(cursor.rowcount, 0)
                await cursor.close()
        return written

    async def scene_vector_rows(self, model: str, story_ids: Sequence[int]) -> list[VectorRow]:
        """Every passage of ``story_ids`` whose text has a vector of ``model``, in story
        order (a text held twice comes once per passage holding it)."""
        out: list[VectorRow] = []
        ids = list(dict.fromkeys(story_ids))
        for at in range(0, len(ids), 500):
            chunk = ids[at : at + 500]
            rows = await self._all(
                "SELECT s.id, s.story_id, s.chapter, s.first_position, s.last_position,"
                " s.text_id, v.scale, v.vector FROM scenes s"
                " JOIN scene_vectors v ON v.text_id = s.text_id AND v.model = ?"
                f" WHERE s.story_id IN ({','.join('?' * len(chunk))})"
                " ORDER BY s.story_id, s.first_position",
                (model, *chunk),
            )
            out += [
                VectorRow(r[0], r[1], r[2], r[3], r[4], r[5], float(r[6]), bytes(r[7]))
                for r in rows
            ]
        return out

    async def forget_vectors(self, model: str | None = None) -> None:
        """Drop the vectors of every model but ``model`` (all of them with None)."""
        async with self.transaction() as db:
            if model is None:
                await db.execute("DELETE FROM scene_vectors")
            else:
                await db.execute("DELETE FROM scene_vectors WHERE model != ?", (model,))
