"""Reading a whole SQLite library out, for ``migrate`` (bot/store/migrate.py): one read
transaction on a read-only connection, so every table is read as of one moment even while
the bot writes. Plain sqlite3 in the caller's thread; the caller runs it off the event loop.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bot.store.errors import StoreError
from bot.store.sqlite.base import store_error

BATCH = 5000


class Export:
    """A read-only snapshot of an SQLite library."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
            self.db.execute("BEGIN")  # one snapshot for every table (WAL)
            self.db.execute("SELECT count(*) FROM stories").fetchone()
        except sqlite3.Error as exc:
            raise store_error(path, exc) from None

    def close(self) -> None:
        self.db.close()

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            return self.db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise store_error(self.path, exc) from None

    def value(self, sql: str, params: Sequence[Any] = ()) -> int:
        rows = self.all(sql, params)
        return int(rows[0][0] or 0) if rows else 0

    def batches(self, sql: str) -> Iterator[list[Any]]:
        """A big table's rows, BATCH at a time."""
        try:
            cursor = self.db.execute(sql)
            while rows := cursor.fetchmany(BATCH):
                yield rows
        except sqlite3.Error as exc:
            raise store_error(self.path, exc) from None

    def story_paragraphs(self, story_id: int) -> list[Any]:
        """(id, chapter, position, scene, text id, text) of a story's paragraphs, in order."""
        return self.all(
            "SELECT p.id, p.chapter, p.position, p.scene, p.text_id, t.text FROM paragraphs p"
            " JOIN texts t ON t.id = p.text_id WHERE p.story_id = ? ORDER BY p.position",
            (story_id,),
        )

    def story_scenes(self, story_id: int) -> list[Any]:
        """(id, chapter, first, last, scene text id, first text, paragraphs) of a story's
        passages, in order."""
        return self.all(
            "SELECT s.id, s.chapter, s.first_position, s.last_position, s.text_id,"
            " st.first_text, st.paragraphs FROM scenes s JOIN scene_texts st ON st.id = s.text_id"
            " WHERE s.story_id = ? ORDER BY s.first_position",
            (story_id,),
        )

    def high_marks(self) -> dict[str, int]:
        """The highest id ever given, per table whose ids are never reused."""
        marks = {name: int(seq) for name, seq in self.all("SELECT name, seq FROM sqlite_sequence")}
        marks["stories"] = self.value("SELECT high FROM story_ids")
        for table in ("stories", "texts", "paragraphs", "scene_texts", "scenes", "bookmarks"):
            marks[table] = max(marks.get(table, 0), self.value(f"SELECT max(id) FROM {table}"))
        marks["reading_turns"] = self.value("SELECT max(turn) FROM reading_positions")
        return marks


def open_export(path: Path) -> Export:
    if not path.is_file():
        raise StoreError(f"there is no SQLite library at {path} to copy", usage=True)
    return Export(path)
