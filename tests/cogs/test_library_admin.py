"""/library reload | add | remove, end to end through simcord."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import discord
import pytest
import simcord

from bot.errors import StoryBotError
from bot.runtime import StoryBot
from bot.settings import Settings
from tests.cogs.closing import BuildBot, closing_bots
from tests.cogs.helpers import admin as _admin
from tests.cogs.helpers import server, uploaded
from tests.text import epub_fixtures as fx

__all__ = ["closing_bots"]

MAX_UPLOAD = 64 * 1024
STORY = (
    "The Lighthouse\n\nChapter 1\n\n"
    "The keeper climbed the stairs every evening, counting them under his breath. "
    "There were one hundred and twelve, and he had never once lost count.\n\n"
    "Below, the sea went on with its own counting.\n"
)


@pytest.fixture
def simcord_bot(settings: Settings, closing_bots: BuildBot) -> discord.Client:
    # a host whose DEFAULT_RATING is general: the stories these tests add are for everyone
    general = dataclasses.replace(settings, max_upload_bytes=MAX_UPLOAD, default_rating="general")
    return closing_bots(general)


def _text(result: simcord.InteractionResult) -> str:
    """Everything the (ephemeral) answer says: content and embeds."""
    message = result.response
    assert message is not None, result
    assert message.ephemeral
    parts = [message.content]
    for embed in message.embeds:
        parts += [embed.title or "", embed.description or ""]
        parts += [f"{f.name}: {f.value}" for f in embed.fields]
    return "\n".join(parts)


def _deferred(env: simcord.Env) -> bool:
    return any(
        r.path.endswith("/callback") and (r.json or {}).get("type") == 5 for r in env.http_requests
    )


def _story_titles(env: simcord.Env) -> set[str]:
    return {s.title for s in env.bot.library.catalogue._stories or []}  # type: ignore[attr-defined]


async def test_reload_reports_added_changed_removed_and_skipped(
    simcord_env: simcord.Env, stories_dir: Path
) -> None:
    env = simcord_env
    here = server(env, channel="admin")
    channel = here.channel
    ada = _admin(env, here.guild)
    seeds = sorted(n for n in os.listdir(stories_dir) if n.endswith(".txt"))

    (stories_dir / "new_story.txt").write_text(STORY, encoding="utf-8")
    changed = stories_dir / seeds[3]
    changed.write_bytes(changed.read_bytes() + b"\n\nA new last paragraph, added later.\n")
    os.remove(stories_dir / seeds[4])
    (stories_dir / "broken.txt").write_bytes(bytes(range(32)) * 10)
    (stories_dir / "notes.pdf").write_bytes(b"%PDF-1.4\n")

    result = await ada.slash(channel, "library reload")
    assert _deferred(env), "a rescan can take longer than Discord's 3 s: it must defer"
    text = _text(result)
    assert "**Added** (1): `new_story.txt`" in text
    assert f"**Changed** (1): `{seeds[3]}`" in text
    assert f"**Removed** (1): `{seeds[4]}`" in text
    assert "**Skipped** `broken.txt`: not a text file" in text
    assert "**Not read** `notes.pdf`: a PDF" in text
    # what was made of each file read, as the operator reads it (markdown escaped)
    # (rated explicit in doubt: a seed's library.toml section now names no file)
    assert "• new\\_story.txt: “The Lighthouse”, explicit (library.toml), 1 chapter" in text
    assert "Unchanged: 3" in text

    again = _text(await ada.slash(channel, "library reload"))
    assert "Nothing changed." in again and "**Skipped** `broken.txt`" in again


async def test_reload_with_a_broken_library_toml_warns_and_keeps_ratings(
    simcord_env: simcord.Env, stories_dir: Path
) -> None:
    """One lost bracket in library.toml: the reload reply says so, and the explicit story
    stays out of an ordinary channel."""
    env = simcord_env
    s = server(env, channel="admin")
    guild, channel = s.guild, s.channel
    ada = _admin(env, guild)
    toml = stories_dir / "library.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("]", "", 1), encoding="utf-8")
    text = _text(await ada.slash(channel, "library reload"))
    assert "**Warning**" in text and "library.toml" in text and "cannot be read" in text
    refused = _text(await ada.slash(channel, "excerpt", story="taking-steps"))
    assert "age-restricted" in refused
    assert [type(e.__cause__) for e in env.errors] == [StoryBotError]


async def test_add_valid_file_then_remove_it(simcord_env: simcord.Env, stories_dir: Path) -> None:
    env = simcord_env
    s = server(env, channel="admin")
    guild, channel = s.guild, s.channel
    ada = _admin(env, guild)

    added = await ada.slash(channel, "library add", file=("The Lighthouse.txt", STORY.encode()))
    text = _text(added)
    assert "Story added" in text and "The Lighthouse" in text and "The_Lighthouse.txt" in text
    assert await uploaded(env, stories_dir, "The_Lighthouse.txt") == STORY.encode()
    assert "The Lighthouse" in _story_titles(env)

    same = await ada.slash(channel, "library add", file=("The Lighthouse.txt", STORY.encode()))
    assert "Already in the library (unchanged)" in _text(same)
    different = STORY.replace("twelve", "thirteen").encode()
    clash = await ada.slash(channel, "library add", file=("The_Lighthouse.txt", different))
    assert "A different story is already saved as The_Lighthouse.txt" in _text(clash)
    assert [type(e.__cause__) for e in env.errors] == [StoryBotError]  # the one error path
    replaced = await ada.slash(
        channel, "library add", file=("The_Lighthouse.txt", different), replace=True
    )
    assert "Story replaced" in _text(replaced)

    choices = await ada.autocomplete(channel, "library remove", "story", "lightho")
    assert choices[0]["name"] == "The Lighthouse"
    removed = await ada.slash(channel, "library remove", story=choices[0]["value"])
    assert "Removed **The Lighthouse**" in _text(removed)
    assert await uploaded(env, stories_dir, "The_Lighthouse.txt") is None
    bot = env.bot
    assert isinstance(bot, StoryBot)
    if bot.library.store.shared is None:  # one host: the file moved aside
        assert (stories_dir / "removed" / "The_Lighthouse.txt").read_bytes() == different
        assert "`removed/` folder as `The_Lighthouse.txt`" in _text(removed)
    else:  # several hosts: the upload's bytes stay in the database
        assert "stays in the database" in _text(removed)
    assert "The Lighthouse" not in _story_titles(env)
    assert await ada.autocomplete(channel, "library remove", "story", "lightho") == []


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("big.txt", b"word " * (MAX_UPLOAD // 4), "is too big: 80 KB, the limit is 64 KB"),
        ("binary.txt", bytes(range(256)) * 8, "not a text file (binary content)"),
        ("story.pdf", b"%PDF-1.7\n", "is not a story file"),
        ("empty.txt", b"\n\n  \n", "empty file"),
        ("../../escape.txt", b"\x00\x01", "not a text file"),
        ("broken.epub", b"PK\x03\x04 not really a zip", "was not added"),
        ("empty.html", b"<html><body><p> </p></body></html>", "was not added"),
        ("story.mobi", b"BOOKMOBI", "is not a story file"),
        (".hidden.epub", fx.archive_epub("Mature"), "hidden file name"),
    ],
)
async def test_add_refuses_bad_files_with_the_reason(
    simcord_env: simcord.Env, stories_dir: Path, name: str, data: bytes, reason: str
) -> None:
    env = simcord_env
    s = server(env, channel="admin")
    guild, channel = s.guild, s.channel
    ada = _admin(env, guild)
    before = sorted(os.listdir(stories_dir))
    result = await ada.slash(channel, "library add", file=(name, data))
    assert reason in _text(result)
    assert [type(e.__cause__) for e in env.errors] == [StoryBotError]  # the one error path
    assert sorted(os.listdir(stories_dir)) == before
    assert not stories_dir.parent.joinpath("escape.txt").exists()


async def test_add_cp1252_file(simcord_env: simcord.Env, stories_dir: Path) -> None:
    env = simcord_env
    s = server(env, channel="admin")
    guild, channel = s.guild, s.channel
    ada = _admin(env, guild)
    text = STORY.replace("his breath", "his breath \u2013 caf\u00e9 \u201cquiet\u201d")
    data = text.replace("never once", "hadn\u2019t once").encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    result = await ada.slash(channel, "library add", file=("windows.txt", data))
    assert "Story added" in _text(result)
    library = env.bot.library  # type: ignore[attr-defined]
    found = await library.quote("hadn't once lost count", mature_ok=False)
    assert found.match == "exact"
    assert "hadn\u2019t once" in found.hits[0].text
    assert (
        "caf\u00e9 \u201cquiet\u201d"
        in (await library.quote("cafe quiet", mature_ok=False)).hits[0].text
    )


async def test_members_without_manage_server_are_refused(
    simcord_env: simcord.Env, stories_dir: Path
) -> None:
    env = simcord_env
    s = server(env, channel="general")
    guild, channel, bob = s.guild, s.channel, s.bob
    # Discord hides the command from him (default_permissions)...
    with pytest.raises(simcord.SetupError, match="not visible"):
        await bob.slash(channel, "library reload")
    # ...and when a server hands it to everyone in Integrations, the bot still refuses.
    commands = await env.bot.tree.fetch_commands()
    library = next(c for c in commands if c.name == "library")
    guild.set_command_permissions(library, {guild.default_role: True})
    before = sorted(os.listdir(stories_dir))
    for name, options in (
        ("library reload", {}),
        ("library add", {"file": ("x.txt", STORY.encode())}),
        ("library remove", {"story": "taking-steps"}),
    ):
        result = await bob.slash(channel, name, **options)
        assert "You need the **Manage Server** permission" in _text(result)
    assert sorted(os.listdir(stories_dir)) == before


@pytest.mark.parametrize("allowed", [True, False])
async def test_library_guild_ids_limit_which_servers_change_the_library(
    simcord_env: simcord.Env, allowed: bool
) -> None:
    env = simcord_env
    s = server(env, channel="admin")
    guild, channel = s.guild, s.channel
    env.bot.settings = dataclasses.replace(  # type: ignore[attr-defined]
        env.bot.settings,  # type: ignore[attr-defined]
        library_guild_ids=(guild.id if allowed else guild.id + 1,),
    )
    cog = env.bot.get_cog("LibraryAdminCog")
    cog.settings = env.bot.settings  # type: ignore[union-attr, attr-defined]
    text = _text(await _admin(env, guild).slash(channel, "library reload"))
    assert ("Library reloaded" in text) is allowed
    assert ("shared by every server" in text) is not allowed


async def test_status_says_how_scene_search_ranks(simcord_env: simcord.Env) -> None:
    env = simcord_env
    s = server(env, channel="admin")
    guild, channel = s.guild, s.channel
    result = await _admin(env, guild).slash(channel, "library status")
    assert "5 stories. Scene search ranks by words alone (SCENE_MODEL=off" in _text(result)


def test_status_line_with_the_model() -> None:
    from bot.models import SceneIndexStatus
    from cogs.library_admin import scene_index_line

    line = scene_index_line(SceneIndexStatus("e5", 320, 80, 2, 5, 6, True))
    assert line == (
        "6 stories. Scene search by meaning: 80 of 320 passages have vectors (25%, building in"
        " the background); 2 of 5 stories are ranked by meaning, 1 over SCENE_VECTORS_MB by"
        " words alone."
    )
