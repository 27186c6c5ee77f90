"""What running the bot on a server relies on: the systemd unit, the Dockerfile, exit statuses,
backups of a database in use, and read-only library copies."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot.errors import StoryBotError
from bot.library import Library
from bot.settings import Settings
from bot.store import StoreError
from bot.store.sqlite import SQLiteStore
from bot.store.sqlite.schema import MIGRATIONS

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "deploy" / "storybot.service"
INSTALL_ROOT = "/home/storybot"


def _unit_settings() -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "[")):
            key, value = line.split("=", 1)
            values.setdefault(key.strip(), []).append(value.strip())
    return values


def test_unit_file_says_what_the_readme_promises() -> None:
    unit = _unit_settings()
    assert unit["User"] == ["storybot"]
    assert unit["Restart"] == ["on-failure"]
    assert unit["RestartPreventExitStatus"] == ["2"]
    assert unit["WorkingDirectory"] == [f"{INSTALL_ROOT}/storybot"]
    assert unit["EnvironmentFile"] == [f"-{INSTALL_ROOT}/storybot/.env"]
    assert unit["ExecStart"] == [f"{INSTALL_ROOT}/storybot/.venv/bin/python -m bot"]
    assert unit["NoNewPrivileges"] == ["yes"]
    assert unit["ProtectSystem"] == ["strict"]
    assert unit["ReadWritePaths"] == [f"{INSTALL_ROOT}/data {INSTALL_ROOT}/stories"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_unit_file_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    """Verify checks that ExecStart exists, so the paths point into a stand-in install."""
    home = tmp_path / "home"
    (home / "storybot" / ".venv" / "bin").mkdir(parents=True)
    (home / "storybot" / ".venv" / "bin" / "python").symlink_to(sys.executable)
    (home / "data").mkdir()
    (home / "stories").mkdir()
    unit = tmp_path / "storybot.service"
    unit.write_text(UNIT.read_text().replace(INSTALL_ROOT, str(home)))
    done = subprocess.run(
        ["systemd-analyze", "verify", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    problems = [line for line in done.stderr.splitlines() if "storybot.service" in line]
    assert not problems, problems


def _syscalls(name: str) -> set[str]:
    """A system call, or a group's calls (groups within it expanded), as systemd lists them."""
    if not name.startswith("@"):
        return {name}
    listed = subprocess.run(
        ["systemd-analyze", "syscall-filter", "--no-pager", name],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.splitlines()[1:]
    entries = [e.strip() for e in listed if e.strip() and not e.strip().startswith("#")]
    return set().union(*(_syscalls(e) for e in entries))


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_unit_filter_lets_the_scene_worker_lower_its_priority() -> None:
    """The unit's system call filter, read as systemd reads it (the first line says what is
    allowed, later lines take calls away or add them back): the scene worker's thread lowers
    its own priority with setpriority (bot/search/vectors.py), which must be allowed, and a
    call outside the filter fails with EPERM rather than killing the bot (numpy's OpenBLAS
    calls mbind, one of @resources, when it is imported)."""
    unit = _unit_settings()
    first, *more = unit["SystemCallFilter"]
    assert not first.startswith("~")
    allowed = set().union(*(_syscalls(n) for n in first.split()))
    for value in more:
        names = set().union(*(_syscalls(n) for n in value.lstrip("~").split()))
        allowed = allowed - names if value.startswith("~") else allowed | names
    assert "setpriority" in allowed
    assert {"mbind", "setrlimit", "reboot"}.isdisjoint(allowed)  # the hardening stays
    assert unit["SystemCallErrorNumber"] == ["EPERM"]


def test_dockerfile_sanity() -> None:
    text = (ROOT / "Dockerfile").read_text()
    instructions = [
        line.split(maxsplit=1)
        for line in re.sub(r"\\\n", " ", text).splitlines()
        if line.strip() and not line.startswith("#")
    ]
    names = [i[0] for i in instructions]
    assert instructions[0] == ["FROM", "python:3.11-slim"]
    assert "DATA_DIR=/data" in text and 'VOLUME ["/data"]' in text
    assert any(i[0] == "RUN" and "pip install ." in i[1] for i in instructions)
    user = [i[1] for i in instructions if i[0] == "USER"]
    assert user and user[-1] not in {"root", "0"}
    assert names.index("USER") > max(i for i, n in enumerate(names) if n == "RUN")
    assert "python -m bot" in instructions[-1][1] and names[-1] == "CMD"
    for kind, rest in instructions:
        if kind == "COPY":
            *sources, _target = rest.split()
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: no such file"
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert {".env", ".venv", "data", ".git"} <= set(ignored)


def test_procfile() -> None:
    assert (ROOT / "Procfile").read_text().strip() == "worker: python -m bot"


def _bot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"DISCORD_TOKEN", "SHARD_COUNT"}}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DISCORD_TOKEN": "not-a-token"}, "does not look like a bot token"),
        ({"SHARD_COUNT": "two"}, "SHARD_COUNT must be a whole number"),
        ({"SHARD_IDS": "1"}, "SHARD_IDS needs SHARD_COUNT"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "2"}, "SHARD_IDS needs SHARD_COUNT"),
    ],
)
def test_configuration_errors_exit_2_so_systemd_does_not_retry(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    done = _bot({**env, "DATA_DIR": str(tmp_path)})
    assert done.returncode == 2
    assert message in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


async def test_backup_while_another_connection_writes(library: Library, tmp_path: Path) -> None:
    """SQLite's backup API copies a consistent database while the bot keeps writing."""
    path = library.store.path
    stop = threading.Event()
    written = 0

    def writer() -> None:
        nonlocal written
        db = sqlite3.connect(path, timeout=10)
        db.execute("CREATE TABLE IF NOT EXISTS scratch (n INTEGER, pad TEXT)")
        db.commit()
        while not stop.is_set():
            db.execute("INSERT INTO scratch VALUES (?, ?)", (written, "x" * 2000))
            db.commit()
            written += 1
        db.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(1000):
            if written >= 50:
                break
            await asyncio.sleep(0.01)
        backups = [tmp_path / "backups" / f"copy{i}.db" for i in range(3)]
        for target in backups:
            await library.store.backup(target)
    finally:
        stop.set()
        thread.join()
    assert written > 50
    for target in backups:
        copy = sqlite3.connect(target)
        try:
            assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert copy.execute("SELECT count(*) FROM stories").fetchone()[0] == 5
            copied = copy.execute("SELECT count(*) FROM scratch").fetchone()[0]
            assert 0 < copied <= written
        finally:
            copy.close()


def test_backup_command(settings: Settings, tmp_path: Path) -> None:
    env = {"STORIES_DIR": str(settings.stories_dir), "DATA_DIR": str(settings.data_dir)}
    assert _bot(env, "ingest").returncode == 0
    target = tmp_path / "backup" / "stories.db"
    done = _bot(env, "backup", str(target))
    assert done.returncode == 0, done.stderr
    copy = sqlite3.connect(target)
    assert copy.execute("SELECT count(*) FROM stories").fetchone()[0] == 5
    copy.close()


async def test_read_only_copy_serves_and_cannot_write(
    library: Library, settings: Settings, tmp_path: Path
) -> None:
    """READ_ONLY=1: another process serves a copy of the library without writing to it."""
    copy_path = tmp_path / "copy" / "stories.db"
    await library.store.backup(copy_path)
    ro = Settings(stories_dir=settings.stories_dir, database_path=copy_path, read_only=True)
    reader = await Library.open(ro)
    try:
        stories = await reader.stories(mature_ok=True)
        assert len(stories) == 5
        excerpt = await reader.excerpt(mature_ok=True)
        assert excerpt.text
        found = await reader.quote("soaked in sorry", mature_ok=True)
        assert found.match != "none"
        assert await reader.daily_schedule(1) is None
        with pytest.raises(StoreError, match="readonly"):
            await reader.store.remove_story(stories[0].file)
    finally:
        await reader.close()


async def test_read_only_without_a_database_says_so(tmp_path: Path) -> None:
    with pytest.raises(StoryBotError, match="does not exist: READ_ONLY serves a copy"):
        await SQLiteStore.open(tmp_path / "missing.db", read_only=True)
    # aiosqlite stops its worker thread after the failed connect answers; let it finish while
    # the loop is still open (else it reports "Event loop is closed" from its thread)
    await asyncio.sleep(0.1)


async def test_read_only_refuses_a_database_it_would_have_to_upgrade(tmp_path: Path) -> None:
    """A READ_ONLY process cannot migrate; it says what to do instead of failing queries."""
    old = tmp_path / "old.db"
    db = sqlite3.connect(old)
    for step in MIGRATIONS[:2]:
        db.executescript(step)
    db.execute("PRAGMA user_version = 2")
    db.close()
    with pytest.raises(StoryBotError, match=r"older storybot .* without READ_ONLY"):
        await SQLiteStore.open(old, read_only=True)
    upgraded = await SQLiteStore.open(old)  # a writer upgrades it; then readers are welcome
    await upgraded.close()
    reader = await SQLiteStore.open(old, read_only=True)
    await reader.close()
