"""The golden quote lines and the scene descriptions' development half score the same on both
engines: the same library (the seeds and The Time Machine) ingested into SQLite and into
PostgreSQL answers every query with the same kind of match and the same hits, in the same
order (story, chapter, paragraph); scene search by words finds the same passages and says
it as surely. A difference is a fault of the PostgreSQL engine, never of this test."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.library import Library
from bot.models import SceneResult, SearchResult, Story
from bot.search import SceneSearch
from bot.settings import Settings
from tests import blind_eval
from tests.search.test_quote import EXACT, MISREMEMBERED, NOWHERE
from tests.search.test_quote_short import short_windows

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


@pytest.fixture
async def libraries(tmp_path: Path, pg_url: str) -> AsyncIterator[tuple[Library, Library]]:
    folder = tmp_path / "stories"
    shutil.copytree(SEEDS, folder)
    shutil.copy(blind_eval.NOVEL, folder / blind_eval.NOVEL.name)
    opened: list[Library] = []
    try:
        for name, url in (("sqlite", None), ("postgresql", pg_url)):
            settings = Settings(
                stories_dir=folder, data_dir=tmp_path / name, scene_model="off", database_url=url
            )
            library = await Library.open(settings)
            opened.append(library)
            await library.ingest()
        yield opened[0], opened[1]
    finally:
        for library in opened:
            await library.close()


def _quote(result: SearchResult) -> tuple[object, ...]:
    return (
        result.match,
        [(h.story.file, h.chapter, h.position, h.snippet, h.marks) for h in result.hits],
    )


def _scene(result: SceneResult) -> list[tuple[object, ...]]:
    return [(h.story.file, h.chapter, h.position, h.end, h.confidence) for h in result.hits]


async def _golden_lines(library: Library) -> list[str]:
    lines = [line for _, line in EXACT] + [typed for _, _, typed in MISREMEMBERED] + NOWHERE
    for _, really, typed in MISREMEMBERED:
        paragraph = (await library.quote(really, mature_ok=True)).hits[0].text
        lines += short_windows(typed, paragraph)
    return lines


async def test_golden_quotes_score_the_same_on_both_engines(
    libraries: tuple[Library, Library],
) -> None:
    lite, pg = libraries
    lines = await _golden_lines(lite)
    assert len(lines) > 100
    differ = []
    for line in lines:
        ours = _quote(await lite.quote(line, mature_ok=True, limit=5))
        theirs = _quote(await pg.quote(line, mature_ok=True, limit=5))
        if ours != theirs:
            differ.append(f"{line!r}:\n  sqlite     {ours}\n  postgresql {theirs}")
    assert not differ, f"{len(differ)} of {len(lines)} differ:\n" + "\n".join(differ)


async def test_golden_quotes_in_one_story_score_the_same(
    libraries: tuple[Library, Library],
) -> None:
    lite, pg = libraries
    for prefix, line in EXACT[::3]:
        stories: list[Story] = await lite.stories(mature_ok=True)
        story = next(s for s in stories if s.file.startswith(prefix + "_"))
        ours = _quote(await lite.quote(line, story.slug, mature_ok=True, limit=5))
        theirs = _quote(await pg.quote(line, story.slug, mature_ok=True, limit=5))
        assert ours == theirs, line


async def test_scene_dev_half_scores_the_same_on_both_engines(
    libraries: tuple[Library, Library],
) -> None:
    lite, pg = libraries
    scenes, absent = blind_eval.read(blind_eval.DEV)
    tallies = []
    answers = []
    for library in (lite, pg):
        stories = await library.stories(mature_ok=True)
        placed = await blind_eval.relocated(library, scenes)
        search = SceneSearch(library.store)
        tallies.append(await blind_eval.tally("words", search, stories, placed, absent))
        answers.append(
            [
                _scene(await search.find(d, stories, limit=3, every=True))
                for d in [s.description for s in scenes] + [a.description for a in absent]
            ]
        )
    differ = [
        f"{i}: sqlite {a}\n   postgresql {b}"
        for i, (a, b) in enumerate(zip(*answers, strict=True))
        if a != b
    ]
    assert not differ, f"{len(differ)} of {len(answers[0])} differ:\n" + "\n".join(differ)
    assert tallies[0].line().replace("words", "") == tallies[1].line().replace("words", "")
    assert tallies[0].found == tallies[1].found
