"""A real full disk (issue 17, item 11): the database, or a backup, on a small tmpfs mounted in
a mount namespace of the test's own (tests/faults/namespaces.py), so SQLite meets ENOSPC as
on a VPS whose disk filled up. An ingest that runs out of room stops with one line saying
"the disk is full" (the host's to fix, not a story skipped: tests/faults/
test_unwritable_store.py) and leaves the library as it was (integrity_check ok, every story
there); a backup that runs out
of room says so in one line and leaves no partial file or journal behind.

RLIMIT_FSIZE was tried first (it needs no mount): SQLite reports its EFBIG as "disk I/O
error", not as a full disk, and it limits the database's own -shm and -wal too, so it does
not show what a full disk does."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

from tests.faults.helpers import env, one_line_error
from tests.faults.namespaces import small_disk

# inside the namespace: ingest the seeds onto the small disk, add a story too big for what is
# left, ingest again; then SQLite's own verdict on the file, and what it holds
SCENARIO = """
set -u
python=$1; stories=$2; big=$3
"$python" -m bot ingest >/dev/null 2>&1 || { echo "first ingest failed"; exit 9; }
cp "$big" "$stories/"
"$python" -m bot ingest >"$0/../second.out" 2>"$0/../second.err"
echo "exit $?" > "$0/../second.code"
"$python" -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("PRAGMA integrity_check").fetchone()[0])
print(db.execute("SELECT count(*) FROM stories").fetchone()[0])
' "$0/stories.db"
"""


def _big_story(path: Path) -> Path:
    """A story of about 4 MB of paragraphs of made-up words: more than the disk has left."""
    rng = random.Random(1)
    paragraphs = (
        " ".join(f"w{rng.randrange(10**7)}" for _ in range(25)) + "." for _ in range(20_000)
    )
    path.write_text("A Story Too Big\n\nChapter 1\n\n" + "\n\n".join(paragraphs), "utf-8")
    return path


def test_an_ingest_that_fills_the_disk_says_so_and_keeps_the_library(
    tmp_path: Path, stories_dir: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    big = _big_story(tmp_path / "zz-too-big.txt")
    result = subprocess.run(
        [
            *small_disk(data, "3m"),
            "sh",
            "-c",
            SCENARIO,
            str(data),
            sys.executable,
            str(stories_dir),
            str(big),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env(tmp_path, {"STORIES_DIR": str(stories_dir)}),
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # the ingest stops with one line naming the full disk (the database's trouble, not the
    # story's: never "skipped zz-too-big.txt"), the library as it was
    assert (tmp_path / "second.code").read_text().split() == ["exit", "1"]
    err = (tmp_path / "second.err").read_text().strip()
    assert len(err.splitlines()) == 1 and "the disk is full" in err, err
    assert "damaged" not in err and "Traceback" not in err, err
    assert "zz-too-big" not in (tmp_path / "second.out").read_text()
    assert result.stdout.split() == ["ok", "5"]  # the five seeds, the file sound


def test_a_backup_onto_a_full_disk_is_one_line_and_leaves_nothing(
    tmp_path: Path, stories_dir: Path
) -> None:
    data = tmp_path / "data"
    made = subprocess.run(
        [sys.executable, "-m", "bot", "--stories", str(stories_dir), "ingest"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env(tmp_path),
        timeout=300,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    shelf = tmp_path / "shelf"
    shelf.mkdir()
    for size in ("16k", "200k"):  # full at once, and full midway through the copy
        result = subprocess.run(
            [
                *small_disk(shelf, size),
                "sh",
                "-c",
                '"$@"; code=$?; ls -A "$0" >&2; exit $code',
                str(shelf),
                sys.executable,
                "-m",
                "bot",
                "--db",
                str(data / "stories.db"),
                "backup",
                str(shelf / "stories.db"),
            ],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env(tmp_path),
            timeout=120,
            check=False,
        )
        # one line, and `ls -A` of the shelf printed nothing: no partial copy, no journal
        line = one_line_error(result, 2, str(shelf / "stories.db"), "the disk is full")
        assert "Traceback" not in line
