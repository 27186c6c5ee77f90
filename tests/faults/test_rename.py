"""A story file renamed (same bytes, new name) keeps its story (issue 17, item 5): the same id,
so its readers' places and bookmarks stay. Before the fix: a new story id, 1 place and 1
bookmark became 0 and 0."""

from __future__ import annotations

from bot.library import Library
from bot.settings import Settings

ALICE = 4242


async def test_a_renamed_file_keeps_its_id_places_and_bookmarks(settings: Settings) -> None:
    library = await Library.open(settings)
    try:
        await library.ingest()
        story = await library.find_story("breaking-alone", mature_ok=True)
        await library.readers.record_place(ALICE, story, story.chapters[1].first)
        await library.readers.add_bookmark(ALICE, story.id, story.chapters[1].first, mature_ok=True)
        before = await library.reader_data(ALICE)
        assert (before.positions, before.bookmarks) == (1, 1)
        source = settings.stories_dir / story.file
        source.rename(settings.stories_dir / "breaking-alone-renamed.txt")
        report = await library.ingest()
        assert not report.added and not report.removed, report
        assert any("renamed" in w for w in report.warnings)
        again = await library.find_story("breaking-alone", mature_ok=True)
        assert (again.id, again.file) == (story.id, "breaking-alone-renamed.txt")
        data = await library.reader_data(ALICE)
        assert (data.positions, data.bookmarks) == (1, 1)
        assert [b.story_id for b, _ in (await library.bookmarks(ALICE, mature_ok=True))[0]] == [
            story.id
        ]
    finally:
        await library.close()
