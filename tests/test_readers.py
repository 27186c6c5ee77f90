"""Readers in the core (bot/readers.py, the Library's reader methods, the store's reader SQL) on
a real SQLite file: places, furthest, bookmarks, forgetting, shuffles, removed stories."""

from __future__ import annotations

import logging

import pytest

from bot import excerpts, readers
from bot.library import Library
from bot.paging import paginate
from bot.settings import Settings
from tests.refusing import WORDS, refuse


async def test_a_place_is_the_first_paragraph_of_the_page_and_survives_a_new_page_size(
    library: Library,
) -> None:
    chapter, pages = await library.pages("breaking-alone", "2", mature_ok=False)
    await library.record_reading(11, chapter, pages, 1)
    place = await library.reading_place(11, mature_ok=False)
    assert place.story.slug == "breaking-alone" and place.chapter == 2
    assert readers.page_of_position(chapter, pages, place.position) == 1
    small = paginate(chapter.text, 500)  # another page size: the same paragraph is found
    at = readers.page_of_position(chapter, small, place.position)
    paragraph = next(p.text for p in chapter.paragraphs if p.position == place.position)
    assert paragraph[:50] in "".join(small[at : at + 2])


async def test_most_recent_story_first_and_furthest_kept(library: Library) -> None:
    one, pages1 = await library.pages("breaking-alone", "3", mature_ok=False)
    two, pages2 = await library.pages("a-tale-of-two-sinners", "1", mature_ok=False)
    await library.record_reading(5, one, pages1, 0)
    await library.record_reading(5, two, pages2, 0)
    assert (await library.reading_place(5, mature_ok=False)).story.slug == "a-tale-of-two-sinners"
    back, back_pages = await library.pages("breaking-alone", "1", mature_ok=False)
    await library.record_reading(5, back, back_pages, 0)  # re-reading does not lower furthest
    await library.readers_settled()
    rows = {p.story_id: p for p in await library.store.reading_positions(5)}
    assert rows[one.story.id].furthest == one.paragraphs[0].position
    assert rows[one.story.id].position == back.paragraphs[0].position


async def test_a_removed_story_takes_its_reader_rows_with_it(library: Library) -> None:
    chapter, pages = await library.pages("breaking-alone", "2", mature_ok=False)
    await library.record_reading(3, chapter, pages, 0)
    await library.add_bookmark(3, chapter.story.id, chapter.paragraphs[0].position, mature_ok=False)
    await library.excerpt("breaking-alone", mature_ok=False, channel=99)
    await library.admin.remove("breaking-alone")
    assert (await library.reader_data(3)).positions == 0
    assert (await library.reader_data(3)).bookmarks == 0
    assert await library.store._all("SELECT * FROM excerpt_shuffles") == []


async def test_a_channel_sees_every_passage_once_per_round(library: Library) -> None:
    pool = await library.excerpt_pool("a-tale-of-two-sinners", mature_ok=False)
    assert len(pool) == len(set(pool)) > 5
    starts = [
        (await library.excerpt("a-tale-of-two-sinners", mature_ok=False, channel=1)).start
        for _ in pool
    ]
    assert sorted(starts) == sorted(pool)  # each passage is the excerpt grown from its anchor
    again = await library.excerpt("a-tale-of-two-sinners", mature_ok=False, channel=1)
    assert again.start in pool


def test_shuffles_are_permutations() -> None:
    for seed in range(20):
        assert sorted(excerpts.shuffled(seed, 9, i) for i in range(9)) == list(range(9))


async def test_places_the_database_refuses_are_logged_at_error(
    library: Library, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """The database refuses the places (a trigger: it failed, it is not busy): the host must
    act, so the log says it at error, through the one helper (bot.errors.log_failure). Before:
    a warning, as for a database locked for a moment."""
    story = await library.find_story("breaking-alone", mature_ok=False)
    await refuse(settings, "reading_positions", "INSERT")
    with caplog.at_level(logging.WARNING):
        await library.readers.record_place(42, story, 3)
        await library.readers.settled()
    said = [r for r in caplog.records if r.name == "bot.readers"]
    assert [(r.levelno, r.exc_info) for r in said] == [(logging.ERROR, None)], said
    assert "1 reading place(s) not saved" in said[0].getMessage()
    assert WORDS in said[0].getMessage()
