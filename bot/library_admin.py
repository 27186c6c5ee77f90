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
from bot.ingest import REMOVED_DIR, STORY_SUFFIX, load_metadata, too_big
from bot.models import IngestReport, Story, StoryMeta
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
    moved_to: Path
    report: IngestReport


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
        max_upload_bytes: int,
        max_story_bytes: int | None = None,
        read_only: bool,
    ) -> None:
        self.folder = folder
        self.max_story_bytes = max_story_bytes  # MAX_STORY_MB: the text an upload may yield
        self._catalogue = catalogue
        self._reingest = reingest
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
        log.info("library add %s (%d bytes)%s", file, len(data), " replacing" if replaced else "")
        story = next(
            (s for s in await self._catalogue.stories(mature_ok=True) if s.file == file), None
        )
        return AddResult(file, story, replaced, unchanged, report)

    async def remove(self, story_ref: str) -> RemoveResult:
        self._writable()
        async with self._lock:
            story = await self._catalogue.find_story(story_ref, mature_ok=True)
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
            report = await self._reingest(allow_empty=True)  # removing the last is asked
        log.info("library remove %s -> %s", story.file, target)
        return RemoveResult(story, target, report)


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
