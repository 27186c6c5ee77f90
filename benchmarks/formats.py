"""EPUB and HTML ingest beside .txt ingest of the same text, in the same run.

The Time Machine (or a seed when the corpus is absent) is written three ways: the Gutenberg
.txt as it is, an HTML page (one <p> per paragraph, an <h2> per chapter) and an EPUB (one
XHTML document per chapter, with OPF and NCX). COPIES copies of each, every copy's
paragraphs made distinct (so no chapter is shared between copies), are ingested into a fresh
database on one core. Throughput is in MB of the .txt text per second for all three, so the
figures compare the work per story, not the formats' sizes on disk.
"""

from __future__ import annotations

import asyncio
import time
from html import escape
from pathlib import Path

from benchmarks.corpus import BENCH_DIR, ROOT, source_files
from benchmarks.ingest import Row, ours_seconds
from bot.text import process
from tests.text.epub_fixtures import CONTAINER, make_epub, ncx, opf, xhtml

COPIES = 20


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
    # the pipeline alone (no database): process() on one copy of each
    for suffix, blob in _variants(data, source.name, 0).items():
        start = time.perf_counter()
        rounds = 5
        for _ in range(rounds):
            process(blob, f"x{suffix}")
        spent = (time.perf_counter() - start) / rounds
        rows.append((f"text pipeline alone, {suffix}", f"{len(data) / 1e6 / spent:.1f} MB/s", ""))
    return rows
