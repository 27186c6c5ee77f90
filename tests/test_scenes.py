"""Scene passages and scene search on real SQLite files (tests/test_scenes_eval.py measures
how well it finds described scenes)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.library import Library
from bot.models import CONFIDENCES, SceneResult, Story
from bot.scenes import SceneSearch, stem
from bot.store import Store
from bot.store.scenes import PASSAGE_CHARS, SEPARATOR, passages
from bot.store.schema import MIGRATIONS
from bot.text.normalize import words

HOSTILE = [
    '"',
    '""""',
    "*",
    "NEAR(spike willow)",
    'spike NEAR "willow',
    "AND OR NOT",
    "text:willow",
    "^spike",
    "willow*",
    "(((",
    "-- ; DROP TABLE scenes;",
    "😀🔥💀",
    "Спайк и Уиллоу",
    "\x00\x01",
    "spike " * 2000,
    "x" * 10_000,
    " ".join(f"w{i}" for i in range(3000)),
    "the the the and of",
]


async def scene_rows(store: Store) -> list[tuple[int, int, int, int]]:
    rows = await store.db.execute_fetchall(
        "SELECT story_id, chapter, first_position, last_position FROM scenes"
        " ORDER BY story_id, first_position"
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


async def check_scenes(store: Store) -> None:
    """Every paragraph is in exactly one passage of its own chapter and scene, cut by the
    rule of ``passages``; the index agrees with the passages' text (integrity-check with
    rank 1 compares it with its content, the view; it raises if not)."""
    expected: list[tuple[int, int, int, int]] = []
    for story in await store.list_stories():
        paragraphs = await store.paragraphs_between(story.id, 0, 10**9)
        rows = [(p.chapter, p.position, p.scene, p.text) for p in paragraphs]
        expected += [(story.id, *cut) for cut in passages(rows)]
        by_position = {p.position: p for p in paragraphs}
        for chapter, first, last in await store.story_passages(story.id):
            inside = [by_position[i] for i in range(first, last + 1)]
            assert {(p.chapter, p.scene) for p in inside} == {(chapter, inside[0].scene)}
    assert await scene_rows(store) == sorted(expected)
    await store.db.execute_fetchall(
        "INSERT INTO scenes_fts (scenes_fts, rank) VALUES ('integrity-check', 1)"
    )


def test_passages_cut_whole_paragraphs_of_one_scene_into_near_equal_runs() -> None:
    long_scene = [(1, i, 1, "x" * 300) for i in range(20)]  # 6,040 characters
    rows = [*long_scene, (1, 20, 2, "short scene"), (2, 21, 3, "another chapter")]
    cut = passages(rows)
    covered = [p for _, first, last in cut for p in range(first, last + 1)]
    assert covered == list(range(22)), "every paragraph once, in order"
    sizes = [sum(302 for _ in range(first, last + 1)) for _, first, last in cut[:-2]]
    assert len(sizes) == 5 and all(PASSAGE_CHARS * 0.66 < s < PASSAGE_CHARS * 1.4 for s in sizes)
    assert cut[-2:] == [(1, 20, 20), (2, 21, 21)], "scenes and chapters are never joined"
    assert passages([(1, 0, 1, "one long paragraph " * 500)]) == [(1, 0, 0)]


async def test_seed_passages_are_consistent(library: Library) -> None:
    await check_scenes(library.store)
    assert len(await scene_rows(library.store)) > 100


async def test_the_migration_cuts_existing_libraries_as_the_write_path_does(
    library: Library, tmp_path: Path
) -> None:
    written = await scene_rows(library.store)
    step = next(m for m in MIGRATIONS if "CREATE TABLE scenes" in m)
    db = sqlite3.connect(library.store.path, isolation_level=None)
    try:
        db.executescript(
            "BEGIN; DROP TABLE scenes_fts; DROP VIEW scene_texts; DROP TABLE scenes;"
            f"{step}; COMMIT;"
        )
    finally:
        db.close()
    assert await scene_rows(library.store) == written
    await check_scenes(library.store)


async def test_an_edited_story_has_its_new_passages_only(
    library: Library, stories_dir: Path
) -> None:
    path = stories_dir / "004_6bfeca38034b4c2d.txt"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("refrigerator", "zanzibarfridge"), encoding="utf-8")
    report = await library.ingest()
    assert report.changed == ("004_6bfeca38034b4c2d.txt",)
    await check_scenes(library.store)
    stories = await library.stories(mature_ok=True)
    search = SceneSearch(library.store)
    found = await search.find("Willow opens the zanzibarfridge", stories)
    assert found.hits[0].story.file == "004_6bfeca38034b4c2d.txt"
    assert "zanzibarfridge" in found.hits[0].text
    old = await library.store.db.execute_fetchall(
        "SELECT count(*) FROM scenes_fts WHERE scenes_fts MATCH 'refrigerator'"
    )
    assert next(iter(old))[0] == 0


async def test_a_removed_story_leaves_no_passage(library: Library, stories_dir: Path) -> None:
    gone = next(s for s in await library.stories(mature_ok=True) if s.file.startswith("004"))
    (stories_dir / gone.file).unlink()
    assert (await library.ingest()).removed == (gone.file,)
    assert all(r[0] != gone.id for r in await scene_rows(library.store))
    await check_scenes(library.store)
    found = await SceneSearch(library.store).find(
        "Willow looks in the fridge for blood", await library.stories(mature_ok=True)
    )
    assert found.hits and all(h.story.id != gone.id for h in found.hits)


async def test_search_stays_within_the_stories_given(library: Library) -> None:
    every = await library.stories(mature_ok=True)
    search = SceneSearch(library.store)
    query = "Tara and Spike pass a whiskey bottle back and forth on his ratty couch"
    assert (await search.find(query, every)).hits[0].story.file.startswith("003")
    ordinary = await library.stories(mature_ok=False)
    assert all(not s.mature for s in ordinary) and len(ordinary) < len(every)
    hits = (await search.find(query, ordinary, limit=5)).hits
    assert hits and {h.story.id for h in hits} <= {s.id for s in ordinary}
    one = [s for s in every if s.file.startswith("000")]
    assert {h.story.id for h in (await search.find(query, one)).hits} == {one[0].id}
    assert (await search.find(query, [])).hits == ()


async def test_hits_carry_their_place_snippet_and_match_ranges(library: Library) -> None:
    stories = await library.stories(mature_ok=True)
    result = await SceneSearch(library.store).find(
        "Spike browsing poetry in a bookshop meets Buffy", stories
    )
    assert len(result.hits) == 3
    for hit in result.hits:
        assert hit.confidence in CONFIDENCES
        assert hit.chapter_label == _label(hit.story, hit.chapter)
        paragraphs = await library.store.paragraphs_between(hit.story.id, hit.position, hit.end)
        assert SEPARATOR.join(p.text for p in paragraphs) == hit.text
        assert len(hit.snippet) <= 310
        assert hit.snippet.strip("…") in hit.text
        wanted = {stem(w) for w in words(result.query)}
        for start, end in hit.marks:
            assert 0 <= start < end <= len(hit.snippet)
            assert all(stem(w) in wanted for w in words(hit.snippet[start:end]))
    best = result.hits[0]
    assert best.story.file.startswith("001")
    assert [best.snippet[a:b] for a, b in best.marks][:1] == ["Spike"]


def _label(story: Story, chapter: int) -> str:
    info = story.chapter_info(chapter)
    assert info is not None
    return info.label


async def test_a_weak_match_is_offered_as_a_long_shot(library: Library) -> None:
    stories = await library.stories(mature_ok=True)
    search = SceneSearch(library.store)
    far = await search.find("sailors harpoon a white whale from a rowing boat", stories)
    assert far.hits and all(h.confidence == "long shot" for h in far.hits)
    only_small_words = await search.find("the the and of it", stories)
    assert all(h.confidence == "long shot" for h in only_small_words.hits)


async def test_hostile_queries_get_an_answer(library: Library) -> None:
    stories = await library.stories(mature_ok=True)
    search = SceneSearch(library.store)
    for query in HOSTILE:
        result = await search.find(query, stories)
        assert isinstance(result, SceneResult) and result.query == query
        assert len(result.hits) <= 3
    assert (await search.find('NEAR "Willow" * Faith', stories)).hits, "the words still count"


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(max_size=200))
async def test_no_query_raises(library: Library, query: str) -> None:
    stories = await library.stories(mature_ok=True)
    result = await SceneSearch(library.store).find(query, stories)
    assert len(result.hits) <= 3


async def test_search_works_on_a_read_only_database(library: Library) -> None:
    stories = await library.stories(mature_ok=True)
    store = await Store.open(library.store.path, read_only=True)
    try:
        result = await SceneSearch(store).find("Tara ends it with Willow in the yard", stories)
        assert result.hits[0].story.file.startswith("000")
    finally:
        await store.close()
