"""The one error type of the core. Its message is always safe to show a user."""

from __future__ import annotations

import logging


class StoryBotError(Exception):
    """A failure whose message is short, true and safe to show to a user or host.

    ``usage`` marks errors caused by what the caller asked for (unknown story,
    bad chapter, bad input); the CLI exits 2 for those. ``public`` is what a Discord user is
    told when the message is for the host (it names a file path or a database address): the
    message then goes to the host's log and the CLI only. ``transient`` marks a database that
    is busy, out of reach or stopping: trying again in a while may work (the store's locked,
    unreachable and closed errors); damage and other failures are not.
    """

    transient = False

    def __init__(self, message: str, *, usage: bool = True, public: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage
        self.public = public or message

    def __str__(self) -> str:
        return self.message


def log_failure(logger: logging.Logger, what: str, exc: BaseException) -> None:
    """Say in the host's log that ``what`` failed, as what it is: our own error in one line
    (the database busy or out of reach at warning; damaged or failed, and the rest, at error),
    anything else at error with its traceback (a fault of ours)."""
    if isinstance(exc, StoryBotError):
        level = logging.WARNING if exc.transient else logging.ERROR
        logger.log(level, "%s: %s", what, exc.message)
    else:
        logger.error("%s", what, exc_info=exc)
