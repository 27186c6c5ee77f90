"""What the PostgreSQL engine says when the server cannot be reached: the cause in a few
words (no server needed: the errors are the ones asyncpg and the socket layer raise)."""

from __future__ import annotations

import errno
import socket

import asyncpg
import pytest

from bot.store import StoreDamaged
from bot.store.postgres.base import store_error, unreachable


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


def test_a_damaged_index_is_rebuilt_and_damaged_rows_restored() -> None:
    """Index damage (XX002) is mended by REINDEX, the rows being sound; a damaged page of
    rows (XX001) needs a backup."""
    index = store_error(asyncpg.IndexCorruptedError("index texts_tsv contains bad page"), "db")
    rows = store_error(asyncpg.DataCorruptedError("invalid page in block 7"), "db")
    assert isinstance(index, StoreDamaged) and isinstance(rows, StoreDamaged)
    assert "REINDEX" in index.message and "pg_dump" not in index.message
    assert "pg_dump" in rows.message
