"""Killing and signalling real processes at chosen points: clean exits, no orphans, no damage."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.faults.helpers import env

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found |= {int(c) for c in text}
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def wait_until(condition, what: str, limit: float = 60.0) -> None:
    """Wait for an event (not a timing assertion: the limit only stops a hung test)."""
    end = time.monotonic() + limit
    while not condition():
        if time.monotonic() > end:
            pytest.fail(f"gave up waiting: {what}")
        time.sleep(0.05)


def read_line(process: subprocess.Popen[str], wanted: str) -> str:
    assert process.stdout is not None
    for line in process.stdout:
        if wanted in line:
            return line
    pytest.fail(f"the process ended without printing {wanted!r}")


def test_parser_workers_die_with_their_parent(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import time
        from bot.ingest.workers import executor
        pool = executor(10**12, 2)  # a process pool, as for a large ingest
        futures = [pool.submit(time.sleep, 600) for _ in range(2)]
        time.sleep(0.5)
        print("pool up", flush=True)
        time.sleep(600)
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env(tmp_path)
    )
    try:
        read_line(process, "pool up")
        wait_until(lambda: len(children(process.pid)) >= 3, "two workers and a tracker")
        spawned = children(process.pid)
        process.kill()  # kill -9: no cleanup runs in the parent
        process.wait()
        wait_until(lambda: not any(alive(pid) for pid in spawned), "the workers to exit")
    finally:
        if process.poll() is None:
            process.kill()


BOT_SCRIPT = """
import asyncio, sys
import bot.ingest.workers
from bot import runtime
from bot.__main__ import main

bot.ingest.workers.PROCESS_POOL_BYTES = 0  # parse in worker processes, as a large library would

class Offline(runtime.StoryBot):
    # Discord itself is not reachable here: log in without it, then run the real setup_hook
    async def login(self, token):
        print("ingesting", flush=True)
        await self.setup_hook()

    async def sync_commands(self):
        pass

    async def connect(self, *, reconnect=True):
        print("connected", flush=True)
        while not self.is_closed():  # as the gateway's connect() returns once closed
            await asyncio.sleep(0.05)

runtime.StoryBot = Offline
sys.exit(main([]))
"""


def big_library(folder: Path, files: int = 60) -> None:
    folder.mkdir()
    paragraph = "She walked along the shore and thought of {n} things she had never said. "
    for n in range(files):
        body = "\n\n".join(paragraph.format(n=n * 1000 + i) * 3 for i in range(2500))
        (folder / f"story{n:03d}.txt").write_text(f"Story {n}\n\nChapter 1\n\n{body}\n")


@pytest.mark.parametrize("moment", ["ingesting", "connected"])
def test_sigterm_during_startup_ingest_exits_0_and_leaves_a_sound_database(
    tmp_path: Path, moment: str
) -> None:
    folder = tmp_path / "stories"
    big_library(folder)
    token = "A" * 24 + "." + "B" * 6 + "." + "C" * 27
    extra = {"STORIES_DIR": str(folder), "DISCORD_TOKEN": token}
    process = subprocess.Popen(
        [sys.executable, "-c", BOT_SCRIPT],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(tmp_path, extra),
        cwd=tmp_path,
    )
    try:
        read_line(process, moment)
        if moment == "ingesting":
            wait_until(lambda: len(children(process.pid)) >= 2, "the parser workers")
        spawned = children(process.pid)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr, stderr
    assert stderr.rstrip().endswith("library closed"), stderr  # nothing written after it
    if moment == "ingesting":
        assert "stopping the library ingest" in stderr, stderr
    wait_until(lambda: not any(alive(pid) for pid in spawned), "the workers to exit")
    db = sqlite3.connect(tmp_path / "data" / "stories.db")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("INSERT INTO texts_fts (texts_fts) VALUES ('integrity-check')")
    finally:
        db.close()


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_cli_ingest_killed_midway_leaves_a_sound_database_and_no_workers(
    tmp_path: Path, how: signal.Signals
) -> None:
    folder = tmp_path / "stories"
    big_library(folder)
    command = [sys.executable, "-c", "import bot.ingest.workers, sys;"
               " bot.ingest.workers.PROCESS_POOL_BYTES = 0;"
               " from bot.__main__ import main; sys.exit(main(sys.argv[1:]))"]  # fmt: skip
    process = subprocess.Popen(
        [*command, "--stories", str(folder), "ingest"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env(tmp_path),
        cwd=tmp_path,
    )
    try:
        wait_until(lambda: len(children(process.pid)) >= 2, "the parser workers")
        spawned = children(process.pid)
        process.send_signal(how)
        process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    wait_until(lambda: not any(alive(pid) for pid in spawned), "the workers to exit")
    db = sqlite3.connect(tmp_path / "data" / "stories.db")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()
    again = subprocess.run(
        [*command, "--stories", str(folder), "ingest"],
        capture_output=True,
        text=True,
        env=env(tmp_path),
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    assert "skipped" not in again.stdout


def test_bot_refuses_to_start_without_its_stories_folder(tmp_path: Path) -> None:
    token = "A" * 24 + "." + "B" * 6 + "." + "C" * 27
    extra = {"STORIES_DIR": str(tmp_path / "unmounted"), "DISCORD_TOKEN": token}
    result = subprocess.run(
        [sys.executable, "-c", BOT_SCRIPT],
        capture_output=True,
        text=True,
        env=env(tmp_path, extra),
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "connected" not in result.stdout
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("storybot: the stories folder") and "unmounted" in last, last
