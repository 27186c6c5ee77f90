"""Mature and explicit stories are served only in age-restricted channels, never in DMs.

seeds/library.toml rates Taking Steps explicit. Everywhere else it is left out of random
excerpts, quote results and autocomplete, and naming it gets an ephemeral explanation.
"""

from __future__ import annotations

import pytest
import simcord

from bot.runtime import StoryBot
from bot.settings import Settings
from tests.cogs.age_restricted import Mark, age_restricted
from tests.cogs.closing import BuildBot, closing_bots
from tests.cogs.helpers import everything as _everything
from tests.cogs.helpers import server

__all__ = ["age_restricted", "closing_bots"]

EXPLICIT = "Taking Steps"
ITS_LINE = "What sort of steps would we do"  # a line only Taking Steps has
ROUNDS = 60  # P(never drawing 1 story of 5 in 60 fair draws) = 0.8**60, about 1.5e-6


@pytest.fixture
def simcord_bot(settings: Settings, closing_bots: BuildBot) -> StoryBot:
    return closing_bots(settings)


async def _excerpt_authors(
    env: simcord.Env, member: simcord.MemberActor, channel: simcord.ChannelHandle
) -> list[str]:
    authors = []
    for _ in range(ROUNDS):
        result = await member.slash(channel, "excerpt")
        assert result.response is not None
        authors.append(result.response.embeds[0].author.name or "")
        await env.advance_time(3)  # stay under /excerpt's cooldown (4 per 10 s)
    return authors


async def test_never_in_an_ordinary_channel(simcord_env: simcord.Env) -> None:
    env = simcord_env
    s = server(env, channel="general")
    general, alice = s.channel, s.alice

    authors = await _excerpt_authors(env, alice, general)
    assert EXPLICIT not in authors
    assert len(set(authors)) == 4  # the four other stories all turn up

    found = await alice.slash(general, "quote", text=ITS_LINE)
    assert found.response is not None
    assert EXPLICIT not in _everything(found.response)
    await env.advance_time(3)

    choices = await alice.autocomplete(general, "excerpt", "story", "tak")
    assert EXPLICIT not in [c["name"] for c in choices]


@pytest.mark.simcord(check_errors=False)
async def test_naming_it_explains_why_not(simcord_env: simcord.Env) -> None:
    env = simcord_env
    s = server(env, channel="general")
    general, alice = s.channel, s.alice
    for name, options in (
        ("excerpt", {"story": "taking-steps"}),
        ("quote", {"text": ITS_LINE, "story": "taking-steps"}),
        ("chapter", {"story": "taking-steps", "chapter": "1"}),
    ):
        result = await alice.slash(general, name, **options)
        message = result.response
        assert message is not None and message.ephemeral
        assert "rated explicit" in message.content and "age-restricted" in message.content
        await env.advance_time(3)


async def test_served_in_an_age_restricted_channel(
    simcord_env: simcord.Env, age_restricted: Mark
) -> None:
    env = simcord_env
    s = server(env, channel="after-dark")
    after_dark, alice = s.channel, s.alice
    await age_restricted(env, after_dark)

    authors = await _excerpt_authors(env, alice, after_dark)
    assert EXPLICIT in authors

    named = await alice.slash(after_dark, "excerpt", story="taking-steps")
    assert named.response is not None and named.response.embeds[0].author.name == EXPLICIT
    await env.advance_time(3)
    found = await alice.slash(after_dark, "quote", text=ITS_LINE)
    assert found.response is not None and EXPLICIT in _everything(found.response)
    choices = await alice.autocomplete(after_dark, "excerpt", "story", "tak")
    assert [c["name"] for c in choices] == [EXPLICIT]


@pytest.mark.simcord(check_errors=False)
async def test_never_in_direct_messages(simcord_env: simcord.Env) -> None:
    env = simcord_env
    alice = env.create_user("alice")
    if "excerpt" not in alice.available_commands():
        pytest.skip("the story commands are not offered in DMs")
    result = await alice.slash("excerpt", story="taking-steps")
    assert result.response is not None and "age-restricted" in result.response.content
    for _ in range(20):
        await env.advance_time(3)
        random = await alice.slash("excerpt")
        assert random.response is not None
        assert random.response.embeds[0].author.name != EXPLICIT
