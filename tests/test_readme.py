"""The README's commands, run as a reader would run them, against a temporary library: every
shell line that runs the bot, and the console session, must succeed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
_BOT = ".venv/bin/python -m bot"


def _blocks() -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in _BLOCK.finditer(README.read_text(encoding="utf-8"))]


def cli_lines() -> list[str]:
    """The shell lines of the README that run the bot's CLI (not `sudo`, not the service's)."""
    return [
        line.split("  #")[0].strip()
        for kind, body in _blocks()
        if kind == "sh"
        for line in body.splitlines()
        if line.startswith(_BOT)
    ]


def console_session() -> list[str]:
    return [
        line.removeprefix("storybot> ")
        for _, body in _blocks()
        for line in body.splitlines()
        if line.startswith("storybot> ")
    ]


@pytest.fixture
def reader_home(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A project folder whose .venv/bin/python is this Python, the seeds as the stories
    folder (and as ~/stories), and no token."""
    project = tmp_path / "project"
    (project / ".venv" / "bin").mkdir(parents=True)
    python = project / ".venv" / "bin" / "python"
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    home = tmp_path / "home"
    home.mkdir()
    shutil.copytree(ROOT / "seeds", home / "stories")
    env = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "DATABASE_PATH")}
    env |= {
        "HOME": str(home),
        "STORIES_DIR": str(home / "stories"),
        "DATA_DIR": str(tmp_path / "data"),
        "PYTHONPATH": str(ROOT),
        "PYTHONUTF8": "1",
    }
    return project, env


def test_the_readme_has_commands_to_run() -> None:
    assert len(cli_lines()) >= 6
    assert "/quote my whole world is soaked in sorry" in console_session()


@pytest.mark.parametrize("line", cli_lines())
def test_readme_cli_line_runs(line: str, reader_home: tuple[Path, dict[str, str]]) -> None:
    project, env = reader_home
    result = subprocess.run(
        ["bash", "-c", line],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"{line}\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stdout + result.stderr


def test_readme_console_session_runs(reader_home: tuple[Path, dict[str, str]]) -> None:
    project, env = reader_home
    session = console_session()
    result = subprocess.run(
        [str(project / ".venv" / "bin" / "python"), "-m", "bot", "console"],
        input="\n".join(session) + "\n",
        check=False,
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr  # 1 when any command failed
    assert "Traceback" not in result.stdout + result.stderr
    assert "Unknown command" not in result.stdout
