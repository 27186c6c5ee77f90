"""/quote end to end: the phrase found and bolded, no match said plainly, odd input survives."""

from __future__ import annotations

from pathlib import Path

import discord
import pytest
import simcord

from bot.errors import StoryBotError
from tests.cogs.helpers import answer, custom_ids, page_text, rate, server, texts

PHRASE = "my whole world is soaked in sorry"


async def test_quote_finds_the_line_in_bold(simcord_env: simcord.Env) -> None:
    s = server(simcord_env)
    story = next(
        story for story in await s.library.stories(mature_ok=False) if story.file.startswith("001_")
    )
    result = await s.alice.slash(s.channel, "quote", text=PHRASE)
    # search may take a while on a big library: the interaction is deferred at once
    assert any(
        isinstance(entry.json, dict) and entry.json.get("type") == 5
        for entry in simcord_env.http_requests
    )
    message = answer(result)
    assert not message.ephemeral
    assert message.content == f"Found “{PHRASE}”:"
    embed = message.embeds[0]
    assert embed.title == story.title
    assert embed.footer.text == f"{story.title} · Chapter Six"
    assert f"**{PHRASE}**" in (embed.description or "")
    assert "Read from here" in custom_ids(message)

    reader = answer(await s.bob.click(message, label="Read from here"))
    assert reader.ephemeral and texts(reader)[0].endswith("**Chapter Six**")
    assert PHRASE in page_text(reader)


async def test_quote_within_a_story_and_unknown_story(simcord_env: simcord.Env) -> None:
    s = server(simcord_env)
    scoped = answer(await s.alice.slash(s.channel, "quote", text="Spike", story="breaking-alone"))
    assert all((embed.footer.text or "").startswith("Breaking alone · ") for embed in scoped.embeds)
    assert all("**Spike**" in (embed.description or "") for embed in scoped.embeds)

    unknown = answer(await s.alice.slash(s.channel, "quote", text="Spike", story="zzz"))
    assert unknown.ephemeral and unknown.content.startswith("No story called “zzz”")
    assert len(simcord_env.errors) == 1


async def test_quote_with_no_match_says_so(simcord_env: simcord.Env) -> None:
    s = server(simcord_env)
    message = answer(
        await s.alice.slash(s.channel, "quote", text="quantum chromodynamics spreadsheet")
    )
    assert message.content.startswith("No line in the library is close to “quantum")
    assert message.embeds == []


@pytest.mark.parametrize(
    "text",
    ['"', "*", "NEAR(", "x" * 3000, "🧛‍♂️🩸", "@everyone", "Spike @everyone <@&1> said"],
)
async def test_odd_queries_get_a_sensible_reply(simcord_env: simcord.Env, text: str) -> None:
    s = server(simcord_env)
    result = await s.alice.slash(s.channel, "quote", text=text)
    message = answer(result)
    assert message.content or message.embeds
    assert "Something went wrong" not in message.content
    assert len(message.content) <= 2000
    assert "@everyone" not in message.content  # echoed inert (escaped), and never a ping
    _assert_no_mentions(simcord_env)
    # at most a refusal (no words to look for), answered by the tree's error handler
    assert all(isinstance(e.__cause__, StoryBotError) for e in simcord_env.errors)


def _assert_no_mentions(env: simcord.Env) -> None:
    """Every message the bot sent said allowed_mentions: none."""
    sent = [
        entry.json
        for entry in env.http_requests
        if entry.method in ("POST", "PATCH") and isinstance(entry.json, dict)
    ]
    bodies = [body.get("data") or body for body in sent if body.get("type") != 5]
    bodies = [body for body in bodies if "content" in body or "embeds" in body]
    assert bodies
    for body in bodies:
        assert body.get("allowed_mentions") == {"parse": []}, body


async def test_story_text_with_everyone_pings_nobody(
    simcord_env: simcord.Env, stories_dir: Path
) -> None:
    s = server(simcord_env)
    (stories_dir / "ping.txt").write_text(
        "Pings\n\nThe herald climbed the steps and cried @everyone to the square, "
        "and <@&42> too, and nobody came.\n",
        encoding="utf-8",
    )
    rate(stories_dir, "ping.txt")
    await s.library.ingest()
    result = await s.alice.slash(s.channel, "quote", text="the herald cried everyone")
    message = answer(result)
    assert "@everyone" in (message.embeds[0].description or "")
    assert not message.message.mention_everyone and message.message.role_mentions == []
    _assert_no_mentions(simcord_env)
    assert simcord_env.bot.allowed_mentions is not None
    assert simcord_env.bot.allowed_mentions.to_dict() == discord.AllowedMentions.none().to_dict()


async def test_story_text_like_a_mark_is_shown_as_written(
    simcord_env: simcord.Env, stories_dir: Path
) -> None:
    """Regression: matches travel as ranges, so "[[link]]" in a story is not made bold."""
    s = server(simcord_env)
    (stories_dir / "wiki.txt").write_text(
        "Wiki Notes\n\nThe page said [[link]] twice, and then the lantern keeper sighed.\n",
        encoding="utf-8",
    )
    rate(stories_dir, "wiki.txt")
    await s.library.ingest()
    message = answer(await s.alice.slash(s.channel, "quote", text="the lantern keeper sighed"))
    assert message.embeds, message.content
    description = message.embeds[0].description or ""
    assert "[[link]]" in description and "**[[link]]**" not in description
    assert "**the lantern keeper sighed**" in description
    assert description.count("**") == 2
