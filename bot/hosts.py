"""Several hosts, one library: what an ingest does differently on a store that several hosts
share (PostgreSQL; the store's ``shared`` is set).

Each host has a stories folder of its own, and the library is one. So:

- a story uploaded with /library add lives in the database (``uploads``) and every host's
  ingest serves it; a file of the same name in a host's folder is not read while it is;
- each folder story remembers the host (host name and folder) whose folder last held its
  file; a host's ingest removes only its own stories whose files are gone, never another
  host's nor an upload, so hosts whose folders differ do not undo each other's work;
- a story removed with /library remove is remembered by its file and bytes: a host whose
  folder still holds that file does not bring it back (it says so in its ingest report);
  a changed file, or the file uploaded again, is added again.

On a store of one host (SQLite) none of this applies: uploads are files in its folder, and
ingest removes any story whose file is gone (bot/ingest/run.py).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.errors import StoryBotError
from bot.store import FileState, SharedLibrary, Store, Upload

UPLOAD = "upload"  # the host of a story uploaded with /library add
REMOVED_AGAIN = (
    "removed from the library with /library remove: not added again while the file is"
    " unchanged (delete it or move it to removed/ here; a changed file is added again)"
)
SHADOWED = "a story uploaded with /library add under the same name is served instead"


def host_key(folder: Path, host: str | None = None) -> str:
    """A host's stories folder, as stories remember it: host name and resolved folder. With
    ``host``, another machine's: its name, and the folder as its absolute path there (it
    cannot be resolved here)."""
    if host is None:
        return f"{socket.gethostname()}:{folder.expanduser().resolve()}"
    return f"{host}:{os.path.normpath(folder)}"


def migration_key(folder: Path, host: str | None) -> str:
    """The host key ``migrate`` gives every story it copies (they all came from one stories
    folder): ``folder`` on this machine, or on the machine named ``host``. A folder that is
    not here, or another machine's given as a relative path, is refused (one line)."""
    if host is None and not folder.is_dir():
        raise StoryBotError(
            f"the stories folder {folder} is not on this machine: give --stories the folder"
            " the bot's host ingests (and --host NAME when it is another machine's)"
        )
    if host is not None and not folder.is_absolute():
        raise StoryBotError(f"--stories must be the folder's absolute path on {host}: {folder}")
    return host_key(folder, host)


@dataclass(slots=True)
class Hosts:
    """One ingest's view of a shared store: uploads, each story's host, and removals."""

    shared: SharedLibrary
    key: str  # this host's folder (host_key)
    uploads: dict[str, Upload]
    owners: dict[str, str]  # file -> host
    removals: dict[str, str]  # file -> hash of the bytes removed

    @classmethod
    async def load(cls, store: Store, folder: Path) -> Hosts | None:
        """The view for an ingest of ``folder``; None on a store of one host."""
        shared = store.shared
        if shared is None:
            return None
        return cls(
            shared,
            host_key(folder),
            await shared.uploads(),
            await shared.folder_hosts(),
            await shared.removals(),
        )

    def removable(self, file: str, state: FileState) -> bool:
        """Whether this host's ingest removes a stored story whose file it does not hold: its
        own folder's story, an upload no longer served, or a story removed from Discord."""
        if file in self.uploads:
            return False
        if self.removals.get(file) == state.hash:
            return True
        owner = self.owners.get(file, "")
        return owner in (self.key, UPLOAD)

    async def settle(self, folder_files: Iterable[str], written: Iterable[str]) -> None:
        """After an ingest: this host's folder holds ``folder_files`` (they are its stories
        now), uploads are uploads, and a file written again is no longer removed."""
        mine = [f for f in folder_files if f not in self.uploads]
        await self.shared.set_folder_host(self.key, mine)
        await self.shared.set_folder_host(UPLOAD, list(self.uploads))
        await self.shared.forget_removals([f for f in written if f in self.removals])
