"""Screenshots of real embeds for the README (docs/*.png), rendered by simcord with chromium.

Skipped, with the reason, when Playwright or chromium is missing. PNGs go to tmp_path unless
STORYBOT_WRITE_DOCS=1, which writes docs/excerpt.png, docs/chapter.png and docs/quote.png:

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
from tests.cogs.helpers import answer, server

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
    s = server(simcord_env)
    out = _destination(tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    excerpt = await s.alice.slash(s.channel, "excerpt", story="breaking-alone", chapter="4")
    chapter = await s.alice.slash(s.channel, "chapter", story="breaking-alone", chapter="2")
    quote = await s.alice.slash(s.channel, "quote", text="my whole world is soaked in sorry")
    assert answer(excerpt).embeds and answer(chapter).components and answer(quote).embeds

    shots = (("excerpt", excerpt, 700), ("chapter", chapter, 2000), ("quote", quote, 500))
    async with simcord_env.preview(s.channel, viewers=[s.alice], width=900, height=700) as p:
        for name, result, height in shots:  # tall enough for a whole page and its buttons
            capture = await p.screenshot(out / f"{name}.png", target=result, viewport=(900, height))
            assert capture.ready, capture
    for name in ("excerpt", "chapter", "quote"):
        png = (out / f"{name}.png").read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 10_000
