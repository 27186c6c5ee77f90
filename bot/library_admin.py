"""Changing the library from Discord: rescan the stories folder, add an uploaded file, remove one.

The library is the bot process's one stories folder, shared by every server the bot is in.
Uploads are checked (size, name, encoding, that the text pipeline finds a story in them)
before anything is written; a file is written whole (temporary file, then rename) so a crash
never leaves half a story in the folder.

Removing a story moves its file into ``removed/`` beside the stories rather than deleting it:
a slip in a Discord command should not destroy the only copy of a file the host was given,
and putting the file back (or deleting it for good) is one ``mv``/``rm`` on the server.
Ingest reads only the folder's own story files (``.txt``, ``.epub``, ``.html``, ``.htm``), so
nothing in ``removed/`` is served.

On a store several hosts share (PostgreSQL, bot/hosts.py) an upload is kept in the database
instead, so that every host serves it, and removing it there keeps its bytes. Removing a
story of a host's folder moves this host's copy (if it has one) to ``removed/`` and records
the removal, so that the other hosts' copies do not bring it back.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import tempfile
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.catalogue import Catalogue
from bot.errors import StoryBotError
from bot.ingest import REMOVED_DIR, STORY_SUFFIX, content_hash, load_metadata, too_big
from bot.models import IngestReport, Story, StoryMeta
from bot.store import SharedLibrary, Store
from bot.text import STORY_SUFFIXES, process

log = logging.getLogger(__name__)

MAX_NAME_CHARS = 80
_UNSAFE = re.compile(r"[^\w.\-]+")


@dataclass(frozen=True, slots=True)
class AddResult:
    file: str  # the name it was saved under
    story: Story | None  # None when ingest skipped it after all (reason in ``report``)
    replaced: bool  # a different file of the same name was replaced
    unchanged: bool  # the same bytes were already there
    report: IngestReport


@dataclass(frozen=True, slots=True)
class RemoveResult:
    story: Story
    moved_to: Path | None  # where this host's copy of its file went (None: it had none)
    report: IngestReport
    kept: str = ""  # where the file is kept, for the reply ("Its file is kept ...")


def story_suffix(name: str) -> str | None:
    """The story format of a file name, by its suffix in lower case (".txt", ".epub", ".html",
    ".htm"), or None when the library does not read such files."""
    base = _base_name(name)
    suffix = "." + base.rsplit(".", 1)[-1].lower() if "." in base else ""
    return suffix if suffix in STORY_SUFFIXES else None


def safe_file_name(name: str) -> str:
    """A file name that stays inside the stories folder: no directories, no hidden files.

    Keeps letters of any script, digits, '.', '-' and '_'; other runs become '_'. The story's
    format stays its suffix (".epub" in lower case); a name with none becomes a ".txt".
    """
    base = unicodedata.normalize("NFC", _base_name(name)).strip()
    suffix = story_suffix(base)
    stem = base[: -len(suffix)] if suffix else base
    suffix = suffix or STORY_SUFFIX
    stem = _UNSAFE.sub("_", stem).strip("._-")
    stem = stem[: MAX_NAME_CHARS - len(suffix)].rstrip("._-") or "story"
    return stem + suffix


def check_declared(name: str, size: int, max_bytes: int) -> None:
    """What can be refused before downloading an upload: its name and its size."""
    if story_suffix(name) is None:
        raise StoryBotError(
            f"“{name[:60]}” is not a story file: the library reads .txt, .epub, .html and "
            ".htm files."
        )
    if _base_name(name).startswith("."):
        raise StoryBotError(
            f"“{name[:60]}” is a hidden file name (it starts with “.”), which the library "
            "never reads: rename the file and upload it again."
        )
    if size > max_bytes:
        raise StoryBotError(f"“{name[:60]}” is {too_big(size, max_bytes)}.")


def _base_name(name: str) -> str:
    """The last part of a path, whichever separator it uses ("../../a.txt", "..\\a.txt")."""
    return re.split(r"[\\/]", name)[-1]


def check_upload(
    name: str,
    data: bytes,
    max_bytes: int,
    meta: StoryMeta | None = None,
    *,
    max_text: int | None = None,
) -> None:
    """Raise StoryBotError(usage=True) saying why an upload cannot be a story; None when fine.

    Parses the whole file: call it in a worker thread, never on the event loop."""
    check_declared(name, len(data), max_bytes)
    try:  # the same pipeline ingest runs: empty, binary, unreadable text or no story in it
        process(data, name, meta, max_text=max_text)
    except StoryBotError as exc:
        raise StoryBotError(f"“{name[:60]}” was not added: {exc.message}.") from None


# The library's ingest, as the Library runs it (rescanning the folder and forgetting what its
# services keep in memory); ``allow_empty`` lets it empty the library.
Reingest = Callable[..., Awaitable[IngestReport]]


class LibraryAdmin:
    """The host's changes to the library. One at a time: each ends with an ingest."""

    def __init__(
        self,
        folder: Path,
        catalogue: Catalogue,
        reingest: Reingest,
        *,
        store: Store | None = None,
        max_upload_bytes: int,
        max_story_bytes: int | None = None,
        read_only: bool,
    ) -> None:
        self.folder = folder
        self.max_story_bytes = max_story_bytes  # MAX_STORY_MB: the text an upload may yield
        self._catalogue = catalogue
        self._reingest = reingest
        self._store = store  # a store several hosts share keeps uploads (store.shared)
        self.max_upload_bytes = max_upload_bytes
        self.read_only = read_only
        self._lock = asyncio.Lock()

    def check_declared(self, name: str, size: int) -> None:
        """Refuse an upload by its name and declared size, before downloading it."""
        check_declared(name, size, self.max_upload_bytes)

    def _writable(self) -> None:
        if self.read_only:
            raise StoryBotError(
                "This bot instance serves a read-only copy of the library (READ_ONLY is set): "
                "change the library on the instance that owns it."
            )

    async def reload(self) -> IngestReport:
        self._writable()
        async with self._lock:
            return await self._reingest()

    async def add(self, name: str, data: bytes, *, replace: bool = False) -> AddResult:
        self._writable()
        file = safe_file_name(name)
        metas, _ = load_metadata(self.folder)
        await asyncio.to_thread(
            check_upload,
            name,
            data,
            self.max_upload_bytes,
            (metas or {}).get(file),
            max_text=self.max_story_bytes,
        )
        shared = self._store.shared if self._store is not None else None
        if shared is not None and self._store is not None:
            async with self._lock:
                replaced, unchanged = await self._upload(shared, self._store, file, data, replace)
                report = await self._reingest()
            return await self._added(file, data, replaced, unchanged, report)
        async with self._lock:
            target = self.folder / file
            replaced = unchanged = False
            if target.exists():
                old = await asyncio.to_thread(target.read_bytes)
                if old == data:
                    unchanged = True
                elif not replace:
                    raise StoryBotError(
                        f"A different story is already saved as {file}. Upload it under "
                        "another name, or add it again with replace set to True to replace it."
                    )
                else:
                    replaced = True
            if not unchanged:
                try:
                    await asyncio.to_thread(_write_atomically, target, data)
                except OSError as exc:
                    log.error("library add %s: cannot write to %s: %s", file, self.folder, exc)
                    raise StoryBotError(
                        f"Cannot save {file} in the stories folder: {exc.strerror or exc}.",
                        usage=False,
                    ) from exc
            report = await self._reingest()
        return await self._added(file, data, replaced, unchanged, report)

    async def _added(
        self, file: str, data: bytes, replaced: bool, unchanged: bool, report: IngestReport
    ) -> AddResult:
        log.info("library add %s (%d bytes)%s", file, len(data), " replacing" if replaced else "")
        story = next(
            (s for s in await self._catalogue.stories(mature_ok=True) if s.file == file), None
        )
        return AddResult(file, story, replaced, unchanged, report)

    @staticmethod
    async def _upload(
        shared: SharedLibrary, store: Store, file: str, data: bytes, replace: bool
    ) -> tuple[bool, bool]:
        """Keep an upload in a shared store: (replaced, unchanged). A story of the same file
        name, uploaded or in a host's folder, is replaced only when asked."""
        digest = content_hash(data)
        upload = (await shared.uploads()).get(file)
        stored = upload.hash if upload is not None else None
        if stored is None:
            state = (await store.file_states()).get(file)
            stored = state.hash if state is not None else None
        if stored == digest and upload is not None:
            return False, True
        if stored is not None and not replace:
            raise StoryBotError(
                f"A different story is already saved as {file}. Upload it under "
                "another name, or add it again with replace set to True to replace it."
            )
        await shared.save_upload(file, data, digest)
        return stored is not None, False

    async def remove(self, story_ref: str) -> RemoveResult:
        self._writable()
        shared = self._store.shared if self._store is not None else None
        if shared is not None and self._store is not None:
            return await self._remove_shared(shared, self._store, story_ref)
        async with self._lock:
            story = await self._catalogue.find_story(story_ref, mature_ok=True)
            target = await self._move_aside(story)
            report = await self._reingest(allow_empty=True)  # removing the last is asked
        log.info("library remove %s -> %s", story.file, target)
        kept = f"Its file is kept in the stories folder's `removed/` folder as `{target.name}`."
        return RemoveResult(story, target, report, kept)

    async def _remove_shared(
        self, shared: SharedLibrary, store: Store, story_ref: str
    ) -> RemoveResult:
        """On a shared store: an upload stops being served (its bytes stay in the database);
        a folder story is recorded as removed, and this host's copy moved aside."""
        async with self._lock:
            story = await self._catalogue.find_story(story_ref, mature_ok=True)
            target: Path | None = None
            if await shared.remove_upload(story.file):
                kept = "Its file stays in the database; `/library add` it again to bring it back."
            else:
                state = (await store.file_states()).get(story.file)
                await shared.record_removal(story.file, state.hash if state else "")
                if (self.folder / story.file).exists():
                    target = await self._move_aside(story)
                    kept = f"This host's copy is kept in `removed/` as `{target.name}`."
                else:
                    kept = "Hosts whose stories folders hold the same file leave it out."
            report = await self._reingest(allow_empty=True)
        log.info("library remove %s (shared library) -> %s", story.file, target)
        return RemoveResult(story, target, report, kept)

    async def _move_aside(self, story: Story) -> Path:
        """Move a story's file into ``removed/`` (under a new name if one is there)."""
        source = self.folder / story.file
        removed = self.folder / REMOVED_DIR
        target = removed / story.file
        if target.exists():
            stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
            target = removed / f"{Path(story.file).stem}.{stamp}{Path(story.file).suffix}"
        try:
            await asyncio.to_thread(removed.mkdir, exist_ok=True)
            if source.exists():
                await asyncio.to_thread(os.replace, source, target)
        except OSError as exc:
            raise StoryBotError(
                f"Cannot move {story.file} out of the stories folder: {exc.strerror or exc}",
                usage=False,
            ) from exc
        return target


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
