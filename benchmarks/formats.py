"""EPUB and HTML ingest beside .txt ingest of the same text, in the same run.

The Time Machine (or a seed when the corpus is absent) is written three ways: the Gutenberg
.txt as it is, an HTML page (one <p> per paragraph, an <h2> per chapter) and an EPUB (one
XHTML document per chapter, with OPF and NCX). COPIES copies of each, every copy's
paragraphs made distinct (so no chapter is shared between copies), are ingested into a fresh
database on one core. Throughput is in MB of the .txt text per second for all three, so the
figures compare the work per story, not the formats' sizes on disk.

Then the text pipeline alone (bot.text.process: read, decode, repair, structure) before and
after the issue-18 work (books made by pandoc, calibre and ebookmaker read as their .txt), on
the same files in the same run: that commit's parent's ``bot/`` is unpacked from git under
bench-data, and both are timed in fresh processes, in turns, REPEATS times (CPU time, the
least of ROUNDS runs each time; the median and the spread over the repeats are shown).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
from html import escape
from io import BytesIO
from pathlib import Path

from benchmarks.corpus import BENCH_DIR, ROOT, source_files
from benchmarks.ingest import Row, ours_seconds
from bot.text import process
from tests.text.epub_fixtures import CONTAINER, make_epub, ncx, opf, xhtml

COPIES = 20
# the issue-18 work began with 0f28964 ("structure: Gutenberg [Illustration: ...] blocks ...");
# its parent is the code before it
BEFORE = "de1d980cf45516a674dcd8042bc197dae5a60811"
REPEATS = 5
ROUNDS = 3
BOOKS = ROOT / "tests" / "fixtures" / "books"
# books made by real tools from the same text (tests/fixtures/books/make_fixtures.sh)
MADE_BY_TOOLS = (
    "tm.pandoc-plain.epub",
    "tm.pandoc-front-toc.epub",
    "tm.calibre.epub",
    "tm.ebookmaker-txt.epub",
    "tm.pandoc-plain.html",
    "tm.calibre-htmlz.html",
)


def _source() -> Path:
    novel = ROOT.parent / "shared" / "corpus" / "the_time_machine.txt"
    return novel if novel.is_file() else max(source_files(), key=lambda p: p.stat().st_size)


def _variants(data: bytes, name: str, copy: int) -> dict[str, bytes]:
    """The same story as .txt, .html and .epub; ``copy`` makes its paragraphs distinct."""
    story = process(data, name)
    mark = f" ({copy})"
    chapters = [(c.label, [t + mark for _, t in c.paragraphs]) for c in story.chapters]
    txt = "\n\n".join(f"{label}\n\n" + "\n\n".join(ps) for label, ps in chapters)
    html_body = "".join(
        f"<h2>{escape(label)}</h2>" + "".join(f"<p>{escape(p)}</p>" for p in ps)
        for label, ps in chapters
    )
    page = f"<html><head><title>{escape(story.title)}</title></head><body>{html_body}</body></html>"
    files: dict[str, str | bytes] = {"META-INF/container.xml": CONTAINER}
    docs = []
    for i, (label, ps) in enumerate(chapters):
        body = f"<h2>{escape(label)}</h2>" + "".join(f"<p>{escape(p)}</p>" for p in ps)
        files[f"OEBPS/c{i}.xhtml"] = xhtml(body, escape(label))
        docs.append((f"c{i}", f"c{i}.xhtml"))
    extra = '<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>'
    files["OEBPS/content.opf"] = opf(f"<dc:title>{escape(story.title)}</dc:title>", docs,
                                     extra_items=extra)  # fmt: skip
    files["OEBPS/toc.ncx"] = ncx([(label, f"c{i}.xhtml") for i, (label, _) in enumerate(chapters)])
    return {
        ".txt": f"{story.title}\n\n{txt}\n".encode(),
        ".html": page.encode(),
        ".epub": make_epub(files),
    }


def run() -> list[Row]:
    source = _source()
    data = source.read_bytes()
    root = BENCH_DIR / "formats"
    folders = {suffix: root / suffix.lstrip(".") for suffix in (".txt", ".html", ".epub")}
    text_mb = 0.0
    disk: dict[str, int] = dict.fromkeys(folders, 0)
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            old.unlink()
    for copy in range(COPIES):
        for suffix, blob in _variants(data, source.name, copy).items():
            (folders[suffix] / f"story-{copy:03}{suffix}").write_bytes(blob)
            disk[suffix] += len(blob)
            if suffix == ".txt":
                text_mb += len(blob) / 1e6
    rows: list[Row] = []
    seconds: dict[str, float] = {}
    for suffix, folder in folders.items():
        spent = asyncio.run(ours_seconds(folder, root / f"{suffix.lstrip('.')}.db", workers=1))
        seconds[suffix] = spent
    for suffix in folders:
        rate = text_mb / seconds[suffix]
        rows.append(
            (
                f"ingest {suffix} ({COPIES} copies, {disk[suffix] / 1e6:.1f} MB on disk), one core",
                f"{rate:.1f} MB/s of text ({seconds[suffix]:.2f} s)",
                f"{seconds['.txt'] / seconds[suffix]:.2f} of .txt"
                if suffix != ".txt"
                else f"{text_mb:.1f} MB of text",
            )
        )
    return rows + before_and_after(data, source.name)


def _before_code() -> Path | None:
    """The ``bot/`` of BEFORE, unpacked once under bench-data; None without git history."""
    target = BENCH_DIR / "before-issue-18"
    if (target / "bot" / "text" / "__init__.py").is_file():
        return target
    try:
        archive = subprocess.run(
            ["git", "archive", BEFORE, "bot"], cwd=ROOT, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None  # a shallow clone or no git: the rows say so
    shutil.rmtree(target, ignore_errors=True)
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target


def _pipeline_times(code: Path, folder: Path) -> dict[str, float | None]:
    # run as -c from the code's folder: sys.path starts there (a script's own folder would
    # come first, and benchmarks/bot.py would be imported as bot)
    script = Path(__file__).with_name("pipeline_times.py").read_text(encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(code))
    out = subprocess.run(
        [sys.executable, "-c", script, str(folder), str(ROUNDS)],
        cwd=code, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout)


def before_and_after(data: bytes, name: str) -> list[Row]:
    """The text pipeline's MB/s (of the .txt's text) on each format, before and after."""
    folder = BENCH_DIR / "formats" / "pipeline"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for suffix, blob in _variants(data, name, 0).items():
        (folder / f"bench-written{suffix}").write_bytes(blob)
    shutil.copy(_source(), folder / f"gutenberg-{_source().name}")
    for fixture in MADE_BY_TOOLS:
        if (BOOKS / fixture).is_file() and _source().name == "the_time_machine.txt":
            shutil.copy(BOOKS / fixture, folder / fixture)
    before = _before_code()
    versions = {"after": ROOT} | ({"before": before} if before is not None else {})
    times: dict[str, dict[str, list[float]]] = {v: {} for v in versions}
    for _ in range(REPEATS):  # in turns, in a random order each time
        for version in random.sample(list(versions), len(versions)):
            for file, spent in _pipeline_times(versions[version], folder).items():
                if spent is not None:
                    times[version].setdefault(file, []).append(spent)
    mb = len(data) / 1e6
    rows: list[Row] = []
    for file in sorted(p.name for p in folder.iterdir()):
        after = _rate(mb, times["after"].get(file, []))
        if before is None:
            baseline = f"before issue 18: no git history ({BEFORE[:7]}^)"
        elif not times["before"].get(file):
            baseline = "before issue 18: not read"
        else:
            old = times["before"][file]
            ratio = statistics.median(old) / statistics.median(times["after"][file])
            baseline = f"before issue 18 {_rate(mb, old)}; speed after/before {ratio:.2f}"
            if len(old) < REPEATS:  # the older code's reading depended on the hash seed
                baseline += f" (read in {len(old)} of {REPEATS} runs)"
        rows.append((f"text pipeline alone, {file}", after, baseline))
    return rows


def _rate(mb: float, seconds: list[float]) -> str:
    """MB/s at the median, with the spread over the repeats."""
    if not seconds:
        return "not read"
    low, mid, high = mb / max(seconds), mb / statistics.median(seconds), mb / min(seconds)
    return f"{mid:.1f} MB/s ({low:.1f}-{high:.1f})"
