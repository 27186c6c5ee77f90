"""Scene search against hand-written descriptions (tests/scenes/descriptions.toml).

Prints right chapter in the top 1 / top 3 (run with ``-s`` to see it) and fails when either
falls below its floor, so a ranking change that loses scenes shows up here. The Time
Machine's descriptions read the novel from tests/fixtures/corpus.
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from bot.library import Library
from bot.search import SceneSearch, embedding
from bot.search.vectors import SceneVectors
from bot.settings import Settings
from bot.text.normalize import word_spans, words
from tests import blind_eval
from tests.vector_cache import CachedEmbedder

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
DESCRIPTIONS = ROOT / "tests" / "scenes" / "descriptions.toml"
CORPUS = [ROOT / "tests" / "fixtures" / "corpus"]

# Floors a little under what the ranking reaches (see the report), so a regression fails.
TOP1_FLOOR = 0.70
TOP3_FLOOR = 0.85


def _data() -> dict[str, list[dict[str, object]]]:
    return tomllib.loads(DESCRIPTIONS.read_text(encoding="utf-8"))


def _source(file: str) -> Path | None:
    if (SEEDS / file).exists():
        return SEEDS / file
    for folder in CORPUS:
        if str(folder) and (folder / file).exists():
            return folder / file
    return None


def copied_runs(description: str, story_text: str) -> list[str]:
    """Runs of three consecutive words of the description found in the story, leaving out
    runs that hold a name (a word the description capitalises)."""
    story_words = words(story_text)
    story_runs = {tuple(story_words[i : i + 3]) for i in range(len(story_words) - 2)}
    spans = word_spans(description)
    out: list[str] = []
    for i in range(len(spans) - 2):
        run = spans[i : i + 3]
        if any(description[s].isupper() for s, _, _ in run):
            continue
        if tuple(w for _, _, w in run) in story_runs:
            out.append(" ".join(w for _, _, w in run))
    return out


def test_the_set_is_big_enough_and_points_at_real_stories() -> None:
    data = _data()
    assert len(data["scene"]) >= 30
    assert len(data["absent"]) >= 5
    for entry in data["scene"]:
        assert isinstance(entry["chapter"], int)
        assert str(entry["file"]).endswith(".txt")


def test_descriptions_copy_no_three_words_from_their_story() -> None:
    copied: list[str] = []
    for entry in _data()["scene"]:
        source = _source(str(entry["file"]))
        if source is None:
            continue
        text = source.read_text(encoding="utf-8-sig", errors="replace")
        copied += [f"{entry['text']!r}: {run!r}" for run in copied_runs(str(entry["text"]), text)]
    assert not copied, "\n".join(copied)


@pytest.fixture
async def scene_library(tmp_path: Path):
    folder = tmp_path / "stories"
    shutil.copytree(SEEDS, folder)
    novel = _source("the_time_machine.txt")
    if novel is not None:
        shutil.copy(novel, folder / novel.name)
    lib = await Library.open(Settings(stories_dir=folder, data_dir=tmp_path / "data"))
    await lib.ingest()
    try:
        yield lib
    finally:
        await lib.close()


async def test_scene_search_finds_described_scenes(scene_library: Library) -> None:
    stories = await scene_library.stories(mature_ok=True)
    by_file = {s.file: s for s in stories}
    search = SceneSearch(scene_library.store)
    data = _data()
    top1 = top3 = asked = 0
    misses: list[str] = []
    for entry in data["scene"]:
        story = by_file.get(str(entry["file"]))
        if story is None:
            continue  # the novel is not here
        asked += 1
        result = await search.find(str(entry["text"]), stories, limit=3)
        places = [(h.story.file, h.chapter) for h in result.hits]
        wanted = (story.file, entry["chapter"])
        top1 += places[:1] == [wanted]
        top3 += wanted in places
        if wanted not in places:
            misses.append(f"  {entry['text']!r}: wanted {wanted}, got {places}")
    labels: list[str] = []
    for entry in data["absent"]:
        result = await search.find(str(entry["text"]), stories, limit=3)
        assert result.hits, "a description always gets guesses"
        labels.append(result.hits[0].confidence)
    print(
        f"\nscene search: {asked} descriptions, right chapter top 1: {top1}/{asked}"
        f" ({top1 / asked:.0%}), top 3: {top3}/{asked} ({top3 / asked:.0%});"
        f" absent scenes labelled {labels}"
    )
    print("\n".join(misses))
    assert top1 / asked >= TOP1_FLOOR
    assert top3 / asked >= TOP3_FLOOR


# ---- the blind descriptions: development figures beside words alone (make eval) ----------

HELDOUT_TOP3 = 0.85  # the goals on held-out descriptions
HELDOUT_TOP1 = 0.65
CLOSE_PRECISION = 0.90
# The second set, held out, at its one run (rules unchanged since): the hybrid put the right
# chapter first for 38 of 66 and in the top 3 for 49 (words alone: 31 and 45); its 2 close
# matches were right; 2 of 16 absent scenes were called close matches, and 1 scene words
# alone found in the top 3 was lost. The goals above are missed there (top-3 74%, top-1 58%,
# absent close and the lost scene): reported, not tuned away. The floors below stand a
# little under what it reached, so a regression fails; the last two record what was
# measured and are not to be raised, only brought down to 0.
HELD_TOP3_FLOOR = 47  # of 66
HELD_TOP1_FLOOR = 36
HELD_ABSENT_CLOSE = 2
HELD_DROPPED = 1
# Development data: both files of the first blind set. Its held-out half was looked at twice
# (the second time after rules chosen on the development half were added), so from then on
# it is development data too; the rules now in bot/search/scene.py were chosen on both.
DEVELOPMENT = (blind_eval.DEV, blind_eval.HELDOUT)


@pytest.fixture
async def blind_library(tmp_path: Path):
    """Seeds and The Time Machine, with vectors built by the bot's own build path (the
    model's answers cached outside the repository, tests/vector_cache.py)."""
    model = embedding.load("e5")
    if model is None:
        pytest.skip("no scene model on this platform")
    folder = tmp_path / "stories"
    shutil.copytree(SEEDS, folder)
    shutil.copy(blind_eval.NOVEL, folder / blind_eval.NOVEL.name)
    settings = Settings(stories_dir=folder, data_dir=tmp_path / "data", scene_model="off")
    lib = await Library.open(settings)
    await lib.ingest()
    cached = CachedEmbedder.around(model)
    vectors = SceneVectors(lib.store, model=cached, budget_mb=100)
    stories = await lib.stories(mature_ok=True)
    await vectors.build(stories)
    assert (await vectors.status(stories)).done
    try:
        yield lib, vectors, stories
    finally:
        cached.save()
        await lib.close()


def test_the_blind_halves_are_apart_and_big_enough() -> None:
    dev, dev_absent = blind_eval.read(blind_eval.DEV)
    held, held_absent = blind_eval.read(blind_eval.HELDOUT)
    assert len(dev) + len(held) >= 120 and len(dev_absent) + len(held_absent) >= 20
    assert not {s.description for s in dev} & {s.description for s in held}
    assert abs(len(dev) - len(held)) <= len({s.file for s in dev + held})
    for scene in dev + held:
        assert scene.chapter >= 1 and scene.anchor and scene.description


async def _compare(lib, vectors, stories, paths) -> tuple[blind_eval.Tally, list[str], list[str]]:
    """The hybrid and words alone on the descriptions of ``paths``: the hybrid's tally, the
    report's lines, and the descriptions words alone found in the top 3 and the hybrid lost."""
    scenes: list[blind_eval.Scene] = []
    absent: list[blind_eval.Absent] = []
    for path in paths:
        more, none = blind_eval.read(path)
        scenes += await blind_eval.relocated(lib, more)
        absent += none
    hybrid = await blind_eval.tally(
        "hybrid", SceneSearch(lib.store, vectors), stories, scenes, absent
    )
    lexical = await blind_eval.tally("words", SceneSearch(lib.store), stories, scenes, absent)
    assert hybrid.found is not None and lexical.found is not None
    lost = [scenes[i].description for i in sorted(lexical.found - hybrid.found)]
    lines = [
        f"  {hybrid.line()}",
        f"  {lexical.line()}",
        f"  found by words alone in the top 3, not by the hybrid: {lost}",
    ]
    return hybrid, lines, lost


def test_the_second_held_out_set_is_new_and_copies_no_three_words() -> None:
    held, held_absent = blind_eval.read(blind_eval.HELDOUT_2)
    assert len(held) >= 60 and len(held_absent) >= 10
    first: set[str] = set()
    for path in DEVELOPMENT:
        scenes, absent = blind_eval.read(path)
        first |= {s.description for s in scenes} | {a.description for a in absent}
    assert not first & ({s.description for s in held} | {a.description for a in held_absent})
    copied: list[str] = []
    for scene in held:
        source = _source(scene.file)
        assert source is not None and scene.chapter >= 1 and scene.anchor
        text = source.read_text(encoding="utf-8-sig", errors="replace")
        copied += [
            f"{scene.description!r}: {run!r}" for run in copied_runs(scene.description, text)
        ]
    assert not copied, "\n".join(copied)


async def test_blind_scene_descriptions(blind_library) -> None:
    lib, vectors, stories = blind_library
    held, held_lines, held_lost = await _compare(lib, vectors, stories, [blind_eval.HELDOUT_2])
    dev, lines, lost = await _compare(lib, vectors, stories, DEVELOPMENT)
    print(
        f"\nscene search on the blind descriptions\nheld out (the second set, {held.asked}"
        f" scenes, {held.absent} absent; never tuned on):\n"
        + "\n".join(held_lines)
        + f"\ndevelopment (the first set, {dev.asked} scenes, {dev.absent} absent):\n"
        + "\n".join(lines)
    )
    assert dev.absent_close == 0 and not lost
    assert dev.close_right >= CLOSE_PRECISION * dev.close
    goals = {
        f"top-3 >= {HELDOUT_TOP3:.0%}": held.top3 >= HELDOUT_TOP3 * held.asked,
        f"top-1 >= {HELDOUT_TOP1:.0%}": held.top1 >= HELDOUT_TOP1 * held.asked,
        f"close-match precision >= {CLOSE_PRECISION:.0%}": held.close_right
        >= CLOSE_PRECISION * held.close,
        "no absent scene called close match": held.absent_close == 0,
        "no scene words alone found in the top 3 lost": not held_lost,
    }
    print(
        "goals on the held-out set: "
        + "; ".join(f"{g}: {'met' if ok else 'MISSED'}" for g, ok in goals.items())
    )
    assert held.top3 >= HELD_TOP3_FLOOR and held.top1 >= HELD_TOP1_FLOOR
    assert held.close_right >= CLOSE_PRECISION * held.close
    assert held.absent_close <= HELD_ABSENT_CLOSE
    assert len(held_lost) <= HELD_DROPPED
