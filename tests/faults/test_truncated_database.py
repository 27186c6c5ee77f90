"""A truncated database (issue 17, item 6) is treated like a damaged page: moved aside and
rebuilt from the stories folder by a process that checks it (the bot starting, `ingest`);
anything else says so in one line and exits 2, which systemd's Restart=on-failure does not
retry. Before the fix every start exited 1 "database disk image is malformed", nothing moved
aside: a restart loop."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.faults.helpers import cli, one_line_error


def truncate(db: Path, how: str) -> None:
    size = db.stat().st_size
    with db.open("r+b") as f:
        f.truncate(100 if how == "100-bytes" else size // 2)
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


@pytest.mark.parametrize("how", ["100-bytes", "half"])
def test_a_truncated_database_is_moved_aside_and_rebuilt(
    tmp_path: Path, stories_dir: Path, how: str
) -> None:
    assert cli(tmp_path, "--stories", str(stories_dir), "ingest").returncode == 0
    db = tmp_path / "data" / "stories.db"
    truncate(db, how)
    listed = cli(tmp_path, "--stories", str(stories_dir), "stories")
    one_line_error(listed, 2, "damaged", "backup")
    result = cli(tmp_path, "--stories", str(stories_dir), "ingest")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "damaged" in result.stderr
    assert "added 5" in result.stdout
    assert list(db.parent.glob("stories.db.damaged-*")), "kept aside, never deleted"
    listed = cli(tmp_path, "--stories", str(stories_dir), "stories", "--json")
    assert len(json.loads(listed.stdout)) == 5


def test_a_read_only_process_on_a_truncated_database_stops_in_one_line(
    tmp_path: Path, stories_dir: Path
) -> None:
    assert cli(tmp_path, "--stories", str(stories_dir), "ingest").returncode == 0
    db = tmp_path / "data" / "stories.db"
    truncate(db, "half")
    result = cli(
        tmp_path, "--stories", str(stories_dir), "quote", "sorry", extra={"READ_ONLY": "1"}
    )
    one_line_error(result, 2, "damaged")
    assert os.path.getsize(db) > 0 and not list(db.parent.glob("stories.db.damaged-*"))
