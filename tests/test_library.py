"""The door (bot/library.py) on a real SQLite file (or PostgreSQL with --engine): its scope (a
mature story is hidden outside an age-restricted channel through every entrance that lists,
names or searches stories), its wiring (one call per page turn, an ingest seen by every
service, the admin given the door's catalogue) and close() closing what the door opened."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from bot.errors import StoryBotError
from bot.library import Library
from bot.settings import Settings
from bot.store.errors import StoreClosed

EXPLICIT = "taking-steps"  # rated explicit by seeds/library.toml
QUOTE = "Walking through Sunnydale's most active cemetery late at night"  # only in it
SCENE = "Tara walks alone through the cemetery at night to Spike's crypt"
READER = 41


async def _found(call: Awaitable[object]) -> object | None:
    """What an entrance answers, or None when it refuses (a story it may not name here)."""
    try:
        return await call
    except StoryBotError:
        return None


async def _stories(lib: Library, ok: bool) -> bool:
    return any(s.slug == EXPLICIT for s in await lib.stories(mature_ok=ok))


async def _find_story(lib: Library, ok: bool) -> bool:
    return await _found(lib.find_story(EXPLICIT, mature_ok=ok)) is not None


async def _daily_story(lib: Library, ok: bool) -> bool:
    return (await lib.daily_story(EXPLICIT, mature_ok=ok)).story is not None


async def _suggest(lib: Library, ok: bool) -> bool:
    return any(s.slug == EXPLICIT for s in await lib.suggest("tak", mature_ok=ok))


async def _chapter(lib: Library, ok: bool) -> bool:
    return await _found(lib.chapter(EXPLICIT, "1", mature_ok=ok)) is not None


async def _pages(lib: Library, ok: bool) -> bool:
    return await _found(lib.pages(EXPLICIT, "1", mature_ok=ok)) is not None


async def _excerpt(lib: Library, ok: bool) -> bool:
    named = await _found(lib.excerpt(EXPLICIT, mature_ok=ok))
    lib.rng.seed(5)  # twenty draws over five stories: the explicit one comes up when it may
    drawn = [await lib.excerpt(mature_ok=ok) for _ in range(20)]
    any_drawn = any(e.story.slug == EXPLICIT for e in drawn)
    assert (named is not None) == any_drawn
    return any_drawn


async def _excerpt_pool(lib: Library, ok: bool) -> bool:
    return await _found(lib.excerpt_pool(EXPLICIT, mature_ok=ok)) is not None


async def _continue_after(lib: Library, ok: bool) -> bool:
    return await _found(lib.continue_after(EXPLICIT, 0, mature_ok=ok)) is not None


async def _turn_page(lib: Library, ok: bool) -> bool:
    return await _found(lib.turn_page(READER, EXPLICIT, "1", mature_ok=ok)) is not None


async def _reading_place(lib: Library, ok: bool) -> bool:
    await lib.turn_page(READER, EXPLICIT, "1", mature_ok=True)  # the only story read
    named = await _found(lib.reading_place(READER, EXPLICIT, mature_ok=ok))
    last = await _found(lib.reading_place(READER, mature_ok=ok))
    assert (named is None) == (last is None)
    return last is not None


async def _explicit_place(lib: Library) -> tuple[int, int]:
    story = await lib.find_story(EXPLICIT, mature_ok=True)
    return story.id, story.chapters[0].first


async def _add_bookmark(lib: Library, ok: bool) -> bool:
    story_id, position = await _explicit_place(lib)
    return await _found(lib.add_bookmark(READER, story_id, position, mature_ok=ok)) is not None


async def _bookmarks(lib: Library, ok: bool) -> bool:
    story_id, position = await _explicit_place(lib)
    await lib.add_bookmark(READER, story_id, position, mature_ok=True)
    shown, others = await lib.bookmarks(READER, mature_ok=ok)
    assert len(shown) + others == 1
    return bool(shown)


async def _bookmark_place(lib: Library, ok: bool) -> bool:
    story_id, position = await _explicit_place(lib)
    saved = await lib.add_bookmark(READER, story_id, position, mature_ok=True)
    return await _found(lib.bookmark_place(READER, saved.id, mature_ok=ok)) is not None


async def _check_quote(lib: Library, ok: bool) -> bool:
    return await _found(lib.check_quote(QUOTE, EXPLICIT, mature_ok=ok)) is not None


async def _quote(lib: Library, ok: bool) -> bool:
    named = await _found(lib.quote(QUOTE, EXPLICIT, mature_ok=ok))
    anywhere = await lib.quote(QUOTE, mature_ok=ok)
    found = any(h.story.slug == EXPLICIT for h in anywhere.hits)
    assert (named is not None) == found
    return found


async def _check_scene(lib: Library, ok: bool) -> bool:
    return await _found(lib.check_scene(SCENE, EXPLICIT, mature_ok=ok)) is not None


async def _scene(lib: Library, ok: bool) -> bool:
    named = await _found(lib.scene(SCENE, EXPLICIT, mature_ok=ok))
    anywhere = await lib.scene(SCENE, mature_ok=ok, limit=5)
    found = any(h.story.slug == EXPLICIT for h in anywhere.hits)
    assert (named is not None) == found
    return found


# Every entrance of the door that takes ``mature_ok``: whether it shows the explicit story.
SCOPED: dict[str, Callable[[Library, bool], Awaitable[bool]]] = {
    "stories": _stories,
    "find_story": _find_story,
    "daily_story": _daily_story,
    "suggest": _suggest,
    "chapter": _chapter,
    "pages": _pages,
    "excerpt": _excerpt,
    "excerpt_pool": _excerpt_pool,
    "continue_after": _continue_after,
    "turn_page": _turn_page,
    "reading_place": _reading_place,
    "add_bookmark": _add_bookmark,
    "bookmarks": _bookmarks,
    "bookmark_place": _bookmark_place,
    "check_quote": _check_quote,
    "quote": _quote,
    "check_scene": _check_scene,
    "scene": _scene,
}


def _scoped_entrances(library: Library) -> set[str]:
    names = set()
    for name in dir(library):
        entrance = getattr(library, name)
        if name.startswith("_") or not callable(entrance) or isinstance(entrance, type):
            continue
        if "mature_ok" in inspect.signature(entrance).parameters:
            names.add(name)
    return names


async def test_every_entrance_that_takes_a_scope_is_checked_here(library: Library) -> None:
    """A new entrance with ``mature_ok`` must join SCOPED, so its scope is tested below."""
    assert _scoped_entrances(library) == set(SCOPED)


@pytest.mark.parametrize("entrance", sorted(SCOPED))
async def test_a_mature_story_is_hidden_outside_nsfw_scope(library: Library, entrance: str) -> None:
    shows = SCOPED[entrance]
    assert not await shows(library, False), f"{entrance} showed an explicit story"
    assert await shows(library, True), f"{entrance} hid it where mature stories may be read"


async def test_next_on_a_chapters_last_page_is_one_call_with_page_place_and_neighbours(
    library: Library,
) -> None:
    _, pages = await library.pages("breaking-alone", "2", mature_ok=False)
    turn = await library.turn_page(
        READER, "breaking-alone", "2", len(pages), mature_ok=False, step=1
    )
    assert (turn.chapter.number, turn.page) == (3, 0)
    assert turn.position == turn.chapter.paragraphs[0].position
    assert turn.before and turn.after  # Part 2 before it, Part 4 after
    assert turn.pages[0] and turn.total == len(turn.pages)
    place = await library.reading_place(READER, mature_ok=False)  # recorded by the same call
    assert (place.story.slug, place.chapter, place.position) == ("breaking-alone", 3, turn.position)
    first = await library.turn_page(None, "breaking-alone", "1", mature_ok=False)
    assert not first.before and first.after  # the first chapter has nothing before it


async def test_an_ingest_is_seen_by_every_service_of_the_door(
    library: Library, stories_dir: Path
) -> None:
    before = {s.slug for s in await library.stories(mature_ok=False)}
    text = "Copy Cat\n\nChapter 1\n\n" + "The copy cat sat on the mat all day long. " * 40
    (stories_dir / "copy_cat.txt").write_text(text, encoding="utf-8")
    with (stories_dir / "library.toml").open("a", encoding="utf-8") as toml:
        toml.write('\n["copy_cat.txt"]\nrating = "general"\n')
    report = await library.ingest()
    assert report.added == ("copy_cat.txt",)
    assert {s.slug for s in await library.stories(mature_ok=False)} == before | {"copy-cat"}
    assert await library.excerpt_pool("copy-cat", mature_ok=False)
    hits = (await library.quote("the copy cat sat on the mat", mature_ok=False)).hits
    assert hits and hits[0].story.slug == "copy-cat"
    await library.admin.remove("copy-cat")  # the admin works on the door's own catalogue
    assert {s.slug for s in await library.stories(mature_ok=False)} == before


async def test_close_writes_the_places_stops_the_background_build_and_closes_the_store(
    settings: Settings,
) -> None:
    library = await Library.open(settings)
    await library.ingest()
    building = asyncio.Event()
    stopped: list[bool] = []

    async def endless_build(
        stories: object, *, retry: bool = False
    ) -> None:  # a scene index that never ends
        building.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            stopped.append(True)
            raise

    library.vectors.build = endless_build  # type: ignore[method-assign]
    await library.start_scene_index()
    await building.wait()
    turn = await library.turn_page(READER, "breaking-alone", "2", 1, mature_ok=False)
    await library.close()  # the place above is written behind: close waits for it
    assert stopped == [True] and not library.vectors.started
    with pytest.raises(StoreClosed):  # the store's own error, whichever the engine
        await library.store.list_stories()

    again = await Library.open(settings)
    try:
        place = await again.reading_place(READER, mature_ok=False)
        assert (place.chapter, place.position) == (2, turn.position)
    finally:
        await again.close()
