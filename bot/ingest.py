"""Ingest: bring the store in line with the stories folder.

A file whose size and modification time are unchanged is not read at all; one whose
bytes hash the same is not parsed. Stories are written in batches, each batch one
transaction, so a failure (bad file, crash, full disk) leaves every story whose new
version did not commit at its previous version.

Reading and parsing run in worker threads, or in worker processes when there is much to
parse and more than one CPU, so parsing overlaps the database writes (which SQLite does
on one thread whatever we do).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
import os
import sqlite3
import tomllib
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import ftfy

import bot.text
from bot.errors import StoryBotError
from bot.models import RATINGS, IngestReport, StoryMeta
from bot.store import Store
from bot.store.library import FileState, StoryWrite
from bot.text import STORY_SUFFIXES, process

log = logging.getLogger(__name__)

METADATA_FILE = "library.toml"
STORY_SUFFIX = ".txt"  # what /library add saves an upload with no story suffix as


def story_files(folder: Path) -> list[Path]:
    """The story files of a folder: visible .txt, .epub, .html and .htm files, sorted by name."""
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.suffix.lower() in STORY_SUFFIXES and not p.name.startswith(".") and p.is_file()
    )


def load_metadata(folder: Path) -> tuple[dict[str, StoryMeta], str | None]:
    """Read library.toml; returns (metadata by file name, problem or None). Never raises."""
    path = folder / METADATA_FILE
    if not path.is_file():
        return {}, None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return {}, f"{METADATA_FILE} ignored: {exc}"
    metas: dict[str, StoryMeta] = {}
    problems: list[str] = []
    for name, fields in data.items():
        if not isinstance(fields, dict):
            problems.append(f"[{name}] is not a table")
            continue
        rating = fields.get("rating")
        if rating is not None and rating not in RATINGS:
            problems.append(f"[{name}] rating {rating!r} is not one of {', '.join(RATINGS)}")
            rating = None

        def text(key: str, fields: dict[str, object] = fields) -> str | None:
            value = fields.get(key)
            return value.strip() or None if isinstance(value, str) else None

        def names(key: str, fields: dict[str, object] = fields) -> tuple[str, ...]:
            value = fields.get(key)
            items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
            return tuple(v.strip() for v in items if isinstance(v, str) and v.strip())

        metas[name] = StoryMeta(
            text("title"), text("author"), rating, text("url"), names("fandom"),
            names("relationships"), names("characters"), names("tags"), text("summary"),
            text("language"),
        )  # fmt: skip
    return metas, f"{METADATA_FILE}: " + "; ".join(problems) if problems else None


def _pipeline_fingerprint() -> bytes:
    """Changes with the text pipeline's code or ftfy, so an upgrade re-reads every story."""
    digest = hashlib.blake2b(ftfy.__version__.encode(), digest_size=8)
    for source in sorted(Path(bot.text.__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    return digest.digest()


_PIPELINE = _pipeline_fingerprint()


def _meta_hash(meta: StoryMeta) -> str:
    """What besides the file's bytes decides its parse: metadata and the pipeline itself."""
    return hashlib.blake2b(_PIPELINE + repr(meta).encode(), digest_size=8).hexdigest()


@dataclass(frozen=True, slots=True)
class _Loaded:
    """What a worker made of one file: a story to write, "unchanged", or why it was skipped."""

    name: str
    write: StoryWrite | None = None
    state: FileState | None = None  # set when the bytes are unchanged: only the stat moved
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class _Job:
    """A file the scan found new or changed, with what the worker needs to judge it."""

    path: Path
    size: int  # at the scan: what the worker pool is fed by
    meta: StoryMeta
    meta_hash: str
    old_hash: str | None  # the stored version's hash, when its metadata still matches


def _load(job: _Job) -> _Loaded:
    """Read, hash and parse one file. Runs in a worker thread or process: no shared state."""
    path, meta, meta_hash = job.path, job.meta, job.meta_hash
    name = path.name
    try:
        stat = path.stat()
        data = path.read_bytes()
    except OSError as exc:
        return _Loaded(name, problem=f"cannot read: {exc.strerror or exc}")
    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    state = FileState(stat.st_size, stat.st_mtime_ns, digest, meta_hash)
    if digest == job.old_hash:
        return _Loaded(name, state=state)
    try:
        parsed = process(data, name, meta)
    except StoryBotError as exc:
        return _Loaded(name, problem=exc.message)
    # parsed.meta: library.toml's fields over what an EPUB or HTML file says of itself
    return _Loaded(name, write=StoryWrite(name, parsed, parsed.meta, state))


# Stories are written in batches of about this much text: one transaction per batch is
# several times faster than one per story on a large library.
BATCH_BYTES = 8 * 1024 * 1024
# Below this much to parse, worker processes cost more to start than they save.
PROCESS_POOL_BYTES = 16 * 1024 * 1024
# How much may be read and parsed ahead of the writer (bounds memory).
AHEAD_BYTES = 2 * BATCH_BYTES


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _executor(todo_bytes: int, workers: int | None) -> Executor:
    workers = _usable_cpus() if workers is None else workers
    if workers > 1 and todo_bytes >= PROCESS_POOL_BYTES:
        # spawn, not fork: this process has threads (aiosqlite's) that fork would copy mid-state
        return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    return ThreadPoolExecutor(1, thread_name_prefix="ingest")


async def _load_and_write(
    todo: list[_Job],
    *,
    workers: int | None,
    write: Callable[[list[StoryWrite]], Awaitable[None]],
    skip: Callable[[str, str], None],
    store: Store,
    unchanged: list[str],
) -> None:
    """Parse files in workers while a writer task writes finished batches, in file order."""
    loop = asyncio.get_running_loop()
    batches: asyncio.Queue[list[StoryWrite] | None] = asyncio.Queue(maxsize=1)

    async def writer() -> None:
        while (items := await batches.get()) is not None:
            await write(items)

    writing = asyncio.create_task(writer())
    batch: list[StoryWrite] = []
    batch_bytes = 0
    try:
        with _executor(sum(job.size for job in todo), workers) as pool:
            pending: deque[tuple[int, asyncio.Future[_Loaded]]] = deque()
            jobs = iter(todo)
            in_flight = 0
            while True:
                # keep the workers fed with up to AHEAD_BYTES of files, so they parse on
                # while the writer is busy with the previous batch
                while not pending or in_flight < AHEAD_BYTES:
                    job = next(jobs, None)
                    if job is None:
                        break
                    pending.append((job.size, loop.run_in_executor(pool, _load, job)))
                    in_flight += job.size
                if not pending:
                    break
                size, future = pending.popleft()
                loaded = await future
                in_flight -= size
                if loaded.problem is not None:
                    skip(loaded.name, loaded.problem)
                elif loaded.write is not None:
                    batch.append(loaded.write)
                    batch_bytes += loaded.write.state.size
                    if batch_bytes >= BATCH_BYTES:
                        await batches.put(batch)
                        batch, batch_bytes = [], 0
                elif loaded.state is not None:
                    await store.touch_file(loaded.name, loaded.state.size, loaded.state.mtime_ns)
                    unchanged.append(loaded.name)
        if batch:
            await batches.put(batch)
    finally:
        await batches.put(None)
        await writing


async def ingest(
    store: Store,
    folder: Path,
    *,
    on_skip: Callable[[str, str], None] | None = None,
    workers: int | None = None,
) -> IngestReport:
    """Bring the store in line with the folder; report what was added, changed, removed, skipped.

    ``workers``: parse in this many processes when there is much to parse (default: the
    usable CPUs; 1 or 0 keeps everything in this process).
    """
    metas, problem = load_metadata(folder)
    if problem:
        log.warning(problem)
    known = await store.file_states()
    added: list[str] = []
    changed: list[str] = []
    unchanged: list[str] = []
    skipped: list[tuple[str, str]] = []
    todo: list[_Job] = []
    present: set[str] = set()

    def skip(name: str, reason: str) -> None:
        skipped.append((name, reason))
        kept = " (previous version kept)" if name in known else ""
        log.warning("skipped story file %s: %s%s", name, reason, kept)
        if on_skip is not None:
            on_skip(name, reason)

    for path in story_files(folder):
        name = path.name
        present.add(name)
        meta = metas.get(name, StoryMeta())
        meta_hash = _meta_hash(meta)
        before = known.get(name)
        try:
            stat = path.stat()
        except OSError as exc:
            skip(name, f"cannot read: {exc.strerror or exc}")
            continue
        old_hash = None
        if before is not None and before.meta_hash == meta_hash:
            if before.size == stat.st_size and before.mtime_ns == stat.st_mtime_ns:
                unchanged.append(name)
                continue
            old_hash = before.hash
        todo.append(_Job(path, stat.st_size, meta, meta_hash, old_hash))

    async def write(items: list[StoryWrite]) -> None:
        try:
            errors = await store.write_stories(items)
        except sqlite3.Error as exc:  # rolled back: the old version stands
            errors = [str(exc)] * len(items)
        for item, error in zip(items, errors, strict=True):
            if error is None:
                (changed if item.file in known else added).append(item.file)
            else:
                skip(item.file, f"database error: {error}")

    if todo:
        await _load_and_write(
            todo,
            workers=workers,
            write=write,
            skip=skip,
            store=store,
            unchanged=unchanged,
        )

    removed = sorted(set(known) - present)
    for name in removed:
        await store.remove_story(name)
    order = {name: i for i, name in enumerate(sorted(present))}
    return IngestReport(
        added=tuple(sorted(added, key=order.__getitem__)),
        changed=tuple(sorted(changed, key=order.__getitem__)),
        removed=tuple(removed),
        unchanged=tuple(sorted(unchanged, key=order.__getitem__)),
        skipped=tuple(sorted(skipped, key=lambda s: order.get(s[0], 0))),
    )
