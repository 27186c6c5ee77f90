"""Scene search against hand-written descriptions (tests/scenes/descriptions.toml).

Prints right chapter in the top 1 / top 3 (run with ``-s`` to see it) and fails when either
falls below its floor, so a ranking change that loses scenes shows up here. The Time
Machine's descriptions read the novel from tests/fixtures/corpus.
"""

from __future__ import annotations

import re
import shutil
import tomllib
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pytest

from bot.library import Library
from bot.search import SceneSearch, embedding
from bot.search.scene import (
    CLOSE_LEAD,
    CLOSE_MEANING_LEAD,
    CLOSE_NAME_SHARE,
    CLOSE_WORDS_LEAD,
    Evidence,
)
from bot.search.vectors import SceneVectors
from bot.settings import Settings
from bot.text.normalize import word_spans, words
from tests import blind_eval, scene_labels
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


# a word as its reader counts it: a contraction or a possessive is one ("she's", "well's");
# U+FFFD stands for an apostrophe lost to a wrong encoding in a seed. A hyphen still splits
# ("well-known" is two words, as the tokenizer has it), so "a well known man" copies it.
READER_WORD = re.compile(r"[^\W_]+(?:['\u2019\ufffd][^\W_]+)*")


def copied_runs(
    description: str, story_text: str, *, whole_contractions: bool = False
) -> list[str]:
    """Runs of three consecutive words of the description found in the story, leaving out
    runs that hold a name (a word the description capitalises). Words are the tokenizer's
    ("she's" is "she s"), or with whole_contractions a reader's: a contraction or possessive
    is one word, so "she's been" is two words and "doesn't love him" is not a copy of
    "didn't love him"."""
    split = _reader_words if whole_contractions else word_spans
    story_words = [w for _, _, w in split(story_text)] if whole_contractions else words(story_text)
    story_runs = {tuple(story_words[i : i + 3]) for i in range(len(story_words) - 2)}
    spans = split(description)
    out: list[str] = []
    for i in range(len(spans) - 2):
        run = spans[i : i + 3]
        if any(description[s].isupper() for s, _, _ in run):
            continue
        if tuple(w for _, _, w in run) in story_runs:
            out.append(" ".join(w for _, _, w in run))
    return out


def _reader_words(text: str) -> list[tuple[int, int, str]]:
    """(start, end, word) of each word as a reader counts them, lower case, any apostrophe
    written as '."""
    return [
        (m.start(), m.end(), re.sub("[\u2019\ufffd]", "'", m.group().lower()))
        for m in READER_WORD.finditer(text)
    ]


def test_the_set_is_big_enough_and_points_at_real_stories() -> None:
    data = _data()
    assert len(data["scene"]) >= 30
    assert len(data["absent"]) >= 5
    for entry in data["scene"]:
        assert isinstance(entry["chapter"], int)
        assert str(entry["file"]).endswith(".txt")


def test_a_contraction_counts_as_one_word_only_when_asked() -> None:
    story = "She's been waiting all night, and she's so tired."
    assert copied_runs("by then she's been gone", story) == ["she s been"]
    assert copied_runs("by then she's been gone", story, whole_contractions=True) == []
    # three whole words are still three: "she's been waiting" is copied either way
    assert copied_runs("she's been waiting", story, whole_contractions=True) == [
        "she's been waiting"
    ]
    # a run that starts inside a contraction or a possessive is not a reader's run
    told = "Buffy didn\u2019t love him. He got over the well-mouth, a well-known place."
    for said in ("that buffy doesn't love him", "he climbs over the well's rim"):
        assert copied_runs(said, told) and not copied_runs(said, told, whole_contractions=True)
    # a hyphen splits words for a reader too: the well-known place is copied either way
    for said in ("over the well mouth", "a well known place"):
        assert copied_runs(said, told, whole_contractions=True) == copied_runs(said, told)
        assert copied_runs(said, told)


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


# ---- the blind descriptions: figures per set beside words alone (make eval) ---------------

HELDOUT_TOP3 = 0.85  # the goals on held-out descriptions
HELDOUT_TOP1 = 0.65
CLOSE_PRECISION = 0.90
# Development data, per file: all nineteen blind sets (the fusion's numbers in bot/search/scene.py
# were chosen on the first four, each also chosen on three sets and tried on the fourth; the
# answers' order (RERANK_COSINE) on the first five, leaving one set out; the sixth was run once as
# held out, then joined them, and so did the seventh to the nineteenth; the words' answers kept
# (KEPT_COSINE) on fifteen and the labels' thresholds on sixteen, both unchanged on all seventeen
# to nineteen, each also chosen leaving one set out; the chapter's length in the answers' order,
# RERANK_LENGTH, on eighteen and nineteen). Floors a little under what the ranking reaches there
# (docs/internals.md), so a regression fails: (top-1, top-3, close matches on the right chapter)
# of each file's scenes, by the hybrid. The close-match floors fell with the stricter label (12
# close matches in all, each right, where 104 of 112 were with the rule before, three of the
# others on scenes in no story), and again when the sixth set joined (CLOSE_WORDS_LEAD 0.22 ->
# 0.31: 10 close matches, each right, where 22 of 22 were). They rose with the rule of the eighth
# set (a description naming no one, with meaning's lead: 66 close matches, 64 right, where 6 of 6
# were), fell with the ninth's wider margins (35 close matches, each right), and moved with the
# tenth's rule (the words' lead in place of meaning's: 36 close matches, 35 right; 38, 37 right,
# with the eleventh set; 41, 40 right, with the twelfth; 43, 42 right, with the thirteenth; 44, 43
# right, with the fourteenth; with the fifteenth and KEPT_COSINE, meaning's lead back at 0.01: 38,
# each right; with the sixteenth, the words' lead 0.22 and meaning's 0 again: 41, 40 right; 44, 43
# right, with the seventeenth; 49, 48 right, with the eighteenth; 52, 51 right, with the
# nineteenth). The top-1 and top-3 floors fell with KEPT_COSINE (on all fifteen 1,522 and 1,855 of
# 2,263 where the rule before gave 1,530 and 1,903, for 2 scenes lost where it lost 19).
FLOORS = {
    blind_eval.DEV.name: (83, 99, 2),  # of 119 (85, 101, 3 of 4)
    blind_eval.HELDOUT.name: (83, 98, 5),  # of 116 (84, 100, 6 of 6)
    blind_eval.HELDOUT_2.name: (36, 44, 0),  # of 66 (39, 46, 0 of 0)
    blind_eval.HELDOUT_3.name: (52, 62, 0),  # of 72 (56, 64, 0 of 0)
    # run once as held out (2026-12-02 14:53 UTC): 76 and 89, 25 close right of 29, 3 of 30
    # scenes in no story called close match, 2 lost; then development data
    blind_eval.HELDOUT_4.name: (77, 90, 0),  # of 110 (79, 92, 0 of 0)
    # run once as held out (2026-12-02 21:22 UTC, main 3ca06f1): top-1 87, top-3 116, close
    # match 4 right of 4, 0 of 33 scenes in no story called close match, 5 lost; then
    # development data
    blind_eval.HELDOUT_5.name: (91, 115, 2),  # of 140 (95, 117, 3 of 3)
    # run once as held out (2026-12-02 23:45 UTC, main c64e26f): top-1 117, top-3 142, close
    # match 6 right of 6, 0 of 38 scenes in no story called close match, 2 lost; then
    # development data
    blind_eval.HELDOUT_6.name: (118, 141, 5),  # of 170 (123, 143, 6 of 6)
    # run once as held out (2026-12-03 06:12 UTC, main 20e214f): top-1 85, top-3 110, close
    # match 2 right of 2, 0 of 38 scenes in no story called close match, 0 lost; then
    # development data
    blind_eval.HELDOUT_7.name: (85, 104, 0),  # of 138 (89, 106, 1 of 1)
    # run once as held out (2026-12-03 08:16 UTC, main 7123322): top-1 113, top-3 142, close
    # match said for none, 0 of 40 scenes in no story called close match, 2 lost; then
    # development data (under the rule chosen on the other seven sets then, close match 9 right
    # of 11, none of the 40 in no story)
    blind_eval.HELDOUT_8.name: (112, 137, 2),  # of 174 (115, 139, 3 of 3)
    # run once as held out (2026-12-03 12:00 UTC, main c2ba182): top-1 114, top-3 144, close
    # match 15 right of 15 (and 1 of 40 scenes in no story called close match), 2 lost; then
    # development data
    blind_eval.HELDOUT_9.name: (112, 139, 4),  # of 165 (115, 141, 5 of 5)
    # run once as held out (2026-12-03 12:28 UTC, main fa59ac8): top-1 109, top-3 151, close
    # match 3 right of 3, 0 of 38 scenes in no story called close match, 3 lost; then
    # development data
    blind_eval.HELDOUT_10.name: (108, 146, 0),  # of 202 (110, 148, 1 of 1)
    # run once as held out (2026-12-03 14:41 UTC, main a2f188d): top-1 107, top-3 136, close
    # match 2 right of 2, 0 of 38 scenes in no story called close match, 3 lost; then
    # development data
    blind_eval.HELDOUT_11.name: (103, 130, 1),  # of 167 (108, 132, 2 of 2)
    # run once as held out (2026-12-03 15:14 UTC, main 1fc7acb): top-1 98, top-3 124, close
    # match 3 right of 3, 0 of 40 scenes in no story called close match, 1 lost; then
    # development data
    blind_eval.HELDOUT_12.name: (97, 119, 1),  # of 154 (99, 121, 2 of 2)
    # run once as held out (2026-12-03 18:06 UTC, main b6711fe): top-1 108, top-3 128, close
    # match 2 right of 2, 0 of 37 scenes in no story called close match, 4 lost; then
    # development data
    blind_eval.HELDOUT_13.name: (107, 129, 0),  # of 160 (107, 131, 1 of 1)
    # run once as held out (2026-12-03 18:34 UTC, main 99dcea9): top-1 108, top-3 131, close
    # match 1 right of 1, 0 of 39 scenes in no story called close match, 2 lost; then
    # development data
    blind_eval.HELDOUT_14.name: (106, 129, 0),  # of 148 (107, 131, 1 of 1)
    # run once as held out (2026-12-03 19:08 UTC, main ba0560c): top-1 122, top-3 146, close
    # match 4 right of 4, 0 of 39 scenes in no story called close match, 1 lost; then
    # development data
    # RERANK_LENGTH (the chapter's length in the answers' order) moved four of its right first
    # answers to second place (122 -> 118) while the nineteen sets together gained 14
    blind_eval.HELDOUT_15.name: (116, 141, 2),  # of 162 (118, 143, 3 of 3)
    # run once as held out (2026-12-03 21:43 UTC, main e12c71f): top-1 108, top-3 132, close
    # match 1 right of 1, 0 of 37 scenes in no story called close match, none lost; then
    # development data
    blind_eval.HELDOUT_16.name: (106, 130, 2),  # of 155 (107, 132, 3 of 3)
    # run once as held out (2026-12-03 21:55 UTC, main e817f80): top-1 104, top-3 132, close
    # match 3 right of 3, 0 of 38 scenes in no story called close match, none lost; then
    # development data
    blind_eval.HELDOUT_17.name: (102, 130, 2),  # of 166 (107, 132, 3 of 3)
    # run once as held out (2026-12-03 22:07 UTC, main baca7a1): top-1 111, top-3 138, close
    # match 5 right of 5, 0 of 38 scenes in no story called close match, none lost; then
    # development data
    blind_eval.HELDOUT_18.name: (109, 136, 4),  # of 180 (113, 138, 5 of 5)
    # run once as held out (2026-12-03 23:45 UTC, main 34c4889): top-1 97, top-3 122, close
    # match 3 right of 3, 0 of 37 scenes in no story called close match, none lost; then
    # development data, with RERANK_LENGTH
    blind_eval.HELDOUT_19.name: (98, 120, 2),  # of 151 (100, 122, 3 of 3)
}
# close match on the development sets together: 51 right of 52 (with the thresholds chosen on all
# nineteen sets, after KEPT_COSINE and RERANK_LENGTH; each set left out, under those chosen on the
# others, the same; on eighteen 48 of 49, 46 of 47 left out; on seventeen 43 of 44, 41 of 42 left
# out; on sixteen 40 of 41, 38 of 39 left out; on fifteen 38 of 38, 36 of 36 left out; before
# KEPT_COSINE, on fourteen, 43 right of 44, and 42 of 43 left out; the nineteenth's held-out run,
# under those chosen on eighteen, 3 of 3; the eighteenth's held-out run, under those chosen on
# seventeen, 5 of 5; the seventeenth's held-out run, under those chosen on sixteen, 3 of 3; the
# sixteenth's, under those chosen on fifteen, 1 of 1; the fifteenth's, under those chosen on
# fourteen, 4 of 4; the fourteenth's, under those chosen on thirteen, 1 of 1; the thirteenth's,
# under those chosen on twelve, 2 of 2; the twelfth's, under those chosen on eleven, 3 of 3; the
# eleventh's, under those chosen on ten, 2 of 2; the tenth's, under those chosen on nine, 3 of 3;
# the ninth's, under those chosen on eight, 15 right of 16 with one scene in no story; the
# eighth's, under those chosen on seven, none said; the seventh's 2 of 2; the sixth's 6 of 6)
DEVELOPMENT_CLOSE_PRECISION = 0.95
# Scenes words alone had in the top 3 and the hybrid does not: nineteen on the fifteen sets
# while the words' second and third chapters kept their place only when meaning put them among
# its first eight chapters (their held-out runs lost them); two since they keep it when
# meaning's nearest passage in their chapter is within KEPT_COSINE of its nearest of all: the
# eleventh set's and the twelfth's, 0.030 and 0.035 below.
LOST = {
    blind_eval.HELDOUT_11.name: 1,
    blind_eval.HELDOUT_12.name: 1,
}
DEVELOPMENT = blind_eval.DEVELOPMENT


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
        f"  absent scenes the hybrid called close match: {hybrid.called_close}",
    ]
    return hybrid, lines, lost


HELD_OUT = [
    blind_eval.HELDOUT_2,
    blind_eval.HELDOUT_3,
    blind_eval.HELDOUT_4,
    blind_eval.HELDOUT_5,
    blind_eval.HELDOUT_6,
    blind_eval.HELDOUT_7,
    blind_eval.HELDOUT_8,
    blind_eval.HELDOUT_9,
    blind_eval.HELDOUT_10,
    blind_eval.HELDOUT_11,
    blind_eval.HELDOUT_12,
    blind_eval.HELDOUT_13,
    blind_eval.HELDOUT_14,
    blind_eval.HELDOUT_15,
    blind_eval.HELDOUT_16,
    blind_eval.HELDOUT_17,
    blind_eval.HELDOUT_18,
    blind_eval.HELDOUT_19,
    blind_eval.HELDOUT_20,
    blind_eval.HELDOUT_21,
    blind_eval.HELDOUT_22,
]
# each later set's size as its writer delivered it (a file cut short or read wrong would have
# fewer)
LEAST = {
    blind_eval.HELDOUT_2: (60, 10),
    blind_eval.HELDOUT_3: (72, 20),
    blind_eval.HELDOUT_4: (110, 30),
    blind_eval.HELDOUT_5: (140, 33),
    blind_eval.HELDOUT_6: (170, 38),
    blind_eval.HELDOUT_7: (138, 38),
    blind_eval.HELDOUT_8: (174, 40),
    blind_eval.HELDOUT_9: (165, 40),
    blind_eval.HELDOUT_10: (202, 38),
    blind_eval.HELDOUT_11: (167, 38),
    blind_eval.HELDOUT_12: (154, 40),
    blind_eval.HELDOUT_13: (160, 37),
    blind_eval.HELDOUT_14: (148, 39),
    blind_eval.HELDOUT_15: (162, 39),
    blind_eval.HELDOUT_16: (155, 37),
    blind_eval.HELDOUT_17: (166, 38),
    blind_eval.HELDOUT_18: (180, 38),
    blind_eval.HELDOUT_19: (151, 37),
    blind_eval.HELDOUT_20: (181, 37),
    blind_eval.HELDOUT_21: (172, 37),
    blind_eval.HELDOUT_22: (163, 39),
}


# Runs of three words a writer's file shares with the story, kept as written (the set was run
# as written): the sixth writer's check counted "doesn't" as two words and missed this one.
ALLOWED_RUNS = {blind_eval.HELDOUT_6: {"she doesn't hate"}}
# Descriptions a later set shares word for word with an earlier one, kept as written (the set
# was run as written): the fourteenth writer, who saw no earlier set, chose the same famous
# scene in no story as the tenth's writer, in the same seven words; the fifteenth's, the same
# seven vague words for the opening of 004 as the sixth's; the eighteenth's, three (a scene in
# no story as the fifteenth's, a misremembered one as the seventeenth's, a named one as the
# sixth's: writers of one model, briefed alike, given the same stories); the twenty-second's, one
# as the tenth's (a vague one of 002). Anything else repeated means a file copied from an
# earlier set.
ALLOWED_REPEATS = {
    blind_eval.HELDOUT_14: {"hobbits throw a magic ring into a volcano"},
    blind_eval.HELDOUT_15: {"willow staring into the fridge missing tara"},
    blind_eval.HELDOUT_18: {
        "xander punches spike at the shop for hurting willow",
        "dawn hurls a glass across the room when willow insists she return to classes",
        "on the way home he sees mrs watchett moving backwards across the lab",
    },
    blind_eval.HELDOUT_22: {
        "she finally wakes and immediately worries about him being out in daylight",
    },
}


def test_held_out_writes_by_default_to_no_development_file() -> None:
    # `python -m tests.blind_eval --held-out SOURCE` writes the next blind set there, never
    # over a development set's file (it was left the thirteenth's when that set joined them)
    assert blind_eval.NEXT_HELD_OUT not in blind_eval.DEVELOPMENT
    assert blind_eval.NEXT_HELD_OUT.parent == blind_eval.SCENES


@pytest.mark.parametrize("path", HELD_OUT, ids=lambda p: p.stem)
def test_a_later_blind_set_is_new_and_copies_no_three_words(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"{path.name} is not here yet")
    held, held_absent = blind_eval.read(path)
    # each set's size as its writer delivered it (a file cut short or read wrong would have
    # fewer)
    least = LEAST.get(path, (50, 10))
    assert len(held) >= least[0] and len(held_absent) >= least[1]
    earlier: set[str] = set()
    for other in (blind_eval.DEV, blind_eval.HELDOUT, *HELD_OUT[: HELD_OUT.index(path)]):
        scenes, absent = blind_eval.read(other)
        earlier |= {s.description for s in scenes} | {a.description for a in absent}
    repeated = earlier & ({s.description for s in held} | {a.description for a in held_absent})
    assert repeated <= ALLOWED_REPEATS.get(path, set())
    # the second set passed the strict check; the third and later count a contraction as one
    # word ("she's been" is two words to its writer, three to the tokenizer: the third's only
    # hits)
    whole = path != blind_eval.HELDOUT_2
    allowed = ALLOWED_RUNS.get(path, set())
    copied: list[str] = []
    for scene in held:
        source = _source(scene.file)
        assert source is not None and scene.chapter >= 1 and scene.anchor
        text = source.read_text(encoding="utf-8-sig", errors="replace")
        copied += [
            f"{scene.description!r}: {run!r}"
            for run in copied_runs(scene.description, text, whole_contractions=whole)
            if run not in allowed
        ]
    assert not copied, "\n".join(copied)


def _goals(tally: blind_eval.Tally, lost: list[str]) -> str:
    goals = {
        f"top-3 >= {HELDOUT_TOP3:.0%}": tally.top3 >= HELDOUT_TOP3 * tally.asked,
        f"top-1 >= {HELDOUT_TOP1:.0%}": tally.top1 >= HELDOUT_TOP1 * tally.asked,
        # with no label given, precision is not shown: not met
        # every close match counts, those given to scenes in no story too
        f"close-match precision >= {CLOSE_PRECISION:.0%}": tally.labelled_close > 0
        and tally.close_right >= CLOSE_PRECISION * tally.labelled_close,
        "no absent scene called close match": tally.absent_close == 0,
        "no scene words alone found in the top 3 lost": not lost,
    }
    return "; ".join(f"{g}: {'met' if ok else 'MISSED'}" for g, ok in goals.items())


async def test_blind_scene_descriptions(blind_library) -> None:
    """Each blind set's figures, the hybrid beside words alone, with the issue's goals (all
    nineteen sets are development data; the twentieth to the twenty-second, each written blind,
    are the held-out tests)."""
    lib, vectors, stories = blind_library
    report = ["", "scene search on the blind descriptions (hybrid beside words alone)"]
    tallies: dict[str, tuple[blind_eval.Tally, list[str]]] = {}
    for path in DEVELOPMENT:
        tally, lines, lost = await _compare(lib, vectors, stories, [path])
        tallies[path.name] = (tally, lost)
        report += [f"development: {path.name} ({tally.asked} scenes, {tally.absent} absent)"]
        report += [*lines, f"  the held-out goals here: {_goals(tally, lost)}"]
    report += [_together(t for t, _ in tallies.values())]
    held: dict[str, tuple[blind_eval.Tally, list[str]]] = {}
    for path in blind_eval.HELD_OUT_NOW:
        tally, lines, lost = await _compare(lib, vectors, stories, [path])
        held[path.name] = (tally, lost)
        report += [f"HELD OUT: {path.name} ({tally.asked} scenes, {tally.absent} absent)"]
        report += [*lines, f"goals on the held-out set: {_goals(tally, lost)}"]
    together = _added(t for t, _ in held.values())
    lost = [d for _, some in held.values() for d in some]
    report += [f"HELD OUT, the {len(held)} sets together:", f"  {together.line()}"]
    report += [f"goals on the held-out sets together: {_goals(together, lost)}"]
    print("\n".join(report))
    for name, (tally, lost) in held.items():
        _held_out_floors(name, tally, lost)
    for name, (tally, lost) in tallies.items():
        top1, top3, close = FLOORS[name]
        assert tally.top1 >= top1 and tally.top3 >= top3, name
        assert tally.close_right >= close, name
        assert tally.absent_close == 0, name
        assert len(lost) <= LOST.get(name, 0), name
    close = sum(t.labelled_close for t, _ in tallies.values())
    right = sum(t.close_right for t, _ in tallies.values())
    assert right >= DEVELOPMENT_CLOSE_PRECISION * close


def _together(tallies: Iterable[blind_eval.Tally]) -> str:
    """The development sets' figures added up, as one line."""
    return f"development, the {len(DEVELOPMENT)} files together:\n  {_added(tallies).line()}"


def _added(tallies: Iterable[blind_eval.Tally]) -> blind_eval.Tally:
    """The hybrid's figures on several sets, added up."""
    every = blind_eval.Tally("hybrid")
    for t in tallies:
        every.asked += t.asked
        every.top1 += t.top1
        every.top3 += t.top3
        every.close += t.close
        every.close_right += t.close_right
        every.absent += t.absent
        every.absent_close += t.absent_close
    return every


async def test_close_match_thresholds_are_those_chosen_on_the_development_sets(
    blind_library,
) -> None:
    """The bot's "close match" thresholds (bot/search/scene.py CLOSE_*) are what
    tests/scene_labels.py chooses on all the development sets; chosen on all but one, they
    never call a scene of the set left out that is in no story a close match."""
    lib, vectors, _stories = blind_library
    table = scene_labels.Table(await scene_labels.run(lib, SceneSearch(lib.store, vectors)))
    every = np.ones(len(table.sets), dtype=bool)
    bots = (CLOSE_LEAD, CLOSE_WORDS_LEAD, CLOSE_NAME_SHARE, CLOSE_MEANING_LEAD)
    assert table.choose(every) == bots
    for left in set(table.sets):
        rule = table.choose(table.sets != left)
        assert rule is not None, left
        assert table.labels(table.sets == left, rule)["close match"][2] == 0, left


def test_the_thresholds_keep_a_step_from_every_scene_in_no_story() -> None:
    """A scene in no story just under the rule keeps the thresholds a step (STEPS) above it,
    even when that costs right labels."""
    right = [_case(lead=0.004 + i / 2000, right=True) for i in range(20)]
    absent = _case(lead=0.0035, right=False, absent=True)
    table = scene_labels.Table([*right, absent])
    rule = table.choose(np.ones(21, dtype=bool))
    assert rule is not None and rule[0] - scene_labels.STEPS[0] > 0.0035  # more than a step
    without = table.choose(np.array([True] * 20 + [False]))
    assert without is not None and without[0] < 0.0035


def _case(*, lead: float, right: bool, absent: bool = False) -> scene_labels.Case:
    evidence = Evidence(lead=lead, words_lead=0.2, name_share=0.0, meaning_lead=0.02)
    return scene_labels.Case("set", absent, (right and not absent, False, False), evidence)


# The held-out sets' one run each, floors a little under it, so a change that loses ground shows;
# not sets to tune on. The twentieth (2026-12-04 00:03 UTC, main 4462aef): top-1 126, top-3 146
# of 181, close match 1 right of 1, none of 37 scenes in no story called close match, none lost
# (top-3 missed). The twenty-first and twenty-second, written blind the next session, were run
# once beside it (top-3 missed on each).
HELD_OUT_FLOORS = {
    blind_eval.HELDOUT_20.name: dict(top1=124, top3=144, close_right=0, absent_close=0, lost=0),
    # 2026-12-04 01:30 UTC, main 7eafce4, the rules of the twentieth's run: top-1 118, top-3 138
    # of 172, close match 2 right of 2, none of 37 in no story called close, none lost
    blind_eval.HELDOUT_21.name: dict(top1=116, top3=136, close_right=1, absent_close=0, lost=0),
    # the same run: top-1 111, top-3 132 of 163, close match 1 right of 1, none of 39 in no
    # story called close, none lost
    blind_eval.HELDOUT_22.name: dict(top1=109, top3=130, close_right=0, absent_close=0, lost=0),
}


def _held_out_floors(name: str, tally: blind_eval.Tally, lost: list[str]) -> None:
    floors = HELD_OUT_FLOORS.get(name)
    if floors is None:  # before the set's one run: nothing to hold it to yet
        return
    assert tally.top1 >= floors["top1"] and tally.top3 >= floors["top3"], name
    assert tally.close_right >= floors["close_right"], name
    assert tally.absent_close <= floors["absent_close"] and len(lost) <= floors["lost"], name
