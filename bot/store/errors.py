"""The store's own errors: what an engine raises, whichever engine it is.

Every error is a StoryBotError, so its message is one line safe to show the host; ``usage``
marks a configuration fault (the CLI and the service exit 2, which systemd does not retry).
The message names the database (a file path, or a server's address without its password),
which is the host's business: a Discord user is told ``public`` instead (a line per kind,
below), and the host's log keeps the message. Services catch these, never a database
driver's exceptions.
"""

from __future__ import annotations

from typing import NoReturn

from bot.errors import StoryBotError

BUSY = "The library's database is busy or out of reach right now: try again in a moment."
FAILED = "The library's database failed: the bot's host will find why in its log."
STOPPING = "The bot is stopping or restarting: try again in a moment."
# why one story was not written, in an ingest report (which Discord admins see too): the
# database's own words go to the host's log
REFUSED = "the database refused it (its words are in the host's log); its previous version is kept"


class StoreError(StoryBotError):
    """The store could not do what was asked (a query failed, the database cannot be opened)."""

    PUBLIC = FAILED

    def __init__(self, message: str, *, usage: bool = False) -> None:
        super().__init__(message, usage=usage, public=self.PUBLIC)


class StoreLocked(StoreError):
    """Another process held the database past every retry: try again later (not a usage fault)."""

    transient = True
    PUBLIC = BUSY


class StoreUnreachable(StoreError):
    """The database server cannot be reached (down, restarting, the network): try again in a
    moment (not a usage fault)."""

    transient = True
    PUBLIC = BUSY


class StoreUnwritable(StoreError):
    """The database cannot write for a reason of its own, never a story's: read-only, a role
    without the privilege, a full or failing disk. What was being written is rolled back
    whole; the host fixes the database and runs it again."""


class StoreDamaged(StoreError):
    """The database is damaged or is not a database: rebuild it or restore a backup."""


class StoreTooNew(StoreError):
    """The database was written by a newer storybot (its schema is newer than this one's)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, usage=True)


class StoreClosed(StoreError):
    """The store was closed (the process is stopping) before this call: nothing more is read
    or written through it."""

    transient = True
    PUBLIC = STOPPING


class ClosedConnection:
    """What a closed store holds in place of its connection (SQLite) or pool (PostgreSQL):
    whatever is asked of it raises StoreClosed, the store's own error, never the driver's
    ("Connection closed", "pool is closed")."""

    def __init__(self, where: str) -> None:
        self.where = where

    def error(self) -> StoreClosed:
        return StoreClosed(f"the database {self.where} was closed before this call")

    def __getattr__(self, name: str) -> NoReturn:
        raise self.error()
