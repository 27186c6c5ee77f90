"""Writing: a writer task stores finished stories batch by batch, in file order, while the
workers parse on."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bot.ingest.reading import Job
from bot.ingest.workers import Fetch, executor, parsed
from bot.models import FileReport
from bot.store import Store, StoryWrite

# Stories are written in batches of about this much text: one transaction per batch is
# several times faster than one per story on a large library.
BATCH_BYTES = 8 * 1024 * 1024
# The first batch is handed over sooner: until it comes the writer, which the whole ingest
# waits for, has nothing to do.
FIRST_BATCH_BYTES = 1024 * 1024
# How much may be read and parsed ahead of the writer (bounds memory).
AHEAD_BYTES = 2 * BATCH_BYTES


class Writer:
    """A task writing finished batches in order, one at a time, while parsing goes on."""

    def __init__(self, write: Callable[[list[StoryWrite]], Awaitable[None]]) -> None:
        self._write = write
        self._batches: asyncio.Queue[list[StoryWrite] | None] = asyncio.Queue(maxsize=1)
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while (items := await self._batches.get()) is not None:
            await self._write(items)

    async def send(self, items: list[StoryWrite] | None) -> None:
        """Hand over a batch (None: the end); raises the writer's error if it failed."""
        # the writer may have failed (say, the database stayed locked): don't wait on it
        put = asyncio.ensure_future(self._batches.put(items))
        await asyncio.wait({put, self.task}, return_when=asyncio.FIRST_COMPLETED)
        if not put.done():
            put.cancel()
            self.task.result()  # raises the writer's error


async def load_and_write(
    todo: list[Job],
    *,
    workers: int | None,
    write: Callable[[list[StoryWrite]], Awaitable[None]],
    skip: Callable[[str, str], None],
    store: Store,
    unchanged: list[str],
    reports: dict[str, FileReport],
    progress: Callable[[int, int], None] = lambda files, size: None,
    fetch: Fetch | None = None,
) -> None:
    """Parse files in workers while a writer task writes finished batches, in file order.

    Cancelled (the bot stopping mid-ingest), it stops at once: the batch being written
    commits or rolls back whole, the rest is dropped, and the workers are let go.
    """
    writer = Writer(write)
    batch: list[StoryWrite] = []
    batch_bytes = 0
    batch_limit = FIRST_BATCH_BYTES
    pool = executor(sum(job.size for job in todo), workers)
    finished = False
    try:
        async for size, loaded in parsed(todo, pool, AHEAD_BYTES, fetch):
            progress(1, size)
            if loaded.problem is not None:
                skip(loaded.name, loaded.problem)
            elif loaded.write is not None:
                if loaded.report is not None:
                    reports[loaded.name] = loaded.report
                batch.append(loaded.write)
                batch_bytes += loaded.write.state.size
                if batch_bytes >= batch_limit:
                    await writer.send(batch)
                    batch, batch_bytes, batch_limit = [], 0, BATCH_BYTES
            elif loaded.state is not None:
                await store.touch_file(loaded.name, loaded.state.size, loaded.state.mtime_ns)
                unchanged.append(loaded.name)
        if batch:
            await writer.send(batch)
        await writer.send(None)
        await writer.task
        finished = True
    finally:
        if not finished:
            writer.task.cancel()
            await asyncio.wait([writer.task])  # write_stories lets its batch end first
        pool.shutdown(wait=finished, cancel_futures=True)
