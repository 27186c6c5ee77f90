"""The console as a newcomer meets it: quoted options, plain words, paging at the edges,
and Ctrl-C at the prompt."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from bot.console import ConsoleSession
from bot.library import Library

ROOT = Path(__file__).resolve().parents[1]


async def test_quoted_option_values_are_unquoted(library: Library) -> None:
    session = ConsoleSession(library)
    answer = await session.handle('/excerpt story:"Breaking Alone"')
    assert answer is not None and "— Breaking alone, " in answer


async def test_excerpt_in_plain_words_takes_a_story_then_a_chapter(library: Library) -> None:
    session = ConsoleSession(library)
    answer = await session.handle("/excerpt breaking-alone 4")
    assert answer is not None and "— Breaking alone, Part 4" in answer
    answer = await session.handle("/excerpt Breaking Alone 2")
    assert answer is not None and "— Breaking alone, Part 2" in answer
    answer = await session.handle("/excerpt breaking-alone")
    assert answer is not None and "— Breaking alone, " in answer


async def test_prev_on_the_first_page_and_next_on_the_last(library: Library) -> None:
    session = ConsoleSession(library)
    first = await session.handle("/chapter breaking-alone 1")
    assert first is not None and "(page 1 of" in first
    assert await session.handle("/prev") == "This is the first page."
    last = await session.handle("/last")
    assert last is not None and "page" in last
    assert await session.handle("/next") == "This is the last page."
    assert "is not a page number" in (await session.handle("/page two") or "")


def test_ctrl_c_at_the_prompt_leaves_at_once(tmp_path: Path, stories_dir: Path) -> None:
    """Interactive console on a terminal: one Ctrl-C (SIGINT) at the prompt exits 0."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "STORIES_DIR")}
    env |= {"DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT), "PYTHONUTF8": "1"}
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "--stories", str(stories_dir), "console"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=tmp_path,
        env=env,
    )
    os.close(follower)
    try:
        seen = _read_until(leader, b"storybot> ", 120)
        assert b"storybot> " in seen, seen
        # a person's pause: readline draws the prompt before it waits for keys, and a
        # signal in between is seen only at the next key (microseconds, for a person)
        _read_until(leader, b"\x00", 1)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=120) == 0  # a hang guard, not a timing: it never left before
        rest = _read_until(leader, b"\x00", 2)
        assert b"Traceback" not in seen + rest
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(leader)


def _read_until(fd: int, wanted: bytes, seconds: float) -> bytes:
    out = b""
    deadline = time.monotonic() + seconds
    while wanted not in out and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the other side closed
                break
            if not chunk:
                break
            out += chunk
    return out


async def test_a_quoted_story_in_plain_words_and_page_without_a_number(library: Library) -> None:
    session = ConsoleSession(library)
    page = await session.handle('/chapter "Breaking Alone" 2')
    assert page is not None and "Breaking alone — Part 2" in page
    assert await session.handle("/page") == "Usage: /page N   e.g. /page 2"
