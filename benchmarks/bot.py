"""The running bot: memory when ready, and commands per second one process sustains.

Each figure is taken in a fresh interpreter (a child process), so one measurement's memory
does not leak into the next. The bot is the one production runs (build_bot), its setup_hook
run under simcord, the in-memory Discord the tests use; simcord lives in the same process, so
the baseline is a bare discord.py bot under simcord with one no-op command: the difference is
what storybot itself costs. Commands per second go through simcord's full interaction path
(gateway event, command tree, our cog, the REST answer), with the same Library calls made
directly, without Discord, as the baseline.

    .venv/bin/python -m benchmarks.bot            # alone
    make bench                                    # with the other tables
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.corpus import BENCH_DIR, build_library

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
BIG_DB = BENCH_DIR / "bot-100mb.db"
Row = tuple[str, str, str]
QUOTES = [
    "my whole world is soaked in sorry",
    "what sort of steps would we do",
    "the wind and the rain",
    "she looked at him",
    "I never wanted this",
    "a terrible mistake",
    "he didn't say anything",
    "sorry soaked world",  # all the words, out of order
    "misremembred lyne abuot sorow",  # fuzzy
]
COMMANDS = {"seeds": 400, "100mb": 20}  # per throughput measure (100 MB: ~1.5 s each)


def _rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process, MB, from /proc."""
    values: dict[str, float] = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in {"VmRSS", "VmHWM"}:
                values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def prepare_big_library() -> tuple[Path, Path]:
    """The 100 MB library and a database of it: copied from bench-data/bench.db when that one
    is complete (another benchmark's ingest), else ingested here (about 15-30 s)."""
    folder = build_library(100)
    if BIG_DB.exists():
        return folder, BIG_DB
    source = BENCH_DIR / "bench.db"
    tmp = BIG_DB.with_suffix(".part")
    tmp.unlink(missing_ok=True)
    if source.exists():
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            if src.execute("SELECT count(*) FROM stories").fetchone()[0] > 1000:
                dst = sqlite3.connect(tmp)
                src.backup(dst)
                dst.close()
        except sqlite3.Error:
            tmp.unlink(missing_ok=True)
        finally:
            src.close()
    from bot.library import Library
    from bot.settings import Settings

    async def ingest() -> None:  # brings a copied database up to date, or builds one
        library = await Library.open(Settings(stories_dir=folder, database_path=tmp))
        try:
            await library.ingest()
        finally:
            await library.close()

    asyncio.run(ingest())
    tmp.replace(BIG_DB)
    return folder, BIG_DB


# ---- children: each runs in its own interpreter -------------------------------------------


def _settings(library: str) -> Any:
    from bot.settings import Settings

    if library == "seeds":
        data = BENCH_DIR / "bot-seeds"
        return Settings(stories_dir=SEEDS, data_dir=data, daily_check_seconds=3600)
    return Settings(
        stories_dir=BENCH_DIR / "library-100mb", database_path=BIG_DB, daily_check_seconds=3600
    )


def _bare_bot() -> Any:
    import discord
    from discord import app_commands
    from discord.ext import commands

    class Bare(commands.Bot):
        async def setup_hook(self) -> None:
            @app_commands.command(name="noop")
            async def noop(interaction: discord.Interaction) -> None:
                """Answers at once."""
                await interaction.response.send_message("ok")

            self.tree.add_command(noop)
            await self.tree.sync()

    return Bare(command_prefix=commands.when_mentioned, intents=discord.Intents.default())


async def _child_rss(library: str) -> dict[str, float]:
    import simcord

    from bot.runtime import build_bot

    bot = _bare_bot() if library == "bare" else build_bot(_settings(library))
    async with simcord.run(bot) as env:
        guild = env.create_guild()
        channel = guild.create_text_channel("general")
        member = guild.add_member(env.create_user("reader"))
        await member.slash(channel, "noop" if library == "bare" else "stories")
        gc.collect()
        rss, peak = _rss_mb()
        if library != "bare":
            await bot.library.close()  # type: ignore[attr-defined]
    return {"rss": rss, "peak": peak}


async def _slash_rate(
    channel: Any, members: list[Any], name: str, options: Any, count: int
) -> float:
    """Commands per second through simcord, round-robin over members (each stays under the
    command's cooldown of 4 per 10 s)."""
    start = time.perf_counter()
    for i in range(count):
        member = members[i % len(members)]
        result = await member.slash(channel, name, **options(i))
        assert result.response is not None
    rate = count / (time.perf_counter() - start)
    print(f"/{name}: {rate:.1f}/s", file=sys.stderr, flush=True)
    return rate


async def _child_rate(library: str) -> dict[str, float]:
    import simcord

    from bot.runtime import build_bot

    out: dict[str, float] = {}
    count = COMMANDS[library]
    bare = _bare_bot()
    async with simcord.run(bare) as env:
        guild = env.create_guild()
        channel = guild.create_text_channel("general")
        members = [guild.add_member(env.create_user(f"r{i}")) for i in range(10)]
        out["noop"] = await _slash_rate(channel, members, "noop", lambda i: {}, 400)

    bot = build_bot(_settings(library))
    async with simcord.run(bot) as env:
        guild = env.create_guild()
        channel = guild.create_text_channel("general")
        members = [guild.add_member(env.create_user(f"r{i}")) for i in range(count // 4 + 1)]
        out["excerpt"] = await _slash_rate(channel, members, "excerpt", lambda i: {}, count)
        out["quote"] = await _slash_rate(
            channel, members, "quote", lambda i: {"text": QUOTES[i % len(QUOTES)]}, count
        )
        core = bot.library
        rng = random.Random(1)
        start = time.perf_counter()
        for _ in range(count):
            await core.excerpt(mature_ok=False, rng=rng)
        out["excerpt_direct"] = count / (time.perf_counter() - start)
        start = time.perf_counter()
        for i in range(count):
            await core.quote(QUOTES[i % len(QUOTES)], mature_ok=False, limit=5)
        out["quote_direct"] = count / (time.perf_counter() - start)
        out["guild_count"] = len(bot.guilds)
        await core.close()
    return out


def _child(kind: str, library: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bot", "--child", kind, library],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child {kind} {library} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run() -> list[Row]:
    prepare_big_library()
    bare = _child("rss", "bare")
    seeds = _child("rss", "seeds")
    big = _child("rss", "100mb")
    rows = [
        (
            "RSS of the ready bot, seed library",
            f"{seeds['rss']:.0f} MB (peak {seeds['peak']:.0f})",
            f"{bare['rss']:.0f} MB (bare discord.py bot + simcord)",
        ),
        (
            "RSS of the ready bot, 100 MB library",
            f"{big['rss']:.0f} MB (peak {big['peak']:.0f}); target < 80",
            f"{bare['rss']:.0f} MB (bare discord.py bot + simcord)",
        ),
    ]
    for library, label in (("seeds", "seed library"), ("100mb", "100 MB library")):
        rate = _child("rate", library)
        rows += [
            (
                f"/excerpt per second, one process, {label}",
                f"{rate['excerpt']:.1f} through simcord",
                f"{rate['excerpt_direct']:.1f} Library.excerpt direct; "
                f"{rate['noop']:.0f} no-op command via simcord",
            ),
            (
                f"/quote per second, one process, {label}",
                f"{rate['quote']:.1f} through simcord",
                f"{rate['quote_direct']:.1f} Library.quote direct",
            ),
        ]
    return rows


def main(argv: list[str]) -> None:
    if argv[:1] == ["--child"]:
        logging.disable(logging.WARNING)
        kind, library = argv[1], argv[2]
        work = _child_rss if kind == "rss" else _child_rate
        print(json.dumps(asyncio.run(work(library))))
        return
    from benchmarks.ingest import print_table

    print_table("The running bot", run())


if __name__ == "__main__":
    main(sys.argv[1:])
