"""Memory amplification through EPUB and HTML (issue 17, item 1): the caps bound what is read,
parsed and stored, not what the zip declares. Each case runs the real CLI in a subprocess under
a 1 GiB address-space limit, and its peak RSS (reported at the end of the fault suite) must stay
under 256 MB whether the file is accepted or refused; the rest of the library loads.

On the code before the fix: the repeated spine ran out of memory (exit 1, a traceback), the
inflating EPUB was accepted at a 461 MB peak after 37 s, the dense HTML died of MemoryError
after 388 s."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import bot.ingest
import bot.library_admin
import bot.text
from bot.library import Library
from bot.settings import Settings
from tests.faults import hostile_files as hostile
from tests.faults.helpers import FIGURES, measured_cli

PEAK_MB = 256
PLAIN = "Plain\n\nChapter 1\n\nA plain story is here, and it stays.\n"


def ingest(tmp_path: Path, name: str, data: bytes, **extra: str) -> tuple[str, str]:
    stories = tmp_path / "stories"
    stories.mkdir()
    (stories / "plain.txt").write_text(PLAIN)
    (stories / name).write_bytes(data)
    result, peak, seconds = measured_cli(
        tmp_path, "--stories", str(stories), "ingest", extra=extra or None
    )
    FIGURES.append(
        f"{name}: {len(data) / 1024:,.0f} KB on disk, peak RSS {peak:.0f} MB, {seconds:.1f} s"
        f" (exit {result.returncode})"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert peak < PEAK_MB, f"peak RSS {peak:.0f} MB"
    listed = measured_cli(tmp_path, "--stories", str(stories), "stories", "--json")[0]
    by_file = {s["file"]: s for s in json.loads(listed.stdout)}
    assert "plain.txt" in by_file, "the rest of the library is loaded"
    return result.stdout, json.dumps(by_file.get(name))


def test_a_spine_naming_one_page_300_times_reads_it_once(tmp_path: Path) -> None:
    data = hostile.repeated_spine()
    assert len(data) < 64 * 1024
    out, story = ingest(tmp_path, "spine.epub", data)
    assert "added 2" in out, out
    words = json.loads(story)["words"]
    one_page = sum(len(p.split()) for p in hostile.paragraphs(2 * 1024 * 1024))
    assert one_page * 0.9 <= words <= one_page * 1.1, (words, one_page)


def test_an_epub_inflating_to_97_mb_is_refused_by_what_is_read(tmp_path: Path) -> None:
    data = hostile.inflating()
    assert len(data) < 4 * 1024 * 1024
    out, story = ingest(tmp_path, "inflating.epub", data)
    assert "skipped inflating.epub" in out and "MB of markup" in out, out
    assert story == "null"


def test_dense_html_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    out, story = ingest(tmp_path, "dense.html", hostile.dense_html())
    assert "skipped dense.html" in out and "too much markup" in out, out
    assert story == "null"


def test_max_story_mb_bounds_the_text_an_epub_yields(tmp_path: Path) -> None:
    data = hostile.epub({"page": hostile.page(3 * 1024 * 1024)}, ["page"])
    assert len(data) < 1024 * 1024  # the file is under MAX_STORY_MB=1; its text is not
    out, story = ingest(tmp_path, "long.epub", data, MAX_STORY_MB="1")
    assert "skipped long.epub" in out and "MAX_STORY_MB" in out and "text" in out, out
    assert story == "null"


async def test_an_upload_is_parsed_off_the_event_loop(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/library add parses the file in a worker thread; the loop keeps ticking meanwhile."""
    data = hostile.epub({"page": hostile.page(12 * 1024 * 1024)}, ["page"])
    library = await Library.open(settings)
    await library.ingest()
    parsed_on: list[threading.Thread] = []

    def process(*args: Any, **kwargs: Any) -> Any:
        parsed_on.append(threading.current_thread())
        return bot.text.process(*args, **kwargs)

    monkeypatch.setattr(bot.library_admin, "process", process)
    gaps: list[float] = []
    stop = asyncio.Event()

    async def tick() -> None:
        last = time.monotonic()
        while not stop.is_set():
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    try:
        result = await library.admin.add("upload.epub", data)
        assert result.story is not None
    finally:
        stop.set()
        await ticker
        await library.close()
    FIGURES.append(
        f"/library add of a 12 MB page: the event loop's longest pause {max(gaps):.2f} s"
    )
    assert parsed_on and threading.main_thread() not in parsed_on


def _tiny_paragraphs(count: int, separator: str) -> bytes:
    """A story of ``count`` one-word paragraphs (3 bytes each, and the separator)."""
    body = separator.join(f"a{n % 10}." for n in range(count))
    return f"Tiny\n\nChapter 1\n\n{body}\n".encode()


@pytest.mark.parametrize("separator", ["\n\n", "\n"], ids=["blank-lines", "one-per-line"])
def test_millions_of_tiny_paragraphs_are_refused_before_parsing(
    tmp_path: Path, separator: str
) -> None:
    """Before the fix: 3 M tiny paragraphs (15 MB) ran the store out of memory under 1 GiB
    (MemoryError in write_stories, an 888 MB peak, 131 s): nothing stored."""
    data = _tiny_paragraphs(3_000_000, separator)
    assert len(data) <= 15 * 1024 * 1024  # under MAX_STORY_MB
    out, story = ingest(tmp_path, "tiny.txt", data)
    assert "skipped tiny.txt" in out and "too many lines" in out, out
    assert story == "null"


def test_the_most_paragraphs_a_story_may_have_are_stored(tmp_path: Path) -> None:
    """Just under the paragraph limit: accepted, every paragraph stored, under the bound."""
    count = bot.ingest.MAX_PARAGRAPHS - 10
    out, story = ingest(tmp_path, "many.txt", _tiny_paragraphs(count, "\n\n"))
    assert "added 2" in out, out
    assert json.loads(story)["words"] == count
