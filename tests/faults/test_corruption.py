"""Garbage in the middle of the database: found at startup, rebuilt from the stories folder
with the per-server settings kept, or (read-only) a one-line stop naming the backup."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from contextlib import closing
from datetime import date
from pathlib import Path

import pytest

from bot.daily import DailySchedule
from bot.errors import StoryBotError
from bot.library import Library
from bot.settings import Settings
from bot.store.errors import StoreDamaged
from tests.faults.helpers import cli

SCHEDULE = DailySchedule(42, 7, "08:30", "Europe/Paris", None, date(2026, 1, 2))


def corrupt(db: Path) -> None:
    """Overwrite pages in the middle of the file (the texts and their index), not page 1."""
    check = sqlite3.connect(db)
    check.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    check.close()
    size = db.stat().st_size
    with db.open("r+b") as f:
        f.seek(size // 3)
        f.write(b"\x5a\xa5 garbage " * (size // 60))


async def loaded(settings: Settings) -> None:
    library = await Library.open(settings)
    try:
        await library.ingest()
        await library.store.set_daily_schedule(SCHEDULE)
    finally:
        await library.close()


async def test_damaged_database_is_rebuilt_keeping_server_settings(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    await loaded(settings)
    corrupt(settings.db_path)
    library = await Library.open(settings, check=True)
    try:
        report = await library.ingest()
        assert len(report.added) == 5
        assert await library.store.daily_schedule(42) == SCHEDULE
        assert await library.store.quick_check() is None
        assert (await library.quote("soaked in sorry", mature_ok=True)).hits
    finally:
        await library.close()
    assert "damaged" in caplog.text
    kept = list(settings.db_path.parent.glob("stories.db.damaged-*"))
    assert kept, "the damaged file is kept aside, never deleted"


async def test_read_only_process_stops_naming_the_backup(settings: Settings) -> None:
    await loaded(settings)
    corrupt(settings.db_path)
    with pytest.raises(StoryBotError, match=r"damaged.*backup") as caught:
        await Library.open(dataclasses.replace(settings, read_only=True), check=True)
    assert "\n" not in caught.value.message


def test_cli_ingest_rebuilds_a_damaged_database(tmp_path: Path, stories_dir: Path) -> None:
    assert cli(tmp_path, "--stories", str(stories_dir), "ingest").returncode == 0
    corrupt(tmp_path / "data" / "stories.db")
    result = cli(tmp_path, "--stories", str(stories_dir), "ingest")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "added 5" in result.stdout and "damaged" in result.stderr
    listed = cli(tmp_path, "--stories", str(stories_dir), "stories", "--json")
    assert len(json.loads(listed.stdout)) == 5


def damage_page_of(db: Path, index: str) -> None:
    """Overwrite the root page of ``index`` with garbage (the file's header and the stories
    table stay sound: the database opens, and only a write through that index meets it)."""
    with closing(sqlite3.connect(db)) as check:
        check.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page = check.execute("PRAGMA page_size").fetchone()[0]
        (root,) = check.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (index,))
    with db.open("r+b") as f:
        f.seek((root[0] - 1) * page)
        f.write((b"\x5a\xa5 garbage " * page)[:page])


async def test_damage_met_writing_a_story_is_the_stores_damage_not_a_refused_story(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """A running bot (its startup check passed) meets damage when /library add writes a story:
    the host is told the database is damaged, not that the story was refused. Before the fix:
    the report said "database error: the database refused it ...; its previous version is
    kept" and the log had the driver's words at warning."""
    await loaded(settings)
    damage_page_of(settings.db_path, "chapters_by_text")  # read when a chapter's text is new
    (settings.stories_dir / "new.txt").write_text(
        "A new one\n\nChapter 1\n\nThe first paragraph is here.\n\nThe second one follows.\n",
        encoding="utf-8",
    )
    library = await Library.open(settings)
    try:
        with pytest.raises(StoreDamaged, match=r"damaged \(database disk image is malformed\)"):
            await library.ingest()
    finally:
        await library.close()
    assert "refused" not in caplog.text
