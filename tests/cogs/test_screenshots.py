"""Screenshots of real embeds for the README (docs/*.png), rendered by simcord with chromium.

Skipped, with the reason, when Playwright or chromium is missing. PNGs go to tmp_path unless
STORYBOT_WRITE_DOCS=1, which writes the docs/*.png the README shows:

    STORYBOT_WRITE_DOCS=1 .venv/bin/pytest -m screenshot
"""

from __future__ import annotations

import importlib.util
import os
import random
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import simcord

import bot.library
from tests.cogs.helpers import admin, answer, server

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [
    pytest.mark.screenshot,
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None,
        reason="Playwright is not installed (pip install 'simcord[screenshot]')",
    ),
    pytest.mark.skipif(
        CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)"
    ),
]


@pytest.fixture
def system_chromium(monkeypatch: pytest.MonkeyPatch) -> None:
    """Playwright's own browser download is not available here: launch Debian's chromium."""
    from playwright.async_api._generated import BrowserType

    launch = BrowserType.launch

    async def launch_system(self: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("executable_path", CHROMIUM)
        kwargs.setdefault(
            "args", ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        return await launch(self, **kwargs)

    monkeypatch.setattr(BrowserType, "launch", launch_system)


def _destination(tmp_path: Path) -> Path:
    if os.environ.get("STORYBOT_WRITE_DOCS") == "1":
        return ROOT / "docs"
    return tmp_path


@pytest.fixture
def seeded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same passage every run, so regenerating docs/ changes only what the code changed."""
    monkeypatch.setattr(bot.library, "random", SimpleNamespace(Random=lambda: random.Random(7)))


@pytest.mark.usefixtures("seeded")
async def test_screenshots(simcord_env: simcord.Env, system_chromium: None, tmp_path: Path) -> None:
    """Each command as a reader meets it: the chapter page at a phone's width (390 pixels)."""
    s = server(simcord_env)
    out = _destination(tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    ada = admin(simcord_env, s.guild)
    alice, channel = s.alice, s.channel
    excerpt = await alice.slash(channel, "excerpt", story="soaked-in-sorry")
    quote = await alice.slash(channel, "quote", text="my whole world is soaked in sorry")
    scene = await alice.slash(channel, "scene", description="Spike cheats at Scrabble")
    stories = await alice.slash(channel, "stories")
    chapter = await alice.slash(channel, "chapter", story="breaking-alone", chapter="2")
    await alice.click(answer(chapter), label="Bookmark")
    await simcord_env.advance_time(3)
    bookmarks = await alice.slash(channel, "bookmarks")
    resumed = await alice.slash(channel, "continue")
    daily = await ada.slash(channel, "daily set", channel=channel, time="08:30",
                            timezone="Europe/Paris")  # fmt: skip
    for result in (excerpt, quote, scene, stories, chapter, bookmarks, resumed, daily):
        assert answer(result).embeds or answer(result).components or answer(result).content
    shots = (
        ("excerpt", excerpt, 700),
        ("quote", quote, 560),
        ("scene", scene, 1100),
        ("stories", stories, 1100),
        ("bookmarks", bookmarks, 600),
        ("continue", resumed, 1400),
        ("daily", daily, 300),
    )
    async with simcord_env.preview(channel, viewers=[alice, ada], width=900, height=700) as p:
        for name, result, height in shots:
            viewer = ada if name == "daily" else alice
            capture = await p.screenshot(
                out / f"{name}.png", target=result, viewer=viewer, viewport=(900, height)
            )
            assert capture.ready, (name, capture)
    async with simcord_env.preview(channel, viewers=[alice], width=390, height=844) as p:
        capture = await p.screenshot(out / "chapter.png", target=chapter, viewport=(390, 844))
        assert capture.ready, capture
    reader = simcord_env.create_user("reader", global_name="Reader")
    dm = await reader.slash("chapter", story="soaked-in-sorry", chapter="1")
    async with simcord_env.preview(reader.dm_channel, viewers=[reader], width=390) as p:
        capture = await p.screenshot(out / "dm.png", target=dm, viewport=(390, 844))
        assert capture.ready, capture
    for name in (*(shot[0] for shot in shots), "chapter", "dm"):
        png = (out / f"{name}.png").read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 10_000, name
