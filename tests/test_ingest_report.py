"""The ingest report, for a folder as a host leaves it: a .pdf, an .md, a broken EPUB, an
unrated .txt and a copy of a book: each file read described, each file not read named with
why, the story rated by DEFAULT_RATING named; the same in ``ingest --json``."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

from tests.faults.helpers import cli

ROOT = Path(__file__).resolve().parents[1]
BOOKS = ROOT / "tests" / "fixtures" / "books"


def folder(tmp_path: Path) -> Path:
    stories = tmp_path / "stories"
    stories.mkdir()
    (stories / "notes.pdf").write_bytes(b"%PDF-1.4\n")
    (stories / "draft.md").write_text("# A draft\n\nSome words.\n", encoding="utf-8")
    with zipfile.ZipFile(stories / "tm.htmlz", "w") as htmlz:  # as calibre's .htmlz holds it
        htmlz.write(BOOKS / "tm.calibre-htmlz.html", "index.html")
    (stories / "tm.mobi").write_bytes(b"BOOKMOBI")
    (stories / "broken.epub").write_bytes(b"PK\x03\x04 not really a zip")
    (stories / "unrated.txt").write_text(
        "The Lantern\n\nChapter 1\n\nThe keeper climbed the stairs.\n", encoding="utf-8"
    )
    shutil.copy(BOOKS / "tm.pandoc-plain.epub", stories / "tm.epub")
    shutil.copy(BOOKS / "tm.calibre.epub", stories / "tm-copy.epub")
    (stories / "library.toml").write_text(
        '["tm.epub"]\nrating = "general"\n["tm-copy.epub"]\nrating = "general"\n',
        encoding="utf-8",
    )
    return stories


def test_the_report_names_every_file_and_what_became_of_it(tmp_path: Path) -> None:
    result = cli(tmp_path, "--stories", str(folder(tmp_path)), "ingest")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("Ingest: added 3, skipped 1, not read 4, unchanged 0")
    assert (
        "  added tm.epub: “The Time Machine”, general (library.toml), 17 chapters, 32,309 words"
        in out
    )
    assert (
        "  added unrated.txt: “The Lantern”, explicit (DEFAULT_RATING), 1 chapter, 5 words" in out
    )
    assert "left out: licence" in next(line for line in out.splitlines() if "tm-copy.epub" in line)
    assert "  skipped broken.epub: not a readable EPUB" in out
    assert "  not read notes.pdf: a PDF" in out
    assert "  not read draft.md: Markdown is not read" in out
    assert "  not read tm.htmlz: a calibre HTMLZ: unzip it and add its index.html" in out
    assert "  not read tm.mobi: a Kindle book: convert it to EPUB" in out
    assert (
        "rated explicit by DEFAULT_RATING (neither the file nor library.toml rates it): unrated.txt"
        in out
    )
    assert result.stderr.count("broken.epub") == 0  # said once: in the report
    listed = cli(tmp_path, "--stories", str(tmp_path / "stories"), "stories").stdout
    assert "(tm.epub)" in listed and "(tm-copy.epub)" in listed  # two of one title: their files
    stories = json.loads(
        cli(tmp_path, "--stories", str(tmp_path / "stories"), "stories", "--json").stdout
    )
    assert {s["file"]: s["words"] for s in stories}["tm.epub"] == 32_309  # the report's count


def test_ingest_json_gives_the_same(tmp_path: Path) -> None:
    result = cli(tmp_path, "--stories", str(folder(tmp_path)), "ingest", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["added"] == ["tm-copy.epub", "tm.epub", "unrated.txt"]
    assert report["skipped"][0]["file"] == "broken.epub"
    assert {r["file"] for r in report["not_read"]} == {
        "notes.pdf",
        "draft.md",
        "tm.htmlz",
        "tm.mobi",
    }
    assert report["default_rated"] == ["unrated.txt"]
    files = {f["file"]: f for f in report["files"]}
    tm = files["tm.epub"]
    assert (tm["rating"], tm["rating_from"], tm["chapters"], tm["words"]) == (
        "general",
        "library.toml",
        17,
        32_309,
    )
    copy = files["tm-copy.epub"]["words"]  # calibre's EPUB of the same text: within 1%
    assert abs(copy - tm["words"]) <= tm["words"] / 100
    assert {k["kind"] for k in files["tm-copy.epub"]["left_out"]} >= {"licence", "headings"}
