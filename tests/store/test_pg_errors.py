"""What the PostgreSQL engine says when the server cannot be reached: the cause in a few
words (no server needed: the errors are the ones asyncpg and the socket layer raise)."""

from __future__ import annotations

import errno
import socket

import pytest

from bot.store.postgres.base import unreachable


@pytest.mark.parametrize(
    ("error", "why"),
    [
        (ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed"), "connection refused"),
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), "name or service"),
        (TimeoutError(), "TimeoutError"),
    ],
)
def test_the_cause_is_said_in_a_few_words(error: BaseException, why: str) -> None:
    told = unreachable(error, "postgresql://bot@db.example:5432/lib").message
    assert f"({why}" in told and "unknown error" not in told, told
    assert told.startswith("cannot reach the database postgresql://bot@db.example:5432/lib")
