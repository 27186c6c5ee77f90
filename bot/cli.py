"""The command line: one-shot commands with --json for scripts, and the library summary."""

from __future__ import annotations

import argparse
import json
import logging
import random
import re
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from bot.errors import StoryBotError
from bot.ingest import terminal_progress
from bot.library import Library, one_line
from bot.models import Chapter, Excerpt, IngestReport, SearchResult, Story
from bot.search import MARK_CLOSE, MARK_OPEN
from bot.settings import Settings

log = logging.getLogger("storybot")

WIDTH = 80


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (try --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="storybot", description="A Discord bot that serves a library of stories.")
    parser.add_argument("--stories", type=Path, help="the stories folder (env STORIES_DIR)")
    parser.add_argument("--db", type=Path, help="the database file (env DATABASE_PATH)")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    sub.add_parser("run", help="start the Discord bot (the default)")
    p = sub.add_parser("ingest", help="load new and changed stories into the database")
    p.add_argument(
        "--allow-empty", action="store_true", help="let a folder with no stories empty the library"
    )
    sub.add_parser("console", help="try the bot's commands in this terminal, no token needed")
    p = sub.add_parser("stories", help="list the library")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("excerpt", help="a random passage")
    p.add_argument("--story")
    p.add_argument("--chapter")
    p.add_argument("--character")
    p.add_argument("--seed", type=int)
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("chapter", help="a chapter, as pages")
    p.add_argument("story")
    p.add_argument("chapter")
    p.add_argument("--page", type=int, help="only this page (1-based)")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("quote", help="find a line")
    p.add_argument("text")
    p.add_argument("--story")
    p.add_argument("--limit", type=int, default=5)
    p.add_argument("--context", action="store_true", help="add the paragraphs before and after")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("backup", help="copy the database consistently, even while the bot runs")
    p.add_argument("path", type=Path)
    p.add_argument("--force", action="store_true", help="replace an existing backup file")
    return parser


# ---- JSON shapes (DESIGN.md's contract) --------------------------------------------------


def story_json(s: Story) -> dict[str, Any]:
    return {
        "slug": s.slug,
        "title": s.title,
        "file": s.file,
        "words": s.words,
        "author": s.author,
        "rating": s.rating,
        "url": s.url,
        "chapters": [{"number": c.number, "label": c.label, "words": c.words} for c in s.chapters],
    }


def excerpt_json(e: Excerpt) -> dict[str, Any]:
    return {
        "slug": e.story.slug,
        "title": e.story.title,
        "chapter": e.chapter,
        "chapter_label": e.chapter_label,
        "text": e.text,
        "start": e.start,
        "end": e.end,
    }


def chapter_json(c: Chapter, pages: Sequence[str]) -> dict[str, Any]:
    return {
        "slug": c.story.slug,
        "title": c.story.title,
        "chapter": c.number,
        "chapter_label": c.label,
        "note": c.note,
        "pages": list(pages),
    }


def quote_json(r: SearchResult, *, context: bool = False) -> dict[str, Any]:
    return {
        "query": r.query,
        "match": r.match,
        "hits": [
            {
                "slug": h.story.slug,
                "title": h.story.title,
                "chapter": h.chapter,
                "chapter_label": h.chapter_label,
                "text": h.text,
                "snippet": h.snippet,
                "position": h.position,
                "score": round(h.score, 4),
                **({"before": h.before, "after": h.after} if context else {}),
            }
            for h in r.hits
        ],
    }


# ---- terminal text ---------------------------------------------------------------------


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


def render_stories(stories: Sequence[Story]) -> str:
    if not stories:
        return "The library is empty: put .txt stories in the stories folder."
    lines = [f"{len(stories)} stories:"]
    for s in stories:
        chapters = "1 chapter" if len(s.chapters) == 1 else f"{len(s.chapters)} chapters"
        rating = "" if s.rating == "general" else f", {s.rating}"
        by = f" by {s.author}" if s.author else ""
        lines.append("  " + textwrap.shorten(f"{s.title}{by}", WIDTH - 2, placeholder="…"))
        lines.append(f"    [{s.slug}] {chapters}, {s.words:,} words{rating}")
        labels = ", ".join(c.label for c in s.chapters[:8])
        more = ", …" if len(s.chapters) > 8 else ""
        lines.append(
            textwrap.fill(labels + more, WIDTH, initial_indent="    ", subsequent_indent="    ")
        )
    return "\n".join(lines)


def render_excerpt(e: Excerpt) -> str:
    return f"{wrap(e.text)}\n\n  — {e.story.title}, {e.chapter_label}"


def render_page(c: Chapter, pages: Sequence[str], page: int) -> str:
    head = f"{c.story.title} — {c.label}  (page {page} of {len(pages)})"
    note = ""
    if c.note and page == 1:
        note = "\n\n" + wrap("Author's note: " + _NOTE_PREFIX.sub("", c.note, count=1))
    return f"{head}{note}\n\n{wrap(pages[page - 1].rstrip())}"


# "A/N - ", "AN: ": the label the author wrote, which our own "Author's note:" replaces
_NOTE_PREFIX = re.compile(r"^\s*(?:A/N|AN(?=\s*[:-])|Author'?s note)\s*[:\-–—]?\s*", re.IGNORECASE)


def render_quote(r: SearchResult) -> str:
    if r.match == "none":
        return f"No line close to “{one_line(r.query)}” in the library."
    kind = {"exact": "exact match", "words": "all the words", "fuzzy": "closest lines"}[r.match]
    count = "1 result" if len(r.hits) == 1 else f"{len(r.hits)} results"
    lines = [f"{count}, {kind}:"]
    for i, h in enumerate(r.hits, 1):
        snippet = h.snippet.replace(MARK_OPEN, "*").replace(MARK_CLOSE, "*")
        lines.append(f"\n{i}. {h.story.title}, {h.chapter_label}")
        lines.append(wrap(snippet, indent="   "))
    return "\n".join(lines)


def render_report(report: IngestReport) -> str:
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
    parts.append(f"unchanged {len(report.unchanged)}")
    lines = ["Ingest: " + ", ".join(parts)]
    lines += [f"  skipped {file}: {reason}" for file, reason in report.skipped]
    lines += [f"  warning: {warning}" for warning in report.warnings]
    return "\n".join(lines)


def _print_json(value: object) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


# ---- running ---------------------------------------------------------------------------


async def run_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "backup":
        from bot.store import Store

        if not settings.db_path.is_file():
            raise StoryBotError(f"there is no database at {settings.db_path} to back up")
        store = await Store.open(settings.db_path)
        try:
            await store.backup(args.path, overwrite=args.force)
        finally:
            await store.close()
        print(f"Backed up {settings.db_path} to {args.path}")
        return 0
    library = await Library.open(settings, check=args.command == "ingest")
    try:
        if args.command == "ingest":
            if settings.read_only:
                raise StoryBotError("READ_ONLY is set: this process does not ingest")
            progress = terminal_progress(sys.stderr)
            report = await library.ingest(allow_empty=args.allow_empty, on_progress=progress)
            print(render_report(report))
            return 0
        # reading commands read: ingest is `ingest`'s, the bot's startup's and /library
        # reload's; only a library never loaded (first use) is loaded once here
        if not settings.read_only and not await library.stories(mature_ok=True):
            logging.getLogger("bot.ingest").setLevel(logging.WARNING)  # only its warnings
            await library.ingest()
        if args.command == "console":
            from bot.console import run_console

            return await run_console(library, sys.stdin, sys.stdout)
        return await one_shot(library, args)
    finally:
        await library.close()


async def one_shot(library: Library, args: argparse.Namespace) -> int:
    # the terminal belongs to the host, who may read every story whatever its rating
    if args.command == "stories":
        stories = await library.stories(mature_ok=True)
        if args.json:
            _print_json([story_json(s) for s in stories])
        else:
            print(render_stories(stories))
    elif args.command == "excerpt":
        rng = random.Random(args.seed) if args.seed is not None else None
        e = await library.excerpt(args.story, args.chapter, args.character, mature_ok=True, rng=rng)
        _print_json(excerpt_json(e)) if args.json else print(render_excerpt(e))
    elif args.command == "chapter":
        chapter, pages = await library.pages(args.story, args.chapter, mature_ok=True)
        if args.page is not None and not 1 <= args.page <= len(pages):
            raise StoryBotError(f"{chapter.label} has pages 1 to {len(pages)}, not {args.page}.")
        if args.json:
            shown = pages if args.page is None else [pages[args.page - 1]]
            _print_json(chapter_json(chapter, shown))
        else:
            wanted = range(1, len(pages) + 1) if args.page is None else [args.page]
            print("\n\n".join(render_page(chapter, pages, n) for n in wanted))
    elif args.command == "quote":
        if not args.text.strip():
            raise StoryBotError('Give the line to look for, e.g. quote "soaked in sorry".')
        if args.limit < 1:
            raise StoryBotError("--limit must be 1 or more.")
        result = await library.quote(
            args.text, args.story, mature_ok=True, limit=args.limit, context=args.context
        )
        if args.json:
            _print_json(quote_json(result, context=args.context))
        else:
            print(render_quote(result))
    return 0
