"""Scene passages and scene search on real SQLite files (tests/search/test_scene_eval.py measures
how well it finds described scenes)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.library import Library
from bot.models import CONFIDENCES, SceneResult, Story
from bot.search import SceneSearch
from bot.search.scene import stem
from bot.store.passages import PASSAGE_CHARS, SEPARATOR, passages
from bot.store.sqlite import SQLiteStore
from bot.store.sqlite.schema import MIGRATIONS
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


async def scene_rows(store: SQLiteStore) -> list[tuple[int, int, int, int]]:
    rows = await store.db.execute_fetchall(
        "SELECT story_id, chapter, first_position, last_position FROM scenes"
        " ORDER BY story_id, first_position"
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


async def shared_groups(store: SQLiteStore) -> set[frozenset[tuple[int, int]]]:
    """The passages (story, first position) that share a scene text, group by group."""
    groups: dict[int, set[tuple[int, int]]] = {}
    for r in await store.db.execute_fetchall(
        "SELECT text_id, story_id, first_position FROM scenes"
    ):
        groups.setdefault(r[0], set()).add((r[1], r[2]))
    return {frozenset(g) for g in groups.values()}


async def check_scenes(store: SQLiteStore) -> None:
    """Every paragraph is in exactly one passage of its own chapter and scene, cut by the
    rule of ``passages``; the passages pointing at one scene text hold the same paragraph
    texts, every scene text is some passage's, and no run of texts is stored twice; the index agrees
    with the texts (integrity-check with rank 1 compares it with its content, the view; it
    raises if not)."""
    expected: list[tuple[int, int, int, int]] = []
    keys: dict[tuple[int, int], str] = {}
    for story in await store.list_stories():
        paragraphs = await store.paragraphs_between(story.id, 0, 10**9)
        rows = [(p.chapter, p.position, p.scene, p.text) for p in paragraphs]
        expected += [(story.id, *cut) for cut in passages(rows)]
        by_position = {p.position: p for p in paragraphs}
        text_ids = dict(
            await store.db.execute_fetchall(  # type: ignore[arg-type]
                "SELECT position, text_id FROM paragraphs WHERE story_id = ?", (story.id,)
            )
        )
        for chapter, first, last in await store.story_passages(story.id):
            inside = [by_position[i] for i in range(first, last + 1)]
            assert {(p.chapter, p.scene) for p in inside} == {(chapter, inside[0].scene)}
            keys[story.id, first] = ",".join(str(text_ids[i]) for i in range(first, last + 1))
    assert await scene_rows(store) == sorted(expected)
    pointed = await store.db.execute_fetchall(
        "SELECT story_id, first_position, text_id FROM scenes"
    )
    runs: dict[int, set[str]] = {}
    for r in pointed:
        runs.setdefault(r[2], set()).add(keys[r[0], r[1]])
    assert all(len(run) == 1 for run in runs.values()), "a scene text is one run of texts"
    assert len(runs) == len(set(keys.values())), "and no run is stored twice"
    unused = await store.db.execute_fetchall(
        "SELECT count(*) FROM scene_texts t WHERE NOT EXISTS"
        " (SELECT 1 FROM scenes s WHERE s.text_id = t.id)"
    )
    assert next(iter(unused))[0] == 0
    distinct = await store.db.execute_fetchall("SELECT count(*) FROM scene_texts")
    assert next(iter(distinct))[0] == len(set(keys.values()))
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


async def test_the_migrations_cut_and_share_existing_libraries_as_the_write_path_does(
    library: Library, stories_dir: Path
) -> None:
    shutil.copy(stories_dir / "001_d0cd0b5318a30a05.txt", stories_dir / "copy.txt")
    await library.ingest()
    written = await scene_rows(library.store)
    sharing = await shared_groups(library.store)
    assert any(len(g) == 2 for g in sharing), "the copy shares the original's passages"
    cut = next(m for m in MIGRATIONS if "CREATE TABLE scenes (" in m)
    share = next(m for m in MIGRATIONS if "CREATE TABLE scene_texts" in m)
    db = sqlite3.connect(library.store.path, isolation_level=None)
    try:
        db.executescript(
            "BEGIN; DROP TABLE scenes_fts; DROP VIEW scene_bodies; DROP TABLE scene_texts;"
            f" DROP TABLE scenes; {cut}; {share}; COMMIT;"
        )
    finally:
        db.close()
    assert await scene_rows(library.store) == written
    assert await shared_groups(library.store) == sharing
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
    store = await SQLiteStore.open(library.store.path, read_only=True)
    try:
        result = await SceneSearch(store).find("Tara ends it with Willow in the yard", stories)
        assert result.hits[0].story.file.startswith("000")
    finally:
        await store.close()


async def test_a_repeated_story_shares_its_passages_and_gives_one_hit_per_passage(
    library: Library, stories_dir: Path
) -> None:
    store = library.store
    texts_before = next(iter(await store.db.execute_fetchall("SELECT count(*) FROM scene_texts")))
    # Taking Steps (explicit) filed again under a name library.toml does not rate: general
    shutil.copy(stories_dir / "003_7455f1fa013af670.txt", stories_dir / "zz_copy.txt")
    with (stories_dir / "library.toml").open("a", encoding="utf-8") as toml:
        toml.write('\n["zz_copy.txt"]\nrating = "general"\n')  # a copy the host rated general
    await library.ingest()
    await check_scenes(store)
    texts_after = next(iter(await store.db.execute_fetchall("SELECT count(*) FROM scene_texts")))
    assert texts_after[0] == texts_before[0], "the copy adds no scene text"
    every = await library.stories(mature_ok=True)
    original = next(s for s in every if s.file.startswith("003"))
    copy = next(s for s in every if s.file == "zz_copy.txt")
    assert original.id < copy.id and not copy.mature
    query = "Tara and Spike pass a whiskey bottle back and forth on his ratty couch"

    found = await library.scene(query, mature_ok=True, limit=5)
    assert found.hits[0].story.id == original.id, "shown in the first story holding it"
    assert len({h.text for h in found.hits}) == len(found.hits), "one hit per passage text"
    # an ordinary channel may not see the original: the same passage, in the copy
    ordinary = await library.scene(query, mature_ok=False)
    assert ordinary.hits[0].story.id == copy.id
    assert ordinary.hits[0].text == found.hits[0].text
    scoped = await library.scene(query, copy.slug, mature_ok=False)
    assert {h.story.id for h in scoped.hits} == {copy.id}

    (stories_dir / original.file).unlink()
    await library.ingest()
    await check_scenes(store)
    after = await library.scene(query, mature_ok=True)
    assert after.hits[0].story.file == "zz_copy.txt"
    (stories_dir / "zz_copy.txt").unlink()
    await library.ingest()
    await check_scenes(store)
    gone = await store.db.execute_fetchall(
        "SELECT count(*) FROM scenes_fts WHERE scenes_fts MATCH 'whiskey AND ratty'"
    )
    assert next(iter(gone))[0] == 0


async def test_three_guesses_even_when_the_rarest_word_is_in_few_passages(
    library: Library,
) -> None:
    """ "Scrabble" is in two passages of the seeds: the commoner words find the third."""
    result = await library.scene("Spike cheats at Scrabble with demon words", mature_ok=True)
    assert len(result.hits) == 3
    assert (result.hits[0].story.slug, result.hits[0].chapter_label) == (
        "breaking-alone",
        "Part 10",
    )


def test_names_are_words_written_capitalised_inside_sentences() -> None:
    from bot.search.scene import _names, _uses

    text = "SPIKE ran. Then Spike's coat, spiked punch and Spike-ish looks; Willow_Spike. Spike"
    found = [text[a:b] for a, b in sorted(_uses(text, ["spike"]))]
    assert found == ["SPIKE", "Spike", "Spike", "Spike", "Spike"]
    texts = ["He saw Spike and the spike.", "Then Spike left and Spike came back, Buffy said."]
    assert _names(texts, ["spike", "buffy", "back"]) == {stem("spike")}
    odd = "İstanbul, said Spike to Spike"  # lower-casing "İ" moves every offset after it
    assert [odd[a:b] for a, b in _uses(odd, ["spike"])] == ["Spike", "Spike"]
