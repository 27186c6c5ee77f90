"""SQLite and PostgreSQL side by side on the library with no paragraph repeated: ingest
time, /quote p50/p99 by kind (exact, words, fuzzy, none) and /scene p99, the same queries
through the same door (Library), on the same machine. PostgreSQL is a throwaway cluster
started here as the tests start theirs (tests/pgcluster.py); without PostgreSQL installed
the table says so in one line. Run alone: `.venv/bin/python -m benchmarks.postgres [MB]`.

The machine is shared and noisy: each engine's queries run in turns (ROUNDS of them, the
engines alternating), and each figure is the median over the rounds with its spread.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.corpus import BENCH_DIR, build_library, library_bytes
from benchmarks.ingest import Row
from benchmarks.scenes import descriptions
from benchmarks.search import SEED, draw_queries
from bot.ingest import ingest
from bot.library import Library
from bot.store import Store, open_store
from tests import pgcluster

QUERIES = 100  # per kind and round
ROUNDS = 3
GOAL_RATIO = 2.0  # PostgreSQL within 2x of SQLite on every quote kind
GOAL_P99_MS = 50.0


def _p(samples: Sequence[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] * 1000


async def _ingest_seconds(store: Store, folder: Path) -> float:
    start = time.perf_counter()
    await ingest(store, folder)
    return time.perf_counter() - start


Times = dict[str, list[float]]  # seconds of each query, by kind


async def _round(library: Library, queries: dict[str, list[str]], scenes: list[str]) -> Times:
    out: dict[str, list[float]] = {}
    for kind, items in queries.items():
        spent = []
        for q in items:
            start = time.perf_counter()
            await library.quote(q, mature_ok=True, limit=5)
            spent.append(time.perf_counter() - start)
        out[kind] = spent
    spent = []
    for d in scenes:
        start = time.perf_counter()
        await library.scene(d, mature_ok=True)
        spent.append(time.perf_counter() - start)
    out["scene"] = spent
    return out


async def _measure(folder: Path, sqlite_db: Path, url: str) -> list[Row]:
    engines: dict[str, Store] = {
        "SQLite": await open_store(sqlite_db),
        "PostgreSQL": await open_store(sqlite_db, url=url),
    }
    rows: list[Row] = []
    try:
        seconds = {name: await _ingest_seconds(store, folder) for name, store in engines.items()}
        size = library_bytes(folder) / 1e6
        rows.append(
            (
                f"ingest {size:.0f} MB (s)",
                f"SQLite {seconds['SQLite']:.0f}",
                f"PostgreSQL {seconds['PostgreSQL']:.0f}",
            )
        )
        queries = draw_queries(sqlite_db, QUERIES, random.Random(SEED))
        scenes = descriptions()
        libraries = {n: Library(s, folder, read_only=True) for n, s in engines.items()}
        for library in libraries.values():
            await library.warm()
            for q in queries["exact"][:10]:
                await library.quote(q, mature_ok=True)
        rounds: dict[str, list[Times]] = {name: [] for name in libraries}
        for _ in range(ROUNDS):  # the engines in turns: the machine's noise falls on both
            for name, library in libraries.items():
                rounds[name].append(await _round(library, queries, scenes))
        rows += _rows(rounds)
    finally:
        for store in engines.values():
            await store.close()
    return rows


def _rows(rounds: dict[str, list[Times]]) -> list[Row]:
    rows: list[Row] = []
    for kind in ("exact", "words", "fuzzy", "no match", "scene"):
        shown: dict[str, tuple[float, float, str]] = {}
        for name, runs in rounds.items():
            p50s = [_p(r[kind], 0.5) for r in runs]
            p99s = [_p(r[kind], 0.99) for r in runs]
            spread = f"p99 {min(p99s):.1f}-{max(p99s):.1f}"
            shown[name] = (statistics.median(p50s), statistics.median(p99s), spread)
        s50, s99, s_spread = shown["SQLite"]
        g50, g99, g_spread = shown["PostgreSQL"]
        ratio = g99 / s99 if s99 else float("inf")
        met = "met" if kind == "scene" or (ratio <= GOAL_RATIO and g99 < GOAL_P99_MS) else "NOT met"
        rows.append(
            (
                f"{kind}: p50 / p99 (ms)",
                f"SQLite {s50:.1f} / {s99:.1f} ({s_spread})",
                f"PostgreSQL {g50:.1f} / {g99:.1f} ({g_spread}), p99 x{ratio:.1f}"
                + ("" if kind == "scene" else f", goal {met}"),
            )
        )
    return rows


def run(target_mb: float = 100.0) -> list[Row]:
    if pgcluster.binaries() is None:
        return [("PostgreSQL", f"skipped: not installed ({pgcluster.HOW_TO})", "")]
    folder = build_library(target_mb, distinct=True)
    with tempfile.TemporaryDirectory(prefix="storybot-bench-pg-") as tmp:
        Path(tmp).chmod(0o755)
        with pgcluster.cluster(Path(tmp) / "cluster") as url:
            sqlite_db = BENCH_DIR / "bench-pg-side.db"
            sqlite_db.unlink(missing_ok=True)
            return asyncio.run(_measure(folder, sqlite_db, url))


def main() -> None:
    from benchmarks.ingest import print_table

    target = float(sys.argv[1]) if len(sys.argv) > 1 else 100.0
    print_table("SQLite and PostgreSQL, no paragraph repeated", run(target))


if __name__ == "__main__":
    main()
