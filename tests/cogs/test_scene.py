"""/scene end to end: a description finds its chapter, Read from here opens it, ratings and
scope hold, odd input gets a sensible answer."""

from __future__ import annotations

import pytest
import simcord

from bot.errors import StoryBotError
from bot.runtime import StoryBot
from bot.settings import Settings
from tests.cogs.age_restricted import Mark, age_restricted
from tests.cogs.closing import BuildBot, closing_bots
from tests.cogs.helpers import answer, custom_ids, page_text, server, texts
from tests.cogs.test_quote import _assert_no_mentions

__all__ = ["age_restricted", "closing_bots"]

# descriptions of tests/scenes/descriptions.toml, in a reader's words, not the story's
BOOKSHOP = "Spike browsing poetry in an ordinary bookshop runs into Buffy holding a self-help book"
WHISKEY = "Tara and Spike pass a whiskey bottle back and forth on his ratty couch"  # Taking Steps
EXPLICIT = "Taking Steps"
LABELS = ("Close match", "Possible", "Long shot")


@pytest.fixture
def simcord_bot(settings: Settings, closing_bots: BuildBot) -> StoryBot:
    return closing_bots(settings)


def _said(message: simcord.ResponseMessage) -> str:
    parts = [message.content or ""]
    for embed in message.embeds:
        parts += [embed.title or "", embed.description or "", embed.footer.text or ""]
        parts.append(embed.author.name or "")
    return "\n".join(parts)


async def test_a_description_finds_its_chapter_and_reads_from_there(
    simcord_env: simcord.Env,
) -> None:
    s = server(simcord_env)
    story = next(
        story for story in await s.library.stories(mature_ok=False) if story.file.startswith("001_")
    )
    result = await s.alice.slash(s.channel, "scene", description=BOOKSHOP)
    # a search may take a while on a big library: the interaction is deferred at once
    assert any(
        isinstance(entry.json, dict) and entry.json.get("type") == 5
        for entry in simcord_env.http_requests
    )
    message = answer(result)
    assert not message.ephemeral
    assert "Spike browsing poetry" in message.content
    assert 1 <= len(message.embeds) <= 3
    footers = [embed.footer.text or "" for embed in message.embeds]
    assert f"{story.title} · Chapter Six" in footers, "the right chapter in the top three"
    for n, embed in enumerate(message.embeds, start=1):
        author = embed.author.name or ""
        assert author.endswith(LABELS) and author.startswith(f"{n} of {len(message.embeds)}")
        assert "**" in (embed.description or ""), "the matched words in bold"
        assert len(embed.description or "") < 700, "a short snippet, not the passage"
    assert "**Spike**" in (
        message.embeds[footers.index(f"{story.title} · Chapter Six")].description or ""
    )
    buttons = [
        part
        for row in message.components
        for part in row.get("components", [])
        if part.get("label") == "Read from here"
    ]
    assert len(buttons) == len(message.embeds)
    _assert_no_mentions(simcord_env)

    # Read from here: the page holding the passage's first paragraph, privately
    best = (await s.library.scene(BOOKSHOP, mature_ok=False)).hits[0]
    first_paragraph = best.text.split("\n\n")[0]
    reader = answer(await s.bob.click(message, custom_id=buttons[0]["custom_id"]))
    assert reader.ephemeral
    assert f"**{best.chapter_label}**" in texts(reader)[0]  # the reader's heading
    assert first_paragraph[:60] in page_text(reader).replace("\\", "")


@pytest.mark.simcord(check_errors=False)
async def test_story_limits_the_search_and_an_unknown_story_is_refused(
    simcord_env: simcord.Env,
) -> None:
    s = server(simcord_env)
    scoped = answer(
        await s.alice.slash(s.channel, "scene", description=BOOKSHOP, story="breaking-alone")
    )
    assert scoped.embeds
    assert all((embed.footer.text or "").startswith("Breaking alone · ") for embed in scoped.embeds)
    unknown = answer(await s.alice.slash(s.channel, "scene", description=BOOKSHOP, story="zzz"))
    assert unknown.ephemeral and unknown.content.startswith("No story called “zzz”")
    assert len(simcord_env.errors) == 1
    choices = await s.alice.autocomplete(s.channel, "scene", "story", "brea")
    assert [c["value"] for c in choices] == ["breaking-alone"]


@pytest.mark.simcord(check_errors=False)
async def test_an_explicit_story_never_in_an_ordinary_channel(simcord_env: simcord.Env) -> None:
    s = server(simcord_env)
    found = answer(await s.alice.slash(s.channel, "scene", description=WHISKEY))
    assert found.embeds and EXPLICIT not in _said(found)
    named = answer(
        await s.alice.slash(s.channel, "scene", description=WHISKEY, story="taking-steps")
    )
    assert named.ephemeral and "rated explicit" in named.content
    assert "age-restricted" in named.content
    choices = await s.alice.autocomplete(s.channel, "scene", "story", "tak")
    assert EXPLICIT not in [c["name"] for c in choices]


async def test_an_explicit_story_in_an_age_restricted_channel(
    simcord_env: simcord.Env, age_restricted: Mark
) -> None:
    s = server(simcord_env)
    after_dark = s.guild.create_text_channel("after-dark")
    await age_restricted(simcord_env, after_dark)
    found = answer(await s.alice.slash(after_dark, "scene", description=WHISKEY))
    assert found.embeds[0].footer.text == f"{EXPLICIT} · Chapter 1"
    named = answer(
        await s.alice.slash(after_dark, "scene", description=WHISKEY, story="taking-steps")
    )
    assert all((e.footer.text or "").startswith(EXPLICIT) for e in named.embeds)
    choices = await s.alice.autocomplete(after_dark, "scene", "story", "tak")
    assert [c["name"] for c in choices] == [EXPLICIT]


async def test_a_description_of_nothing_in_the_library_gets_long_shots(
    simcord_env: simcord.Env,
) -> None:
    s = server(simcord_env)
    far = answer(
        await s.alice.slash(
            s.channel, "scene", description="sailors harpoon a white whale from a rowing boat"
        )
    )
    assert far.content.startswith("Nothing close to “sailors harpoon")
    assert far.embeds and all((e.author.name or "").endswith("Long shot") for e in far.embeds)


@pytest.mark.simcord(check_errors=False)
async def test_the_cooldown_is_per_user(simcord_env: simcord.Env) -> None:
    s = server(simcord_env)
    for _ in range(4):
        assert answer(await s.alice.slash(s.channel, "scene", description=BOOKSHOP)).embeds
    slowed = answer(await s.alice.slash(s.channel, "scene", description=BOOKSHOP))
    assert slowed.ephemeral and slowed.content.startswith("Slow down")
    assert answer(await s.bob.slash(s.channel, "scene", description=BOOKSHOP)).embeds
    await simcord_env.advance_time(11)
    assert answer(await s.alice.slash(s.channel, "scene", description=BOOKSHOP)).embeds


@pytest.mark.simcord(check_errors=False)
@pytest.mark.parametrize(
    "text",
    [
        '"',
        '""""',
        "*",
        "NEAR(",
        'Spike NEAR "Willow * AND OR NOT',
        "description:willow ^spike",
        "x" * 10_000,
        "Willow " * 1500,
        "🧛‍♂️🩸",
        "Spike and Willow 🧛‍♂️🩸 in the rain",
        "@everyone",
        "Spike @everyone <@&1> drives",
    ],
)
async def test_odd_descriptions_get_a_sensible_reply(simcord_env: simcord.Env, text: str) -> None:
    s = server(simcord_env)
    message = answer(await s.alice.slash(s.channel, "scene", description=text))
    assert message.content or message.embeds
    assert "Something went wrong" not in message.content
    assert len(message.content) <= 2000 and len(message.embeds) <= 3
    assert "@everyone" not in message.content  # echoed inert (escaped), and never a ping
    _assert_no_mentions(simcord_env)
    # at most a refusal (no words to look for), answered by the tree's error handler
    assert all(isinstance(e.__cause__, StoryBotError) for e in simcord_env.errors)
    if not message.embeds:
        assert message.ephemeral and message.content.startswith("Describe the scene")
    assert "Read from here" in custom_ids(message) or not message.embeds
