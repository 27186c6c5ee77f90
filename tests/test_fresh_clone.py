"""A newcomer's first two commands on a fresh clone: `make run` with no token explains and
ends on its own words (no make error line after it). The whole first hour, installing from
nothing and `make test`, is what .ci/run does on a clean clone (it prints the times)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.__main__ import NO_TOKEN_HINT

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(shutil.which("make") is None or shutil.which("git") is None, reason="no make")
def test_make_run_without_a_token_ends_on_the_hint(tmp_path: Path) -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    clone = tmp_path / "storybot"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=120)
    venv = Path(sys.prefix)  # this test's own environment stands in for the first install
    if not (venv / ".installed-prod").exists():
        pytest.skip("not run from the project's .venv")
    # a newcomer's make is the top one: under `make test` MAKELEVEL would make the inner make
    # print "Leaving directory" after the hint
    outer = ("DISCORD", "STORIES", "DATA", "MAKELEVEL", "MAKEFLAGS", "MFLAGS")
    env = {k: v for k, v in os.environ.items() if not k.startswith(outer)}
    env |= {"DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(clone)}
    result = subprocess.run(
        ["make", "run", f"VENV={venv}"],
        cwd=clone,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # one stream, in the order a terminal shows them
        text=True,
        timeout=300,
        check=False,
    )
    said = result.stdout.rstrip("\n").splitlines()
    assert "make: ***" not in "\n".join(said)
    assert said[-1] == NO_TOKEN_HINT.splitlines()[-1], said[-5:]
    assert "DISCORD_TOKEN is not set." in said
    assert result.returncode == 0  # python -m bot said 2; make ends quietly after the hint
