"""Adding, replacing and removing story files through the core (no Discord)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.errors import StoryBotError
from bot.library import Library
from bot.library_admin import LibraryAdmin, check_upload, safe_file_name

STORY = (
    "The Lighthouse\n\nChapter 1\n\n"
    "The keeper climbed the stairs every evening, counting them under his breath. "
    "There were one hundred and twelve, and he had never once lost count.\n\n"
    "Below, the sea went on with its own counting.\n"
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("My Story.txt", "My_Story.txt"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\win.TXT", "win.txt"),
        (".hidden.txt", "hidden.txt"),
        ("...txt", "story.txt"),
        ("Café au lait.txt", "Café_au_lait.txt"),
        ("a" * 300 + ".txt", "a" * 76 + ".txt"),
        ("My Story.EPUB", "My_Story.epub"),  # the format stays, in lower case
        ("../redux.htm", "redux.htm"),
        ("work.html", "work.html"),
        (".hidden.epub", "hidden.epub"),
        ("a" * 300 + ".epub", "a" * 75 + ".epub"),
        ("notes", "notes.txt"),
    ],
)
def test_safe_file_name(name: str, expected: str) -> None:
    assert safe_file_name(name) == expected


def test_sizes_just_over_the_limit_are_said_precisely() -> None:
    limit = 5 * 1024 * 1024
    with pytest.raises(StoryBotError) as refused:
        check_upload("big.txt", b"x" * (limit + 1), limit)
    assert "5,242,881 bytes, the limit is 5,242,880 bytes" in refused.value.message
    with pytest.raises(StoryBotError, match=r"too big: 80 KB, the limit is 64 KB"):
        check_upload("big.txt", b"x" * 80 * 1024, 64 * 1024)


def test_check_upload_reasons() -> None:
    check_upload("ok.txt", STORY.encode(), 10_000)
    check_upload("ok.txt", STORY.replace("his", "his\u2019").encode("cp1252"), 10_000)
    cases = {
        ("a.pdf", b"%PDF-1.4 ..."): "is not a story file",
        ("a.txt", b"x" * 101): "too big",
        ("a.txt", b"   \n\n "): "empty",
        ("a.txt", bytes(range(64))): "binary",
        (".hidden.txt", STORY.encode()): "hidden file name",
        ("../.hidden.txt", STORY.encode()): "hidden file name",
    }
    for (name, data), reason in cases.items():
        with pytest.raises(StoryBotError, match=reason):
            check_upload(name, data, 100)


def _admin(library: Library, *, read_only: bool) -> LibraryAdmin:
    """The admin service as the Library builds it: given the folder, the catalogue and the
    library's ingest, never the Library itself."""
    return LibraryAdmin(
        library.stories_dir,
        library.catalogue,
        library.ingest,
        max_upload_bytes=100_000,
        read_only=read_only,
    )


async def test_add_replace_remove(library: Library, stories_dir: Path) -> None:
    admin = _admin(library, read_only=False)
    added = await admin.add("Light house.txt", STORY.encode())
    assert added.file == "Light_house.txt"
    assert added.report.added == ("Light_house.txt",)
    assert added.story is not None and added.story.title == "The Lighthouse"
    assert (stories_dir / "Light_house.txt").read_bytes() == STORY.encode()

    again = await admin.add("Light house.txt", STORY.encode())
    assert again.unchanged and not again.replaced

    other = STORY.replace("twelve", "thirteen").encode()
    with pytest.raises(StoryBotError, match=r"already saved as Light_house\.txt"):
        await admin.add("Light_house.txt", other)
    replaced = await admin.add("Light_house.txt", other, replace=True)
    assert replaced.replaced and replaced.report.changed == ("Light_house.txt",)

    removed = await admin.remove("the-lighthouse")
    assert removed.report.removed == ("Light_house.txt",)
    assert not (stories_dir / "Light_house.txt").exists()
    assert removed.moved_to == stories_dir / "removed" / "Light_house.txt"
    assert removed.moved_to.read_bytes() == other
    assert all(s.file != "Light_house.txt" for s in await library.stories(mature_ok=True))
    # removing the same name again keeps both copies
    await admin.add("Light_house.txt", STORY.encode())
    second = await admin.remove("the-lighthouse")
    assert second.moved_to != removed.moved_to and second.moved_to.exists()
    assert not [n for n in os.listdir(stories_dir) if n.startswith(".upload-")]


async def test_read_only_refuses(library: Library) -> None:
    admin = _admin(library, read_only=True)
    for call in (admin.reload(), admin.add("x.txt", STORY.encode()), admin.remove("x")):
        with pytest.raises(StoryBotError, match="read-only"):
            await call
