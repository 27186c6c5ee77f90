"""A full disk (issue 17, item 11) is named as such, and a failed backup leaves nothing behind.
Before the fix: "the database is damaged ... restore a backup" for SQLite's "database or disk
is full" (a rolled-back write, the file intact). The hunt's `.partial-journal` left by a backup
onto a full disk was not reproduced here (a 400 KB tmpfs left nothing, before and after); the
backup test guards the clean-up of the partial copy and its journal all the same."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

import bot.__main__
from bot.errors import StoryBotError
from bot.store.sqlite import SQLiteStore
from bot.store.sqlite.base import store_error


def test_a_full_disk_is_not_called_damage(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    async def full(*_: Any) -> int:
        # SQLITE_FULL mid-ingest, as the SQLite engine hands it on (the store's own error)
        raise store_error(tmp_path, sqlite3.OperationalError("database or disk is full"))

    monkeypatch.setattr(bot.__main__, "run_command", full)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    assert bot.__main__.main(["ingest"]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "disk is full" in err and "damaged" not in err


async def test_a_backup_that_fails_midway_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await SQLiteStore.open(tmp_path / "stories.db")

    async def half_then_full(self: aiosqlite.Connection, target: aiosqlite.Connection) -> None:
        await target.execute("BEGIN")
        await target.execute("CREATE TABLE copied (page BLOB)")
        await target.execute("INSERT INTO copied VALUES (zeroblob(100000))")  # a journal now
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(aiosqlite.Connection, "backup", half_then_full)
    target = tmp_path / "backups" / "stories.db"
    try:
        with pytest.raises(StoryBotError, match="disk is full"):
            await store.backup(target)
    finally:
        await store.close()
    assert sorted(p.name for p in target.parent.iterdir()) == []
