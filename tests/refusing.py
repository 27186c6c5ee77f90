"""A trigger in the real database (SQLite or PostgreSQL, whichever ``settings`` names) that
refuses some writes to a table: a database refusing, without a mock of the store."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import asyncpg

from bot.settings import Settings

WORDS = "xyzzy refused by a test trigger"

_SQLITE = (
    "CREATE TRIGGER refuse_{name} BEFORE {event} ON {table} WHEN {when}"
    f" BEGIN SELECT RAISE(ABORT, '{WORDS}'); END"
)
_PG = (
    "CREATE FUNCTION refuse_{name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    f" IF {{when}} THEN RAISE EXCEPTION '{WORDS}' USING ERRCODE = '{{errcode}}'; END IF;"
    " RETURN NEW; END $$;"
    " CREATE TRIGGER refuse_{name} BEFORE {event} ON {table} FOR EACH ROW"
    " EXECUTE FUNCTION refuse_{name}()"
)


async def refuse(
    settings: Settings, table: str, event: str, when: str = "1 = 1", errcode: str = "P0001"
) -> None:
    """From now on the database refuses ``event`` (INSERT, UPDATE) on ``table`` for the rows
    where ``when`` holds (SQL on NEW, the same in both engines). ``errcode``: the SQLSTATE
    PostgreSQL raises (XX001, data_corrupted: a damaged page); SQLite's is always ABORT."""
    fields = {"name": table, "event": event, "table": table, "when": when, "errcode": errcode}
    await execute(settings, (_SQLITE if settings.database_url is None else _PG).format(**fields))


async def allow(settings: Settings, table: str) -> None:
    """Drop the trigger ``refuse`` put on ``table``."""
    on = "" if settings.database_url is None else f" ON {table}"
    await execute(settings, f"DROP TRIGGER refuse_{table}{on}")


async def execute(settings: Settings, sql: str) -> None:
    """Run ``sql`` (one statement; PostgreSQL: several too) on the library's database,
    SQLite or PostgreSQL, whichever ``settings`` names, on a connection of its own."""
    if settings.database_url is None:
        with closing(sqlite3.connect(settings.db_path)) as db, db:
            db.execute(sql)
        return
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
