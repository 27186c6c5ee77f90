"""One bot process of the several-hosts test (tests/test_hosts_processes.py).

``python -m tests.hosts_driver STEP [ARG]`` builds the real bot with ``build_bot()`` from the
environment, as ``python -m bot`` does (DATABASE_URL, STORIES_DIR, DATA_DIR, SHARD_COUNT,
SHARD_IDS...), runs it against simcord's in-memory Discord, does one step as a user would,
and prints what it saw as one JSON line. Every process builds the same Discord in the same
order (simcord's ids are deterministic), so the same reader, servers and channels have the
same ids in every process: two servers, one on each of two shards, with Alice in both.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import discord
import simcord

from bot.runtime import StoryBot, build_bot

TODAY = "**Today's excerpt**"


def _texts(message: simcord.ResponseMessage) -> list[str]:
    from simcord.components import walk_components

    shown = [c["content"] for c in walk_components(message.components) if c.get("type") == 10]
    for embed in message.embeds:
        shown += [embed.title or "", embed.description or "", embed.footer.text or ""]
    return [message.content or "", *shown]


async def _step(env: simcord.Env, bot: StoryBot, step: str, arg: str | None) -> dict[str, Any]:
    guilds = [env.create_guild(name=f"shard {n}", shard_id=n) for n in range(2)]
    channels = [g.create_text_channel("reading-room") for g in guilds]
    alice_user = env.create_user("alice")
    ada_user = env.create_user("ada")
    manage = discord.Permissions(manage_guild=True)
    roles = [g.create_role("mods", permissions=manage) for g in guilds]
    alices = [g.add_member(alice_user) for g in guilds]
    adas = [g.add_member(ada_user, roles=[r]) for g, r in zip(guilds, roles, strict=True)]
    mine = bot.shard_ids[0] if bot.shard_ids else 0
    alice, ada, channel = alices[mine], adas[mine], channels[mine]
    out: dict[str, Any] = {"shard": mine, "alice": alice_user.id, "guild": guilds[mine].id}
    if step == "read":  # /chapter breaking-alone 2, then Next: Alice's place is page 2
        opened = await alice.slash(channel, "chapter", story="breaking-alone", chapter="2")
        assert opened.response is not None
        turned = await alice.click(opened.response, label="Next")
        assert turned.response is not None
        out["texts"] = _texts(turned.response)
    elif step == "continue":
        back = await alice.slash(channel, "continue")
        assert back.response is not None
        out["texts"] = _texts(back.response)
    elif step == "add":  # /library add the file ARG
        path = Path(arg or "")
        data = await asyncio.to_thread(path.read_bytes)
        added = await ada.slash(channel, "library add", file=(path.name, data))
        assert added.response is not None
        out["texts"] = _texts(added.response)
    elif step == "quote":
        found = await alice.slash(channel, "quote", text=arg or "")
        assert found.response is not None
        out["texts"] = _texts(found.response)
    elif step == "daily-set":  # today's excerpt at 00:30 in the reading room of guild 0
        await ada.slash(channels[0], "daily set", channel=channels[0], time="00:30")
    elif step == "daily-wait":  # an hour of Discord's time: how many posts this process made
        await env.advance_time(60 * 60)
        out["posts"] = [m.content for m in channels[0].history()].count(TODAY)
        out["now"] = env.now().isoformat()
    else:
        raise SystemExit(f"unknown step {step}")
    return out


async def main(step: str, arg: str | None) -> None:
    bot = build_bot()
    try:
        async with simcord.run(bot, settle_timeout=60.0, check_errors=False) as env:
            out = await _step(env, bot, step, arg)
            out["errors"] = [str(e) for e in env.errors]
    finally:
        library = bot._library  # pyright: ignore[reportPrivateUsage]
        if library is not None:  # simcord detaches the bot without closing it
            await library.close()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
