"""The workers that read and parse: a thread, or processes when there is much to parse and
more than one CPU, kept fed ahead of the writer and dying with the ingesting process."""

from __future__ import annotations

import asyncio
import ctypes
import dataclasses
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor

from bot.ingest.reading import Job, Loaded, load_file

# Below this much to parse, worker processes cost more to start than they save.
PROCESS_POOL_BYTES = 16 * 1024 * 1024


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def executor(todo_bytes: int, workers: int | None) -> Executor:
    workers = usable_cpus() if workers is None else workers
    if workers > 1 and todo_bytes >= PROCESS_POOL_BYTES:
        # spawn, not fork: this process has threads (aiosqlite's) that fork would copy mid-state
        return ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_dies_with_parent,
            initargs=(os.getpid(),),
        )
    return ThreadPoolExecutor(1, thread_name_prefix="ingest")


_PR_SET_PDEATHSIG = 1


def _worker_dies_with_parent(parent: int) -> None:
    """In a parser process: exit when the ingesting process dies, even by kill -9.

    On Linux the kernel sends SIGKILL (prctl PR_SET_PDEATHSIG); elsewhere a daemon thread
    watches for the parent to change. Once the workers are gone, multiprocessing's resource
    tracker sees its pipe close and exits too.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # it died before the line above
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


Fetch = Callable[[str], Awaitable[bytes | None]]  # an upload's bytes from the store


async def parsed(
    todo: list[Job], pool: Executor, ahead: int, fetch: Fetch | None = None
) -> AsyncIterator[tuple[int, Loaded]]:
    """Each job's result in file order, with its size, while the workers are kept fed with
    up to ``ahead`` bytes of files, so they parse on while the writer is busy. An upload's
    bytes are fetched from the store when its turn comes (``fetch``)."""
    loop = asyncio.get_running_loop()
    pending: deque[tuple[int, asyncio.Future[Loaded]]] = deque()
    jobs = iter(todo)
    in_flight = 0
    while True:
        while not pending or in_flight < ahead:
            job = next(jobs, None)
            if job is None:
                break
            if job.upload_ns is not None and fetch is not None:
                job = dataclasses.replace(job, data=await fetch(job.path.name))
                if job.data is None:  # removed by another host since the scan
                    gone = loop.create_future()
                    gone.set_result(Loaded(job.path.name, problem="removed meanwhile"))
                    pending.append((job.size, gone))
                    in_flight += job.size
                    continue
            pending.append((job.size, loop.run_in_executor(pool, load_file, job)))
            in_flight += job.size
        if not pending:
            return
        size, future = pending.popleft()
        loaded = await future
        in_flight -= size
        yield size, loaded
