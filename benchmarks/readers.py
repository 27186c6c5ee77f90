"""Readers: what recording a reader's place costs a page turn, and what a reader costs to keep.

Page turns go through simcord's full interaction path (a click on Next or Prev, the pager's
render, the edit of the message), on the seed library, alternately with places recorded and
not (``Library.readers.remember``), in several interleaved rounds so that drift in the machine
hits both alike; the figure is the best round of each. The stored state is measured with
SQLite's dbstat over many readers, each with a place in every story and 20 bookmarks.

    .venv/bin/python -m benchmarks.readers        # alone
    make bench                                    # with the other tables
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from typing import Any

from benchmarks.bot import SEEDS, Row
from benchmarks.corpus import BENCH_DIR

TURNS = 300  # page turns per round
ROUNDS = 9
READERS = 200  # readers for the stored-state figure
BOOKMARKS = 20  # bookmarks each


async def _turn_rate(message: Any, member: Any, turns: int) -> float:
    start = time.perf_counter()
    for i in range(turns):
        result = await member.click(message, label="Next" if i % 2 == 0 else "Prev")
        assert result.response is not None
    return turns / (time.perf_counter() - start)


async def _measure() -> dict[str, float]:
    import simcord

    from bot.runtime import build_bot
    from bot.settings import Settings

    data = BENCH_DIR / "bot-readers"
    shutil.rmtree(data, ignore_errors=True)
    bot = build_bot(Settings(stories_dir=SEEDS, data_dir=data, daily_check_seconds=3600))
    out: dict[str, float] = {}
    async with simcord.run(bot) as env:
        guild = env.create_guild()
        channel = guild.create_text_channel("general")
        member = guild.add_member(env.create_user("reader"))
        result = await member.slash(channel, "chapter", story="breaking-alone", chapter="2")
        message = result.response
        library = bot.library
        best = {True: 0.0, False: 0.0}
        for _ in range(ROUNDS):
            for remember in (False, True):
                library.readers.remember = remember
                best[remember] = max(best[remember], await _turn_rate(message, member, TURNS))
        out["without"], out["with"] = best[False], best[True]

        stories = await library.stories(mature_ok=False)
        before = await _reader_bytes(library)
        for reader in range(1, READERS + 1):
            for story in stories:
                chapter, pages = await library.pages(
                    story.id, story.chapters[-1].number, mature_ok=False
                )
                await library.record_reading(reader, chapter, pages, len(pages) - 1)
            for n in range(BOOKMARKS):
                story = stories[n % len(stories)]
                position = story.chapters[0].first + n
                await library.add_bookmark(reader, story.id, position, mature_ok=False)
        await library.store.db.execute("ANALYZE")
        out["bytes"] = (await _reader_bytes(library) - before) / READERS
        out["stories"] = len(stories)
        await library.close()
    return out


async def _reader_bytes(library: Any) -> int:
    rows = await library.store._all(
        "SELECT SUM(pgsize) FROM dbstat WHERE name IN ('reading_positions',"
        " 'reading_positions_by_story', 'bookmarks', 'bookmarks_by_user', 'bookmarks_by_story')"
    )
    return int(rows[0][0] or 0)


def run() -> list[Row]:
    logging.disable(logging.INFO)
    out = asyncio.run(_measure())
    cost = 1 - out["with"] / out["without"]
    return [
        (
            "page turns per second through simcord, place recorded",
            f"{out['with']:.0f}/s ({cost:+.1%} slower)",
            f"{out['without']:.0f}/s not recorded (today's pager); limit: 10% slower",
        ),
        (
            f"stored per reader: a place in each of {out['stories']:.0f} stories, "
            f"{BOOKMARKS} bookmarks",
            f"{out['bytes'] / 1024:.1f} KiB",
            "SQLite pages (dbstat), tables and indexes",
        ),
    ]


if __name__ == "__main__":
    from benchmarks.ingest import print_table

    print_table("Readers", run())
