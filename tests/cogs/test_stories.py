"""/stories, story autocomplete, and the command tree as synced to Discord."""

from __future__ import annotations

import dataclasses
import pkgutil

import discord
import pytest
import simcord
from discord import app_commands

import cogs
from bot.runtime import StoryBot, discover_extensions
from bot.settings import Settings
from tests.cogs.age_restricted import Mark, age_restricted
from tests.cogs.closing import BuildBot
from tests.cogs.helpers import answer, server, texts

__all__ = ["age_restricted"]

DEV_GUILD = 500_000_000_000_000_000
OPTIONS = {
    "excerpt": ["story", "chapter", "character"],
    "chapter": ["story", "chapter"],
    "quote": ["text", "story", "spoilers"],
    "stories": [],
    "continue": ["story"],
    "bookmarks": [],
    "forget": [],
}


async def test_stories_lists_the_library(simcord_env: simcord.Env) -> None:
    s = server(simcord_env)
    message = answer(await s.alice.slash(s.channel, "stories"))
    embed = message.embeds[0]
    assert embed.title == "The library"
    text = embed.description or ""
    for story in await s.library.stories(mature_ok=False):
        assert f"**{story.title}**" in text and f"`{story.slug}`" in text
        assert f"{story.words:,} words" in text
    assert "Part 1 (" in text and "Part 10 (" in text
    shown = await s.library.stories(mature_ok=False)
    assert (embed.footer.text or "").startswith(f"{len(shown)} stories · ")
    assert "Taking Steps" not in text  # rated explicit: not listed outside age-restricted channels


async def test_story_autocomplete_matches_titles(
    simcord_env: simcord.Env, age_restricted: Mark
) -> None:
    s = server(simcord_env)
    choices = await s.alice.autocomplete(s.channel, "chapter", "story", "break")
    assert choices == [{"name": "Breaking alone", "value": "breaking-alone"}]
    six = next(x for x in await s.library.stories(mature_ok=False) if x.file.startswith("001_"))
    typed = six.title[: max(3, len(six.title) // 2)].lower()
    choices = await s.alice.autocomplete(s.channel, "excerpt", "story", typed)
    assert {"name": six.title, "value": six.slug} in choices
    assert all(c["name"].lower().startswith(typed) or typed in c["name"].lower() for c in choices)
    everything = await s.alice.autocomplete(s.channel, "quote", "story", "")
    assert len(everything) == len(await s.library.stories(mature_ok=False)) <= 25
    assert await s.alice.autocomplete(s.channel, "excerpt", "story", "zzzz") == []
    # Taking Steps is rated explicit: offered only where it may be read
    assert await s.alice.autocomplete(s.channel, "excerpt", "story", "tak") == []
    after_dark = s.guild.create_text_channel("after-dark")
    await age_restricted(simcord_env, after_dark)
    choices = await s.alice.autocomplete(after_dark, "excerpt", "story", "tak")
    assert choices == [{"name": "Taking Steps", "value": "taking-steps"}]


async def test_every_command_is_synced_with_its_options(simcord_env: simcord.Env) -> None:
    s = server(simcord_env)
    bot = simcord_env.bot
    assert isinstance(bot, StoryBot)
    in_tree = {command.name for command in bot.tree.get_commands()}
    admins = s.guild.create_role("admins", permissions=discord.Permissions(administrator=True))
    admin = s.guild.add_member(simcord_env.create_user("admin"), roles=[admins])
    synced = set(admin.available_commands(s.channel))
    assert set(OPTIONS) <= in_tree
    assert {name.split()[0] for name in synced} == in_tree  # strict sync: all of them, only them
    for name, options in OPTIONS.items():
        command = bot.tree.get_command(name)
        assert isinstance(command, app_commands.Command)
        assert [p.name for p in command.parameters] == options
        assert command.description and not command.description.startswith("…")
        assert all(p.description and p.description != "…" for p in command.parameters)
        assert command.checks  # the per-user cooldown


def test_every_cog_module_imports_and_is_discovered() -> None:
    modules = [info.name for info in pkgutil.iter_modules(cogs.__path__)]
    extensions = discover_extensions()
    assert {f"cogs.{m}" for m in modules if not m.startswith("_")} == set(extensions)
    assert {"cogs.excerpt", "cogs.chapter", "cogs.quote", "cogs.stories"} <= set(extensions)
    assert not any(name.startswith("cogs._") for name in extensions)
    for name in modules:
        module = __import__(f"cogs.{name}", fromlist=["_"])
        if not name.startswith("_"):
            assert callable(module.setup)


@pytest.fixture
def dev_guild_bot(settings: Settings, closing_bots: BuildBot) -> StoryBot:
    return closing_bots(dataclasses.replace(settings, dev_guild_id=DEV_GUILD))


async def test_commands_sync_to_the_development_guild(dev_guild_bot: StoryBot) -> None:
    async with simcord.run(dev_guild_bot) as env:
        s = server(env, id=DEV_GUILD, channel="dev")
        channel, alice = s.channel, s.alice
        assert set(OPTIONS) <= set(alice.available_commands(channel))
        message = answer(await alice.slash(channel, "chapter", story="breaking-alone", chapter="1"))
        assert texts(message)[0].endswith("**Part 1**")
        elsewhere = server(env, channel="x")
        assert "chapter" not in elsewhere.bob.available_commands(elsewhere.channel)
