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
import ctypes
import dataclasses
import hashlib
import logging
import multiprocessing
import os
import re
import signal
import sys
import threading
import time
import tomllib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ftfy

import bot.text
from bot.errors import StoryBotError
from bot.hosts import REMOVED_AGAIN, SHADOWED, Hosts
from bot.ingest_report import file_report, not_read
from bot.models import RATINGS, FileReport, IngestReport, Progress, Rating, RatingSource, StoryMeta
from bot.store import FileState, Store, StoryWrite, Upload
from bot.text import STORY_SUFFIXES, process

log = logging.getLogger(__name__)
files_log = logging.getLogger(f"{__name__}.files")  # a file skipped (the CLI's report says it)

METADATA_FILE = "library.toml"
REMOVED_DIR = "removed"  # where /library remove moves a story file (never read)
STORY_SUFFIX = ".txt"  # what /library add saves an upload with no story suffix as


def _shown(folder: Path) -> Path:
    """The folder as a message names it: resolved, so `~/x` or `../x` says where it looked."""
    return folder.expanduser().resolve()


def story_files(folder: Path) -> list[Path]:
    """The story files of a folder: visible .txt, .epub, .html and .htm files, sorted by name.

    A missing or unreadable folder is a StoryBotError (a configuration error: a typo in
    STORIES_DIR, an unmounted disk), never an empty library.
    """
    try:
        entries = list(folder.iterdir())
    except FileNotFoundError:
        raise StoryBotError(f"the stories folder {_shown(folder)} does not exist") from None
    except NotADirectoryError:
        raise StoryBotError(f"the stories folder {_shown(folder)} is not a folder") from None
    except OSError as exc:
        raise StoryBotError(
            f"cannot read the stories folder {_shown(folder)}: {exc.strerror or exc}"
        ) from None
    return sorted(
        p
        for p in entries
        if p.suffix.lower() in STORY_SUFFIXES and not p.name.startswith(".") and p.is_file()
    )


def _outside(path: Path, folder: Path) -> bool:
    """Whether a story path is a symlink leading out of the stories folder (not followed)."""
    if not path.is_symlink():
        return False
    return not path.resolve().is_relative_to(folder.resolve())


def load_metadata(folder: Path) -> tuple[dict[str, StoryMeta] | None, list[str]]:
    """Read library.toml: (metadata by file name, warnings naming file and line). Never raises.

    Fails closed. Ratings are case-insensitive; an entry with an unknown key or rating
    value is rated explicit (it may be a misspelt ``rating``) until it is fixed. When the
    file exists but cannot be read or parsed, the metadata is None: ingest then keeps
    stored stories as they are and treats new ones as explicit (see ``ingest``).
    """
    path = folder / METADATA_FILE
    try:
        if not path.exists():
            return {}, []
        source = path.read_text(encoding="utf-8")
        data = tomllib.loads(source)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        reason = exc.strerror or exc if isinstance(exc, OSError) else exc
        return None, [
            f"{path} cannot be read ({reason}): stories already in the library keep their "
            "metadata and new ones are treated as explicit until it is fixed"
        ]
    lines = _toml_lines(source)
    metas: dict[str, StoryMeta] = {}
    problems: list[str] = []
    for name, fields in data.items():
        if not isinstance(fields, dict):
            where = f"{path} line {lines.get((name,), '?')}"
            problems.append(f"{where}: [{name}] is not a table; rated explicit until fixed")
            metas[name] = StoryMeta(rating="explicit")
            continue
        metas[name] = _story_meta(name, fields, path, lines, problems)
    return metas, problems


_META_KEYS = frozenset(f.name for f in dataclasses.fields(StoryMeta))


def _story_meta(
    name: str,
    fields: dict[str, Any],
    path: Path,
    lines: dict[tuple[str, ...], int],
    problems: list[str],
) -> StoryMeta:
    """One story's entry of library.toml; what is wrong in it is added to ``problems``."""
    doubtful = False
    for key in sorted(set(fields) - _META_KEYS):
        problems.append(
            f"{path} line {lines.get((name, key), '?')}: [{name}] unknown key {key!r}"
            f" (known: {', '.join(sorted(_META_KEYS))})"
        )
        doubtful = True
    rating = fields.get("rating")
    if rating is not None:
        folded = rating.strip().lower() if isinstance(rating, str) else None
        if folded in RATINGS:
            rating = folded
        else:
            problems.append(
                f"{path} line {lines.get((name, 'rating'), '?')}: [{name}] rating"
                f" {rating!r} is not one of {', '.join(RATINGS)}"
            )
            rating, doubtful = None, True
    if doubtful and rating is None:
        problems.append(
            f"{path} line {lines.get((name,), '?')}: [{name}] rated explicit until fixed"
        )
        rating = "explicit"

    def text(key: str) -> str | None:
        value = fields.get(key)
        return value.strip() or None if isinstance(value, str) else None

    def names(key: str) -> tuple[str, ...]:
        value = fields.get(key)
        items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        return tuple(v.strip() for v in items if isinstance(v, str) and v.strip())

    return StoryMeta(
        text("title"), text("author"), rating, text("url"),
        names("fandom"), names("relationships"), names("characters"), names("tags"),
        text("summary"), text("language"),
    )  # fmt: skip


_TABLE = re.compile(r"^\s*\[(?!\[)(.*)\]\s*(?:#.*)?$")
_KEY = re.compile(r"^\s*(\"[^\"]*\"|'[^']*'|[A-Za-z0-9_.-]+)\s*=")


def _toml_lines(source: str) -> dict[tuple[str, ...], int]:
    """Where each table header and key of library.toml is: (file,) or (file, key) -> line."""
    found: dict[tuple[str, ...], int] = {}
    table: str | None = None
    for number, line in enumerate(source.splitlines(), 1):
        if header := _TABLE.match(line):
            table = _key_name(header[1])
            if table is not None:
                found.setdefault((table,), number)
        elif key := _KEY.match(line):
            name = _key_name(key[1])
            if name is not None:
                found.setdefault((table, name) if table is not None else (name,), number)
    return found


def _key_name(text: str) -> str | None:
    """The first key of a TOML key path (``"a.txt"`` or ``rating``); None if not one."""
    try:
        parsed = tomllib.loads(f"{text.strip()} = 0")
    except tomllib.TOMLDecodeError:
        return None
    return next(iter(parsed), None)


def too_big(size: int, limit: int) -> str:
    """ "too big: 80 KB, the limit is 64 KB", in bytes when the rounded sizes read alike."""
    shown, allowed = _size(size), _size(limit)
    if shown == allowed:  # "5.0 MB, the limit is 5.0 MB" says nothing: say the bytes
        shown, allowed = f"{size:,} bytes", f"{limit:,} bytes"
    return f"too big: {shown}, the limit is {allowed}"


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} bytes"


def _orphan_sections(metas: dict[str, StoryMeta], names: set[str], folder: Path) -> list[str]:
    """A library.toml section that names no story file in the folder (nor one /library remove
    moved aside): a typo, or a file renamed. The story it meant to describe may be any story
    without a section, so until it is fixed those are rated explicit (see ``ingest``)."""
    return [
        f"{folder / METADATA_FILE}: [{name!r}] names no story file in the folder (a typo, or a"
        " renamed file?): until it is fixed, new or changed stories with no section of their"
        " own are rated explicit"
        for name in sorted(metas.keys() - names)
        if not (folder / REMOVED_DIR / name).is_file()
    ]


_STRICTNESS = {rating: i for i, rating in enumerate(RATINGS)}
# rewriting this many stories (or a quarter of the library) merges the search indexes after
TIDY_AFTER = 50
IN_DOUBT = "doubt:"  # marks the stored meta hash of a story rated explicit for want of metadata


def _keep_rating(
    item: StoryWrite,
    metas: dict[str, StoryMeta] | None,
    stored: dict[str, Rating],
    renamed: dict[str, Rating],
    warnings: list[str],
) -> StoryWrite:
    """Fail closed: a story's rating is never lowered but by library.toml saying so.

    A story the library holds as mature or explicit that comes back rated lower, without a
    ``rating`` of its own in library.toml (its entry lost to a typo, the file renamed, the
    file's own metadata changed), keeps the rating it had, and the operator is told.
    """
    own = (metas or {}).get(item.file)
    if own is not None and own.rating is not None:
        return item  # the operator's word
    before = stored.get(item.file) or renamed.get(item.state.hash)
    now = item.meta.rating or "general"
    if before is None or _STRICTNESS[now] >= _STRICTNESS[before]:
        return item
    warning = (
        f"{item.file}: was rated {before}, now nothing rates it (its library.toml entry gone?):"
        f' kept {before}; to change it, set rating = "{now}" in its library.toml section'
    )
    log.warning("%s", warning)
    warnings.append(warning)
    return dataclasses.replace(item, meta=dataclasses.replace(item.meta, rating=before))


def _pipeline_fingerprint() -> bytes:
    """Changes with the text pipeline's code or ftfy, so an upgrade re-reads every story."""
    digest = hashlib.blake2b(ftfy.__version__.encode(), digest_size=8)
    for source in sorted(Path(bot.text.__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    return digest.digest()


_PIPELINE = _pipeline_fingerprint()


def _meta_hash(meta: StoryMeta, default_rating: Rating) -> str:
    """What besides the file's bytes decides its parse: metadata, DEFAULT_RATING and the
    pipeline itself."""
    key = _PIPELINE + repr(meta).encode() + default_rating.encode()
    return hashlib.blake2b(key, digest_size=8).hexdigest()


@dataclass(frozen=True, slots=True)
class _Loaded:
    """What a worker made of one file: a story to write, "unchanged", or why it was skipped."""

    name: str
    write: StoryWrite | None = None
    state: FileState | None = None  # set when the bytes are unchanged: only the stat moved
    problem: str | None = None
    report: FileReport | None = None  # with ``write``: what the operator is told of it


@dataclass(frozen=True, slots=True)
class _Job:
    """A file the scan found new or changed, with what the worker needs to judge it."""

    path: Path
    size: int  # at the scan: what the worker pool is fed by
    meta: StoryMeta
    meta_hash: str
    old_hash: str | None  # the stored version's hash, when its metadata still matches
    max_text: int  # MAX_STORY_MB, for the text an EPUB or HTML file yields
    default_rating: Rating = "explicit"  # DEFAULT_RATING: for a story nothing rates
    upload_ns: int | None = None  # an upload kept in the store (bot/hosts.py): when it came
    data: bytes | None = None  # an upload's bytes, fetched just before it is parsed
    refused: str | None = None  # the hash of bytes removed with /library remove (not re-added)


def content_hash(data: bytes) -> str:
    """What a story file's bytes are known by (its stored ``hash``)."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _file_digest(path: Path) -> str | None:
    try:
        return content_hash(path.read_bytes())
    except OSError:
        return None


async def _follow_renames(
    store: Store,
    paths: list[Path],
    known: dict[str, FileState],
    warnings: list[str],
    hosts: Hosts | None = None,
) -> dict[str, str]:
    """A new file whose bytes are those of a stored story whose file is gone is that story
    renamed: the store renames it (same id, places and bookmarks) and ``known`` follows.
    Only a file of the same size as a gone one is read here; on a shared store, only this
    host's own stories are gone. Returns new name -> old."""
    names = {p.name for p in paths}
    gone = {
        f: state
        for f, state in known.items()
        if f not in names and (hosts is None or hosts.removable(f, state))
    }
    moves: dict[str, str] = {}
    for path in paths:
        if not gone or path.name in known or path.is_symlink():
            continue
        try:
            size = path.stat().st_size
        except OSError:
            continue
        if not any(state.size == size for state in gone.values()):
            continue
        digest = await asyncio.to_thread(_file_digest, path)
        old = next((f for f, state in gone.items() if state.hash == digest), None)
        if old is None:
            continue
        await store.rename_story(old, path.name)
        known[path.name] = gone.pop(old)
        del known[old]
        moves[path.name] = old
        warning = (
            f"{old} renamed {path.name} (the same bytes): its story, places and bookmarks kept"
        )
        log.info("%s", warning)
        warnings.append(warning)
    return moves


def _load(job: _Job) -> _Loaded:
    """Read, hash and parse one file. Runs in a worker thread or process: no shared state."""
    path, meta, meta_hash = job.path, job.meta, job.meta_hash
    name = path.name
    if job.data is not None and job.upload_ns is not None:
        data, size, mtime_ns = job.data, len(job.data), job.upload_ns
    else:
        try:
            stat = path.stat()
            data = path.read_bytes()
        except OSError as exc:
            return _Loaded(name, problem=f"cannot read: {exc.strerror or exc}")
        size, mtime_ns = stat.st_size, stat.st_mtime_ns
    digest = content_hash(data)
    if digest == job.refused:
        return _Loaded(name, problem=REMOVED_AGAIN)
    state = FileState(size, mtime_ns, digest, meta_hash)
    if digest == job.old_hash:
        return _Loaded(name, state=state)
    lines = data.count(b"\n") if name.lower().endswith(".txt") else 0
    if lines > 2 * MAX_PARAGRAPHS:  # before parsing: parsing them is what takes the memory
        return _Loaded(name, problem=too_many_paragraphs(lines, "lines"))
    try:
        parsed = process(data, name, meta, max_text=job.max_text)
    except StoryBotError as exc:
        return _Loaded(name, problem=exc.message)
    paragraphs = sum(len(chapter.paragraphs) for chapter in parsed.chapters)
    if paragraphs > MAX_PARAGRAPHS:
        return _Loaded(name, problem=too_many_paragraphs(paragraphs))
    # parsed.meta: library.toml's fields over what an EPUB or HTML file says of itself
    source: RatingSource = "library.toml" if meta.rating else "file"
    if parsed.meta.rating is None:  # nothing rates it: DEFAULT_RATING, failing closed
        source = "DEFAULT_RATING"
        rated = dataclasses.replace(parsed.meta, rating=job.default_rating)
        parsed = dataclasses.replace(parsed, meta=rated)
    return _Loaded(
        name,
        write=StoryWrite(name, parsed, parsed.meta, state),
        report=file_report(name, parsed, source),
    )


# A story of more paragraphs than this is refused by name: storing one costs memory per
# paragraph whatever its length, and 3 million one-word paragraphs (a 15 MB file) took the
# store past 1 GiB. A long novel has about 20,000; MAX_STORY_MB (20) of prose, about 150,000.
MAX_PARAGRAPHS = 200_000


def too_many_paragraphs(count: int, what: str = "paragraphs") -> str:
    """Why a story of ``count`` paragraphs (or, in a .txt, lines: twice as many allowed) is
    refused."""
    limit = MAX_PARAGRAPHS * (2 if what == "lines" else 1)
    return (
        f"too many {what}: {count:,}, the limit is {limit:,} (each paragraph costs memory to"
        " read and store, however short)"
    )


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


class _Writer:
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


Fetch = Callable[[str], Awaitable[bytes | None]]  # an upload's bytes from the store


async def _parsed(
    todo: list[_Job], pool: Executor, fetch: Fetch | None = None
) -> AsyncIterator[tuple[int, _Loaded]]:
    """Each job's result in file order, with its size, while the workers are kept fed with
    up to AHEAD_BYTES of files, so they parse on while the writer is busy. An upload's
    bytes are fetched from the store when its turn comes (``fetch``)."""
    loop = asyncio.get_running_loop()
    pending: deque[tuple[int, asyncio.Future[_Loaded]]] = deque()
    jobs = iter(todo)
    in_flight = 0
    while True:
        while not pending or in_flight < AHEAD_BYTES:
            job = next(jobs, None)
            if job is None:
                break
            if job.upload_ns is not None and fetch is not None:
                job = dataclasses.replace(job, data=await fetch(job.path.name))
                if job.data is None:  # removed by another host since the scan
                    gone = loop.create_future()
                    gone.set_result(_Loaded(job.path.name, problem="removed meanwhile"))
                    pending.append((job.size, gone))
                    in_flight += job.size
                    continue
            pending.append((job.size, loop.run_in_executor(pool, _load, job)))
            in_flight += job.size
        if not pending:
            return
        size, future = pending.popleft()
        loaded = await future
        in_flight -= size
        yield size, loaded


async def _load_and_write(
    todo: list[_Job],
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
    writer = _Writer(write)
    batch: list[StoryWrite] = []
    batch_bytes = 0
    pool = _executor(sum(job.size for job in todo), workers)
    finished = False
    try:
        async for size, loaded in _parsed(todo, pool, fetch):
            progress(1, size)
            if loaded.problem is not None:
                skip(loaded.name, loaded.problem)
            elif loaded.write is not None:
                if loaded.report is not None:
                    reports[loaded.name] = loaded.report
                batch.append(loaded.write)
                batch_bytes += loaded.write.state.size
                if batch_bytes >= BATCH_BYTES:
                    await writer.send(batch)
                    batch, batch_bytes = [], 0
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


# Story files above this size are skipped by name (MAX_STORY_MB): parsing takes several
# times a file's size in memory, and one huge file must not take the whole ingest down.
DEFAULT_MAX_STORY_BYTES = 20 * 1024 * 1024


async def ingest(
    store: Store,
    folder: Path,
    *,
    on_skip: Callable[[str, str], None] | None = None,
    workers: int | None = None,
    max_bytes: int = DEFAULT_MAX_STORY_BYTES,
    allow_empty: bool = False,
    on_progress: Callable[[Progress], None] | None = None,
    default_rating: Rating = "explicit",
) -> IngestReport:
    """Bring the store in line with the folder; report what was added, changed, removed, skipped.

    ``workers``: parse in this many processes when there is much to parse (default: the
    usable CPUs; 1 or 0 keeps everything in this process). A folder with no story files
    does not empty a library that has stories unless ``allow_empty`` (StoryBotError).
    ``default_rating`` (DEFAULT_RATING) rates a story that neither its file nor library.toml
    rates; the report names each such story.

    The steps: read the folder and what the store holds (``_Run.start``); decide, file by
    file, what must be parsed (``_Run.job``); parse and write (``_load_and_write``); remove
    the stories whose files are gone, and merge the indexes after many changes (``_finish``).
    """
    paths = story_files(folder)  # raises when the folder is missing or unreadable
    run = await _Run.start(store, folder, paths, on_skip)
    run.default_rating = default_rating
    own = [f for f in run.known if run.removable(f)]
    if not paths and own and not allow_empty:
        raise StoryBotError(
            f"the stories folder {_shown(folder)} has no story files, and the library has"
            f" {len(own)}: not emptying it (ingest --allow-empty does)"
        )
    todo = [job for path in paths if (job := run.job(path, folder, max_bytes)) is not None]
    uploads = run.hosts.uploads.values() if run.hosts is not None else ()
    todo += [job for up in uploads if (job := run.upload_job(up, max_bytes)) is not None]
    if todo:
        done = Progress(0, len(todo), 0, sum(job.size for job in todo), time.monotonic())

        def advance(files: int, size: int) -> None:
            nonlocal done
            done = dataclasses.replace(done, files=done.files + files, bytes=done.bytes + size)
            if on_progress is not None:
                on_progress(done)

        await _load_and_write(
            todo,
            workers=workers,
            write=run.write,
            skip=run.skip,
            store=store,
            unchanged=run.unchanged,
            reports=run.reports,
            progress=advance,
            fetch=run.hosts.shared.upload_data if run.hosts is not None else None,
        )
        log.info("ingest: read %s", done.describe())
    return await run.finish()


@dataclass(slots=True)
class _Run:
    """One ingest pass: what the store held when it began, and what became of each file."""

    store: Store
    known: dict[str, FileState]
    metas: dict[str, StoryMeta] | None  # None: library.toml unreadable (fail closed)
    warnings: list[str]
    # ratings a story keeps (see _keep_rating), but not those given in doubt (library.toml
    # was unreadable when the story came in): fixing library.toml may lower those
    stored_ratings: dict[str, Rating]
    # a file whose bytes are those of a story whose file is gone is that story renamed: it
    # keeps at least the rating it had (a renamed file loses its library.toml entry)
    renamed: dict[str, Rating]
    on_skip: Callable[[str, str], None] | None
    # with a library.toml section naming no file, a story with no section may be the one it
    # meant: rated in doubt (explicit) until library.toml is fixed
    doubtful: set[str]
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    present: set[str] = field(default_factory=set)
    default_rating: Rating = "explicit"
    folder: Path | None = None
    reports: dict[str, FileReport] = field(default_factory=dict)  # parsed, by file
    read: list[FileReport] = field(default_factory=list)  # written: what the report says
    hosts: Hosts | None = None  # a store several hosts share (bot/hosts.py)
    refused: set[str] = field(default_factory=set)  # files removed with /library remove
    shadowed: set[str] = field(default_factory=set)  # folder files an upload's name hides

    @classmethod
    async def start(
        cls,
        store: Store,
        folder: Path,
        paths: list[Path],
        on_skip: Callable[[str, str], None] | None,
    ) -> _Run:
        metas, warnings = load_metadata(folder)
        for warning in warnings:
            log.warning("%s", warning)
        known = await store.file_states()
        hosts = await Hosts.load(store, folder)
        names = {p.name for p in paths}
        uploaded = set(hosts.uploads) if hosts is not None else set()
        orphans = _orphan_sections(metas or {}, names | uploaded, folder)
        for warning in orphans:
            log.warning("%s", warning)
            warnings.append(warning)
        doubtful = {n for n in names if n not in metas} if orphans and metas is not None else set()
        await _follow_renames(store, paths, known, warnings, hosts)
        stored_ratings: dict[str, Rating] = {
            f: rating
            for f, rating in (await store.file_ratings()).items()
            if not known[f].meta_hash.startswith(IN_DOUBT)
        }
        renamed: dict[str, Rating] = {
            known[f].hash: stored_ratings[f] for f in set(known) - names if f in stored_ratings
        }
        run = cls(store, known, metas, warnings, stored_ratings, renamed, on_skip, doubtful)
        run.folder = folder
        run.hosts = hosts
        return run

    def removable(self, file: str) -> bool:
        """Whether this ingest may remove a stored story whose file it does not find."""
        return self.hosts is None or self.hosts.removable(file, self.known[file])

    def skip(self, name: str, reason: str) -> None:
        self.skipped.append((name, reason))
        if reason == REMOVED_AGAIN:
            self.refused.add(name)
        kept = " (previous version kept)" if name in self.known and reason != SHADOWED else ""
        files_log.warning("skipped story file %s: %s%s", name, reason, kept)
        if self.on_skip is not None:
            self.on_skip(name, reason)

    def job(self, path: Path, folder: Path, max_bytes: int) -> _Job | None:
        """What to do with one story file: a job to parse it, or None (skipped, unchanged)."""
        name = path.name
        try:
            if _outside(path, folder):  # and no longer served, if it ever was
                self.skip(name, "a link to a file outside the stories folder: not followed")
                return None
        except OSError as exc:
            self.skip(name, f"cannot read: {exc.strerror or exc}")
            return None
        self.present.add(name)
        if self.hosts is not None and name in self.hosts.uploads:
            self.shadowed.add(name)
            self.skip(name, SHADOWED)
            return None
        try:
            stat = path.stat()
        except OSError as exc:
            self.skip(name, f"cannot read: {exc.strerror or exc}")
            return None
        if stat.st_size > max_bytes:
            self.skip(name, f"{too_big(stat.st_size, max_bytes)} (MAX_STORY_MB)")
            return None
        refused = self.hosts.removals.get(name) if self.hosts is not None else None
        job = self._job_by_meta(path, stat.st_size, stat.st_mtime_ns, max_bytes, refused)
        return job if job is None or refused is None else dataclasses.replace(job, refused=refused)

    def upload_job(self, upload: Upload, max_bytes: int) -> _Job | None:
        """What to do with a story uploaded to a shared store: a job, or None (unchanged)."""
        self.present.add(upload.file)
        if upload.size > max_bytes:
            self.skip(upload.file, f"{too_big(upload.size, max_bytes)} (MAX_STORY_MB)")
            return None
        job = self._job_by_meta(Path(upload.file), upload.size, upload.added_ns, max_bytes)
        return None if job is None else dataclasses.replace(job, upload_ns=upload.added_ns)

    def _job_by_meta(
        self, path: Path, size: int, mtime_ns: int, max_bytes: int, refused: str | None = None
    ) -> _Job | None:
        """``refused``: the file was removed from Discord; it is read (and hashed) again."""
        name = path.name
        before = self.known.get(name) if refused is None else None
        same_file = before is not None and before.size == size and before.mtime_ns == mtime_ns
        if self.metas is None:  # library.toml unreadable: fail closed (see load_metadata)
            if before is not None:
                if same_file:
                    self.unchanged.append(name)
                else:
                    self.skip(name, f"not re-read while {METADATA_FILE} cannot be read")
                return None
            meta = StoryMeta(rating="explicit")
        elif name in self.doubtful:
            if same_file:
                self.unchanged.append(name)
                return None
            meta = StoryMeta(rating="explicit")
        else:
            meta = self.metas.get(name, StoryMeta())
        meta_hash = _meta_hash(meta, self.default_rating)
        if self.metas is None or name in self.doubtful:
            meta_hash = IN_DOUBT + meta_hash  # rated in doubt: the fix of library.toml may lower it
        old_hash = None
        if before is not None and before.meta_hash == meta_hash:
            if same_file:
                self.unchanged.append(name)
                return None
            old_hash = before.hash
        return _Job(path, size, meta, meta_hash, old_hash, max_bytes, self.default_rating)

    async def write(self, items: list[StoryWrite]) -> None:
        items = [
            _keep_rating(item, self.metas, self.stored_ratings, self.renamed, self.warnings)
            for item in items
        ]
        # a story that fails is rolled back and keeps its old version (its error is returned)
        errors = await self.store.write_stories(items)
        for item, error in zip(items, errors, strict=True):
            if error is None:
                (self.changed if item.file in self.known else self.added).append(item.file)
                self._reported(item)
            else:
                self.skip(item.file, f"database error: {error}")

    def _reported(self, item: StoryWrite) -> None:
        """What the report says of a file written: its final rating, and where it came from
        ("kept" when _keep_rating held a higher rating it had before)."""
        report = self.reports.get(item.file)
        if report is None:
            return
        rating = item.meta.rating or report.rating
        source: RatingSource = "kept" if rating != report.rating else report.rating_from
        self.read.append(dataclasses.replace(report, rating=rating, rating_from=source))

    async def finish(self) -> IngestReport:
        """Remove the stories whose files are gone, merge the search indexes after many
        changes, and say what was done."""
        gone = (set(self.known) - self.present) | (self.refused & set(self.known))
        removed = sorted(name for name in gone if self.removable(name))
        for name in removed:
            await self.store.remove_story(name)
        if self.hosts is not None:
            folder = self.present - self.refused - self.shadowed
            await self.hosts.settle(folder, [*self.added, *self.changed])
        rewritten = len(self.changed) + len(removed)
        if rewritten and rewritten >= min(TIDY_AFTER, max(1, len(self.known) // 4)):
            started = time.monotonic()
            await self.store.tidy_indexes()
            log.info(
                "search indexes merged after %d stories changed or removed (%.1f s)",
                rewritten,
                time.monotonic() - started,
            )
        order = {name: i for i, name in enumerate(sorted(self.present))}
        return IngestReport(
            added=tuple(sorted(self.added, key=order.__getitem__)),
            changed=tuple(sorted(self.changed, key=order.__getitem__)),
            removed=tuple(removed),
            unchanged=tuple(sorted(self.unchanged, key=order.__getitem__)),
            skipped=tuple(sorted(self.skipped, key=lambda s: order.get(s[0], 0))),
            warnings=tuple(self.warnings),
            files=tuple(sorted(self.read, key=lambda f: order[f.file])),
            not_read=tuple(not_read(self.folder, self.present)) if self.folder else (),
        )
