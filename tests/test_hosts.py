"""Several hosts, one library (bot/hosts.py): two Libraries over one real PostgreSQL database,
each with a stories folder of its own, as two hosts would have. Uploads live in the database
and every host serves them; a host's ingest removes only its own folder's stories; a story
removed from Discord on one host stays removed on the others."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.errors import StoryBotError
from bot.hosts import REMOVED_AGAIN, SHADOWED
from bot.library import Library
from bot.settings import Settings
from tests.conftest import SEEDS

STORY = (
    "The Lighthouse\n\nChapter 1\n\n"
    "The keeper climbed the stairs every evening, counting them under his breath. "
    "There were one hundred and twelve, and he had never once lost count.\n\n"
    "Below, the sea went on with its own counting.\n"
)
TOML = '\n["Light_house.txt"]\nrating = "general"\n\n["harbour.txt"]\nrating = "general"\n'
HARBOUR = STORY.replace("The Lighthouse", "The Harbour").replace("keeper", "harbourmaster")


def _folder(root: Path, name: str) -> Path:
    folder = root / name
    shutil.copytree(SEEDS, folder)
    with (folder / "library.toml").open("a", encoding="utf-8") as toml:
        toml.write(TOML)
    return folder


@pytest.fixture
async def hosts(tmp_path: Path, pg_url: str) -> AsyncIterator[tuple[Library, Library]]:
    """Host A and host B: the seeds in a folder each, one database."""
    libraries = []
    for name in ("a", "b"):
        settings = Settings(
            stories_dir=_folder(tmp_path, name),
            data_dir=tmp_path / f"data-{name}",
            scene_model="off",
            database_url=pg_url,
        )
        library = await Library.open(settings)
        await library.ingest()
        libraries.append(library)
    try:
        yield libraries[0], libraries[1]
    finally:
        for library in libraries:
            await library.close()


async def _files(library: Library) -> set[str]:
    library.catalogue.forget()  # another host changed the library: read it again
    return {s.file for s in await library.stories(mature_ok=True)}


async def test_an_upload_is_served_by_every_host_and_kept_by_their_ingests(
    hosts: tuple[Library, Library],
) -> None:
    a, b = hosts
    added = await a.admin.add("Light house.txt", STORY.encode())
    assert added.story is not None and added.report.added == ("Light_house.txt",)
    assert not (a.stories_dir / "Light_house.txt").exists()  # in the database, not a folder
    assert "Light_house.txt" in await _files(b)
    again = await b.ingest()  # B's folder has no such file: the upload stays
    assert again.removed == () and "Light_house.txt" in await _files(b)
    # its library.toml section names a story file: the upload
    assert not [w for w in again.warnings if "Light_house.txt" in w]
    found = await b.quote("one hundred and twelve", mature_ok=True)
    assert found.match == "exact" and found.hits[0].story.file == "Light_house.txt"
    # the same bytes from the other host: unchanged; other bytes: replaced only when asked
    assert (await b.admin.add("Light_house.txt", STORY.encode())).unchanged
    other = STORY.replace("twelve", "thirteen").encode()
    with pytest.raises(StoryBotError, match=r"already saved as Light_house\.txt"):
        await b.admin.add("Light_house.txt", other)
    replaced = await b.admin.add("Light_house.txt", other, replace=True)
    assert replaced.replaced and replaced.report.changed == ("Light_house.txt",)
    assert (await a.quote("one hundred and thirteen", mature_ok=True)).match == "exact"


async def test_an_upload_removed_on_one_host_is_gone_from_all(
    hosts: tuple[Library, Library],
) -> None:
    a, b = hosts
    await a.admin.add("Light_house.txt", STORY.encode())
    removed = await b.admin.remove("the-lighthouse")
    assert removed.report.removed == ("Light_house.txt",) and removed.moved_to is None
    assert "database" in removed.kept
    assert "Light_house.txt" not in await _files(a)
    assert (await a.ingest()).added == ()  # A's ingest does not bring it back
    back = await a.admin.add("Light_house.txt", STORY.encode())  # uploaded again: back
    assert back.story is not None and "Light_house.txt" in await _files(b)


async def test_a_hosts_ingest_removes_only_its_own_folders_stories(
    hosts: tuple[Library, Library],
) -> None:
    a, b = hosts
    (a.stories_dir / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    assert (await a.ingest()).added == ("harbour.txt",)
    report = await b.ingest()  # B's folder never held harbour.txt: it is A's
    assert report.removed == () and "harbour.txt" in await _files(b)
    (a.stories_dir / "harbour.txt").unlink()
    assert (await a.ingest()).removed == ("harbour.txt",)  # A's own: gone with its file
    assert "harbour.txt" not in await _files(b)


async def test_a_folder_story_removed_on_one_host_is_not_brought_back_by_another(
    hosts: tuple[Library, Library],
) -> None:
    a, b = hosts
    for library in hosts:  # both folders hold harbour.txt, as hosts sharing a library would
        (library.stories_dir / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
        await library.ingest()
    removed = await b.admin.remove("the-harbour")
    assert removed.report.removed == ("harbour.txt",)
    assert removed.moved_to == b.stories_dir / "removed" / "harbour.txt"
    assert (a.stories_dir / "harbour.txt").exists()  # A's copy is A's
    report = await a.ingest()
    assert ("harbour.txt", REMOVED_AGAIN) in report.skipped and report.added == ()
    assert "harbour.txt" not in await _files(a)
    # a changed file is a new story: added again, and no longer held as removed
    (a.stories_dir / "harbour.txt").write_text(HARBOUR + "\nThe end.\n", encoding="utf-8")
    assert (await a.ingest()).added == ("harbour.txt",)
    assert (await a.ingest()).skipped == ()


async def test_a_folder_story_of_another_host_is_removed_from_discord_anywhere(
    hosts: tuple[Library, Library],
) -> None:
    a, b = hosts
    (a.stories_dir / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    await a.ingest()
    removed = await b.admin.remove("the-harbour")  # B has no copy of the file
    assert removed.report.removed == ("harbour.txt",) and removed.moved_to is None
    assert "harbour.txt" not in await _files(a)
    assert ("harbour.txt", REMOVED_AGAIN) in (await a.ingest()).skipped


async def test_an_upload_hides_a_folder_file_of_the_same_name(
    hosts: tuple[Library, Library],
) -> None:
    a, b = hosts
    await b.admin.add("harbour.txt", HARBOUR.encode())
    (a.stories_dir / "harbour.txt").write_text(STORY, encoding="utf-8")
    report = await a.ingest()
    assert ("harbour.txt", SHADOWED) in report.skipped
    (a.stories_dir / "harbour.txt").unlink()
    assert (await a.ingest()).removed == ()  # the upload is no host's folder story
    titles = {s.title for s in await a.stories(mature_ok=True)}
    assert "The Harbour" in titles and "The Lighthouse" not in titles


async def test_an_empty_folder_on_one_host_empties_nothing(
    hosts: tuple[Library, Library], tmp_path: Path, pg_url: str
) -> None:
    """A host whose stories folder is empty (the others hold the stories) starts: none of
    the library is its own, so its ingest neither refuses nor removes anything."""
    a, _ = hosts
    empty = tmp_path / "empty"
    empty.mkdir()
    settings = Settings(
        stories_dir=empty, data_dir=tmp_path / "data-c", scene_model="off", database_url=pg_url
    )
    c = await Library.open(settings)
    try:
        report = await c.ingest()
        assert report.removed == () and report.added == ()
        assert await _files(c) == await _files(a) != set()
    finally:
        await c.close()
