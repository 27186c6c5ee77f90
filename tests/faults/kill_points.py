"""`python -m tests.faults.kill_points POINT AT -- ARGS`: the real `python -m bot ARGS`, which
stops for good (prints "paused at POINT" on stderr, then sleeps) when its ingest reaches POINT
for the AT-th time, for a test to kill it there with SIGKILL. Nothing else is changed: the
store, the parser and the writer are the real ones; the pause only wraps them.

Points, in the order an ingest meets them (batches are made small, BATCH_BYTES below, so a
small library is written in several transactions):

- ``parse``: a file about to be parsed (the AT-th; the parse runs ahead of the writer);
- ``story``: inside a batch's transaction, the AT-th story written (its rows, not committed);
- ``scenes``: inside the transaction, the AT-th story's scene index just written;
- ``commit``: a batch's COMMIT about to be sent, the AT-th story written before it;
- ``batch``: the AT-th batch committed, the next not begun;
- ``finish``: every batch committed, removals and index upkeep not begun.
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable
from typing import Any

import bot.ingest.reading
import bot.ingest.run
import bot.ingest.writing
from bot.__main__ import main

BATCH_BYTES = 40 * 1024  # a few of the test's stories a batch


class _Pause:
    def __init__(self, point: str, at: int) -> None:
        self.point, self.at = point, at
        self.seen: dict[str, int] = {}
        self.stories = 0  # stories written in this process so far

    def reached(self, point: str) -> None:
        self.seen[point] = self.seen.get(point, 0) + 1
        if point == self.point and self.seen[point] == self.at:
            self.stop()

    def stop(self) -> None:
        print(f"paused at {self.point}", file=sys.stderr, flush=True)
        while True:  # the test kills this process here
            time.sleep(60)


def _after(pause: _Pause, point: str, function: Callable[..., Any]) -> Callable[..., Any]:
    if function.__code__.co_flags & 0x80:  # a coroutine function

        @functools.wraps(function)
        async def wrapped_async(*args: Any, **kwargs: Any) -> Any:
            result = await function(*args, **kwargs)
            pause.reached(point)
            return result

        return wrapped_async

    @functools.wraps(function)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        result = function(*args, **kwargs)
        pause.reached(point)
        return result

    return wrapped


def _before(pause: _Pause, point: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        pause.reached(point)
        return function(*args, **kwargs)

    return wrapped


def _sqlite_hooks(pause: _Pause) -> None:
    from bot.store.sqlite import SQLiteStore
    from bot.store.sqlite import library as sqlite_library

    def written(function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            result = function(*args, **kwargs)
            pause.stories += 1
            pause.reached("story")
            return result

        return wrapped

    sqlite_library._write_one = written(sqlite_library._write_one)
    sqlite_library.write_scenes = _after(pause, "scenes", sqlite_library.write_scenes)
    opened = SQLiteStore._bulk_connection

    def bulk(self: Any) -> Any:
        db = opened(self)

        def trace(statement: str) -> None:
            if statement == "COMMIT" and pause.stories >= pause.at and pause.point == "commit":
                pause.stop()

        db.set_trace_callback(trace)
        return db

    SQLiteStore._bulk_connection = bulk


def _postgres_hooks(pause: _Pause) -> None:
    import asyncpg.transaction

    from bot.store.postgres import library as pg_library

    one = pg_library._write_one

    async def written(*args: Any, **kwargs: Any) -> Any:
        result = await one(*args, **kwargs)
        pause.stories += 1
        pause.reached("story")
        return result

    pg_library._write_one = written
    pg_library._write_scenes = _after(pause, "scenes", pg_library._write_scenes)
    transaction: Any = asyncpg.transaction.Transaction
    commit = transaction._Transaction__commit

    async def committing(self: Any) -> Any:
        if not self._nested and pause.point == "commit" and pause.stories >= pause.at:
            pause.stop()
        return await commit(self)

    transaction._Transaction__commit = committing


def run(point: str, at: int, args: list[str]) -> int:
    pause = _Pause(point, at)
    bot.ingest.writing.BATCH_BYTES = BATCH_BYTES
    bot.ingest.writing.FIRST_BATCH_BYTES = BATCH_BYTES
    bot.ingest.writing.AHEAD_BYTES = 2 * BATCH_BYTES
    bot.ingest.reading.process = _before(pause, "parse", bot.ingest.reading.process)
    bot.ingest.run._Run.write = _after(pause, "batch", bot.ingest.run._Run.write)
    finish = bot.ingest.run._Run.finish

    async def finishing(self: Any) -> Any:
        pause.reached("finish")
        return await finish(self)

    bot.ingest.run._Run.finish = finishing
    _sqlite_hooks(pause)
    _postgres_hooks(pause)
    return main(args)


if __name__ == "__main__":
    sys.exit(run(sys.argv[1], int(sys.argv[2]), sys.argv[4:]))
