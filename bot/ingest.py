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

from bot.errors import StoryBotError
from bot.models import RATINGS, IngestReport, StoryMeta
from bot.store import Store
from bot.store.library import FileState
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
        p for p in folder.iterdir()
        if p.suffix.lower() == STORY_SUFFIX and not p.name.startswith(".") and p.is_file()
    )  # fmt: skip


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


def _meta_hash(meta: StoryMeta) -> str:
    return hashlib.blake2b(repr(meta).encode(), digest_size=8).hexdigest()


def _prepare(data: bytes, name: str, meta: StoryMeta, stat: os.stat_result) -> _Prepared:
    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    parsed = process(data, name, meta)
    return _Prepared(parsed, FileState(stat.st_size, stat.st_mtime_ns, digest, _meta_hash(meta)))


async def ingest(
    store: Store, folder: Path, *, on_skip: Callable[[str, str], None] | None = None
) -> IngestReport:
    """Bring the store in line with the folder; report what was added, changed, removed, skipped."""
    metas, problem = load_metadata(folder)
    if problem:
        log.warning(problem)
    known = await store.file_states()
    added: list[str] = []
    changed: list[str] = []
    unchanged: list[str] = []
    skipped: list[tuple[str, str]] = []
    present: set[str] = set()

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
            await store.replace_story(name, prepared.parsed, meta, prepared.state)
        except StoryBotError as exc:
            reason = exc.message
        except OSError as exc:
            reason = f"cannot read: {exc.strerror or exc}"
        except sqlite3.Error as exc:  # the transaction was rolled back: the old version stands
            reason = f"database error: {exc}"
        else:
            (changed if before is not None else added).append(name)
            continue
        skipped.append((name, reason))
        log.warning("skipped story file %s: %s%s", name, reason,
                    " (previous version kept)" if before is not None else "")  # fmt: skip
        if on_skip is not None:
            on_skip(name, reason)

    removed = sorted(set(known) - present)
    for name in removed:
        await store.remove_story(name)
    return IngestReport(
        added=tuple(added), changed=tuple(changed), removed=tuple(removed),
        unchanged=tuple(unchanged), skipped=tuple(skipped),
    )  # fmt: skip
