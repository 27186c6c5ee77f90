"""Quote search latency on the benchmark library, beside grep -F and a bare FTS5 MATCH.

Queries are drawn from the library itself: a run of 6-10 words of a random paragraph (exact),
the same with a middle word dropped (words), with a word misspelled (fuzzy), and lines of
plausible English that the library does not hold (no match). Run alone with
`.venv/bin/python -m benchmarks.search [--distinct]`.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.corpus import BENCH_DIR, build_library
from bot.ingest import ingest
from bot.library import Library
from bot.search import tokens
from bot.store.sqlite import SQLiteStore
from bot.store.sqlite.search import phrase_query

Row = tuple[str, str, str]

QUERIES = 200  # per kind, for our search and bare FTS5
GREP_QUERIES = 30  # grep reads the whole library each time
SEED = 20240611

_PLAUSIBLE = re.findall(
    r"\S+",
    "the old lighthouse keeper counted every ship that never came home again while the "
    "kettle sang softly in a kitchen full of maps and bright copper pans she wondered whether "
    "tomorrow would bring letters from the capital or only more rain across the valley farms "
    "nobody remembered why the railway bridge was painted green each spring by volunteers",
)


def _runs(text: str) -> list[str]:
    return re.findall(r"\S+", text)


def draw_queries(db_path: Path, n: int, rng: random.Random) -> dict[str, list[str]]:
    """Queries of each kind, drawn from paragraphs of the database."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        top = db.execute("SELECT max(id) FROM paragraphs").fetchone()[0] or 0
        exact: list[str] = []
        words: list[str] = []
        fuzzy: list[str] = []
        while len(exact) < n and top:
            row = db.execute(
                "SELECT t.text FROM paragraphs p JOIN texts t ON t.id = p.text_id"
                " WHERE p.id >= ? AND length(t.text) > 120 LIMIT 1",
                (rng.randint(1, top),),
            ).fetchone()
            if row is None:
                continue
            tokens = _runs(row[0])
            size = rng.randint(6, 10)
            if len(tokens) < size + 2:
                continue
            start = rng.randint(0, len(tokens) - size)
            piece = tokens[start : start + size]
            exact.append(" ".join(piece))
            dropped = [*piece]
            del dropped[rng.randint(1, size - 2)]
            words.append(" ".join(dropped))
            long_words = [i for i, w in enumerate(piece) if len(w) >= 5 and w.isalpha()]
            misspelled = [*piece]
            i = rng.choice(long_words) if long_words else size // 2
            w = misspelled[i]
            cut = rng.randint(1, max(1, len(w) - 2))
            misspelled[i] = w[:cut] + w[cut + 1 :] if len(w) > 3 else w + "x"
            fuzzy.append(" ".join(misspelled))
    finally:
        db.close()
    nowhere = [" ".join(rng.sample(_PLAUSIBLE, rng.randint(7, 11))) for _ in range(n)]
    return {"exact": exact, "words": words, "fuzzy": fuzzy, "no match": nowhere}


def _percentiles(samples: Sequence[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return p50 * 1000, p99 * 1000


def _fmt(samples: Sequence[float]) -> str:
    p50, p99 = _percentiles(samples)
    return f"p50 {p50:.1f} ms, p99 {p99:.1f} ms"


def _rss_mb() -> tuple[float, float]:
    """(current, peak) resident set of this process, from /proc/self/status."""
    fields: dict[str, float] = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0]) / 1024
    return fields.get("VmRSS", 0.0), fields.get("VmHWM", 0.0)


Answers = Counter[tuple[str, str]]


# the store's search queries, timed per kind of quote to say where the time goes
STAGES = (
    "texts_with_all",
    "texts_with_all_besides",
    "texts_with_phrase",
    "texts_with_two_of",
    "occurrences",
)


def _time_stages(store: SQLiteStore, stages: dict[str, dict[str, float]], kind: list[str]) -> None:
    """Wrap the store's search queries (this instance only) to add their seconds to
    ``stages[kind[0]]``, the kind of quote being timed."""
    for name in STAGES:
        query = getattr(store, name)

        async def timed(*args: Any, _query: Any = query, _name: str = name, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await _query(*args, **kwargs)
            finally:
                spent = stages[kind[0]]
                spent[_name] = spent.get(_name, 0.0) + time.perf_counter() - start

        setattr(store, name, timed)


async def _ours(
    db_path: Path, queries: dict[str, list[str]]
) -> tuple[
    dict[str, list[float]], Answers, float, dict[str, dict[str, float]], dict[str, list[float]]
]:
    # through the door, as a /quote goes: Library -> Search -> SQLiteStore
    store = await SQLiteStore.open(db_path, read_only=True)
    library = Library(store, db_path.parent, read_only=True)
    stages: dict[str, dict[str, float]] = {"warm-up": {}}
    kind_now = ["warm-up"]
    _time_stages(store, stages, kind_now)
    try:
        start = time.perf_counter()
        await library.warm()
        vocabulary_load = time.perf_counter() - start
        for q in queries["exact"][:10]:  # warm the page cache as a running bot would be
            await library.quote(q, mature_ok=True)
        times: dict[str, list[float]] = {}
        cpu: dict[str, list[float]] = {}
        answers: Counter[tuple[str, str]] = Counter()
        for kind, items in queries.items():
            spent: list[float] = []
            cpu[kind] = []
            stages[kind], kind_now[0] = {}, kind
            for q in items:
                start, start_cpu = time.perf_counter(), time.process_time()
                result = await library.quote(q, mature_ok=True, limit=5)
                spent.append(time.perf_counter() - start)
                cpu[kind].append(time.process_time() - start_cpu)
                answers[(kind, result.match)] += 1
            times[kind] = spent
    finally:
        await library.close()
    return times, answers, vocabulary_load, stages, cpu


def _timed(run: Callable[[str], object], items: Sequence[str]) -> list[float]:
    spent: list[float] = []
    for q in items:
        start = time.perf_counter()
        run(q)
        spent.append(time.perf_counter() - start)
    return spent


def _bare_fts5(db_path: Path, table: str, items: Sequence[str]) -> list[float]:
    """A bare FTS5 phrase MATCH, best 5 by BM25, on ``table`` of ``db_path``."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:

        def match(q: str) -> object:
            return db.execute(
                f"SELECT rowid FROM {table} WHERE {table} MATCH ? ORDER BY rank LIMIT 5",
                (phrase_query(tokens(q)),),
            ).fetchall()

        for q in items[:10]:
            match(q)
        return _timed(match, items)
    finally:
        db.close()


def _grep(folder: Path, items: Sequence[str]) -> list[float]:
    def grep(q: str) -> object:
        return subprocess.run(
            ["grep", "-rFi", "-m", "5", "--include=*.txt", "--", q, str(folder)],
            capture_output=True,
            check=False,
        )

    return _timed(grep, items)


def _child(db_path: Path) -> None:
    """Our side, in a fresh process so its RSS is that of a bot serving searches, nothing else.

    It imports what the running bot imports (discord.py included, when installed).
    """
    if importlib.util.find_spec("discord") is not None:
        import discord  # noqa: F401 - counted in the bot's RSS
    queries = draw_queries(db_path, QUERIES, random.Random(SEED))
    times, answers, vocabulary_load, stages, cpu = asyncio.run(_ours(db_path, queries))
    rss, peak = _rss_mb()
    print(
        json.dumps(
            {
                "times": times,
                "cpu": cpu,
                "stages": stages,
                "answers": [[k, m, c] for (k, m), c in answers.items()],
                "vocabulary_load": vocabulary_load,
                "rss": rss,
                "peak": peak,
            }
        )
    )


def run(db_path: Path, library_dir: Path, bare_db: Path) -> list[Row]:
    """Rows of (measure, ours, baseline) for the quote search on an ingested library.

    ``bare_db`` is benchmarks/ingest.py's plain FTS5 table of the same paragraphs, one row
    each: the index a design without our texts table would search.
    """
    queries = draw_queries(db_path, QUERIES, random.Random(SEED))
    child = subprocess.run(
        [sys.executable, "-m", "benchmarks.search", "--child", str(db_path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    ours = json.loads(child.stdout)
    times: dict[str, list[float]] = ours["times"]
    answers = Counter({(k, m): c for k, m, c in ours["answers"]})
    vocabulary_load, rss, peak = ours["vocabulary_load"], ours["rss"], ours["peak"]
    bare = _bare_fts5(db_path, "texts_fts", queries["exact"])
    per_paragraph = _bare_fts5(bare_db, "t", queries["exact"])
    grep_exact = _grep(library_dir, queries["exact"][:GREP_QUERIES])
    grep_none = _grep(library_dir, queries["no match"][:GREP_QUERIES])
    targets = {"exact": 10, "words": 20, "fuzzy": 150, "no match": 150}
    rows: list[Row] = []
    for kind, spent in times.items():
        found = ", ".join(f"{m} {c}" for (k, m), c in sorted(answers.items()) if k == kind)
        baseline = f"target p99 < {targets[kind]} ms"
        if kind == "exact":
            baseline = (
                f"bare FTS5 phrase MATCH, same database: {_fmt(bare)}; one row per paragraph:"
                f" {_fmt(per_paragraph)}; {baseline}"
            )
        rows.append((f"quote, {kind} queries (n={len(spent)}: {found})", _fmt(spent), baseline))
        rows.append((f"  where {kind} queries spend it", _stages(ours["stages"][kind], spent), ""))
        # CPU time of the searching process (its SQLite thread included): what other work on
        # the machine does not inflate, to compare runs on a shared machine
        rows.append((f"  {kind} queries in CPU time", _fmt(ours["cpu"][kind]), ""))
    rows.append(
        (
            f"grep -rFi over the library folder (n={GREP_QUERIES})",
            f"exact lines: {_fmt(grep_exact)}",
            f"no-match lines: {_fmt(grep_none)}",
        )
    )
    load = f"{vocabulary_load * 1000:.0f} ms"
    rows.append(("vocabulary load (once per library change)", load, ""))
    memory = f"{rss:.0f} MB / {peak:.0f} MB"
    rows.append(("RSS of the searching process (VmRSS / peak)", memory, "target < 80 MB"))
    return rows


def _stages(stages: dict[str, float], spent: Sequence[float]) -> str:
    """Each store query's share of the time, and the rest (folding, scoring, snippets)."""
    total = sum(spent) or 1.0
    names = {
        "texts_with_all": "rare words",
        "texts_with_all_besides": "texts to rule the phrase out",
        "texts_with_phrase": "FTS5 phrase check",
        "texts_with_two_of": "fuzzy keys",
        "occurrences": "places",
    }
    parts = [f"{names[k]} {v / total:.0%}" for k, v in stages.items() if v / total >= 0.005]
    rest = 1 - sum(stages.values()) / total
    return ", ".join([*parts, f"Python {rest:.0%}"])


async def _ensure_ingested(folder: Path, db_path: Path) -> None:
    store = await SQLiteStore.open(db_path)
    try:
        await ingest(store, folder)
    finally:
        await store.close()


def main() -> None:
    """The search table alone, for the repeated library and (with --distinct) its variant."""
    from benchmarks.ingest import bare_db, bare_fts5_seconds, print_table

    for distinct in (False, True) if "--distinct" in sys.argv else (False,):
        folder = build_library(100, distinct=distinct)
        db_path = BENCH_DIR / ("bench-distinct.db" if distinct else "bench.db")
        asyncio.run(_ensure_ingested(folder, db_path))
        if not bare_db(distinct).exists():
            bare_fts5_seconds(folder, bare_db(distinct))
        title = "Quote search" + (", no paragraph repeated" if distinct else "")
        print_table(title, run(db_path, folder, bare_db(distinct)))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        _child(Path(sys.argv[2]))
    else:
        main()
