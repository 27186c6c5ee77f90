"""A long ingest shows progress on a terminal, and logs one summary line elsewhere."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
from pathlib import Path

from bot.models import Progress
from tests.faults.helpers import STORY, cli, env, write


def test_ingest_logs_one_summary_line(tmp_path: Path) -> None:
    folder = tmp_path / "stories"
    for n in range(3):
        write(folder, f"s{n}.txt", STORY.format(title=f"Story {n}"))
    result = cli(tmp_path, "--stories", str(folder), "ingest")
    summary = [line for line in result.stderr.splitlines() if "ingest: read" in line]
    assert len(summary) == 1 and "3/3 files" in summary[0]
    # three small files are read in a blink: no rate, which would be noise ("342.9 MB/s")
    assert "MB/s" not in summary[0], summary[0]
    assert "\r" not in result.stderr  # no progress redraws in a log


def test_a_rate_is_shown_only_when_it_means_something() -> None:
    now = time.monotonic()
    mb = 2**20
    long_and_big = Progress(9, 10, 40 * mb, 50 * mb, now - 10).describe()
    assert long_and_big.startswith("9/10 files, 40.0/50.0 MB in 10.0 s (4.0 MB/s)"), long_and_big
    assert "MB/s" not in Progress(3, 3, 40 * mb, 40 * mb, now).describe()  # too soon
    assert "MB/s" not in Progress(3, 3, 100_000, 100_000, now - 10).describe()  # too little


def test_ingest_shows_progress_on_a_terminal(tmp_path: Path) -> None:
    folder = tmp_path / "stories"
    for n in range(3):
        write(folder, f"s{n}.txt", STORY.format(title=f"Story {n}"))
    leader, follower = pty.openpty()
    try:
        process = subprocess.run(
            [sys.executable, "-m", "bot", "--stories", str(folder), "ingest"],
            stdout=subprocess.PIPE,
            stderr=follower,
            cwd=tmp_path,
            env=env(tmp_path),
            timeout=120,
            check=False,
        )
        os.close(follower)
        follower = -1
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal's other end closed: all read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        if follower != -1:
            os.close(follower)
        os.close(leader)
    assert process.returncode == 0
    assert b"\r\x1b[Kingest: 3/3 files" in shown, shown
