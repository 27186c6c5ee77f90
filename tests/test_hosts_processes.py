"""Two bot processes on one PostgreSQL, end to end, as two hosts would run them: real
processes (``python -m bot`` and ``python -m tests.hosts_driver``, which runs the real bot from
``build_bot()`` against simcord's Discord), each with its own stories folder and shard group,
one throwaway PostgreSQL database (tests/pgcluster.py). No part of the store is mocked."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg

from bot.store.postgres.base import INGEST_LOCK, NAMESPACE, WRITE_LOCK
from tests.conftest import ROOT, SEEDS

STORY = (
    "The Lighthouse\n\nChapter 1\n\n"
    "The keeper climbed the stairs every evening, counting them under his breath. "
    "There were one hundred and twelve, and he had never once lost count.\n\n"
    "Below, the sea went on with its own counting.\n"
)
# what a process may inherit that would change which library or Discord it uses
_OURS = ("DISCORD_TOKEN", "DATABASE_PATH", "DATABASE_URL", "STORIES_DIR", "DATA_DIR")
_SHARDS = ("SHARD_COUNT", "SHARD_IDS", "READ_ONLY", "STORYBOT_TEST_ENGINE")
WAITING = "another storybot is reading the stories folder: waiting for it"
TIMEOUT = 600  # seconds a process may take on a busy machine


def _host(tmp_path: Path, name: str, url: str, **more: str) -> dict[str, str]:
    """The environment of a bot process on host ``name``: its own copy of the seeds (with
    the uploaded story rated, as every host's library.toml would), one database."""
    folder = tmp_path / name
    if not folder.exists():
        shutil.copytree(SEEDS, folder)
        with (folder / "library.toml").open("a", encoding="utf-8") as toml:
            toml.write('\n["Light_house.txt"]\nrating = "general"\n')
    env = {k: v for k, v in os.environ.items() if k not in _OURS + _SHARDS}
    env.update(
        DATABASE_URL=url,
        STORIES_DIR=str(folder),
        DATA_DIR=str(tmp_path / f"data-{name}"),
        SCENE_MODEL="off",
        LOG_LEVEL="INFO",
        **more,
    )
    return env


def _drive(env: dict[str, str], step: str, arg: str | None = None) -> dict[str, Any]:
    """One bot process doing one step as a Discord user; what it saw."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.hosts_driver", step, *([arg] if arg else [])],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["errors"] == [], out
    return out


def _ingest(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "ingest", "--json"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finished(process: subprocess.Popen[str]) -> tuple[dict[str, Any], str]:
    out, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out), err


async def _advisory(conn: asyncpg.Connection, key: int, *, granted: bool) -> int:
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = $1"
            " AND objid = $2 AND granted = $3",
            NAMESPACE,
            key,
            granted,
        )
    )


async def _until(check: Any, what: str, seconds: float = TIMEOUT) -> None:
    for _ in range(int(seconds / 0.02)):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"never saw {what}")


def test_a_readers_place_and_an_upload_go_from_one_shard_group_to_the_other(
    tmp_path: Path, pg_url: str
) -> None:
    first = _host(tmp_path, "a", pg_url, SHARD_COUNT="2", SHARD_IDS="0")
    second = _host(tmp_path, "b", pg_url, SHARD_COUNT="2", SHARD_IDS="1")
    read = _drive(first, "read")  # /chapter breaking-alone 2, Next: on shard 0
    assert read["shard"] == 0 and " · Part 2 · page 2 of " in read["texts"][-1]
    back = _drive(second, "continue")  # the same reader on shard 1, in another server
    assert back["shard"] == 1 and back["alice"] == read["alice"] and back["guild"] != read["guild"]
    assert back["texts"][-2:] == read["texts"][-2:]  # the same page, the same footer

    upload = tmp_path / "Light house.txt"
    upload.write_text(STORY, encoding="utf-8")
    added = _drive(first, "add", str(upload))
    assert any("The Lighthouse" in text for text in added["texts"]), added
    assert not (tmp_path / "a" / "Light_house.txt").exists()  # kept in the database
    found = _drive(second, "quote", "one hundred and twelve")
    assert any("**one hundred and twelve**" in text for text in found["texts"]), found
    assert any("The Lighthouse" in text for text in found["texts"]), found


def test_the_daily_post_goes_out_once_from_two_processes(tmp_path: Path, pg_url: str) -> None:
    """Two processes serving the same shard (a deploy overlapping the old process, or a
    mistake in SHARD_IDS) both find the post due: it goes out once."""
    first = _host(tmp_path, "a", pg_url, SHARD_COUNT="2", SHARD_IDS="0")
    second = _host(tmp_path, "b", pg_url, SHARD_COUNT="2", SHARD_IDS="0")
    _drive(first, "daily-set")
    both = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.hosts_driver", "daily-wait"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for env in (first, second)
    ]
    posts = []
    for process in both:
        out, err = process.communicate(timeout=TIMEOUT)
        assert process.returncode == 0, err[-3000:]
        posts.append(json.loads(out.strip().splitlines()[-1])["posts"])
    assert sorted(posts) == [0, 1]


async def test_two_processes_started_at_once_ingest_once(tmp_path: Path, pg_url: str) -> None:
    """Both start while the folder is being read (the lock held here, as a third host would):
    each says it waits; the first to get the lock reads the folder, the other finds it done."""
    conn = await asyncpg.connect(pg_url)
    try:
        await conn.execute("SELECT pg_advisory_lock($1, $2)", NAMESPACE, INGEST_LOCK)
        both = [_ingest(_host(tmp_path, name, pg_url)) for name in ("a", "b")]

        async def both_wait() -> bool:
            return await _advisory(conn, INGEST_LOCK, granted=False) == 2

        await _until(both_wait, "both processes waiting for the ingest lock")
        await conn.execute("SELECT pg_advisory_unlock($1, $2)", NAMESPACE, INGEST_LOCK)
        reports = [_finished(process) for process in both]
        assert all(WAITING in err for _, err in reports)
        added = sorted(len(report["added"]) for report, _ in reports)
        unchanged = sorted(len(report["unchanged"]) for report, _ in reports)
        assert added == [0, 5] and unchanged == [0, 5]
        files = await conn.fetch("SELECT file, count(*) FROM stories GROUP BY file")
        assert len(files) == 5 and {r[1] for r in files} == {1}
    finally:
        await conn.close()


def _big_stories(folder: Path, count: int) -> None:
    """``count`` new stories of ~170 KB, each with text of its own (nothing shared)."""
    source = (SEEDS / "002_0ccc7f018ffbd0dd.txt").read_text(encoding="utf-8")
    for n in range(count):
        text = f"Variant {n}\n\n" + source.replace("Spike", f"Spike{n}").replace("the", f"th{n}e")
        (folder / f"variant_{n:02}.txt").write_text(text, encoding="utf-8")


async def test_kill_9_mid_ingest_loses_nothing(tmp_path: Path, pg_url: str) -> None:
    """A process killed (SIGKILL) while it writes stories: its transaction rolls back, its
    locks go with its connection, and the other process, waiting, reads the folder with the
    library as it was before. The library's version row is held locked by the test until the
    kill, so the first process is still writing then (a quick writer on a busy machine had
    committed before the second process came)."""
    env = _host(tmp_path, "a", pg_url)
    _finished(_ingest(env))
    conn = await asyncpg.connect(pg_url)
    holder = await asyncpg.connect(pg_url)
    held = holder.transaction()
    try:
        before = await conn.fetch("SELECT id, file, words, paragraph_count FROM stories")
        _big_stories(tmp_path / "a", 12)
        await held.start()
        await holder.execute("SELECT version FROM library_version FOR UPDATE")
        killed = _ingest(env)

        async def writing() -> bool:
            return await _advisory(conn, WRITE_LOCK, granted=True) == 1

        await _until(writing, "the first process writing stories")
        other = _ingest(_host(tmp_path, "a", pg_url))  # the same folder: another process
        await _until(
            lambda: _advisory_waiting(conn), "the second process waiting for the ingest lock"
        )
        os.kill(killed.pid, signal.SIGKILL)
        killed.communicate(timeout=TIMEOUT)
        assert killed.returncode == -signal.SIGKILL
        await held.rollback()
        report, err = _finished(other)
        assert WAITING in err
        assert len(report["added"]) == 12 and len(report["unchanged"]) == 5
        after = await conn.fetch("SELECT id, file, words, paragraph_count FROM stories")
        assert {tuple(r) for r in before} <= {tuple(r) for r in after} and len(after) == 17
    finally:
        await holder.close()
        await conn.close()


async def _advisory_waiting(conn: asyncpg.Connection) -> bool:
    return await _advisory(conn, INGEST_LOCK, granted=False) == 1
