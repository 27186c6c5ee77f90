"""Scene search on the benchmark libraries: query latency, and what the scene index costs.

* Ingest cost: the time the write path spends storing and indexing scene passages
  (``write_scenes``, ``index_scenes``), beside the time it spends storing and indexing
  paragraph texts (``_text_ids``, ``_index_texts``: the paragraph index of quote search),
  timed inside the ingests that benchmarks/ingest.py runs (``timing()`` wraps them).
* Size: pages of the scene index and its texts (one row per distinct passage text: a
  chapter stored twice shares them) and of the passages' places (one row per passage of
  every story), beside the paragraph index, texts and places (SQLite's dbstat).
* Latency: the hand-written descriptions of tests/scenes/descriptions.toml (scenes of the
  seeds and The Time Machine, and scenes in no story), asked over every story, and over the
  stories an ordinary channel may see (no mature story, or all but one: a long list of ids).

Run alone with `.venv/bin/python -m benchmarks.scenes [--distinct]`.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import bot.store.sqlite.library as library_sql
from benchmarks.corpus import BENCH_DIR, ROOT, build_library
from benchmarks.search import _ensure_ingested, _fmt
from bot.search import SceneSearch
from bot.store.sqlite import SQLiteStore

Row = tuple[str, str, str]
ROUNDS = 4  # each description is asked this many times (the first may be cold)
DESCRIPTIONS = ROOT / "tests" / "scenes" / "descriptions.toml"


class WriteTimes:
    """Seconds spent in the scene and in the paragraph-text writes."""

    def __init__(self) -> None:
        self.scenes = 0.0
        self.texts = 0.0


@contextmanager
def timing() -> Iterator[WriteTimes]:
    """Time the scene and the paragraph-text writes inside bot.store.sqlite.library (each
    batch indexes its new texts last: write_scenes + index_scenes, _text_ids + _index_texts)
    while the block runs."""
    times = WriteTimes()
    names = {
        "write_scenes": "scenes",
        "index_scenes": "scenes",
        "_text_ids": "texts",
        "_index_texts": "texts",
    }
    saved = {name: getattr(library_sql, name) for name in names}

    def timed(name: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return saved[name](*args, **kwargs)
            finally:
                spent = time.perf_counter() - start
                setattr(times, names[name], getattr(times, names[name]) + spent)

        return call

    for name in names:
        setattr(library_sql, name, timed(name))
    try:
        yield times
    finally:
        for name, function in saved.items():
            setattr(library_sql, name, function)


def descriptions() -> list[str]:
    data = tomllib.loads(DESCRIPTIONS.read_text(encoding="utf-8"))
    return [str(e["text"]) for e in data["scene"]] + [str(e["text"]) for e in data["absent"]]


def _sizes(db_path: Path) -> dict[str, int]:
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return {
            r[0]: int(r[1])
            for r in db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name")
        }
    finally:
        db.close()


_AUTO = "sqlite_autoindex_"


def _mb(sizes: dict[str, int], keep: Callable[[str], bool]) -> float:
    return sum(v for k, v in sizes.items() if keep(k)) / 1e6


async def _latencies(db_path: Path) -> tuple[list[float], list[float], int, int]:
    store = await SQLiteStore.open(db_path, read_only=True)
    try:
        every = await store.list_stories()
        # a channel's view: without mature stories, or (the seeds carry no library.toml
        # here) without one story, so the search filters by a long list of story ids
        ordinary = [s for s in every if not s.mature] or every
        if len(ordinary) == len(every):
            ordinary = every[1:]
        search = SceneSearch(store)
        texts = descriptions()
        out: tuple[list[float], list[float]] = ([], [])
        for _ in range(ROUNDS):
            for text in texts:
                for stories, samples in ((every, out[0]), (ordinary, out[1])):
                    start = time.perf_counter()
                    await search.find(text, stories, limit=3)
                    samples.append(time.perf_counter() - start)
        return out[0], out[1], len(every), len(ordinary)
    finally:
        await store.close()


def run(db_path: Path, ingests: int = 1, times: WriteTimes | None = None) -> list[Row]:
    """Scene rows for an ingested benchmark database; ``times`` from ``timing()`` around
    its ``ingests`` full ingests."""
    rows: list[Row] = []
    if times is not None and ingests:
        rows.append(
            (
                "ingest time in scene passages (per ingest)",
                f"{times.scenes / ingests:.1f} s",
                f"{times.texts / ingests:.1f} s storing + indexing paragraph texts",
            )
        )
    sizes = _sizes(db_path)
    # the index and its texts (one row per distinct passage text), and the passages' places
    # (one row per passage of every story), beside the same for paragraphs
    index_mb = _mb(sizes, lambda n: n.startswith(("scenes_fts", "scene_texts", _AUTO + "scene")))
    places_mb = _mb(sizes, lambda n: n == "scenes" or n.startswith("scenes_by_"))
    text_index_mb = _mb(sizes, lambda n: n.startswith("texts_fts"))
    text_mb = _mb(sizes, lambda n: n == "texts")
    paragraphs_mb = _mb(sizes, lambda n: n.startswith("paragraphs"))
    total_mb = _mb(sizes, lambda n: True)
    rows.append(
        (
            "scene index size",
            f"{index_mb:.1f} MB index + {places_mb:.1f} MB passage places"
            f" ({(index_mb + places_mb) / total_mb:.0%} of the {total_mb:.0f} MB file)",
            f"paragraph index {text_index_mb:.1f} MB, paragraph texts {text_mb:.1f} MB,"
            f" paragraph places {paragraphs_mb:.1f} MB",
        )
    )
    every, ordinary, n_every, n_ordinary = asyncio.run(_latencies(db_path))
    n = len(descriptions())
    rows.append(
        (
            f"/scene, {n} descriptions x {ROUNDS}, all {n_every} stories",
            _fmt(every),
            "target p99 < 50 ms",
        )
    )
    rows.append(
        (
            f"/scene, the same, scoped to {n_ordinary} stories",
            _fmt(ordinary),
            "target p99 < 50 ms",
        )
    )
    return rows


def main() -> None:
    from benchmarks.ingest import print_table

    for distinct in (False, True) if "--distinct" in sys.argv else (False,):
        folder = build_library(100, distinct=distinct)
        db_path = BENCH_DIR / ("bench-distinct.db" if distinct else "bench.db")
        asyncio.run(_ensure_ingested(folder, db_path))
        title = "Scene search" + (", no paragraph repeated" if distinct else "")
        print_table(title, run(db_path))


if __name__ == "__main__":
    main()
