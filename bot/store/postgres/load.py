"""Writing a whole library into PostgreSQL as another engine held it, for ``migrate``
(bot/store/migrate.py): ids kept as they were (buttons on old messages hold them), documents
cut as this engine's writer cuts them (bot/store/postgres/tokens.py), the index statistics
counted as they go in, and the sequences moved past every id the source ever gave.

Everything runs on the caller's connection, inside its transaction: a copy that fails
leaves the target as it was.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.store.passages import SEPARATOR
from bot.store.postgres.base import Connection, number
from bot.store.postgres.library import IndexCounts, insert_documents
from bot.store.postgres.tokens import Tokenizer

# what makes a database "hold a library": any row in these
LIBRARY_TABLES = (
    "stories",
    "uploads",
    "daily_schedules",
    "reading_positions",
    "bookmarks",
    "clubs",
    "club_votes",
    "follows",
)
# every table a library's rows live in (cleared by --force), beside the counters reset
_ALL_TABLES = (
    "stories, chapters, texts, paragraphs, scene_texts, scenes, terms, scene_terms, uploads,"
    " removals, daily_schedules, reading_positions, bookmarks, excerpt_shuffles, clubs,"
    " club_releases, club_members, club_managers, club_votes, follows, story_watch,"
    " scene_vectors"
)
# each sequence and the source table (or counter) whose highest id it must pass
SEQUENCES = {
    "story_ids": "stories",
    "text_ids": "texts",
    "paragraph_ids": "paragraphs",
    "scene_text_ids": "scene_texts",
    "scene_ids": "scenes",
    "bookmarks_id_seq": "bookmarks",
    "reading_turns": "reading_turns",
}


async def held_rows(conn: Connection) -> dict[str, int]:
    """The tables of a library that hold rows in the target, with how many."""
    held: dict[str, int] = {}
    for table in LIBRARY_TABLES:
        n = number(await conn.fetchval(f"SELECT count(*) FROM {table}"))
        if n:
            held[table] = n
    return held


async def clear(conn: Connection) -> None:
    """Empty every table of the library (``--force``); the sequences go on from where they
    were, so no id is given twice even across the replaced library."""
    await conn.execute(f"TRUNCATE {_ALL_TABLES}")
    await conn.execute("UPDATE index_stats SET docs = 0, tokens = 0")


async def count_rows(conn: Connection, tables: Sequence[str]) -> dict[str, int]:
    return {t: number(await conn.fetchval(f"SELECT count(*) FROM {t}")) for t in tables}


async def copy_rows(
    conn: Connection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    if rows:
        await conn.copy_records_to_table(
            table, records=[tuple(r) for r in rows], columns=list(columns)
        )


async def set_sequences(conn: Connection, marks: dict[str, int]) -> None:
    """Move each sequence past the highest id the source gave (never back)."""
    for sequence, source in SEQUENCES.items():
        row = await conn.fetchrow(f"SELECT last_value, is_called FROM {sequence}")
        used = number(row[0]) if row is not None and row[1] else 0
        high = max(marks.get(source, 0), used)
        if high > 0:
            await conn.execute("SELECT setval($1::regclass, $2)", sequence, high)


@dataclass(slots=True)
class StoryCopy:
    """What of a story's text has been copied already (texts and scene texts are shared
    between stories, and copied once)."""

    tokenizer: Tokenizer
    texts: set[int]
    scene_texts: set[int]
    counts: IndexCounts = field(default_factory=IndexCounts)  # written by ``finish``

    async def copy(
        self,
        conn: Connection,
        paragraphs: Sequence[Any],
        scenes: Sequence[Any],
        story_id: int,
    ) -> None:
        """A story's paragraphs ((id, chapter, position, scene, text id, text) each) and
        passages ((id, chapter, first, last, scene text id, first text, paragraphs) each),
        with the texts and scene texts not copied yet."""
        new_texts = {r[4]: r[5] for r in paragraphs if r[4] not in self.texts}
        by_position = {r[2]: r[5] for r in paragraphs}
        new_scenes: dict[int, tuple[tuple[int, int], str]] = {}
        for r in scenes:
            if r[4] not in self.scene_texts and r[4] not in new_scenes:
                body = SEPARATOR.join(by_position[p] for p in range(r[2], r[3] + 1))
                new_scenes[r[4]] = ((r[5], r[6]), body)
        docs, scene_docs = await asyncio.to_thread(
            lambda: (
                self.tokenizer.documents("words", list(new_texts.values())),
                self.tokenizer.documents("stems", [b for _, b in new_scenes.values()]),
            )
        )
        await insert_documents(
            conn, "texts", list(new_texts), docs, self.counts, texts=list(new_texts.values())
        )
        await copy_rows(
            conn,
            "paragraphs",
            ("id", "story_id", "chapter", "position", "scene", "text_id"),
            [(r[0], story_id, r[1], r[2], r[3], r[4]) for r in paragraphs],
        )
        await insert_documents(
            conn,
            "scene_texts",
            list(new_scenes),
            scene_docs,
            self.counts,
            keys=[k for k, _ in new_scenes.values()],
        )
        await copy_rows(
            conn,
            "scenes",
            ("id", "story_id", "chapter", "first_position", "last_position", "text_id"),
            [(r[0], story_id, r[1], r[2], r[3], r[4]) for r in scenes],
        )
        self.texts.update(new_texts)
        self.scene_texts.update(new_scenes)

    async def finish(self, conn: Connection) -> None:
        """Write the index statistics of everything copied."""
        await self.counts.write(conn)
