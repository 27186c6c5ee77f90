"""The bot's startup log says what the ingest did, file by file, and says each thing once:
each story file read (title, rating and where it came from, chapters, words, what was left
out), each file not read and why, a broken file skipped, a library.toml warning."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import simcord

from bot.runtime import StoryBot
from bot.settings import Settings
from tests.cogs.closing import BuildBot, closing_bots

__all__ = ["closing_bots"]

BOOKS = Path(__file__).resolve().parents[1] / "fixtures" / "books"


@pytest.fixture
def info_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """INFO records from before the bot starts (listed before simcord_env, so set up first)."""
    with caplog.at_level(logging.INFO):
        yield caplog


@pytest.fixture
def simcord_bot(
    info_logs: pytest.LogCaptureFixture,
    settings: Settings,
    stories_dir: Path,
    closing_bots: BuildBot,
) -> StoryBot:
    shutil.copy(BOOKS / "tm.calibre.epub", stories_dir / "time-machine.epub")
    (stories_dir / "notes.pdf").write_bytes(b"%PDF-1.4\n")
    (stories_dir / "broken.epub").write_bytes(b"PK\x03\x04 not really a zip")
    with (stories_dir / "library.toml").open("a", encoding="utf-8") as toml:
        toml.write('\n["time-machine.epub"]\nrating = "sometimes"\n')
    return closing_bots(settings)


async def test_the_startup_log_says_each_thing_once(
    info_logs: pytest.LogCaptureFixture, simcord_env: simcord.Env
) -> None:
    started = info_logs.get_records("setup")  # the bot starts as simcord_env is set up
    messages = [r.getMessage() for r in [*started, *info_logs.records]]
    said = "\n".join(messages)

    def once(text: str) -> str:
        lines = [m for m in messages if text in m]
        assert len(lines) == 1, (text, lines)
        return lines[0]

    book = once("time-machine.epub: “The Time Machine” by H. G. Wells")
    assert "explicit (library.toml), 17 chapters, 32,307 words; left out: licence" in book
    assert "not read notes.pdf: a PDF" in once("notes.pdf")
    assert "not a readable EPUB" in once("broken.epub")
    assert "is not one of general, teen, mature, explicit" in once("'sometimes'")
    assert sum("library: added 00" in m for m in messages) == 5, said  # the seeds, once each
