"""Read-only storage (issue 17, item 10). The README's read-only replica (a copy made with
`backup`, served with READ_ONLY=1) on read-only storage serves every reading command; every
failure is one line naming the real cause. Before the fix every command on a read-only file
system exited 2 "check that its folder is writable", READ_ONLY=1 included (SQLite's read-only
opening of a WAL file needs its shared-memory file beside it), and a copy in a folder this
user cannot write was told "set READ_ONLY=1" with READ_ONLY set.

Read-only storage is a real read-only bind mount (tests/faults/namespaces.py): root ignores a
folder's mode bits, so a chmod 555 folder is read-only only for other users (that case runs
when not root)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.faults.helpers import cli, env, one_line_error
from tests.faults.namespaces import read_only

# what the bot does at start-up (bot/runtime.py, setup_hook): open the library, checking it
BOT_OPENS = """
import asyncio
from bot.library import Library
from bot.settings import Settings

async def main():
    library = await Library.open(Settings.from_env(), check=True)
    try:
        found = await library.quote("soaked in sorry", mature_ok=False)
        print(len(found.hits))
    finally:
        await library.close()

asyncio.run(main())
"""


def ro_cli(
    tmp_path: Path, folder: Path, *args: str, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The CLI (``args`` after ``python -m bot``, or ``-c`` and a script) with ``folder`` on a
    read-only mount."""
    python = [sys.executable, *(args if args[0] == "-c" else ("-m", "bot", *args))]
    return subprocess.run(
        [*read_only(folder), *python],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env(tmp_path, extra),
        timeout=120,
        check=False,
    )


def _replica(tmp_path: Path, stories: Path) -> Path:
    """The README's way: the writable library, and a copy of it made with `backup`."""
    assert cli(tmp_path, "--stories", str(stories), "ingest").returncode == 0
    copy = tmp_path / "replica" / "stories.db"
    made = cli(tmp_path, "--db", str(tmp_path / "data" / "stories.db"), "backup", str(copy))
    assert made.returncode == 0, made.stderr
    return copy


def test_a_replica_on_a_read_only_mount_serves_every_reading_command(
    tmp_path: Path, stories_dir: Path
) -> None:
    copy = _replica(tmp_path, stories_dir)
    served = {"READ_ONLY": "1", "DATABASE_PATH": str(copy), "STORIES_DIR": str(stories_dir)}
    listing = ro_cli(tmp_path, copy.parent, "stories", "--json", extra=served)
    assert listing.returncode == 0 and listing.stderr == "", listing.stderr
    assert len(json.loads(listing.stdout)) == 5
    for command in (
        ["quote", "my whole world is soaked in sorry", "--json"],
        ["chapter", "breaking-alone", "2", "--json"],
        ["excerpt", "--json"],
        ["scene", "Spike cheats at Scrabble", "--json"],
    ):
        answered = ro_cli(tmp_path, copy.parent, *command, extra=served)
        assert answered.returncode == 0 and answered.stderr == "", (command, answered.stderr)
        assert json.loads(answered.stdout)
    # the bot opens its library the same way, checking the file first (quick_check)
    bot = ro_cli(tmp_path, copy.parent, "-c", BOT_OPENS, extra=served)
    assert bot.returncode == 0 and int(bot.stdout) > 0, bot.stderr
    refused = ro_cli(tmp_path, copy.parent, "ingest", extra=served)
    one_line_error(refused, 2, "READ_ONLY is set")
    assert sorted(p.name for p in copy.parent.iterdir()) == ["stories.db"]  # nothing written


def test_without_read_only_the_one_line_names_the_read_only_file_system(
    tmp_path: Path, stories_dir: Path
) -> None:
    copy = _replica(tmp_path, stories_dir)
    served = {"DATABASE_PATH": str(copy), "STORIES_DIR": str(stories_dir)}
    line = one_line_error(
        ro_cli(tmp_path, copy.parent, "stories", extra=served), 2, str(copy), "READ_ONLY=1"
    )
    assert "read-only file system" in line, line


def test_backup_into_a_read_only_mount_is_one_line_and_leaves_nothing(
    tmp_path: Path, stories_dir: Path
) -> None:
    assert cli(tmp_path, "--stories", str(stories_dir), "ingest").returncode == 0
    shelf = tmp_path / "shelf"
    shelf.mkdir()
    db = str(tmp_path / "data" / "stories.db")
    for target in (shelf / "b.db", shelf / "new" / "b.db"):
        result = ro_cli(tmp_path, shelf, "--db", db, "backup", str(target))
        one_line_error(result, 2, str(target), "Read-only file system")
    assert list(shelf.iterdir()) == []


def test_a_replica_in_a_folder_this_user_cannot_write(tmp_path: Path, stories_dir: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root ignores a folder's mode bits: the read-only mount cases cover this")
    copy = _replica(tmp_path, stories_dir)
    copy.chmod(0o444)
    copy.parent.chmod(0o555)
    try:
        served = {"DATABASE_PATH": str(copy), "STORIES_DIR": str(stories_dir)}
        answered = cli(tmp_path, "quote", "soaked in sorry", extra=served | {"READ_ONLY": "1"})
        assert answered.returncode == 0 and answered.stderr == "", answered.stderr
        line = one_line_error(cli(tmp_path, "stories", extra=served), 2, "READ_ONLY=1")
        assert "not writable by this user" in line, line
    finally:
        copy.parent.chmod(0o755)


def test_read_only_names_a_missing_copy(tmp_path: Path) -> None:
    missing = tmp_path / "replica" / "stories.db"
    result = cli(tmp_path, "stories", extra={"READ_ONLY": "1", "DATABASE_PATH": str(missing)})
    one_line_error(result, 2, str(missing), "does not exist")
