"""`python -m bot`: start the bot, or with no token explain how; also the CLI and console."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from dotenv import load_dotenv

from bot.cli import build_parser, render_report, render_stories, run_command
from bot.errors import StoryBotError
from bot.library import Library
from bot.settings import Settings

NO_TOKEN_HINT = """\
To put the bot in your Discord server:
  1. Create an application and bot at https://discord.com/developers/applications
  2. Copy .env.example to .env and set DISCORD_TOKEN=<your bot token>
  3. Run `make run` again.
To try every command here first, with no token:  make console
  (or: .venv/bin/python -m bot console)"""


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


async def _summary(settings: Settings) -> None:
    library = await Library.open(settings, check=True)
    try:
        report = await library.ingest()
        print(render_report(report, settings.stories_dir))
        print(render_stories(await library.stories(mature_ok=True), settings.stories_dir))
    finally:
        await library.close()


def _command() -> str:
    """How to run this CLI again from here: `.venv/bin/python -m bot` from the project."""
    try:
        exe = Path(sys.executable).relative_to(Path.cwd())
    except ValueError:
        return "python -m bot"
    return f"{exe} -m bot"


def main(argv: Sequence[str] | None = None) -> int:
    load_dotenv()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env().with_overrides(
            stories_dir=args.stories, database_path=args.db
        )
        _setup_logging(settings.log_level)
        if args.command in (None, "run"):
            problem = settings.token_problem()
            if problem is None:
                from bot.runtime import run

                run(settings)
                return 0
            asyncio.run(_summary(settings))
            print(f"\n{problem}.\n{NO_TOKEN_HINT}")
            # exit 2 either way: the bot cannot run, and systemd must not retry (see the unit)
            return 2
        return asyncio.run(run_command(args, settings))
    except StoryBotError as exc:
        # the core's messages name Discord's commands; in a shell, name the CLI's
        message = exc.message.replace("with /stories", f"with `{_command()} stories`")
        message = message.replace("run ingest", f"run `{_command()} ingest`")
        print(f"storybot: {message}", file=sys.stderr)
        return 2 if exc.usage else 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader went away (`... | head`): stop quietly, as grep and friends do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
