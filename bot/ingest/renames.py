"""Renames: a new file whose bytes are those of a stored story whose file is gone is that
story renamed (same id, places and bookmarks)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from bot.hosts import Hosts
from bot.ingest.folder import content_hash
from bot.store import FileState, Store

log = logging.getLogger(__name__)


def _file_digest(path: Path) -> str | None:
    try:
        return content_hash(path.read_bytes())
    except OSError:
        return None


async def follow_renames(
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
