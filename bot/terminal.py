"""How the library's answers look in a terminal: the CLI's plain output and the console's."""

from __future__ import annotations

import os
import re
import textwrap
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot.ingest_report import report_lines
from bot.library import one_line
from bot.models import (
    Chapter,
    Excerpt,
    IngestReport,
    Migration,
    Progress,
    SceneResult,
    SearchResult,
    Story,
    long_shots,
)

WIDTH = 80


def wrap(text: str, width: int = WIDTH, indent: str = "") -> str:
    """Wrap each paragraph (and each line of a lyric) to the terminal width."""
    out = []
    for para in text.split("\n\n"):
        lines = [
            textwrap.fill(line, width, initial_indent=indent, subsequent_indent=indent) or indent
            for line in para.split("\n")
        ]
        out.append("\n".join(lines))
    return "\n\n".join(out)


STORY_FORMATS = ".txt, .epub, .html or .htm"


def render_stories(stories: Sequence[Story], folder: Path | None = None) -> str:
    if not stories:
        where = f"the stories folder {shown_path(folder)}" if folder else "the stories folder"
        return f"The library is empty: put story files ({STORY_FORMATS}) in {where}."
    lines = [f"{len(stories)} stor{'y' if len(stories) == 1 else 'ies'}:"]
    for s in stories:
        chapters = "1 chapter" if len(s.chapters) == 1 else f"{len(s.chapters)} chapters"
        rating = "" if s.rating == "general" else f", {s.rating}"
        by = f" by {s.author}" if s.author else ""
        lines.append("  " + textwrap.shorten(f"{s.name}{by}", WIDTH - 2, placeholder="…"))
        lines.append(f"    [{s.slug}] {chapters}, {s.words:,} words{rating}")
        labels = ", ".join(c.label for c in s.chapters[:8])
        more = ", …" if len(s.chapters) > 8 else ""
        lines.append(
            textwrap.fill(labels + more, WIDTH, initial_indent="    ", subsequent_indent="    ")
        )
    return "\n".join(lines)


def render_excerpt(e: Excerpt) -> str:
    return f"{wrap(e.text)}\n\n  — {e.story.name}, {e.chapter_label}"


def render_page(c: Chapter, pages: Sequence[str], page: int) -> str:
    head = f"{c.story.name} — {c.label}  (page {page} of {len(pages)})"
    note = ""
    if c.note and page == 1:
        note = "\n\n" + wrap("Author's note: " + _NOTE_PREFIX.sub("", c.note, count=1))
    return f"{head}{note}\n\n{wrap(pages[page - 1].rstrip())}"


# "A/N - ", "AN: ": the label the author wrote, which our own "Author's note:" replaces
_NOTE_PREFIX = re.compile(r"^\s*(?:A/N|AN(?=\s*[:-])|Author'?s note)\s*[:\-–—]?\s*", re.IGNORECASE)


def _searched(story: Story | None) -> str:
    return f"“{story.name}”" if story is not None else "the library"


def render_quote(r: SearchResult, marks: Marks | None = None, first: int = 1) -> str:
    """A quote search's answer, its hits numbered from ``first``."""
    if r.match == "none" or not r.hits:
        return f"No line close to “{one_line(r.query)}” in {_searched(r.story)}."
    kind = {"exact": "exact match", "words": "all the words", "fuzzy": "closest lines"}[r.match]
    count = "1 result" if len(r.hits) == 1 else f"{len(r.hits)} results"
    if first > 1:
        count = f"results {first} to {len(r.hits)}"
    where = f" in {_searched(r.story)}" if r.story is not None else ""
    lines = [f"{count[:1].upper()}{count[1:]}{where}, {kind}:"]
    for i, h in enumerate(r.hits[first - 1 :], first):
        lines.append(f"\n{i}. {h.story.name}, {h.chapter_label}")
        lines.append(wrap(marked(h.snippet, h.marks, marks or PLAIN), indent="   "))
    return "\n".join(lines)


def render_scene(r: SceneResult, marks: Marks | None = None, first: int = 1) -> str:
    """A scene search's answer, its passages numbered from ``first``."""
    if not r.hits:
        return f"No passage in {_searched(r.story)} shares a word with “{one_line(r.query)}”."
    count = "1 passage" if len(r.hits) == 1 else f"{len(r.hits)} passages"
    if first > 1:
        count = f"passages {first} to {len(r.hits)}"
    where = f" in {_searched(r.story)}" if r.story is not None else ""
    best = ", best first" if len(r.hits) > 1 else ""
    head = f"{count[:1].upper()}{count[1:]}{where} like “{one_line(r.query)}”{best}:"
    if first == 1 and all(h.confidence == "long shot" for h in r.hits):  # as /scene says it
        head = f"Nothing close to “{one_line(r.query)}”{where}; {long_shots(len(r.hits))}:"
    lines = [head]
    for i, h in enumerate(r.hits[first - 1 :], first):
        lines.append(f"\n{i}. {h.story.name}, {h.chapter_label} ({h.confidence})")
        lines.append(wrap(marked(h.snippet, h.marks, marks or PLAIN), indent="   "))
    return "\n".join(lines)


def render_report(report: IngestReport, folder: Path | None = None) -> str:
    if folder is not None and not (report.touched or report.unchanged or report.skipped):
        head = f"Ingest: no story files in {shown_path(folder)} (it reads {STORY_FORMATS} files)."
        return "\n".join([head, *report_lines(report, warnings=False)])  # what it did not read
    parts = []
    for name, files in (
        ("added", report.added),
        ("changed", report.changed),
        ("removed", report.removed),
    ):
        if files:
            parts.append(f"{name} {len(files)}")
    if report.skipped:
        parts.append(f"skipped {len(report.skipped)}")
    if report.not_read:
        parts.append(f"not read {len(report.not_read)}")
    parts.append(f"unchanged {len(report.unchanged)}")
    if report.warnings:  # said once, in the log (stderr) where the operator's logs keep them
        parts.append(
            "1 warning" if len(report.warnings) == 1 else f"{len(report.warnings)} warnings"
        )
    # warnings are in the log (stderr): each is said once
    return "\n".join(["Ingest: " + ", ".join(parts), *report_lines(report, warnings=False)])


def shown_path(path: Path) -> Path:
    """A path as errors name it: ``~`` expanded, made absolute, links resolved."""
    return path.expanduser().resolve()


@dataclass(frozen=True, slots=True)
class Marks:
    """How a terminal shows the words a search matched."""

    open: str
    close: str


PLAIN = Marks("*", "*")  # a pipe, a file, NO_COLOR: the author's *italics* look the same
BOLD = Marks("\x1b[1m", "\x1b[22m")  # a real terminal: bold, unlike the author's *italics*


def marks_for(stream: TextIO, env: Mapping[str, str] | None = None) -> Marks:
    """Bold on a terminal; ``*…*`` when ``stream`` is not one, or NO_COLOR (no-color.org) is
    set, or TERM is dumb."""
    env = os.environ if env is None else env
    if env.get("NO_COLOR") or env.get("TERM") == "dumb" or not stream.isatty():
        return PLAIN
    return BOLD


def marked(snippet: str, marks: Sequence[tuple[int, int]], style: Marks = PLAIN) -> str:
    """A snippet with each matched range between ``style``'s marks."""
    out: list[str] = []
    at = 0
    for start, end in marks:
        if start < at or start >= end:
            continue
        out += [snippet[at:start], style.open, snippet[start:end], style.close]
        at = end
    out.append(snippet[at:])
    return "".join(out)


def terminal_progress(stream: TextIO) -> Callable[[Progress], None] | None:
    """A progress line redrawn in place on a terminal (at most twice a second); None when
    ``stream`` is not a terminal (a log, a pipe), where ingest's summary line is enough."""
    if not stream.isatty():
        return None
    shown = 0.0

    def show(progress: Progress) -> None:
        nonlocal shown
        last = progress.files == progress.total_files
        if not last and time.monotonic() - shown < 0.5:
            return
        shown = time.monotonic()
        stream.write(f"\r\x1b[Kingest: {progress.describe()}" + ("\n" if last else ""))
        stream.flush()

    return show


def render_migration(source: Path, moved: Migration) -> str:
    """`migrate`: each table's rows, in the source and copied (checked equal), and any left
    behind because what they belonged to is gone; and the host key the stories were given."""
    counts = moved.tables
    width = max(len(c.table) for c in counts)
    lines = [f"Copied {shown_path(source)} into PostgreSQL; rows in each table:"]
    lines.append(f"  {'table':<{width}}  {'source':>9}  {'copied':>9}")
    for c in counts:
        left = f"  ({c.skipped} skipped: their story or passage is gone)" if c.skipped else ""
        lines.append(f"  {c.table:<{width}}  {c.source:>9}  {c.copied:>9}{left}")
    lines.append(
        "Counts checked: every row is there. Set DATABASE_URL to this database and start the bot."
    )
    lines.append(
        f"Its stories are the stories folder {moved.host}'s (host:folder): that host's ingest"
        " removes one whose file is gone there."
    )
    return "\n".join(lines)
