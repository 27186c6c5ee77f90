"""Running the real CLI in a subprocess, as a host would, and judging what it printed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
STORY = "{title}\n\nChapter 1\n\nThe first paragraph is here.\n\nThe second one follows it.\n"


def env(tmp_path: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISCORD_TOKEN", "STORIES_DIR", "DATABASE_PATH", "DATA_DIR", "READ_ONLY")
    }
    return (
        base
        | {
            "DATA_DIR": str(tmp_path / "data"),
            "PYTHONUTF8": "1",
            "PYTHONPATH": str(ROOT),
        }
        | (extra or {})
    )


def cli(
    tmp_path: Path, *args: str, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # not the project: its .env is not read
        env=env(tmp_path, extra),
        timeout=120,
        check=False,
    )


def one_line_error(result: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    """The run failed with ``code`` and one line on stderr, containing ``words``."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# The figures the fault suite prints at its end (peak memory and time of the amplification cases)
FIGURES: list[str] = []


# Runs the CLI under an address-space limit and prints the peak RSS of it and its children: a
# small process of its own, so the peak is not that of the pytest process it was forked from.
_MEASURE = """
import os, resource, subprocess, sys, time
limit, fd = int(sys.argv[1]), int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
started = time.monotonic()
code = subprocess.call(sys.argv[3:])
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
os.write(fd, f"{code} {peak} {time.monotonic() - started}".encode())
"""


def measured_cli(
    tmp_path: Path, *args: str, limit_mb: int = 1024, extra: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """Run the CLI in a subprocess under an address-space limit (resource.setrlimit, as a
    small VPS or a container would impose): (result, peak RSS in MB, seconds). The peak is the
    largest of the CLI and the parser processes it waited for."""
    read, write = os.pipe()
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                _MEASURE,
                str(limit_mb * 1024 * 1024),
                str(write),
                sys.executable,
                "-m",
                "bot",
                *args,
            ],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env(tmp_path, {"MALLOC_ARENA_MAX": "2"} | (extra or {})),
            pass_fds=(write,),
            timeout=600,
            check=False,
        )
    finally:
        os.close(write)
    with os.fdopen(read) as figures:
        code, peak_kb, seconds = figures.read().split()
    result.returncode = int(code)
    return result, int(peak_kb) / 1024, float(seconds)
