"""Hostile and broken library.toml: ratings never fail open, and the operator is told where."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

from bot.ingest import ingest as _ingest
from bot.ingest import load_metadata
from bot.store.sqlite import SQLiteStore

# These tests are about library.toml failing closed: run as a host whose DEFAULT_RATING is
# general, so that what rates a story explicit here is library.toml's doubt, not the default.
ingest = functools.partial(_ingest, default_rating="general")

STORY = "{title}\n\nChapter 1\n\nThe first paragraph is here.\n\nThe second one follows it.\n"


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
async def store(tmp_path: Path):
    s = await SQLiteStore.open(tmp_path / "db" / "stories.db")
    yield s
    await s.close()


async def ratings(store: SQLiteStore) -> dict[str, str]:
    return {s.file: s.rating for s in await store.list_stories()}


def test_rating_values_are_case_insensitive(tmp_path: Path) -> None:
    toml = '["a.txt"]\nrating = "Explicit"\n["b.txt"]\nrating = " TEEN "\n'
    write(tmp_path, "library.toml", toml)
    metas, warnings = load_metadata(tmp_path)
    assert metas is not None
    assert metas["a.txt"].rating == "explicit" and metas["b.txt"].rating == "teen"
    assert warnings == []


@pytest.mark.parametrize(
    ("toml", "line"),
    [
        ('["a.txt"]\ntitle = "A"\nratng = "explicit"\n', 3),  # misspelt key
        ('["a.txt"]\ntitle = "A"\n\nrating = "x-rated"\n', 4),  # unknown value
        ('["a.txt"]\nrating = 18\n', 2),  # not a string
    ],
)
def test_unknown_key_or_value_is_a_warning_naming_file_and_line_and_rates_explicit(
    tmp_path: Path, toml: str, line: int
) -> None:
    write(tmp_path, "library.toml", toml)
    metas, warnings = load_metadata(tmp_path)
    assert metas is not None and metas["a.txt"].rating == "explicit"
    assert any(f"library.toml line {line}:" in w for w in warnings), warnings
    assert all("\n" not in w for w in warnings)


def test_a_known_key_beside_a_valid_rating_only_warns(tmp_path: Path) -> None:
    write(tmp_path, "library.toml", '["a.txt"]\nrating = "teen"\ncolour = "blue"\n')
    metas, warnings = load_metadata(tmp_path)
    assert metas is not None and metas["a.txt"].rating == "teen"
    assert len(warnings) == 1 and "line 3" in warnings[0] and "'colour'" in warnings[0]


async def test_first_ingest_with_broken_toml_treats_every_story_as_explicit(
    store: SQLiteStore, tmp_path: Path
) -> None:
    folder = tmp_path / "stories"
    write(folder, "a.txt", STORY.format(title="A"))
    write(folder, "library.toml", '["a.txt"\nrating = "explicit"\n')  # lost ]
    report = await ingest(store, folder)
    assert report.added == ("a.txt",)
    assert await ratings(store) == {"a.txt": "explicit"}
    assert len(report.warnings) == 1 and str(folder / "library.toml") in report.warnings[0]
    assert "explicit" in report.warnings[0]


async def test_broken_toml_keeps_stored_metadata_until_fixed(
    store: SQLiteStore, tmp_path: Path
) -> None:
    folder = tmp_path / "stories"
    a = write(folder, "a.txt", STORY.format(title="A"))
    write(folder, "b.txt", STORY.format(title="B"))
    toml = write(folder, "library.toml", '["a.txt"]\nrating = "explicit"\n')
    await ingest(store, folder)
    assert await ratings(store) == {"a.txt": "explicit", "b.txt": "general"}

    toml.write_text('["a.txt"\nrating = "explicit"\n')  # one lost ]
    a.write_text(STORY.format(title="A, revised"))
    os.utime(a, ns=(1, 1))
    write(folder, "c.txt", STORY.format(title="C"))
    report = await ingest(store, folder)
    assert await ratings(store) == {"a.txt": "explicit", "b.txt": "general", "c.txt": "explicit"}
    assert dict(report.skipped).keys() == {"a.txt"}  # its new text waits for the fix
    assert report.warnings

    toml.write_text('["a.txt"]\nrating = "explicit"\n')
    report = await ingest(store, folder)
    assert await ratings(store) == {"a.txt": "explicit", "b.txt": "general", "c.txt": "general"}
    assert not report.warnings and not report.skipped


async def test_unreadable_toml_fails_closed(store: SQLiteStore, tmp_path: Path) -> None:
    folder = tmp_path / "stories"
    write(folder, "a.txt", STORY.format(title="A"))
    (folder / "library.toml").write_bytes(b"\xff\xfe\x00garbage")
    report = await ingest(store, folder)
    assert await ratings(store) == {"a.txt": "explicit"}
    assert report.warnings


async def test_a_typo_in_a_section_name_never_lowers_a_rating(
    store: SQLiteStore, tmp_path: Path
) -> None:
    """["a.text"] for ["a.txt"]: the section names no file (a warning says so), and the story,
    explicit until now, stays explicit until library.toml says otherwise."""
    folder = tmp_path / "stories"
    write(folder, "a.txt", STORY.format(title="Alpha"))
    write(folder, "library.toml", '["a.txt"]\nrating = "explicit"\n')
    await ingest(store, folder)
    assert (await ratings(store))["a.txt"] == "explicit"
    write(folder, "library.toml", '["a.text"]\nrating = "explicit"\n')
    report = await ingest(store, folder)
    assert (await ratings(store))["a.txt"] == "explicit"
    assert any("'a.text'" in w and "names no story file" in w for w in report.warnings)
    # a.txt is unchanged: not re-read, it keeps explicit; the warning says stories without a
    # section are rated explicit until the typo is fixed
    assert any("'a.text'" in w and "rated explicit" in w for w in report.warnings)
    # the operator's own word lowers it
    write(folder, "library.toml", '["a.txt"]\nrating = "general"\n')
    await ingest(store, folder)
    assert (await ratings(store))["a.txt"] == "general"


async def test_a_renamed_file_keeps_its_rating(store: SQLiteStore, tmp_path: Path) -> None:
    """003_x.txt renamed taking-steps.txt: its library.toml entry no longer names it, but the
    same bytes were an explicit story, so the renamed file is explicit too."""
    folder = tmp_path / "stories"
    write(folder, "003_x.txt", STORY.format(title="Taking Steps"))
    write(folder, "library.toml", '["003_x.txt"]\nrating = "explicit"\n')
    await ingest(store, folder)
    (folder / "003_x.txt").rename(folder / "taking-steps.txt")
    report = await ingest(store, folder)
    # the same story under its new name (issue 17, item 5): neither added nor removed
    assert not report.added and not report.removed
    assert await ratings(store) == {"taking-steps.txt": "explicit"}
    assert any("'003_x.txt'" in w and "names no story file" in w for w in report.warnings)


async def test_an_unknown_stored_rating_reads_as_explicit(
    store: SQLiteStore, tmp_path: Path
) -> None:
    folder = tmp_path / "stories"
    write(folder, "a.txt", STORY.format(title="Alpha"))
    await ingest(store, folder)
    async with store.transaction() as db:
        await db.execute("UPDATE stories SET rating = 'X-rated'")
    assert (await ratings(store))["a.txt"] == "explicit"


async def test_a_section_naming_no_file_rates_new_stories_explicit_until_fixed(
    store: SQLiteStore, tmp_path: Path
) -> None:
    """The hunt's case: ["explicit-seed.tx"] for explicit-seed.txt on the story's first ingest
    stored it as general. While a section names no file, stories without one are explicit;
    once the name is fixed, each gets its own rating. (Failed before: "general".)"""
    folder = tmp_path / "stories"
    write(folder, "explicit-seed.txt", STORY.format(title="Seed"))
    write(folder, "other.txt", STORY.format(title="Other"))
    toml = write(folder, "library.toml", '["explicit-seed.tx"]\nrating = "explicit"\n')
    report = await ingest(store, folder)
    assert await ratings(store) == {"explicit-seed.txt": "explicit", "other.txt": "explicit"}
    assert any("'explicit-seed.tx'" in w and "rated explicit" in w for w in report.warnings)
    toml.write_text('["explicit-seed.txt"]\nrating = "explicit"\n')
    report = await ingest(store, folder)
    assert await ratings(store) == {"explicit-seed.txt": "explicit", "other.txt": "general"}
    assert not report.warnings


async def test_a_section_for_a_removed_story_is_no_typo(store: SQLiteStore, tmp_path: Path) -> None:
    """/library remove moves the file into removed/: its section stays, and is not a typo."""
    folder = tmp_path / "stories"
    write(folder, "gone.txt", STORY.format(title="Gone"))
    write(folder, "library.toml", '["gone.txt"]\nrating = "teen"\n')
    await ingest(store, folder)
    (folder / "removed").mkdir()
    (folder / "gone.txt").rename(folder / "removed" / "gone.txt")
    write(folder, "new.txt", STORY.format(title="New"))
    report = await ingest(store, folder, allow_empty=True)
    assert await ratings(store) == {"new.txt": "general"}
    assert not report.warnings
