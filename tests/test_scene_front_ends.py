"""`scene` in the CLI (its JSON contract, exit status 2 with one line) and `/scene` in the
console."""

from __future__ import annotations

import json
from pathlib import Path

from bot.console import HELP, ConsoleSession
from bot.library import Library
from bot.terminal import render_scene
from cogs.scene import scene_message
from tests.test_cli import run

BOOKSHOP = "Spike browsing poetry in an ordinary bookshop runs into Buffy holding a self-help book"
HIT_KEYS = {"slug", "title", "chapter", "chapter_label", "text", "snippet", "marks", "position"}


def test_scene_json(tmp_path: Path, stories_dir: Path) -> None:
    result = run(tmp_path, "scene", BOOKSHOP, "--json", stories=stories_dir)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer.keys() == {"query", "match", "hits"}
    assert answer["query"] == BOOKSHOP
    hits = answer["hits"]
    assert len(hits) == 3
    for hit in hits:
        assert HIT_KEYS | {"score", "confidence", "end"} == hit.keys()
        assert hit["confidence"] in ("close match", "possible", "long shot")
        assert hit["snippet"].strip("…") in hit["text"]
        for a, b in hit["marks"]:
            assert 0 <= a < b <= len(hit["snippet"])
    assert answer["match"] == hits[0]["confidence"]
    assert (hits[0]["slug"], hits[0]["chapter"]) == ("soaked-in-sorry", 1)
    assert next(hits[0]["snippet"][a:b] for a, b in hits[0]["marks"]) == "Spike"


def test_scene_json_limit_and_story(tmp_path: Path, stories_dir: Path) -> None:
    result = run(
        tmp_path,
        *("scene", "Willow and Dawn in the kitchen", "--story", "breaking", "--limit", "5"),
        *("--json",),
        stories=stories_dir,
    )
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)["hits"]
    assert len(hits) == 5 and {h["slug"] for h in hits} == {"breaking-alone"}


def test_scene_in_words_marks_matches_and_says_how_sure(tmp_path: Path, stories_dir: Path) -> None:
    result = run(tmp_path, "scene", BOOKSHOP, stories=stories_dir)
    assert result.returncode == 0, result.stderr
    # by words alone (no vectors here) all three are long shots, and the heading says so
    assert result.stdout.startswith("Nothing close to “Spike browsing poetry")
    assert "1. Soaked in Sorry, Chapter Six (" in result.stdout
    assert "*Spike*" in result.stdout


def test_scene_of_nothing_in_the_library_is_not_an_error(tmp_path: Path, stories_dir: Path) -> None:
    result = run(tmp_path, "scene", "zzyzx qwfpgj", "--json", stories=stories_dir)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"query": "zzyzx qwfpgj", "match": "none", "hits": []}


async def test_console_scene(library: Library) -> None:
    session = ConsoleSession(library)
    assert "/scene TEXT [story:S]" in HELP
    answer = await session.handle(f"/scene {BOOKSHOP}")
    assert answer is not None and "1. Soaked in Sorry, Chapter Six (" in answer
    scoped = await session.handle("/scene Willow in the kitchen story:breaking-alone")
    assert scoped is not None and scoped.count("Breaking alone, ") == 3
    assert await session.handle("/scene") == (
        "Usage: /scene TEXT [story:S]   e.g. /scene Spike teaches Dawn to drive"
    )
    refused = await session.handle("/scene ***")
    assert refused is not None and refused.startswith("Describe the scene")
    unknown = await session.handle("/scene Willow story:zzz")
    assert unknown is not None and unknown.startswith("No story called “zzz”")


async def test_console_says_nothing_is_close_when_every_answer_is_a_long_shot(
    library: Library,
) -> None:
    """As /scene does in Discord ("Nothing close to …; the best guesses, long shots all"),
    where the console said "3 passages like …, best first" over three long shots."""
    session = ConsoleSession(library)
    far = await session.handle("/scene Gandalf fights the Balrog on the bridge")
    assert far is not None and far.count("(long shot)") == 3
    assert far.startswith(
        "Nothing close to “Gandalf fights the Balrog on the bridge”; the best guesses, long"
        " shots all:"
    )
    near = await session.handle("/scene Spike cheats at Scrabble")
    assert near is not None and "1. Breaking alone, Part 10 (possible)" in near
    assert near.startswith("3 passages like “Spike cheats at Scrabble”, best first:")


async def test_one_scene_answer_is_not_called_best_first(library: Library) -> None:
    three = await library.scene("Willow and Dawn in the kitchen", mature_ok=True)
    assert ", best first:" in render_scene(three).splitlines()[0]  # three answers, in order
    one = await library.scene("Willow and Dawn in the kitchen", mature_ok=True, limit=1)
    first = render_scene(one).splitlines()[0]
    assert first.startswith("1 passage like") and "best first" not in first, first
    assert scene_message(three)["content"].endswith(", best first:")  # /scene in Discord
    assert scene_message(one)["content"] == "A scene like “Willow and Dawn in the kitchen”:"


async def test_one_long_shot_is_called_the_best_guess(library: Library) -> None:
    """Where only one answer is asked for (--limit 1, or a story of one chapter) and it is a
    long shot, neither the shell nor /scene calls it "the best guesses, long shots all"."""
    one = await library.scene("Gandalf fights the Balrog on the bridge", mature_ok=True, limit=1)
    assert [h.confidence for h in one.hits] == ["long shot"]
    heading = (
        "Nothing close to “Gandalf fights the Balrog on the bridge”; the best guess, a long shot:"
    )
    assert render_scene(one).splitlines()[0] == heading
    assert scene_message(one)["content"] == heading
