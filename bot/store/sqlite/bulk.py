"""Inserting many rows: several rows a statement.

One statement per row pays a statement's run (bind, step, reset) per row, and on an
AUTOINCREMENT table an update of sqlite_sequence per row. ``insert_rows`` writes
ROWS_PER_INSERT rows with each statement (``INSERT ... VALUES (...), (...), ...``).

Never for a search index within a transaction that will write to one: a statement that may
write several rows opens a statement journal, and SQLite then has every FTS5 index the
transaction has written to write out what it holds in memory (a savepoint), as a segment of
its own that is merged again later. So the bulk writer writes its regular rows first, several
a statement, and the indexes' entries last (bot/store/sqlite/library.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from itertools import chain

# 64 rows of at most 8 columns: under SQLite's oldest limit on bound values (999)
ROWS_PER_INSERT = 64


def insert_rows(db: sqlite3.Connection, into: str, rows: Sequence[Sequence[object]]) -> None:
    """INSERT ``rows`` (each as many values as ``into`` names columns: "table (a, b)")."""
    if not rows:
        return
    one = "(" + ",".join("?" * len(rows[0])) + ")"
    full = len(rows) - len(rows) % ROWS_PER_INSERT
    if full:
        db.executemany(
            f"INSERT INTO {into} VALUES " + ",".join([one] * ROWS_PER_INSERT),
            (
                tuple(chain.from_iterable(rows[i : i + ROWS_PER_INSERT]))
                for i in range(0, full, ROWS_PER_INSERT)
            ),
        )
    if full < len(rows):
        db.executemany(f"INSERT INTO {into} VALUES {one}", rows[full:])
