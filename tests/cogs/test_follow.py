"""/follow and /unfollow (issue 23) end to end: a story file gains a chapter, `python -m bot
ingest` runs in another process, and each follower gets one DM; mature stories are followed
only in age-restricted channels and never named in a DM."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
import simcord

from bot.runtime import StoryBot
from bot.settings import Settings
from tests.cogs.age_restricted import Mark, age_restricted
from tests.cogs.closing import BuildBot
from tests.cogs.helpers import admin, answer, server, texts

__all__ = ["age_restricted"]

HALF_HOUR = 1800.0
BREAKING_ALONE = "002_0ccc7f018ffbd0dd.txt"
TAKING_STEPS = "003_7455f1fa013af670.txt"  # explicit
NEW_PART = "\n\nPart 11\n\nSpike came back at dusk with the rain still on his coat.\n"


@pytest.fixture
def simcord_bot(settings: Settings, closing_bots: BuildBot) -> StoryBot:
    return closing_bots(dataclasses.replace(settings, daily_check_seconds=30))


def grow(stories_dir: Path, name: str, text: str) -> None:
    with (stories_dir / name).open("a", encoding="utf-8") as file:
        file.write(text)


def ingest_elsewhere(settings: Settings) -> None:
    """`python -m bot ingest` in a process of its own, as a host runs it beside the bot."""
    env = dict(os.environ)
    if settings.database_url:  # the library is in PostgreSQL (--engine postgresql)
        env["DATABASE_URL"] = settings.database_url
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "--stories",
            str(settings.stories_dir),
            "--db",
            str(settings.db_path),
            "ingest",
        ],
        check=True,
        capture_output=True,
        env=env,
    )


def said(result: simcord.InteractionResult) -> str:
    message = answer(result)
    assert message.ephemeral, message
    return message.content


async def test_a_follower_gets_one_dm_when_the_story_gains_a_chapter(
    simcord_env: simcord.Env, settings: Settings
) -> None:
    env = simcord_env
    s = server(env)
    carol_user = env.create_user("carol")
    carol = s.guild.add_member(carol_user)
    dan = env.create_user("dan")  # follows from his DMs with the bot (user-installed)
    assert "direct message" in said(await carol.slash(s.channel, "follow", story="breaking-alone"))
    assert "direct message" in said(await dan.slash("follow", story="breaking-alone"))
    said(await carol.slash(s.channel, "follow", story="a-tale-of-two-sinners"))  # unchanged

    grow(settings.stories_dir, BREAKING_ALONE, NEW_PART)
    ingest_elsewhere(settings)
    await env.advance_time(HALF_HOUR + 60)
    for user in (carol_user, dan):
        dms = user.dm_channel.history()
        news = [m for m in dms if m.author.bot and "new chapter" in m.content]
        assert len(news) == 1, [m.content for m in dms]
        assert "Breaking alone" in news[0].content and "Part 11" in news[0].content
        labels = [c.label for row in news[0].components for c in row.children]  # type: ignore[attr-defined]
        assert labels == ["Read"]
    opened = answer(await dan.click(news[0], label="Read"))  # dan's DM: the last looked at
    assert texts(opened)[0].endswith("**Part 11**")  # the reader opens at the new chapter

    ingest_elsewhere(settings)  # nothing new: nothing said
    await env.advance_time(2 * HALF_HOUR)
    assert len([m for m in carol_user.dm_channel.history() if m.author.bot]) == 1

    said(await carol.slash(s.channel, "unfollow", story="breaking-alone"))
    grow(settings.stories_dir, BREAKING_ALONE, NEW_PART.replace("11", "12"))
    await s.library.ingest()  # an ingest in the bot's own process is looked at at once
    await env.advance_time(60)
    assert len([m for m in carol_user.dm_channel.history() if m.author.bot]) == 1
    assert len([m for m in dan.dm_channel.history() if m.author.bot]) == 2


async def test_a_club_announces_its_storys_new_chapters(
    simcord_env: simcord.Env, settings: Settings
) -> None:
    env = simcord_env
    s = server(env)
    ada = admin(env, s.guild)
    said(await ada.slash(s.channel, "club start", story="breaking-alone", every="day", at="23:00"))
    grow(settings.stories_dir, BREAKING_ALONE, NEW_PART)
    await s.library.ingest()
    await env.advance_time(60)
    said_here = [m.content for m in s.channel.history() if "new chapter" in m.content]
    assert len(said_here) == 1 and "Part 11" in said_here[0]


@pytest.mark.simcord(check_errors=False)
async def test_a_mature_story_is_refused_in_an_ordinary_channel_and_never_named_in_a_dm(
    simcord_env: simcord.Env, settings: Settings, age_restricted: Mark
) -> None:
    env = simcord_env
    s = server(env)
    ada = admin(env, s.guild)
    carol_user = env.create_user("carol")
    carol = s.guild.add_member(carol_user)
    after_dark = s.guild.create_text_channel("after-dark")
    await age_restricted(env, after_dark)

    refused = said(await carol.slash(s.channel, "follow", story="taking-steps"))
    assert "age-restricted" in refused
    assert "age-restricted" in said(await carol_user.slash("follow", story="taking-steps"))
    club = said(
        await ada.slash(s.channel, "club start", story="taking-steps", every="day", at="23:00")
    )
    assert "age-restricted" in club
    vote = said(await ada.slash(s.channel, "club vote", stories="taking-steps, breaking-alone"))
    assert "age-restricted" in vote

    followed = said(await carol.slash(after_dark, "follow", story="taking-steps"))
    assert "announced in this channel" in followed
    grow(settings.stories_dir, TAKING_STEPS, "\n\nChapter 2\n\nThe morning after, the sun.\n")
    ingest_elsewhere(settings)
    await env.advance_time(HALF_HOUR + 60)
    announced = [m.content for m in after_dark.history() if "new chapter" in m.content]
    assert len(announced) == 1 and "Taking Steps" in announced[0]
    assert [m for m in carol_user.dm_channel.history() if m.author.bot] == []
    assert not any("Taking Steps" in m.content for m in s.channel.history())


@pytest.mark.simcord(check_errors=False)
async def test_unfollow_in_a_dm_does_not_offer_a_mature_title_for_a_typo(
    simcord_env: simcord.Env,
) -> None:
    carol = simcord_env.create_user("carol")
    missed = said(await carol.slash("unfollow", story="taking-stps"))  # Taking Steps: explicit
    assert missed.startswith("No story called “taking-stps”.") and "Taking" not in missed
    offered = said(await carol.slash("unfollow", story="braking-alone"))  # one it may name
    assert "Did you mean “Breaking alone”?" in offered
