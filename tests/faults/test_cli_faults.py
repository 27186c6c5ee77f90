"""The CLI against missing folders, bad databases, bad settings and hostile files:
one line on stderr, exit 2 for what a retry cannot fix, never a traceback, never data lost."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.faults.helpers import ROOT, STORY, cli, env, one_line_error, write

not_root = pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write(tmp_path / "stories", "a.txt", STORY.format(title="Alpha"))
    write(tmp_path / "stories", "b.txt", STORY.format(title="Beta"))
    return tmp_path / "stories"


def stories(tmp_path: Path, folder: Path) -> list[str]:
    result = cli(tmp_path, "--stories", str(folder), "stories", "--json")
    assert result.returncode == 0, result.stderr
    return sorted(s["file"] for s in json.loads(result.stdout))


def test_missing_stories_folder_is_an_error_and_keeps_the_library(
    tmp_path: Path, folder: Path
) -> None:
    assert cli(tmp_path, "--stories", str(folder), "ingest").returncode == 0
    result = cli(tmp_path, "--stories", str(tmp_path / "nope"), "ingest")
    one_line_error(result, 2, str(tmp_path / "nope"), "does not exist")
    assert stories(tmp_path, folder) == ["a.txt", "b.txt"]


def test_stories_folder_that_is_a_file(tmp_path: Path) -> None:
    write(tmp_path, "file.txt", "x")
    one_line_error(cli(tmp_path, "--stories", str(tmp_path / "file.txt"), "ingest"), 2, "file.txt")


@not_root
def test_unreadable_stories_folder(tmp_path: Path, folder: Path) -> None:
    folder.chmod(0)
    try:
        one_line_error(cli(tmp_path, "--stories", str(folder), "ingest"), 2, str(folder))
    finally:
        folder.chmod(0o755)


def test_emptying_the_library_takes_allow_empty(tmp_path: Path, folder: Path) -> None:
    assert cli(tmp_path, "--stories", str(folder), "ingest").returncode == 0
    for path in folder.glob("*.txt"):
        path.unlink()
    result = cli(tmp_path, "--stories", str(folder), "ingest")
    one_line_error(result, 2, "no story files", "--allow-empty")
    assert cli(tmp_path, "--stories", str(folder), "stories", "--json").stdout.count("file") == 2
    result = cli(tmp_path, "--stories", str(folder), "ingest", "--allow-empty")
    assert result.returncode == 0 and "removed 2" in result.stdout


def test_reading_commands_do_not_ingest(tmp_path: Path, folder: Path) -> None:
    assert cli(tmp_path, "--stories", str(folder), "ingest").returncode == 0
    write(folder, "c.txt", STORY.format(title="Gamma"))
    assert stories(tmp_path, folder) == ["a.txt", "b.txt"]  # not until `ingest`
    assert cli(tmp_path, "--stories", str(folder), "ingest").returncode == 0
    assert stories(tmp_path, folder) == ["a.txt", "b.txt", "c.txt"]


def test_first_use_loads_the_library_once(tmp_path: Path, folder: Path) -> None:
    assert stories(tmp_path, folder) == ["a.txt", "b.txt"]


def test_broken_library_toml_never_fails_open_through_the_cli(tmp_path: Path, folder: Path) -> None:
    # a host whose DEFAULT_RATING is general: what rates c.txt explicit is the broken toml
    general = {"DEFAULT_RATING": "general"}
    toml = write(folder, "library.toml", '["a.txt"]\nrating = "explicit"\n')
    assert cli(tmp_path, "--stories", str(folder), "ingest", extra=general).returncode == 0
    toml.write_text('["a.txt"\nrating = "explicit"\n')
    write(folder, "c.txt", STORY.format(title="Gamma"))
    result = cli(tmp_path, "--stories", str(folder), "ingest", extra=general)
    assert result.returncode == 0
    assert "library.toml" in result.stderr and "WARNING" in result.stderr
    assert "1 warning" in result.stdout  # counted; said once, in the log
    assert result.stderr.count("cannot be read") == 1
    listed = cli(tmp_path, "--stories", str(folder), "stories", "--json")
    ratings = {s["file"]: s["rating"] for s in json.loads(listed.stdout)}
    assert ratings == {"a.txt": "explicit", "b.txt": "general", "c.txt": "explicit"}


def test_symlink_out_of_the_folder_is_not_followed(tmp_path: Path, folder: Path) -> None:
    secret = write(tmp_path / "elsewhere", "secret.txt", STORY.format(title="Secret"))
    (folder / "passwd.txt").symlink_to(secret)
    (folder / "inside.txt").symlink_to(folder / "a.txt")  # a link within the folder is fine
    result = cli(tmp_path, "--stories", str(folder), "ingest")
    assert result.returncode == 0
    assert "passwd.txt" in result.stdout and "outside the stories folder" in result.stdout
    assert stories(tmp_path, folder) == ["a.txt", "b.txt", "inside.txt"]


def test_story_above_the_size_limit_is_skipped_by_name(tmp_path: Path, folder: Path) -> None:
    big = "Huge\n\n" + ("A line of a story that goes on and on.\n\n" * 30_000)
    write(folder, "huge.txt", big)  # about 1.2 MB
    result = cli(tmp_path, "--stories", str(folder), "ingest", extra={"MAX_STORY_MB": "1"})
    assert result.returncode == 0, result.stderr
    assert "huge.txt: too big: 1.1 MB, the limit is 1.0 MB" in result.stdout
    assert "huge.txt" not in stories(tmp_path, folder)


@pytest.mark.parametrize(
    ("name", "value"),
    [("LOG_LEVEL", "LOUD"), ("READ_ONLY", "maybe"), ("MAX_STORY_MB", "big"), ("MAX_STORY_MB", "0")],
)
def test_bad_settings_are_refused(tmp_path: Path, folder: Path, name: str, value: str) -> None:
    result = cli(tmp_path, "--stories", str(folder), "stories", extra={name: value})
    one_line_error(result, 2, name)


# ---- the database file -------------------------------------------------------------------


def test_not_a_database(tmp_path: Path, folder: Path) -> None:
    db = write(tmp_path, "junk.db", "this is not a database, it is a text file\n" * 100)
    result = cli(tmp_path, "--stories", str(folder), "--db", str(db), "ingest")
    one_line_error(result, 2, str(db), "not a database", "backup")


def test_newer_database_exits_2_and_names_the_path_unmangled(tmp_path: Path, folder: Path) -> None:
    db = tmp_path / "stories" / "stories.db"  # a path with /stories in it
    sqlite3.connect(db).execute("PRAGMA user_version = 999").connection.close()
    result = cli(tmp_path, "--stories", str(folder), "--db", str(db), "stories")
    one_line_error(result, 2, str(db), "newer")


@not_root
def test_data_folder_that_cannot_be_created(tmp_path: Path, folder: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    db = locked / "data" / "stories.db"
    result = cli(tmp_path, "--stories", str(folder), "--db", str(db), "ingest")
    one_line_error(result, 2, str(locked / "data"))


@not_root
def test_read_only_database(tmp_path: Path, folder: Path) -> None:
    db = tmp_path / "ro" / "stories.db"
    assert cli(tmp_path, "--stories", str(folder), "--db", str(db), "ingest").returncode == 0
    db.chmod(0o444)
    db.parent.chmod(0o555)
    try:
        result = cli(tmp_path, "--stories", str(folder), "--db", str(db), "ingest")
        one_line_error(result, 2, str(db), "read-only")
    finally:
        db.parent.chmod(0o755)


# ---- backup ------------------------------------------------------------------------------


def test_backup_refuses_a_database_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    one_line_error(cli(tmp_path, "--db", str(missing), "backup", str(tmp_path / "b.db")), 2)
    assert not missing.exists() and not (tmp_path / "b.db").exists()


def test_backup_to_a_folder_and_over_a_file(tmp_path: Path, folder: Path) -> None:
    db = tmp_path / "s.db"
    assert cli(tmp_path, "--stories", str(folder), "--db", str(db), "ingest").returncode == 0
    (tmp_path / "dir").mkdir()
    one_line_error(cli(tmp_path, "--db", str(db), "backup", str(tmp_path / "dir")), 2, "folder")
    target = tmp_path / "b.db"
    assert cli(tmp_path, "--db", str(db), "backup", str(target)).returncode == 0
    one_line_error(cli(tmp_path, "--db", str(db), "backup", str(target)), 2, "--force")
    assert cli(tmp_path, "--db", str(db), "backup", str(target), "--force").returncode == 0
    copy = sqlite3.connect(target)
    try:
        assert copy.execute("SELECT count(*) FROM stories").fetchone()[0] == 2
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        copy.close()


def test_hint_names_the_command_as_typed_from_the_project(tmp_path: Path, folder: Path) -> None:
    venv_python = ROOT / ".venv" / "bin" / "python"
    if not venv_python.exists():
        pytest.skip("no .venv")
    result = subprocess.run(
        [".venv/bin/python", "-m", "bot", "--stories", str(folder), "excerpt", "--story", "nope"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env(tmp_path),
        timeout=120,
        check=False,
    )
    line = one_line_error(result, 2, "No story called")
    assert "`.venv/bin/python -m bot stories`" in line


def test_a_database_that_cannot_be_opened_is_one_line_every_time(
    tmp_path: Path, folder: Path
) -> None:
    """aiosqlite's worker thread used to answer its stop request on a loop already closed:
    "Exception in thread … Event loop is closed" after the one-line error, now and then."""
    (tmp_path / "a-folder.db").mkdir()
    for _ in range(5):
        result = cli(
            tmp_path, "--stories", str(folder), "--db", str(tmp_path / "a-folder.db"), "stories"
        )
        one_line_error(result, 2, "cannot open the database")
        assert "Event loop is closed" not in result.stderr
