"""Peak memory of an ingest of the largest story file accepted (MAX_STORY_MB), beside the
same process starting with nothing to read: what a host must allow for one huge file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from benchmarks.corpus import BENCH_DIR, ROOT, source_files
from bot.settings import DEFAULT_MAX_STORY_MB

Row = tuple[str, str, str]


def _largest_story(size_mb: int) -> Path:
    """One story file just under ``size_mb``: the sources, one after another, as chapters."""
    folder = BENCH_DIR / f"largest-{size_mb}mb"
    path = folder / "largest.txt"
    limit = size_mb * 1024 * 1024 - 1024
    if path.is_file() and path.stat().st_size <= limit and (folder / ".complete").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    parts = [f.read_bytes().decode("utf-8", "replace") for f in source_files()]
    out: list[str] = ["The Largest Story\n\n"]
    size, n = len(out[0]), 0
    while True:
        chunk = f"Chapter {n + 1}\n\n{parts[n % len(parts)]}\n\n".encode()
        if size + len(chunk) > limit:
            break
        out.append(chunk.decode())
        size += len(chunk)
        n += 1
    path.write_text("".join(out), encoding="utf-8")
    (folder / ".complete").touch()
    return folder


# A small launcher runs the CLI and reports its peak: a child forked from this (large)
# process would start with this process's memory counted in its own peak.
_LAUNCHER = """
import os, subprocess, sys
process = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(process.pid, 0)
print(usage.ru_maxrss if status == 0 else -1)
"""


def _peak_rss_mb(args: list[str], db: Path) -> float:
    """Peak resident memory (MB) of the CLI, or of a worker process it waited for."""
    db.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("STORIES_DIR", "DATABASE_PATH")}
    cli = [sys.executable, "-m", "bot", "--db", str(db), *args]
    result = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, *cli],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    peak_kb = int(result.stdout.strip() or -1)
    if peak_kb < 0:
        raise SystemExit(f"ingest failed: {result.stderr.strip()}")
    return peak_kb / 1024  # ru_maxrss is in KB on Linux


def run() -> list[Row]:
    size_mb = int(os.environ.get("BENCH_LARGEST_MB", DEFAULT_MAX_STORY_MB))
    folder = _largest_story(size_mb)
    file_mb = (folder / "largest.txt").stat().st_size / 2**20
    empty = BENCH_DIR / "empty-stories"
    (empty / "x").mkdir(parents=True, exist_ok=True)  # a folder with no stories
    db = BENCH_DIR / "largest.db"
    baseline = _peak_rss_mb(["--stories", str(empty), "ingest"], db)
    peak = _peak_rss_mb(["--stories", str(folder), "ingest"], db)
    db.unlink(missing_ok=True)
    return [
        (
            f"peak RSS, ingest of the largest file accepted ({file_mb:.0f} MB)",
            f"{peak:.0f} MB ({peak / file_mb:.1f}x the file)",
            f"{baseline:.0f} MB, the same command with nothing to read",
        )
    ]
