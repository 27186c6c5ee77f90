"""PostgreSQL restarted under a running bot (a host's database restarted by its package
manager, say): while it is down a command answers in one line that the database cannot be
reached (a search never says "no match" for it), with no traceback logged; once it is back
the bot carries on through the same pool, and no reader's place is lost. A throwaway
cluster of the test's own, stopped and started on the same port (tests/pgcluster.py)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
import simcord

from bot.settings import Settings
from bot.store.errors import BUSY
from tests import pgcluster
from tests.cogs.helpers import answer, footer_text, page_text, server

PHRASE = "my whole world is soaked in sorry"


@pytest.fixture
def settings(cluster: pgcluster.Cluster, tmp_path: Path, stories_dir: Path) -> Settings:
    return Settings(
        stories_dir=stories_dir,
        data_dir=tmp_path / "data",
        scene_model="off",
        database_url=cluster.url,
    )


@pytest.mark.simcord(check_errors=False)
async def test_the_bot_carries_on_after_a_database_restart(
    simcord_env: simcord.Env, cluster: pgcluster.Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    s = server(simcord_env)
    found = answer(await s.alice.slash(s.channel, "quote", text=PHRASE))
    assert f"**{PHRASE}**" in (found.embeds[0].description or "")
    message = answer(await s.alice.slash(s.channel, "chapter", story="breaking-alone", chapter="2"))
    message = answer(await s.alice.click(message, label="Next"))
    await s.library.readers_settled()
    before = (await s.library.store.reading_positions(s.alice.id))[0]

    await asyncio.to_thread(cluster.stop)
    with caplog.at_level(logging.INFO):
        down = answer(await s.alice.slash(s.channel, "quote", text=PHRASE))
        turned = answer(await s.alice.click(message, label="Next"))
    # a search defers in public, so the one line is said where the answer would have been:
    # it says to try again and never names the database (its host, port or user), which
    # the host's log does
    for told in (down, turned):
        assert told.content == BUSY, told.content
        assert "127.0.0.1" not in told.content and "postgresql" not in told.content
    assert turned.ephemeral and not down.embeds
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("refused")]
    assert len(logged) == 2 and all("cannot reach the database" in m for m in logged), logged

    await asyncio.to_thread(cluster.start)
    again = answer(await s.alice.slash(s.channel, "quote", text=PHRASE))
    assert again.embeds == found.embeds
    back = answer(await s.alice.slash(s.channel, "continue"))
    assert page_text(back) == page_text(message) and "Part 2 · page 2" in footer_text(back)
    answer(await s.alice.click(message, label="Next"))  # a reading write, once it is back
    await s.library.readers_settled()
    after = (await s.library.store.reading_positions(s.alice.id))[0]
    assert after.position > before.position
    answer(await s.bob.slash(s.channel, "chapter", story="breaking-alone", chapter="3"))
    assert "Part 3 · page 1" in footer_text(answer(await s.bob.slash(s.channel, "continue")))
