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
