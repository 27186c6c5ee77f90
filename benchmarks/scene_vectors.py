"""Scene search by meaning: what the scene model costs.

* Embedding throughput: passages of the seeds (~1,250 characters) embedded by the real model
  on one thread, in CPU seconds (passages per second per core) and wall seconds.
* Background indexing time: the seeds + The Time Machine library's passages, and 10 MB of
  story text (PASSAGES_PER_MB a megabyte), at that throughput on one core.
* /scene with vectors on the seeds + The Time Machine library (every passage embedded; the
  passages' vectors come from the evaluation's cache, tests/vector_cache.py, the
  descriptions' are computed here, as a running bot does), beside the same words-only search.
* The budgeted part of a big library: the brute-force ranking over SCENE_VECTORS_MB's worth
  of vectors (random unit vectors of the real size: the time does not depend on their
  values), plus the description's embedding.
* Memory: a fresh process with the library open, the model loaded and one search made.

Run alone with `.venv/bin/python -m benchmarks.scene_vectors`.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.corpus import ROOT
from bot.library import Library
from bot.models import Story
from bot.search import SceneSearch, embedding
from bot.search.vectors import PASSAGES_PER_MB, SceneVectors
from bot.settings import DEFAULT_SCENE_VECTORS_MB, Settings
from tests import blind_eval
from tests.vector_cache import CachedEmbedder

Row = tuple[str, str, str]
SAMPLE = 12  # passages embedded for the throughput
ROUNDS = 2


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms"


class QueriesLive(CachedEmbedder):
    """Passages from the cache, descriptions embedded every time (as the bot does)."""

    def query(self, text: str) -> embedding.Floats:
        return self.inner.query(text)


async def _library(tmp: Path) -> Library:
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
            counts = await library.store.vector_counts(model.name)
            passages = sum(total for total, _ in counts.values())
            texts: list[str] = []
            for story in stories:
                pending = await library.store.vector_pending(model.name, story.id, SAMPLE)
                texts += [t for _, t in pending][: SAMPLE - len(texts)]
            cpu, wall = time.process_time(), time.perf_counter()
            await asyncio.to_thread(model.passages, texts)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            rate = len(texts) / cpu
            mean = sum(map(len, texts)) // len(texts)
            rows.append(
                (
                    "embedding throughput (one thread)",
                    f"{rate:.2f} passages/s per core",
                    f"{len(texts)} passages of ~{mean} chars: {cpu:.1f} s CPU, {wall:.1f} s wall",
                )
            )
            rows.append(
                (
                    "background indexing, seeds + The Time Machine",
                    f"{passages / rate / 60:.0f} min of one core",
                    f"{passages} passages; the bot serves by words meanwhile",
                )
            )
            rows.append(
                (
                    "background indexing, 10 MB of stories",
                    f"{10 * PASSAGES_PER_MB / rate / 3600:.1f} h of one core",
                    f"~{10 * PASSAGES_PER_MB} passages",
                )
            )
            vectors = SceneVectors(library.store, model=QueriesLive.around(model), budget_mb=100)
            await vectors.build(stories)
            rows += await _latencies(library, vectors, stories)
        finally:
            await library.close()
    rows.append(_budgeted(model))
    rows.append(_memory())
    return rows


async def _latencies(library: Library, vectors: SceneVectors, stories: list[Story]) -> list[Row]:
    scenes, absent = blind_eval.read(blind_eval.DEV)
    texts = [s.description for s in scenes] + [a.description for a in absent]
    both, words = SceneSearch(library.store, vectors), SceneSearch(library.store)
    timed: dict[str, list[float]] = {"both": [], "words": []}
    for _ in range(ROUNDS):
        for text in texts:
            for name, search in (("both", both), ("words", words)):
                start = time.perf_counter()
                await search.find(text, stories, limit=3, every=True)
                timed[name].append(time.perf_counter() - start)
    return [
        (
            f"/scene with vectors, seeds + The Time Machine, {len(texts)} x {ROUNDS}",
            _ms(timed["both"]),
            f"words alone {_ms(timed['words'])}; target p99 < 100 ms",
        )
    ]


def _budgeted(model: embedding.Embedder) -> Row:
    n = DEFAULT_SCENE_VECTORS_MB * PASSAGES_PER_MB
    rng = np.random.default_rng(1)
    unit = rng.standard_normal((n, model.dim)).astype(np.float32)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    rows, scales = embedding.quantize(unit)
    samples: list[float] = []
    for i in range(40):
        start = time.perf_counter()
        query = model.query(f"the scene where someone walks home in the rain {i}")
        scores = (rows.astype(np.float32) @ query) / scales
        np.argpartition(-scores, 200)[:200]
        samples.append(time.perf_counter() - start)
    return (
        f"meaning part of /scene over {DEFAULT_SCENE_VECTORS_MB} MB of vectors ({n} passages)",
        _ms(samples),
        f"embedding the description + brute force over {rows.nbytes / 1e6:.0f} MB of int8",
    )


_CHILD = """
import asyncio, sys
sys.path.insert(0, {root!r})
from benchmarks.scene_vectors import child
asyncio.run(child())
"""


async def child() -> None:
    """In a fresh process: open the library, load the model, search once; print VmRSS."""
    with tempfile.TemporaryDirectory() as tmp:
        library = await _library(Path(tmp))
        model = embedding.load("e5")
        assert model is not None
        vectors = SceneVectors(library.store, model=QueriesLive.around(model), budget_mb=100)
        stories = await library.stories(mature_ok=True)
        await vectors.build(stories)
        await SceneSearch(library.store, vectors).find("a walk home in the rain", stories)
        await library.close()
    _print_memory()


def _print_memory() -> None:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS", "VmHWM")):
            print(line)


def _memory() -> Row:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD.format(root=str(ROOT))],
        capture_output=True,
        text=True,
        check=False,
    )
    values = dict(line.split(":", 1) for line in out.stdout.splitlines() if ":" in line)
    rss = int(values.get("VmRSS", "0 kB").split()[0]) / 1024
    peak = int(values.get("VmHWM", "0 kB").split()[0]) / 1024
    return (
        "process with the library, the model and its vectors, after a search",
        f"{rss:.0f} MB resident (peak {peak:.0f} MB)",
        "target < 200 MB for the ready bot",
    )


def run() -> list[Row]:
    return asyncio.run(_measure())


def main() -> None:
    from benchmarks.ingest import print_table

    print_table("Scene search by meaning", run())


if __name__ == "__main__":
    main()
