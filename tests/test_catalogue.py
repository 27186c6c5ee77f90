"""The catalogue (bot/catalogue.py) over a real SQLite file loaded from the seeds: naming a
story or a chapter as someone types it, the ratings gate, autocomplete, pages, and the story
list it keeps until the library changes."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.catalogue import AUTOCOMPLETE_LIMIT, STORY_GONE, Catalogue, chapter_number
from bot.errors import StoryBotError
from bot.library import Library
from bot.paging import PAGE_LIMIT

EXPLICIT = "taking-steps"


@pytest.fixture
async def catalogue(library: Library) -> AsyncIterator[Catalogue]:
    """A catalogue of its own over the library's store, as the Library builds one."""
    yield Catalogue(library.store)


async def test_a_story_is_named_by_slug_title_file_or_a_unique_prefix(
    catalogue: Catalogue,
) -> None:
    for ref in (
        "breaking-alone",
        "Breaking alone",
        "  BREAKING ALONE ",
        "002_0ccc7f018ffbd0dd.txt",
        "break",
        "Breaking a",
    ):
        story = await catalogue.find_story(ref, mature_ok=False)
        assert story.slug == "breaking-alone", ref


async def test_a_name_that_fits_several_or_none_says_so_in_one_line(
    library: Library, stories_dir: Path
) -> None:
    (stories_dir / "breaking_point.txt").write_text(
        "Breaking point\n\nChapter 1\n\nShe ran out of the house and did not look back.\n",
        encoding="utf-8",
    )
    await library.ingest()
    catalogue = Catalogue(library.store)
    with pytest.raises(StoryBotError, match="could be several stories") as several:
        await catalogue.find_story("break", mature_ok=True)
    assert str(several.value) == "“break” could be several stories: Breaking alone, Breaking point."
    assert (await catalogue.find_story("breaking a", mature_ok=True)).slug == "breaking-alone"
    with pytest.raises(StoryBotError, match="No story called “nothing like it”"):
        await catalogue.find_story("nothing like it", mature_ok=True)
    with pytest.raises(StoryBotError, match="Name a story"):
        await catalogue.find_story("   ", mature_ok=True)


async def test_a_name_with_a_typo_is_answered_with_the_nearest_title_the_reader_may_read(
    catalogue: Catalogue,
) -> None:
    for typo, title in (
        ("finaly-home", "Finally Home"),
        ("tale of to sinners", "A Tale of Two Sinners"),
    ):
        with pytest.raises(StoryBotError) as missed:
            await catalogue.find_story(typo, mature_ok=False)
        assert str(missed.value) == (
            f"No story called “{typo}”. Did you mean “{title}”? See the list with /stories."
        )
    with pytest.raises(StoryBotError) as far:
        await catalogue.find_story("zzz", mature_ok=False)
    assert "Did you mean" not in str(far.value)
    # an explicit story is offered only where it may be read
    with pytest.raises(StoryBotError) as sfw:
        await catalogue.find_story("taking-stps", mature_ok=False)
    assert "Taking Steps" not in str(sfw.value)
    with pytest.raises(StoryBotError, match="Did you mean “Taking Steps”"):
        await catalogue.find_story("taking-stps", mature_ok=True)


async def test_an_id_from_an_old_button_finds_the_story_or_says_it_is_gone(
    catalogue: Catalogue,
) -> None:
    story = await catalogue.find_story("finally-home", mature_ok=True)
    assert await catalogue.find_story(story.id, mature_ok=True) == story
    highest = max(s.id for s in await catalogue.stories(mature_ok=True))
    with pytest.raises(StoryBotError, match=STORY_GONE):
        await catalogue.find_story(highest + 1, mature_ok=True)


async def test_an_explicit_story_is_found_only_where_mature_stories_may_be_read(
    catalogue: Catalogue,
) -> None:
    story = await catalogue.find_story(EXPLICIT, mature_ok=True)
    assert story.mature
    for ref in (EXPLICIT, story.id, story):  # a Story already found is checked again
        with pytest.raises(StoryBotError, match="rated explicit: it can be read only in"):
            await catalogue.find_story(ref, mature_ok=False)
    shown = {s.slug for s in await catalogue.stories(mature_ok=False)}
    assert EXPLICIT not in shown and len(shown) == 4
    assert EXPLICIT not in {s.slug for s in await catalogue.suggest("tak", mature_ok=False)}
    assert [s.slug for s in await catalogue.suggest("tak", mature_ok=True)] == [EXPLICIT]


async def test_a_chapter_is_named_by_place_label_or_the_number_its_label_gives(
    catalogue: Catalogue,
) -> None:
    home = await catalogue.find_story("finally-home", mature_ok=True)
    assert [c.label for c in home.chapters] == ["Chapter 11"]
    for ref in (1, "1", "Chapter 11", "chapter 11", "11"):  # "11": its label's number
        assert chapter_number(home, ref) == home.chapters[0].number, ref
    sorry = await catalogue.find_story("soaked-in-sorry", mature_ok=True)
    assert chapter_number(sorry, "6") == sorry.chapters[0].number  # "Chapter Six"
    alone = await catalogue.find_story("breaking-alone", mature_ok=True)
    assert chapter_number(alone, "part 3") == alone.chapters[2].number
    with pytest.raises(StoryBotError) as missing:
        chapter_number(alone, "Part 99")
    said = str(missing.value)
    assert "has no chapter Part 99" in said and "1 to 10" in said and "Part 1, Part 2" in said


async def test_pages_are_the_chapter_cut_at_paragraph_breaks(catalogue: Catalogue) -> None:
    chapter, pages = await catalogue.pages("breaking-alone", 2, mature_ok=False)
    assert chapter.label == "Part 2" and chapter.story.slug == "breaking-alone"
    assert "".join(pages) == chapter.text
    assert pages and all(len(page) <= PAGE_LIMIT for page in pages)
    with pytest.raises(StoryBotError, match="rated explicit"):
        await catalogue.pages(EXPLICIT, 1, mature_ok=False)


async def test_suggestions_put_prefixes_first_then_titles_holding_the_words(
    catalogue: Catalogue,
) -> None:
    suggested = [s.slug for s in await catalogue.suggest("s", mature_ok=True)]
    assert suggested[0] == "soaked-in-sorry"  # the one title or slug starting with it
    assert set(suggested[1:]) == {"a-tale-of-two-sinners", "taking-steps"}  # hold an "s"
    assert len(await catalogue.suggest("", mature_ok=True)) <= AUTOCOMPLETE_LIMIT


async def test_every_is_true_only_for_the_whole_library(catalogue: Catalogue) -> None:
    stories = await catalogue.stories(mature_ok=True)
    assert await catalogue.every(stories)
    assert not await catalogue.every(await catalogue.stories(mature_ok=False))


async def test_the_story_list_is_kept_until_forget(
    catalogue: Catalogue, library: Library, stories_dir: Path
) -> None:
    before = {s.file for s in await catalogue.stories(mature_ok=True)}
    assert "004_6bfeca38034b4c2d.txt" in before
    shutil.copy(stories_dir / "004_6bfeca38034b4c2d.txt", stories_dir / "copy_of_tale.txt")
    (stories_dir / "004_6bfeca38034b4c2d.txt").unlink()
    await library.ingest()  # the library's own catalogue forgets; this one was not told
    assert {s.file for s in await catalogue.stories(mature_ok=True)} == before
    catalogue.forget()
    after = await catalogue.stories(mature_ok=True)
    assert {s.file for s in after} >= {"copy_of_tale.txt"}
    assert "004_6bfeca38034b4c2d.txt" not in {s.file for s in after}


async def test_a_part_of_a_name_never_names_a_story_that_may_not_be_read(
    library: Library, stories_dir: Path
) -> None:
    """ "ta" fits Taking Steps (explicit) and Tall Tales: where the explicit one may not be
    read, it is neither listed among several nor found by a part of its name."""
    (stories_dir / "tall_tales.txt").write_text(
        "Tall Tales\n\nChapter 1\n\nThe fisherman's fish grew a foot with every telling.\n",
        encoding="utf-8",
    )
    with (stories_dir / "library.toml").open("a", encoding="utf-8") as toml:
        toml.write('\n["tall_tales.txt"]\nrating = "general"\n')
    await library.ingest()
    catalogue = Catalogue(library.store)
    assert (await catalogue.find_story("ta", mature_ok=False)).title == "Tall Tales"
    with pytest.raises(StoryBotError) as several:
        await catalogue.find_story("ta", mature_ok=True)
    assert str(several.value) == "“ta” could be several stories: Taking Steps, Tall Tales."
    with pytest.raises(StoryBotError) as part:
        await catalogue.find_story("taking", mature_ok=False)
    assert "Taking" not in str(part.value).replace("“taking”", "")
    with pytest.raises(StoryBotError, match="“Taking Steps” is rated explicit"):
        await catalogue.find_story(EXPLICIT, mature_ok=False)  # named in full: refused
