"""A database that cannot write, for a reason that is no story's (a failing disk, a role
without the privilege): ingest stops with one line naming the database's trouble, and the
library is as it was. Before the fix each story of the batch was skipped as "the database
refused it", as if its file were bad, and the ingest went on and exited 0.

Real faults, no mock: SQLite meets a real I/O error (a file size limit, RLIMIT_FSIZE, on the
ingest's process: SQLite reports its EFBIG as "disk I/O error"); PostgreSQL a real role that
may read the library's tables but not write them (SQLSTATE 42501, insufficient_privilege).
"""

from __future__ import annotations

import logging
import random
import resource
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import asyncpg
import pytest

from bot.ingest import ingest
from bot.store import StoreUnwritable, open_store
from tests.faults.helpers import env, one_line_error
from tests.store.seeded import seeded_postgres


def _story(path: Path, title: str, seed: int) -> None:
    """A story of about 1 MB of made-up words."""
    rng = random.Random(seed)
    paragraphs = (" ".join(f"w{rng.randrange(10**7)}" for _ in range(25)) for _ in range(5_000))
    path.write_text(f"{title}\n\nChapter 1\n\n" + "\n\n".join(paragraphs), "utf-8")


def _ingest_limited(tmp_path: Path, stories: Path, limit: int) -> subprocess.CompletedProcess[str]:
    """`ingest` in a process whose files may not grow past ``limit`` bytes."""

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        [sys.executable, "-m", "bot", "--stories", str(stories), "ingest"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env(tmp_path, {"SCENE_MODEL": "off"}),
        timeout=300,
        check=False,
        preexec_fn=limited,
    )


def test_a_disk_failing_mid_ingest_is_one_line_and_no_story_refused(
    tmp_path: Path, stories_dir: Path
) -> None:
    first = _ingest_limited(tmp_path, stories_dir, resource.RLIM_INFINITY)
    assert first.returncode == 0, first.stderr
    db = tmp_path / "data" / "stories.db"
    _story(stories_dir / "zz-one.txt", "The First New One", 1)
    _story(stories_dir / "zz-two.txt", "The Second New One", 2)
    # room for what the database holds now, not for two stories more
    result = _ingest_limited(tmp_path, stories_dir, db.stat().st_size + 256 * 1024)
    line = one_line_error(result, 1, "disk I/O error", "cannot write", str(db))
    assert "refused" not in result.stdout + line and "damaged" not in line, result.stdout
    with closing(sqlite3.connect(db)) as check:
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        files = {r[0] for r in check.execute("SELECT file FROM stories")}
    assert len(files) == 5 and not {"zz-one.txt", "zz-two.txt"} & files  # as it was


async def test_a_role_that_may_not_write_stops_the_ingest_naming_the_privilege(
    tmp_path: Path, pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with seeded_postgres(tmp_path, pg_url) as owner:
        before = await owner.file_states()
    role = "reader_" + pg_url.rsplit("/", 1)[1]  # roles are the server's: one per test
    admin = await asyncpg.connect(pg_url)
    try:
        await admin.execute(
            f"CREATE ROLE {role} LOGIN; GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"
        )
        folder = tmp_path / "stories"
        _story(folder / "zz-one.txt", "The First New One", 1)
        _story(folder / "zz-two.txt", "The Second New One", 2)
        store = await open_store(tmp_path / "unused.db", url=_as_role(pg_url, role))
        try:
            with caplog.at_level(logging.WARNING), pytest.raises(StoreUnwritable) as raised:
                await ingest(store, folder)
            assert "lacks a privilege" in raised.value.message, raised.value.message
            assert "permission denied" in raised.value.message
            assert "refused" not in caplog.text  # no story said to be refused
        finally:
            await store.close()
        after = {r[0] for r in await admin.fetch("SELECT file FROM stories")}
        assert after == set(before)  # nothing written, nothing lost
    finally:
        await admin.execute(f"DROP OWNED BY {role}; DROP ROLE {role}")
        await admin.close()


def _as_role(url: str, role: str) -> str:
    """``url`` with its user replaced by ``role`` (trust authentication: no password)."""
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{role}@{rest.split('@', 1)[-1]}"
