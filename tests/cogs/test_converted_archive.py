"""An explicit Archive of Our Own work converted by calibre (its .htmlz's index.html, in
tests/fixtures/books, made by make_fixtures.sh) keeps its rating through the conversion:
never served in an ordinary channel or a DM, even on a host whose DEFAULT_RATING is general
(so what rates it explicit is the file's own tags list), and in an age-restricted channel
served without its work notes, chapter notes or the Archive's messages."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
import simcord

from bot.runtime import StoryBot
from bot.settings import Settings
from tests.cogs.age_restricted import Mark, age_restricted
from tests.cogs.closing import BuildBot, closing_bots
from tests.cogs.helpers import answer, server, texts
from tests.cogs.helpers import everything as _everything
from tests.text import epub_fixtures as fx

__all__ = ["age_restricted", "closing_bots"]

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "books"
REDUX = "The Time Machine Redux"
SLUG = "the-time-machine-redux"


@pytest.fixture
def simcord_bot(settings: Settings, stories_dir: Path, closing_bots: BuildBot) -> StoryBot:
    shutil.copy(FIXTURE / "archive-explicit.calibre-htmlz.html", stories_dir / "redux.html")
    return closing_bots(dataclasses.replace(settings, default_rating="general"))


@pytest.mark.simcord(check_errors=False)
async def test_never_in_an_ordinary_channel(simcord_env: simcord.Env) -> None:
    env = simcord_env
    s = server(env, channel="general")
    general, alice = s.channel, s.alice
    refused = answer(await alice.slash(general, "excerpt", story=SLUG))
    assert refused.ephemeral and "rated explicit" in refused.content
    await env.advance_time(3)
    assert REDUX not in _everything(answer(await alice.slash(general, "stories")))
    for _ in range(20):  # never drawn at random either
        await env.advance_time(3)
        drawn = answer(await alice.slash(general, "excerpt"))
        assert drawn.embeds[0].author.name != REDUX
    await env.advance_time(3)
    found = _everything(answer(await alice.slash(general, "quote", text="recondite matter")))
    assert REDUX not in found


@pytest.mark.simcord(check_errors=False)
async def test_never_in_direct_messages(simcord_env: simcord.Env) -> None:
    env = simcord_env
    alice = env.create_user("alice")
    if "excerpt" not in alice.available_commands():
        pytest.skip("the story commands are not offered in DMs")
    result = await alice.slash("excerpt", story=SLUG)
    assert result.response is not None and "age-restricted" in result.response.content
    for _ in range(20):
        await env.advance_time(3)
        random = await alice.slash("excerpt")
        assert random.response is not None
        assert random.response.embeds[0].author.name != REDUX


async def test_served_apart_from_its_notes_where_it_may_be(
    simcord_env: simcord.Env, age_restricted: Mark
) -> None:
    env = simcord_env
    s = server(env, channel="after-dark")
    after_dark, alice = s.channel, s.alice
    await age_restricted(env, after_dark)
    page = answer(await alice.slash(after_dark, "chapter", story=SLUG, chapter="1"))
    shown = "\n".join(texts(page))
    assert "Chapter 1: Introduction" in shown
    assert "Time Traveller" in shown
    body = shown.split("Time Traveller", 1)[1]  # the story text, after any note shown apart
    assert not any(word in body for word in fx.NOTE_WORDS)
    assert "Please drop by the Archive" not in shown
    await env.advance_time(3)
    listed = _everything(answer(await alice.slash(after_dark, "stories")))
    assert f"**{REDUX}** by hgw · `{SLUG}` · explicit · 3 chapters" in listed
