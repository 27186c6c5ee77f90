"""Ratings from what a file states fail closed (issue 17, item 3). On the code before the fix
every case here was served as general: FanFicFare's HTML with "Rating: Explicit" or "M", and
Archive files whose rating is empty or missing."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

from bot.ingest import ingest
from bot.store import open_store
from bot.text import process
from tests.text import epub_fixtures as fx

RATING_ROW = re.compile(rb"<dt>Rating:</dt>\s*<dd>.*?</dd>", re.S)
CHAPTER = "<p>The Time Traveller was one of those men who are too clever to be believed.</p>"


def fanficfare_html(rating: str) -> bytes:
    """FanFicFare's HTML output (its writer_html templates: the title page as a table of
    label and value cells, a table of contents, chapters under h2 anchors)."""
    rows = "".join(
        f"\n<tr><td><b>{label}:</b></td><td>{value}</td></tr>\n"
        for label, value in [
            ("Category", "The Time Machine"),
            ("Genre", "Sci-Fi"),
            ("Rating", rating),
            ("Status", "Completed"),
        ]
    )
    return f"""<!DOCTYPE html>
<html>
<head>
<meta charset="UTF-8">
<title>Redux by Wellsian</title>
</head>
<body>
<h1><a href="https://www.fanfiction.net/s/1/1/">Redux</a> by <a href="https://www.fanfiction.net/u/2/">Wellsian</a></h1>

<table class="full">
{rows}
</table>

<a name="TOCTOP"><h2>Table of Contents</h2></a>
<p>
<a href="#section0001">Chapter 1</a><br />
</p>

<a name="section0001"><h2>Chapter 1</h2></a>
{CHAPTER}
</body>
</html>""".encode()


@pytest.mark.parametrize(
    ("stated", "rating"),
    [
        ("Explicit", "explicit"),
        ("M", "mature"),
        ("Fiction M", "mature"),
        ("MA", "explicit"),
        ("T", "teen"),
        ("K+", "general"),
        ("Something New", "mature"),  # unknown: the safe side
    ],
)
def test_fanficfare_html_rating_is_read(stated: str, rating: str) -> None:
    assert process(fanficfare_html(stated), "ffnet.html").meta.rating == rating


def test_an_inline_rating_field_is_read() -> None:
    page = (
        "<html><body><h1>Redux</h1><div><b>Category:</b> Time<br/><b>Rating:</b> Explicit<br/>"
        f"<b>Words:</b> 20</div><h2>Chapter 1</h2>{CHAPTER}</body></html>"
    )
    assert process(page.encode(), "inline.html").meta.rating == "explicit"


def test_fanfiction_net_story_header_is_read() -> None:
    page = (
        '<html><body><div id="profile_top"><b class="xcontrast_txt">Redux</b> By: Wellsian<br/>'
        '<span class="xgray">Rated: <a href="https://www.fictionratings.com/">Fiction  M</a>'
        " - English - Sci-Fi - Chapters: 1 - Words: 20</span></div>"
        f"<h2>Chapter 1</h2>{CHAPTER}</body></html>"
    )
    assert process(page.encode(), "ffn.html").meta.rating == "mature"


def archive_without_rating(empty: bool) -> bytes:
    page = fx.archive_html("Explicit").decode()
    row = re.compile(r"<dt>Rating:</dt>\s*<dd>.*?</dd>", re.S)
    assert row.search(page)
    return row.sub("<dt>Rating:</dt>\n<dd></dd>" if empty else "", page).encode()


@pytest.mark.parametrize("empty", [True, False], ids=["empty-rating", "no-rating-line"])
def test_an_archive_preface_without_a_rating_is_mature(empty: bool) -> None:
    assert process(archive_without_rating(empty), "ao3.html").meta.rating == "mature"


def test_an_archive_epub_without_a_rating_is_mature() -> None:
    source = zipfile.ZipFile(io.BytesIO(fx.archive_epub("Explicit")))
    files: dict[str, str | bytes] = {
        i.filename: RATING_ROW.sub(b"", source.read(i.filename))
        for i in source.infolist()
        if i.filename != "mimetype"
    }
    assert process(fx.make_epub(files), "ao3.epub").meta.rating == "mature"


async def test_a_fanficfare_explicit_page_is_never_served_as_general(tmp_path: Path) -> None:
    folder = tmp_path / "stories"
    folder.mkdir()
    (folder / "ffnet.html").write_bytes(fanficfare_html("Explicit"))
    store = await open_store(tmp_path / "stories.db")
    try:
        await ingest(store, folder)
        assert {s.file: s.rating for s in await store.list_stories()} == {"ffnet.html": "explicit"}
    finally:
        await store.close()
