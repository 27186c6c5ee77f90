"""Errors and limits: cooldowns, REST failures, the one error handler."""

from __future__ import annotations

import logging

import discord
import pytest
import simcord
from discord import app_commands

from bot.runtime import GENERIC_FAILURE
from tests.cogs.helpers import answer, footer_text, server


async def test_a_burst_is_slowed_down_then_allowed(
    simcord_env: simcord.Env, caplog: pytest.LogCaptureFixture
) -> None:
    s = server(simcord_env)
    for _ in range(4):
        assert not answer(await s.alice.slash(s.channel, "stories")).ephemeral
    with caplog.at_level(logging.INFO, logger="bot.runtime"):
        refused = answer(await s.alice.slash(s.channel, "stories"))
    # a user's cooldown is news to nobody: logged at info, never a warning
    told = [r for r in caplog.records if r.getMessage().startswith("refused")]
    assert [r.levelno for r in told] == [logging.INFO], told
    assert refused.ephemeral
    assert refused.content.startswith("Slow down a little: try again in ")
    assert refused.content.endswith("s.")
    # the cooldown is per user: Bob is not slowed by Alice's burst
    assert not answer(await s.bob.slash(s.channel, "stories")).ephemeral

    await simcord_env.advance_time(11)
    assert not answer(await s.alice.slash(s.channel, "stories")).ephemeral
    errors = simcord_env.errors
    assert [type(e) for e in errors] == [app_commands.CommandOnCooldown]


async def test_a_failed_response_is_logged_and_the_bot_carries_on(
    simcord_env: simcord.Env, caplog: pytest.LogCaptureFixture
) -> None:
    s = server(simcord_env)
    simcord_env.inject_error("POST", "/interactions/*", status=500)
    with caplog.at_level(logging.ERROR, logger="bot.runtime"):
        result = await s.alice.slash(s.channel, "stories")
    failures = [r for r in caplog.records if r.name == "bot.runtime" and r.levelno >= logging.ERROR]
    assert len(failures) == 1  # logged once, with context
    assert "/stories" in failures[0].getMessage()
    assert f"user={s.alice.id}" in failures[0].getMessage()
    told = answer(result)  # the user is told, once Discord takes requests again
    assert told.ephemeral and told.content == GENERIC_FAILURE
    errors = simcord_env.errors
    assert len(errors) == 1 and isinstance(errors[0], app_commands.CommandInvokeError)
    assert isinstance(errors[0].original, discord.HTTPException)

    later = answer(await s.alice.slash(s.channel, "excerpt", story="breaking-alone"))
    assert later.embeds and not later.ephemeral


async def test_a_failing_button_goes_to_the_same_handler(
    simcord_env: simcord.Env, caplog: pytest.LogCaptureFixture
) -> None:
    s = server(simcord_env)
    message = answer(await s.alice.slash(s.channel, "chapter", story="breaking-alone", chapter="2"))
    simcord_env.inject_error("POST", "/interactions/*", status=500)
    with caplog.at_level(logging.ERROR, logger="bot.runtime"):
        await s.alice.click(message, label="Next")
    failures = [r for r in caplog.records if r.name == "bot.runtime" and r.levelno >= logging.ERROR]
    assert len(failures) == 1 and "pager next" in failures[0].getMessage()
    errors = simcord_env.errors
    assert len(errors) == 1
    assert " · page 1 of " in footer_text(message)  # the page did not turn
    turned = answer(await s.alice.click(message, label="Next"))
    assert " · page 2 of " in footer_text(turned)
