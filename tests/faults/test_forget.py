"""/forget leaves nothing keyed by the reader (issue 17, item 4): every table of the database
is read after "Done". Before the fix, the excerpt shuffles of the reader's DM channel with the
bot stayed (two rows after two /excerpt in DMs)."""

from __future__ import annotations

import sqlite3

import simcord

from bot.runtime import StoryBot
from tests.cogs.helpers import answer, server


def rows_naming(db: str, values: set[int]) -> list[tuple[str, tuple[object, ...]]]:
    """Every row of every table (FTS shadow tables too) with a column equal to one of values."""
    found: list[tuple[str, tuple[object, ...]]] = []
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                if any(isinstance(v, int) and v in values for v in row):
                    found.append((table, tuple(row)))
    return found


async def test_forget_leaves_no_row_keyed_by_the_reader_or_their_dm(
    simcord_env: simcord.Env,
) -> None:
    s = server(simcord_env)
    bot = simcord_env.bot
    assert isinstance(bot, StoryBot)
    dm = answer(await s.alice.user.slash("excerpt", story="breaking-alone")).channel_id
    await simcord_env.advance_time(3)
    answer(await s.alice.user.slash("excerpt"))
    reader = answer(await s.alice.slash(s.channel, "chapter", story="breaking-alone", chapter="2"))
    answer(await s.alice.click(reader, label="Bookmark"))
    db = str(bot.settings.db_path)
    keys = {s.alice.id, int(dm)}
    assert {table for table, _ in rows_naming(db, keys)} >= {
        "excerpt_shuffles",
        "reading_positions",
        "bookmarks",
    }
    question = answer(await s.alice.slash(s.channel, "forget"))
    assert answer(await s.alice.click(question, label="Forget me")).content.startswith("Done")
    assert rows_naming(db, keys) == []
