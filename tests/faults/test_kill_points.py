"""kill -9 mid-ingest, at each point of it, on SQLite and PostgreSQL: a crash leaves the
previous library intact (every story as it was, or, for a batch that committed, whole in its
new version; never half a story, never an index out of step with its rows), and the next
ingest completes to the library a clean ingest gives.

The ingest is the real CLI (`python -m bot ingest`) in a process of its own, stopped at the
point by tests/faults/kill_points.py and killed there with SIGKILL. The library is small: the
seeds, then one story changed and eight added, written in batches of a few stories."""

from __future__ import annotations

import asyncio
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SEEDS
from tests.faults.helpers import env

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses signals")

# (point, the how-manieth time it is reached): kill_points.py says what each point is
POINTS = [
    ("parse", 5),  # a file being parsed while the first batch is handed to the writer
    ("story", 4),  # mid-transaction, a story's rows written, in the second batch
    ("scenes", 6),  # mid-transaction, a story's scene index written, one before it
    ("commit", 6),  # a batch's COMMIT about to go
    ("batch", 2),  # two batches committed, the rest not begun
    ("finish", 1),  # every batch committed, the upkeep after them not begun
]
CHANGED = "000_22ebb5e57e993cb7.txt"
ADDED = [f"variant_{n}.txt" for n in range(8)]

Signature = tuple[Any, ...]


def _change(folder: Path) -> None:
    """One story changed (a paragraph more), eight added (text of their own)."""
    with (folder / CHANGED).open("a", encoding="utf-8") as story:
        story.write("\n\nA paragraph added since the last ingest, to change the story.\n")
    sources = sorted(SEEDS.glob("00[134]_*.txt"))
    for n, name in enumerate(ADDED):
        text = sources[n % len(sources)].read_text(encoding="utf-8")
        text = text.replace("the", f"th{n}e").replace("and", f"an{n}d")
        (folder / name).write_text(f"Variant {n}\n\n{text}", encoding="utf-8")


_STORIES = "SELECT id, file, title, words, paragraph_count, hash FROM stories"
_CHAPTERS = "SELECT story_id, number, label, words FROM chapters"
_PARAGRAPHS = (
    "SELECT p.story_id, p.chapter, p.position, t.text FROM paragraphs p"
    " JOIN texts t ON t.id = p.text_id"
)
_SCENES = "SELECT story_id, chapter, first_position, last_position FROM scenes"
_QUERIES = (_STORIES, _CHAPTERS, _PARAGRAPHS, _SCENES)


def _signatures(stories: Any, chapters: Any, paragraphs: Any, scenes: Any) -> dict[str, Any]:
    """Each story by file: its row, chapters, paragraphs (text in place) and scene passages."""
    files = {r[0]: r[1] for r in stories}
    out: dict[str, list[Any]] = {r[1]: [tuple(r[2:]), [], [], []] for r in stories}
    for at, rows in ((1, chapters), (2, paragraphs), (3, scenes)):
        for r in rows:
            out[files[r[0]]][at].append(tuple(r[1:]))
    return {file: (row, *(tuple(sorted(x)) for x in rest)) for file, (row, *rest) in out.items()}


def _sqlite_library(path: Path) -> dict[str, Any]:
    db = sqlite3.connect(path)
    try:
        for table in ("texts_fts", "scenes_fts"):  # the indexes agree with their rows
            db.execute(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')")
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return _signatures(*(db.execute(q).fetchall() for q in _QUERIES))
    finally:
        db.close()


async def _pg_library(url: str) -> dict[str, Any]:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        # the index statistics agree with the rows they count
        for table in ("texts", "scene_texts"):
            docs = await conn.fetchval("SELECT docs FROM index_stats WHERE name = $1", table)
            assert docs == await conn.fetchval(f"SELECT count(*) FROM {table}"), table
        return _signatures(*[await conn.fetch(q) for q in _QUERIES])
    finally:
        await conn.close()


class _Engine:
    def __init__(self, name: str, tmp_path: Path, url: str | None) -> None:
        self.name, self.tmp_path, self.url = name, tmp_path, url
        extra = {"SCENE_MODEL": "off", "LOG_LEVEL": "INFO"}
        if url is not None:
            extra["DATABASE_URL"] = url
        self.env = env(tmp_path, extra)

    def library(self) -> dict[str, Any]:
        if self.url is None:
            return _sqlite_library(self.tmp_path / "data" / "stories.db")
        return asyncio.run(_pg_library(self.url))

    def ingest(self, folder: Path, *kill_at: str) -> subprocess.Popen[str]:
        module = ["tests.faults.kill_points", *kill_at, "--"] if kill_at else ["bot"]
        return subprocess.Popen(
            [sys.executable, "-m", *module, "--stories", str(folder), "ingest"],
            cwd=self.tmp_path,  # not the project: its .env is not read
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


def _ingested(process: subprocess.Popen[str]) -> str:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err[-3000:]
    assert "skipped" not in out, out
    return out


def _killed_at(process: subprocess.Popen[str], point: str) -> None:
    """Wait for the process to stop at its point (it says so), then SIGKILL it."""
    assert process.stderr is not None
    said: list[str] = []
    try:
        for line in process.stderr:
            said.append(line)
            if line.startswith(f"paused at {point}"):
                break
        else:
            pytest.fail(f"the ingest ended without reaching {point}: {''.join(said)[-3000:]}")
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> _Engine:
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    return _Engine(request.param, tmp_path, url)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The changed library as a clean ingest makes it (SQLite, no kill)."""
    tmp = tmp_path_factory.mktemp("clean")
    folder = tmp / "stories"
    shutil.copytree(SEEDS, folder)
    _change(folder)
    reference = _Engine("sqlite", tmp, None)
    _ingested(reference.ingest(folder))
    return reference.library()


@pytest.mark.parametrize(("point", "at"), POINTS)
def test_kill_9_mid_ingest_leaves_the_previous_library_and_a_rerun_completes(
    engine: _Engine, tmp_path: Path, clean: dict[str, Any], point: str, at: int
) -> None:
    folder = tmp_path / "stories"
    shutil.copytree(SEEDS, folder)
    _ingested(engine.ingest(folder))
    before = engine.library()
    _change(folder)
    _killed_at(engine.ingest(folder, point, str(at)), point)

    crashed = engine.library()
    # nothing of the previous library lost; each story as it was, or whole in its new version
    assert set(before) <= set(crashed) <= set(clean)
    for file, story in crashed.items():
        assert story in (before.get(file), clean[file]), f"{file} is half written ({point})"
    new = {f for f in crashed if f not in before or crashed[f] != before[f]}
    if point in ("story", "scenes", "commit"):  # the batch in flight did not commit
        assert new < {CHANGED, *ADDED}, new
    if point == "batch":
        assert new, "no batch had committed"
    if point == "finish":  # every batch had committed
        assert new == {CHANGED, *ADDED}

    _ingested(engine.ingest(folder))  # the rerun completes
    assert engine.library() == clean
