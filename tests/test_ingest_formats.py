"""EPUB and HTML files in the stories folder: ingested on a real SQLite file, their metadata
stored and served, their ratings gating as library.toml's do; broken ones skipped by name."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.errors import StoryBotError
from bot.ingest import ingest
from bot.library import Library
from bot.settings import Settings
from bot.store.sqlite import SQLiteStore
from tests.test_cli import run
from tests.text import epub_fixtures as fx

ROOT = Path(__file__).resolve().parents[1]


def folder_with_formats(tmp_path: Path) -> Path:
    folder = tmp_path / "stories"
    folder.mkdir()
    (folder / "redux.epub").write_bytes(fx.archive_epub("Explicit"))
    (folder / "redux-teen.html").write_bytes(fx.archive_html())
    (folder / "ffn.epub").write_bytes(fx.fanficfare_epub())
    (folder / "letters.EPUB").write_bytes(fx.gutenberg_epub())
    (folder / "broken.epub").write_bytes(b"PK\x03\x04 not really a zip")
    (folder / "page.htm").write_bytes(b"<html><body><script>only()</script></body></html>")
    shutil.copy(ROOT / "seeds" / "000_22ebb5e57e993cb7.txt", folder)
    (folder / "library.toml").write_text(
        '["ffn.epub"]\ntitle = "Renamed"\ncharacters = ["Filby"]\n'
    )
    return folder


async def test_formats_ingest_and_metadata(tmp_path: Path) -> None:
    folder = folder_with_formats(tmp_path)
    store = await SQLiteStore.open(tmp_path / "db.sqlite")
    try:
        report = await ingest(store, folder)
        assert dict(report.skipped).keys() == {"broken.epub", "page.htm"}
        assert "bad zip" in dict(report.skipped)["broken.epub"]
        assert dict(report.skipped)["page.htm"] == "no story text found"
        assert set(report.added) == {
            "redux.epub", "redux-teen.html", "ffn.epub", "letters.EPUB", "000_22ebb5e57e993cb7.txt"
        }  # fmt: skip
        stories = {s.file: s for s in await store.list_stories()}
        redux = stories["redux.epub"]
        assert (redux.title, redux.author, redux.rating) == (
            "The Time Machine Redux",
            "hgw",
            "explicit",
        )
        assert redux.mature
        assert redux.fandom == ("The Time Machine - H. G. Wells",)
        assert redux.characters == ("The Time Traveller", "Weena", "Filby")
        assert redux.relationships == ("Time Traveller & Weena",)
        assert redux.tags == ("Time Travel", "Victorian")
        assert redux.summary == fx.SUMMARY and redux.language == "English"
        assert redux.url == "http://archiveofourown.org/works/424242"
        assert [c.label for c in redux.chapters] == [
            "Chapter 1: Introduction",
            "Chapter 2: The Machine",
            "Chapter 3: The Time Traveller Returns",
        ]
        assert stories["redux-teen.html"].rating == "teen"
        ffn = stories["ffn.epub"]
        assert (ffn.title, ffn.characters, ffn.rating) == ("Renamed", ("Filby",), "mature")
        seed = stories["000_22ebb5e57e993cb7.txt"]
        assert (seed.fandom, seed.characters, seed.summary) == ((), (), None)
        ids = {s.file: s.id for s in stories.values()}
        # the notes are the chapter's, apart from its text
        note = await store.chapter_note(redux.id, 1)
        assert note is not None and fx.WORK_NOTE in note
        for chapter in redux.chapters:
            for p in await store.chapter_paragraphs(redux.id, chapter.number):
                assert not any(w in p.text for w in fx.NOTE_WORDS)
        # unchanged files are not read again; ids stay
        (folder / "letters.EPUB").touch()
        again = await ingest(store, folder)
        assert not again.added and not again.changed
        assert {s.file: s.id for s in await store.list_stories()} == ids
    finally:
        await store.close()


async def test_rating_from_the_file_gates(tmp_path: Path) -> None:
    folder = folder_with_formats(tmp_path)
    settings = Settings(stories_dir=folder, database_path=tmp_path / "lib.db")
    library = await Library.open(settings)
    try:
        await library.ingest()
        ordinary = {s.file for s in await library.stories(mature_ok=False)}
        assert "redux.epub" not in ordinary and "ffn.epub" not in ordinary
        assert "redux-teen.html" in ordinary
        every = {s.file: s for s in await library.stories(mature_ok=True)}
        slug = every["redux.epub"].slug
        with pytest.raises(StoryBotError, match="rated explicit"):
            await library.find_story(slug, mature_ok=False)
        story = await library.find_story(slug, mature_ok=True)
        assert story.rating == "explicit"
    finally:
        await library.close()


def test_cli_stories_json_has_metadata_keys(tmp_path: Path) -> None:
    folder = folder_with_formats(tmp_path)
    result = run(tmp_path, "stories", "--json", stories=folder)
    assert result.returncode == 0, result.stderr
    stories = {s["file"]: s for s in json.loads(result.stdout)}
    for s in stories.values():
        keys = {"slug", "title", "file", "words", "chapters", "author", "rating", "url"}
        assert keys | {"fandom", "characters", "tags", "summary"} <= s.keys()
    teen = stories["redux-teen.html"]
    assert teen["fandom"] == ["The Time Machine - H. G. Wells"]
    assert teen["characters"] == ["The Time Traveller", "Weena", "Filby"]
    assert teen["tags"] == ["Time Travel", "Victorian"]
    assert teen["summary"] == fx.SUMMARY
    assert teen["rating"] == "teen" and teen["author"] == "hgw"
