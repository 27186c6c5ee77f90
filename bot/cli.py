"""The command line: its arguments and the runner of one-shot commands (--json for scripts).

What the commands print is made elsewhere: bot/terminal.py for people, bot/json_contract.py
for scripts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import NoReturn

from bot.errors import StoryBotError
from bot.json_contract import (
    chapter_json,
    excerpt_json,
    ingest_json,
    migrate_json,
    quote_json,
    scene_json,
    story_json,
)
from bot.library import Library
from bot.settings import Settings
from bot.terminal import (
    marks_for,
    render_excerpt,
    render_migration,
    render_page,
    render_quote,
    render_report,
    render_scene,
    render_stories,
    terminal_progress,
)

log = logging.getLogger("storybot")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (try --help)\n")


MIGRATE_STORIES = (
    "migrate needs --stories DIR: the stories folder the bot's host ingests (every story"
    " copied is kept as that folder's; add --host NAME when it is another machine's)"
)
_STORY_HELP = "a story: its slug (breaking-alone), title, or a unique start of its title"
_JSON_HELP = "print JSON for scripts (keys listed in the README) instead of text"


def _global_options(parser: argparse.ArgumentParser, default: object = None) -> None:
    """--stories and --db, before the command or after it (`storybot ingest --stories DIR`)."""
    parser.add_argument(
        "--stories",
        type=_path,
        default=default,
        metavar="DIR",
        help="the stories folder (default: STORIES_DIR, else ./seeds)",
    )
    parser.add_argument(
        "--db",
        type=_path,
        default=default,
        metavar="PATH",
        help="the database file (default: DATABASE_PATH, else DATA_DIR/stories.db)",
    )


def _path(text: str) -> Path:
    return Path(text).expanduser()  # `--stories=~/x` reaches us unexpanded by the shell


def _search_options(p: argparse.ArgumentParser, what: str, limit: int) -> None:
    p.add_argument("--story", metavar="S", help=f"search only this story ({_STORY_HELP})")
    p.add_argument(
        "--limit", type=int, default=limit, metavar="K", help=f"at most K {what} (default {limit})"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="storybot",
        description="A Discord bot that serves a library of stories. With no command it starts "
        "the bot (or, with no DISCORD_TOKEN, says how to set one).",
        epilog="--stories and --db may also follow the command. Settings come from the "
        "environment and .env (see .env.example).",
    )
    _global_options(parser)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    def _command(name: str, help_: str) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=help_, description=help_[:1].upper() + help_[1:] + ".")
        _global_options(command, default=argparse.SUPPRESS)
        return command

    _library_commands(_command)
    _reading_commands(_command)
    p = _command("backup", "copy the database consistently, even while the bot runs")
    p.add_argument("path", type=_path, metavar="PATH", help="the file to write the copy to")
    p.add_argument("--force", action="store_true", help="replace an existing backup file")
    _migrate_command(_command)
    return parser


def _migrate_command(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    p = command("migrate", "copy this SQLite library (--db) into a PostgreSQL database")
    p.add_argument(
        "--to",
        required=True,
        metavar="URL",
        help="the PostgreSQL database to copy into: postgresql://user:password@host/db",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="replace the library that database already holds (otherwise refused)",
    )
    p.add_argument(
        "--host",
        metavar="NAME",
        help="the machine whose --stories folder it is, as `hostname` says there (default:"
        " this one; give --stories as its absolute path there)",
    )
    p.add_argument("--json", action="store_true", help=_JSON_HELP)


def _library_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """run, ingest, console and stories: the commands that start or list the library."""
    command("run", "start the Discord bot (the default)")
    p = command("ingest", "load new and changed stories into the database")
    p.add_argument(
        "--allow-empty", action="store_true", help="let a folder with no stories empty the library"
    )
    p.add_argument(
        "--vectors",
        action="store_true",
        help="then embed the scene passages that have no vector yet, here and now (scene"
        " search by meaning; the bot otherwise does it in the background; Ctrl-C keeps what"
        " is done)",
    )
    p.add_argument("--json", action="store_true", help=_JSON_HELP)
    command("console", "try the bot's commands in this terminal, no token needed")
    p = command("stories", "list the library: titles, slugs, chapters and word counts")
    p.add_argument("--json", action="store_true", help=_JSON_HELP)


def _reading_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """excerpt, chapter, quote and scene: the commands that read the stories."""
    p = command("excerpt", "a random passage of whole paragraphs")
    p.add_argument("--story", metavar="S", help=f"from this story ({_STORY_HELP})")
    p.add_argument(
        "--chapter",
        metavar="N",
        help="from this chapter: its place 1..N or its label (needs --story)",
    )
    p.add_argument("--character", metavar="NAME", help="a passage that names this character")
    p.add_argument(
        "--seed",
        type=int,
        metavar="INT",
        help="pick with this random seed (the same passage each time)",
    )
    p.add_argument("--json", action="store_true", help=_JSON_HELP)
    p = command("chapter", "a chapter, as the pages Discord shows")
    p.add_argument("story", metavar="STORY", help=_STORY_HELP)
    p.add_argument(
        "chapter",
        metavar="CHAPTER",
        help='the chapter\'s place in the story, 1..N, or its own label ("Chapter Six")',
    )
    p.add_argument("--page", type=int, metavar="P", help="only page P (1-based)")
    p.add_argument("--json", action="store_true", help=_JSON_HELP)
    p = command("quote", "find a line you half-remember")
    p.add_argument("text", metavar="TEXT", help="the line, or the words you remember of it")
    _search_options(p, "lines", 5)
    p.add_argument(
        "--context", action="store_true", help="add the paragraphs before and after each line"
    )
    p.add_argument("--json", action="store_true", help=_JSON_HELP)
    p = command("scene", "find a scene from a description in your own words")
    p.add_argument("text", metavar="TEXT", help="what happens in the scene, in your own words")
    _search_options(p, "passages", 3)
    p.add_argument("--json", action="store_true", help=_JSON_HELP)


def _print_json(value: object) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


# ---- running ---------------------------------------------------------------------------


async def run_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "migrate":
        return await migrate(args, settings)
    if args.command == "backup" and not settings.db_path.is_file():
        raise StoryBotError(f"there is no database at {settings.db_path} to back up")
    if args.command == "console":
        from bot.console import hold_interrupts

        hold_interrupts(sys.stdin)  # before the library starts its threads
    library = await Library.open(settings, check=args.command == "ingest")
    try:
        if args.command == "backup":
            await library.backup(args.path, overwrite=args.force)
            print(f"Backed up {settings.db_path} to {args.path}")
            return 0
        if args.command == "ingest":
            if settings.read_only:
                raise StoryBotError("READ_ONLY is set: this process does not ingest")
            progress = terminal_progress(sys.stderr)
            # each skipped file is in the report: the log need not say it too
            logging.getLogger("bot.ingest.files").setLevel(logging.ERROR)
            report = await library.ingest(allow_empty=args.allow_empty, on_progress=progress)
            if args.json:
                _print_json(ingest_json(report))
            else:
                print(render_report(report, settings.stories_dir))
            await scene_vectors(library, build=args.vectors)
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


async def migrate(args: argparse.Namespace, settings: Settings) -> int:
    """`migrate --to URL --stories DIR`: the SQLite library copied into PostgreSQL, each
    table's rows counted on both sides and printed, with the host key its stories were
    given. --stories is required: this process's STORIES_DIR (or ./seeds) may not be the
    folder the bot's host ingests, and a wrong key would leave the stories no host's."""
    if args.stories is None:
        raise StoryBotError(MIGRATE_STORIES)
    shown = 0.0

    def progress(done: int, total: int) -> None:
        nonlocal shown
        if time.monotonic() - shown >= 5 or done == total:
            shown = time.monotonic()
            print(f"migrate: {done} of {total} stories copied", file=sys.stderr, flush=True)

    moved = await Library.migrate(
        settings, args.to, host=args.host, force=args.force, progress=progress
    )
    if args.json:
        _print_json(migrate_json(settings.db_path, moved))
    else:
        print(render_migration(settings.db_path, moved))
    return 0


async def scene_vectors(library: Library, *, build: bool) -> None:
    """After `ingest`: how far scene search by meaning has come, on stderr; with ``build``
    (`ingest --vectors`), the passages with no vector embedded first, with progress."""
    status = await library.scene_index_status()
    if status.model is None:
        if build:
            print(
                "scene vectors: no scene model here (SCENE_MODEL=off, or no wheel for this"
                " platform): scene search ranks by words",
                file=sys.stderr,
            )
        return
    if build and not status.done:
        started = time.monotonic()
        shown = 0.0

        def progress(done: int, total: int) -> None:
            nonlocal shown
            if time.monotonic() - shown < 5 and done < total:
                return
            shown = time.monotonic()
            rate = (done - status.embedded) / max(time.monotonic() - started, 1e-9)
            left = (total - done) / rate / 60 if rate > 0 else 0.0
            print(
                f"scene vectors: {done} of {total} passages ({rate:.1f}/s, ~{left:.0f} min left)",
                file=sys.stderr,
                flush=True,
            )

        try:
            status = await library.build_scene_index(progress)
        except asyncio.CancelledError:  # Ctrl-C: the batches committed stay
            print(
                "scene vectors: stopped; the passages embedded so far are kept, and"
                " `ingest --vectors` (or the bot, in the background) goes on from there",
                file=sys.stderr,
            )
            raise
    over = status.stories - status.stories_budgeted
    print(
        f"scene vectors: {status.embedded} of {status.passages} passages"
        f" ({status.stories_ready} of {status.stories_budgeted} stories ranked by meaning too"
        + (f"; {over} over SCENE_VECTORS_MB ranked by words" if over else "")
        + ")"
        + (
            ""
            if status.done
            else ": the bot embeds the rest in the background, or run `ingest --vectors`"
        ),
        file=sys.stderr,
    )


async def one_shot(library: Library, args: argparse.Namespace) -> int:
    # the terminal belongs to the host, who may read every story whatever its rating
    command = _ONE_SHOT.get(args.command)
    if command is not None:
        await command(library, args)
    return 0


async def _stories(library: Library, args: argparse.Namespace) -> None:
    stories = await library.stories(mature_ok=True)
    if args.json:
        _print_json([story_json(s) for s in stories])
    else:
        print(render_stories(stories, library.stories_dir))


async def _excerpt(library: Library, args: argparse.Namespace) -> None:
    rng = random.Random(args.seed) if args.seed is not None else None
    e = await library.excerpt(args.story, args.chapter, args.character, mature_ok=True, rng=rng)
    _print_json(excerpt_json(e)) if args.json else print(render_excerpt(e))


async def _chapter(library: Library, args: argparse.Namespace) -> None:
    chapter, pages = await library.pages(args.story, args.chapter, mature_ok=True)
    if args.page is not None and not 1 <= args.page <= len(pages):
        raise StoryBotError(f"{chapter.label} has pages 1 to {len(pages)}, not {args.page}.")
    if args.json:
        shown = pages if args.page is None else [pages[args.page - 1]]
        _print_json(chapter_json(chapter, shown))
    else:
        wanted = range(1, len(pages) + 1) if args.page is None else [args.page]
        print("\n\n".join(render_page(chapter, pages, n) for n in wanted))


async def _quote(library: Library, args: argparse.Namespace) -> None:
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
        print(render_quote(result, marks_for(sys.stdout)))


async def _scene(library: Library, args: argparse.Namespace) -> None:
    if not args.text.strip():
        raise StoryBotError('Describe the scene, e.g. scene "Spike teaches Dawn to drive".')
    if args.limit < 1:
        raise StoryBotError("--limit must be 1 or more.")
    scope = await library.check_scene(args.text, args.story, mature_ok=True)
    found = await library.scene(args.text, scope, mature_ok=True, limit=args.limit)
    _print_json(scene_json(found)) if args.json else print(
        render_scene(found, marks_for(sys.stdout))
    )


# the commands that answer once and end, by name
_ONE_SHOT: dict[str, Callable[[Library, argparse.Namespace], Awaitable[None]]] = {
    "stories": _stories,
    "excerpt": _excerpt,
    "chapter": _chapter,
    "quote": _quote,
    "scene": _scene,
}
