"""The build of scene vectors meeting a database that fails.

In the background (``start``, the bot): a database busy or out of reach is waited for, and
the build goes on from what was committed once it answers again; a database refusing or
damaged is said once, at error, without a traceback, and the build stops (waiting does not
mend it). Here and now (``ingest --vectors``): the command says the database's error in one
line and exits non-zero; it looped forever before (rc 124 under ``timeout``).

The database fails for real: a trigger (tests/refusing.py, SQLite or --engine postgresql)
or another connection holding SQLite's write lock. The model is a stand-in (vectors from
each text's hash) except for the command, which loads the real one: what is tested is the
build's handling of the store, not meaning."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest

from bot.library import Library
from bot.search import embedding
from bot.search.embedding import Floats
from bot.search.vectors import SceneVectors
from bot.settings import Settings
from bot.store.sqlite import SQLiteStore
from tests.refusing import WORDS, allow, refuse

WAITED = 60.0  # seconds the build may take on a loaded machine, at most
COMMAND_WAITED = 240  # seconds `ingest --vectors` may take (the model loads), at most
ROOT = Path(__file__).resolve().parents[2]


class Hashed:
    """Vectors made from each text's hash: the same text, the same vector."""

    name = "test-hashed"
    dim = 8

    def passages(self, texts: list[str]) -> Floats:
        return np.stack([self.query(t) for t in texts])

    def query(self, text: str) -> Floats:
        seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest())
        vector = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
        return vector / np.linalg.norm(vector)


async def _said(caplog: pytest.LogCaptureFixture, words: str, vectors: SceneVectors) -> None:
    for _ in range(int(WAITED / 0.02)):
        if any(words in r.getMessage() for r in caplog.records) or vectors._task is None:
            return
        if vectors._task.done():
            return
        await asyncio.sleep(0.02)


def _warned(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "bot.search.vectors" and r.levelno >= 30]


async def test_the_background_build_meeting_a_busy_database_goes_on_later(
    settings: Settings, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SQLiteStore, "busy_timeout_ms", 50)
    monkeypatch.setattr("bot.store.sqlite.base.LOCK_BACKOFF", 0.01)  # every writer's
    library = await Library.open(settings)
    holder = None
    try:
        await library.ingest()
        model = Hashed()
        vectors = SceneVectors(library.store, model=model)
        vectors.retry_first = 0.05
        if settings.database_url is None:  # another process holds the write lock
            holder = sqlite3.connect(settings.db_path, isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")
        else:  # lock_not_available: the store's StoreLocked
            await refuse(settings, "scene_vectors", "INSERT", errcode="55P03")
        with caplog.at_level(logging.INFO):
            vectors.start(functools.partial(library.stories, mature_ok=True))
            await _said(caplog, "goes on in", vectors)
            if holder is not None:
                holder.execute("ROLLBACK")
            else:
                await allow(settings, "scene_vectors")
            assert vectors._task is not None
            await asyncio.wait_for(asyncio.shield(vectors._task), WAITED)
        said = _warned(caplog)
        assert said, caplog.messages
        assert [(r.levelno, r.exc_info) for r in said] == [(logging.WARNING, None)] * len(said)
        assert "goes on in" in said[0].getMessage()
        counts = await library.store.vector_counts(model.name)
        assert counts and all(done == total for total, done in counts.values()), counts
    finally:
        if holder is not None:
            holder.close()
        await library.close()


async def test_the_background_build_meeting_a_refusing_database_says_so_once_and_stops(
    library: Library, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    model = Hashed()
    vectors = SceneVectors(library.store, model=model)
    vectors.retry_first = 0.05
    await refuse(settings, "scene_vectors", "INSERT")
    with caplog.at_level(logging.INFO):
        vectors.start(functools.partial(library.stories, mature_ok=True))
        assert vectors._task is not None
        # the old code tried again every 0.05-0.1 s, for ever: TimeoutError here
        await asyncio.wait_for(asyncio.shield(vectors._task), WAITED)
    said = _warned(caplog)
    assert [(r.levelno, r.exc_info) for r in said] == [(logging.ERROR, None)], caplog.messages
    assert WORDS in said[0].getMessage() and "stopped" in said[0].getMessage()
    counts = await library.store.vector_counts(model.name)
    assert all(done == 0 for _, done in counts.values()), counts


@pytest.mark.skipif(embedding.load("e5") is None, reason="no scene model here")
async def test_ingest_vectors_says_the_database_error_and_exits(
    tmp_path: Path, settings: Settings
) -> None:
    if settings.database_url is not None:
        pytest.skip("the command's store is the SQLite file given by --db")
    folder = tmp_path / "one"
    folder.mkdir()
    first = next(p for p in sorted(settings.stories_dir.iterdir()) if p.suffix == ".txt")
    (folder / first.name).write_bytes(first.read_bytes())
    db = tmp_path / "one.sqlite"
    command = [sys.executable, "-m", "bot", "--stories", str(folder), "--db", str(db)]
    keep = {k: v for k, v in os.environ.items() if k not in ("STORIES_DIR", "DATABASE_PATH")}
    env = keep | {"PYTHONPATH": str(ROOT), "DATA_DIR": str(tmp_path / "data")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        # the old code never returned: subprocess.TimeoutExpired here
        return subprocess.run(
            [*command, *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=COMMAND_WAITED,
            check=False,
        )

    plain = await asyncio.to_thread(run, "ingest")
    assert plain.returncode == 0, plain.stderr
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute(
            "CREATE TRIGGER refuse_scene_vectors BEFORE INSERT ON scene_vectors"
            f" BEGIN SELECT RAISE(ABORT, '{WORDS}'); END"
        )
    built = await asyncio.to_thread(run, "ingest", "--vectors")
    assert built.returncode == 1, built.stderr
    assert "Traceback" not in built.stderr
    last = built.stderr.strip().splitlines()[-1]
    assert last.startswith("storybot: ") and WORDS in last, built.stderr
