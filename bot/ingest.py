"""Ingest: bring the store in line with the stories folder, one story at a time.

A file whose size and modification time are unchanged is not read at all; one whose
bytes hash the same is not parsed. Each story is replaced in one transaction, so a
failure (bad file, crash, full disk) leaves that story's previous version in place.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import sqlite3
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import ftfy

import bot.text
from bot.errors import StoryBotError
from bot.models import RATINGS, IngestReport, StoryMeta
from bot.store import Store
from bot.store.library import FileState, StoryWrite
from bot.text import ParsedStory, process

log = logging.getLogger(__name__)

METADATA_FILE = "library.toml"
STORY_SUFFIX = ".txt"


@dataclass(frozen=True, slots=True)
class _Prepared:
    parsed: ParsedStory
    state: FileState


def story_files(folder: Path) -> list[Path]:
    """The story files of a folder: visible *.txt files, sorted by name."""
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.suffix.lower() == STORY_SUFFIX and not p.name.startswith(".") and p.is_file()
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

        metas[name] = StoryMeta(text("title"), text("author"), rating, text("url"))
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


def _prepare(data: bytes, name: str, meta: StoryMeta, stat: os.stat_result) -> _Prepared:
    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    parsed = process(data, name, meta)
    return _Prepared(parsed, FileState(stat.st_size, stat.st_mtime_ns, digest, _meta_hash(meta)))


# Stories are written in batches of about this much text: one transaction per batch (a
# savepoint per story) is several times faster than one per story on a large library.
BATCH_BYTES = 8 * 1024 * 1024


async def ingest(
    store: Store, folder: Path, *, on_skip: Callable[[str, str], None] | None = None
) -> IngestReport:
    """Bring the store in line with the folder; report what was added, changed, removed, skipped.

    Parsing and writing run one after the other in worker threads, keeping the event loop
    free. (Overlapping them measured no faster: both need the GIL.)
    """
    metas, problem = load_metadata(folder)
    if problem:
        log.warning(problem)
    known = await store.file_states()
    added: list[str] = []
    changed: list[str] = []
    unchanged: list[str] = []
    skipped: list[tuple[str, str]] = []
    present: set[str] = set()
    batch: list[StoryWrite] = []
    batch_bytes = 0

    def skip(name: str, reason: str) -> None:
        skipped.append((name, reason))
        kept = " (previous version kept)" if name in known else ""
        log.warning("skipped story file %s: %s%s", name, reason, kept)
        if on_skip is not None:
            on_skip(name, reason)

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

    async def flush() -> None:
        nonlocal batch, batch_bytes
        if batch:
            await write(batch)
        batch, batch_bytes = [], 0

    for path in story_files(folder):
        name = path.name
        present.add(name)
        meta = metas.get(name, StoryMeta())
        meta_hash = _meta_hash(meta)
        before = known.get(name)
        try:
            stat = path.stat()
            if (
                before is not None
                and before.size == stat.st_size
                and before.mtime_ns == stat.st_mtime_ns
                and before.meta_hash == meta_hash
            ):
                unchanged.append(name)
                continue
            data = await asyncio.to_thread(path.read_bytes)
            if before is not None and before.meta_hash == meta_hash:
                digest = hashlib.blake2b(data, digest_size=16).hexdigest()
                if digest == before.hash:
                    await store.touch_file(name, stat.st_size, stat.st_mtime_ns)
                    unchanged.append(name)
                    continue
            prepared = await asyncio.to_thread(_prepare, data, name, meta, stat)
        except StoryBotError as exc:
            skip(name, exc.message)
            continue
        except OSError as exc:
            skip(name, f"cannot read: {exc.strerror or exc}")
            continue
        batch.append(StoryWrite(name, prepared.parsed, meta, prepared.state))
        batch_bytes += stat.st_size
        if batch_bytes >= BATCH_BYTES:
            await flush()
    await flush()

    removed = sorted(set(known) - present)
    for name in removed:
        await store.remove_story(name)
    order = {name: i for i, name in enumerate(sorted(present))}
    return IngestReport(
        added=tuple(sorted(added, key=order.__getitem__)),
        changed=tuple(sorted(changed, key=order.__getitem__)),
        removed=tuple(removed),
        unchanged=tuple(unchanged),
        skipped=tuple(sorted(skipped, key=lambda s: order.get(s[0], 0))),
    )
