"""The console: the bot's slash commands in a terminal, no Discord token needed."""

from __future__ import annotations

from typing import TextIO

from bot.library import Library


async def run_console(library: Library, stdin: TextIO, stdout: TextIO) -> int:
    raise NotImplementedError
