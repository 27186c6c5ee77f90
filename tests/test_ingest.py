"""Ingest on a real SQLite file: incremental, removal, atomic failure, messy folders."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from bot.errors import StoryBotError
from bot.ingest import ingest, writing
from bot.ingest.reading import pipeline_fingerprint
from bot.library import Library
from bot.settings import Settings
from bot.store import StoryWrite
from bot.store.errors import REFUSED
from bot.store.sqlite import SCHEMA_VERSION, SQLiteStore

STORY = "Little Story\n\nChapter 1\n\nThe first paragraph is here.\n\nThe second one follows it.\n"


@pytest.fixture
async def store(tmp_path: Path):
    s = await SQLiteStore.open(tmp_path / "db" / "stories.db")
    yield s
    await s.close()


def write(folder: Path, name: str, text: str | bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


async def test_schema_version_and_wal(store: SQLiteStore) -> None:
    async with store.db.execute("PRAGMA user_version") as c:
        assert (await c.fetchone())[0] == SCHEMA_VERSION
    async with store.db.execute("PRAGMA journal_mode") as c:
        assert (await c.fetchone())[0] == "wal"


async def test_reopening_keeps_data(tmp_path: Path) -> None:
    folder = tmp_path / "stories"
    write(folder, "a.txt", STORY)
    first = await SQLiteStore.open(tmp_path / "s.db")
    await ingest(first, folder)
    await first.close()
    second = await SQLiteStore.open(tmp_path / "s.db")
    try:
        assert [s.file for s in await second.list_stories()] == ["a.txt"]
    finally:
        await second.close()


async def test_incremental_add_change_remove(store: SQLiteStore, tmp_path: Path) -> None:
    folder = tmp_path / "stories"
    write(folder, "a.txt", STORY)
    write(folder, "b.txt", STORY.replace("Little", "Other"))
    report = await ingest(store, folder)
    assert report.added == ("a.txt", "b.txt")

    report = await ingest(store, folder)
    assert report.unchanged == ("a.txt", "b.txt") and not report.touched

    ids = {s.file: s.id for s in await store.list_stories()}
    write(folder, "a.txt", STORY.replace("first paragraph", "very first paragraph"))
    (folder / "b.txt").unlink()
    report = await ingest(store, folder)
    assert report.changed == ("a.txt",)
    assert report.removed == ("b.txt",)
    stories = await store.list_stories()
    assert [s.file for s in stories] == ["a.txt"]
    assert stories[0].id == ids["a.txt"], "a changed story keeps its id (buttons keep working)"
    paragraphs = await store.chapter_paragraphs(stories[0].id, 1)
    assert paragraphs[0].text == "The very first paragraph is here."
    # the search index forgot the old text and knows the new
    assert await store.paragraphs_with_phrase(["very", "first"], None, 5)
    assert not await store.paragraphs_with_phrase(["other"], None, 5)


async def test_unchanged_file_is_not_read(store: SQLiteStore, tmp_path: Path) -> None:
    folder = tmp_path / "stories"
    path = write(folder, "a.txt", STORY)
    await ingest(store, folder)
    path.chmod(0)  # unreadable: only a stat is allowed
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as root: permissions do not stop reads")
        report = await ingest(store, folder)
        assert report.unchanged == ("a.txt",)
    finally:
        path.chmod(0o644)


async def test_touched_but_same_bytes_is_unchanged(store: SQLiteStore, tmp_path: Path) -> None:
    folder = tmp_path / "stories"
    path = write(folder, "a.txt", STORY)
    await ingest(store, folder)
    os.utime(path, ns=(1, 1))
    report = await ingest(store, folder)
    assert report.unchanged == ("a.txt",) and not report.touched
    assert (await store.file_states())["a.txt"].mtime_ns == 1


async def test_failure_mid_story_keeps_previous_version(
    store: SQLiteStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "stories"
    write(folder, "a.txt", STORY)
    write(folder, "b.txt", STORY.replace("Little", "Other"))
    await ingest(store, folder)
    # a real fault inside the database: the 2nd paragraph of the new version cannot be written
    await store.db.execute(
        "CREATE TRIGGER poison BEFORE INSERT ON texts WHEN NEW.text LIKE '%POISON%'"
        " BEGIN SELECT RAISE(ABORT, 'disk I/O error (simulated)'); END"
    )
    write(folder, "a.txt", STORY.replace("second one", "POISON one"))
    write(folder, "b.txt", STORY.replace("Little", "Newer"))
    with caplog.at_level(logging.WARNING):
        report = await ingest(store, folder)
    assert [f for f, _ in report.skipped] == ["a.txt"]
    # the report (Discord admins see it) says the database refused it; its words are logged
    assert report.skipped[0][1] == f"database error: {REFUSED}"
    assert any("a.txt" in m and "simulated" in m for m in caplog.messages), caplog.messages
    assert report.changed == ("b.txt",), "the other files still ingest"
    stories = {s.file: s for s in await store.list_stories()}
    old = await store.chapter_paragraphs(stories["a.txt"].id, 1)
    assert [p.text for p in old] == ["The first paragraph is here.", "The second one follows it."]
    assert stories["a.txt"].title == "Little Story"
    assert stories["b.txt"].title == "Newer Story"


async def test_broken_file_keeps_previous_version(store: SQLiteStore, tmp_path: Path) -> None:
    folder = tmp_path / "stories"
    write(folder, "a.txt", STORY)
    await ingest(store, folder)
    write(folder, "a.txt", b"\x00\x01\x02 binary now")
    report = await ingest(store, folder)
    assert report.skipped and report.skipped[0][0] == "a.txt"
    assert [s.title for s in await store.list_stories()] == ["Little Story"]


async def test_messy_folder(store: SQLiteStore, tmp_path: Path) -> None:
    folder = tmp_path / "stories"
    write(
        folder,
        "cp1252.txt",
        "Caf\xe9 Story\r\n\r\nShe said \x93hello\x94 and left\x85\r\n".encode("latin-1"),
    )
    write(folder, "bom.txt", b"\xef\xbb\xbfBom Story\n\nIt began with a mark nobody could see.\n")
    write(folder, "empty.txt", b"")
    write(folder, "binary.txt", bytes(range(256)) * 40)
    big = "".join(f"Line {i} has words in it and then it ends here. " for i in range(420_000))
    write(folder, "huge.txt", big)  # 20 MB on one line
    report = await ingest(store, folder, max_bytes=40 * 1024 * 1024)  # above the default
    assert sorted(f for f, _ in report.skipped) == ["binary.txt", "empty.txt"]
    assert all(reason for _, reason in report.skipped)
    assert sorted(report.added) == ["bom.txt", "cp1252.txt", "huge.txt"]
    stories = {s.file: s for s in await store.list_stories()}
    cp = await store.chapter_paragraphs(
        stories["cp1252.txt"].id, stories["cp1252.txt"].chapters[0].number
    )
    assert "“hello”" in cp[-1].text and "…" in cp[-1].text
    assert not stories["bom.txt"].title.startswith("\ufeff")
    assert stories["huge.txt"].words > 1_000_000


async def test_bad_library_toml_is_reported_not_fatal(
    store: SQLiteStore, tmp_path: Path, caplog
) -> None:
    folder = tmp_path / "stories"
    write(folder, "a.txt", STORY)
    write(folder, "library.toml", "this is = = not toml")
    report = await ingest(store, folder)
    assert report.added == ("a.txt",)
    assert "library.toml" in caplog.text


async def test_library_toml_sets_metadata_and_change_is_picked_up(
    store: SQLiteStore, tmp_path: Path
) -> None:
    folder = tmp_path / "stories"
    write(folder, "a.txt", STORY)
    write(folder, "library.toml", '["a.txt"]\ntitle = "Given Title"\nrating = "mature"\n')
    await ingest(store, folder)
    [story] = await store.list_stories()
    assert (story.title, story.rating, story.slug) == ("Given Title", "mature", "given-title")
    write(folder, "library.toml", '["a.txt"]\ntitle = "Second Title"\n')
    # (a host whose DEFAULT_RATING is general: the default explicit would rate it higher)
    report = await ingest(store, folder, default_rating="general")
    assert report.changed == ("a.txt",)
    [story] = await store.list_stories()
    # a rating is lowered only by saying so (fail closed): a lost line keeps it, with a warning
    assert (story.title, story.rating) == ("Second Title", "mature")
    assert any("kept mature" in w for w in report.warnings)
    write(folder, "library.toml", '["a.txt"]\ntitle = "Second Title"\nrating = "general"\n')
    await ingest(store, folder)
    [story] = await store.list_stories()
    assert (story.title, story.rating) == ("Second Title", "general")


async def test_duplicate_titles_get_distinct_slugs(store: SQLiteStore, tmp_path: Path) -> None:
    folder = tmp_path / "stories"
    write(folder, "a.txt", STORY)
    write(folder, "b.txt", STORY)
    await ingest(store, folder)
    assert sorted(s.slug for s in await store.list_stories()) == ["little-story", "little-story-2"]


async def test_missing_folder_is_an_error_not_an_empty_library(tmp_path: Path) -> None:
    lib = await Library.open(Settings(stories_dir=tmp_path / "nowhere", data_dir=tmp_path / "d"))
    try:
        with pytest.raises(StoryBotError, match="nowhere does not exist"):
            await lib.ingest()
    finally:
        await lib.close()


def test_seeds_are_shipped_unchanged() -> None:
    shared = Path(__file__).resolve().parents[2] / "shared" / "seeds"
    if not shared.is_dir():
        pytest.skip("the workspace copy of the seeds is not beside this checkout")
    ours = Path(__file__).resolve().parents[1] / "seeds"
    for source in shared.glob("*.txt"):
        assert (ours / source.name).read_bytes() == source.read_bytes(), source.name


async def test_rewriting_most_of_the_library_merges_the_search_indexes(
    store: SQLiteStore, tmp_path: Path
) -> None:
    """Every story rewritten (a new text pipeline re-reads them all) leaves the FTS5 indexes
    full of deleted entries that every query reads, until they are merged: ingest merges them."""
    folder = tmp_path / "stories"
    for i in range(8):
        write(folder, f"s{i}.txt", f"Story {i}\n\nThe keeper {i} climbed the stairs at dusk.\n")
    await ingest(store, folder)
    for i in range(8):
        write(folder, f"s{i}.txt", f"Story {i}\n\nThe keeper {i} counted the stairs at dawn.\n")
    report = await ingest(store, folder)
    assert len(report.changed) == 8

    async def rows() -> int:
        return int((await store._all("SELECT count(*) FROM texts_fts_data"))[0][0])

    merged = await rows()
    await store.tidy_indexes()  # merging an index already merged changes nothing
    assert await rows() == merged


def test_the_pipeline_fingerprint_changes_with_any_module_of_the_text_packages(
    tmp_path: Path,
) -> None:
    """An upgrade that changes how headings are found (bot/text/structure/headings.py) must
    re-read every story, as one that changes bot/text/repair.py does. (It read only the
    modules at the top of bot/text/, and the structure step had moved into a package.)"""
    (tmp_path / "structure").mkdir()
    (tmp_path / "repair.py").write_text("RULES = 1\n", encoding="utf-8")
    headings = tmp_path / "structure" / "headings.py"
    headings.write_text("STYLES = 1\n", encoding="utf-8")
    before = pipeline_fingerprint(tmp_path)
    assert pipeline_fingerprint(tmp_path) == before  # the same code: nothing re-read
    headings.write_text("STYLES = 2\n", encoding="utf-8")
    changed = pipeline_fingerprint(tmp_path)
    assert changed != before
    headings.rename(tmp_path / "structure" / "styles.py")  # moved: a change too
    assert pipeline_fingerprint(tmp_path) != changed


async def test_the_first_batch_reaches_the_writer_early(
    store: SQLiteStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer, which the whole ingest waits for, has nothing to do until the first batch
    comes: it is handed over at FIRST_BATCH_BYTES, the others at BATCH_BYTES."""
    monkeypatch.setattr(writing, "FIRST_BATCH_BYTES", 4_000)
    monkeypatch.setattr(writing, "BATCH_BYTES", 20_000)
    for n in range(30):
        lines = [f"Story {n}, line {i}: a paragraph of some words to read." for i in range(25)]
        write(tmp_path / "stories", f"s{n:02}.txt", f"Story {n}\n\n" + "\n\n".join(lines) + "\n")
    sizes: list[int] = []
    write_stories = store.write_stories

    async def recorded(items: list[StoryWrite]) -> list[str | None]:
        sizes.append(sum(item.state.size for item in items))
        return await write_stories(items)

    monkeypatch.setattr(store, "write_stories", recorded)
    assert len((await ingest(store, tmp_path / "stories")).added) == 30
    assert 4_000 <= sizes[0] < 6_000, sizes
    assert all(size >= 20_000 for size in sizes[1:-1]), sizes
    assert sum(sizes) == sum(p.stat().st_size for p in (tmp_path / "stories").iterdir())
