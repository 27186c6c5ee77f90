"""Golden structure of the shipped seeds (and the Time Machine when the corpus is beside us)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bot.models import StoryMeta
from bot.text import ParsedStory, process
from bot.text.structure.headings import _is_break

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
CORPUS = ROOT / "tests" / "fixtures" / "corpus" / "the_time_machine.txt"
FIXTURE = ROOT / "tests" / "text" / "fixtures" / "gutenberg_mini.txt"


def _meta(name: str) -> StoryMeta:
    data = tomllib.loads((SEEDS / "library.toml").read_text(encoding="utf-8"))
    fields = data.get(name, {})
    return StoryMeta(fields.get("title"), fields.get("author"), fields.get("rating"))


def _story(name: str, *, with_meta: bool = True) -> ParsedStory:
    return process((SEEDS / name).read_bytes(), name, _meta(name) if with_meta else None)


def _paragraphs(story: ParsedStory) -> list[str]:
    return [text for chapter in story.chapters for _, text in chapter.paragraphs]


def _text(story: ParsedStory) -> str:
    return "\n\n".join(_paragraphs(story))


def _assert_clean(story: ParsedStory) -> None:
    for chapter in story.chapters:
        assert chapter.paragraphs, chapter.label
        for _, text in chapter.paragraphs:
            assert text and text == text.strip()
            assert "\ufffd" not in text
            assert "A/N" not in text
            assert not _is_break(text), text
            assert len(text) <= 10_000
        assert "\ufffd" not in (chapter.note or "")


def _scenes_ok(story: ParsedStory) -> None:
    """Scene numbers never go down, and each chapter starts a new one."""
    last = 0
    for chapter in story.chapters:
        scenes = [scene for scene, _ in chapter.paragraphs]
        assert scenes == sorted(scenes)
        assert scenes[0] > last
        last = scenes[-1]


SEED_NAMES = sorted(p.name for p in SEEDS.glob("*.txt"))


@pytest.mark.parametrize("name", SEED_NAMES)
def test_seed_paragraphs_are_clean(name: str) -> None:
    story = _story(name)
    _assert_clean(story)
    _scenes_ok(story)
    assert story.title not in _paragraphs(story)


def test_002_breaking_alone() -> None:
    story = _story("002_0ccc7f018ffbd0dd.txt")
    assert story.title == "Breaking alone"
    assert [c.number for c in story.chapters] == list(range(1, 11))
    assert [c.label for c in story.chapters] == [f"Part {n}" for n in range(1, 11)]
    text = _text(story)
    for phrase in ("didn’t", "“What?”", "Summers’ house", "fiancé", "Giles’ red face"):
        assert phrase in text, phrase
    paragraphs = _paragraphs(story)
    assert paragraphs[0].startswith("It was just another typical night on the Hellmouth.")
    assert "Breaking alone." not in paragraphs
    for marker in ("End Part 1.", "End Part2", "End part 9", "#End Flashback#", "Part 2"):
        assert marker not in paragraphs
    # the closing apology is a note of the last chapter, not story text
    assert "No this isnt a fic" not in text
    assert "No this isnt a fic that will get finished" in (story.chapters[-1].note or "")
    assert "Part of her so wanted to believe it" in text  # "Part of ..." is not a heading
    # the lyrics keep their line breaks within one paragraph
    assert any(p.startswith("Everybody's free, everybody's free") and "\n" in p for p in paragraphs)


def test_002_title_comes_from_the_text_not_metadata() -> None:
    assert _story("002_0ccc7f018ffbd0dd.txt", with_meta=False).title == "Breaking alone"


def test_001_chapter_six() -> None:
    story = _story("001_d0cd0b5318a30a05.txt")
    assert [(c.number, c.label) for c in story.chapters] == [(1, "Chapter Six")]
    text = _text(story)
    assert "my whole world is soaked in sorry" in text
    assert "To Be Concluded in Chapter 7" not in text
    assert "Part of him damn near wanted to ask her to marry him." in text
    scenes = sorted({scene for scene, _ in story.chapters[0].paragraphs})
    assert scenes == [1, 2, 3, 4]  # four "++++" breaks, none before the heading or the end
    assert story.title == "Soaked in Sorry"  # from its own words; library.toml: author unknown


def test_000_chapter_eleven_with_its_note() -> None:
    story = _story("000_22ebb5e57e993cb7.txt")
    assert [(c.number, c.label) for c in story.chapters] == [(1, "Chapter 11")]
    assert story.chapters[0].note == (
        "A/N thanks for the reviews, I hope that you all like the ending."
    )
    assert story.title == "Finally Home"  # from its last line
    bare = _story("000_22ebb5e57e993cb7.txt", with_meta=False)
    assert not bare.title.startswith("A/N")
    assert "thanks for the reviews" not in bare.title
    assert len({scene for scene, _ in story.chapters[0].paragraphs}) == 4  # three "- - -" breaks


def test_003_taking_steps() -> None:
    story = _story("003_7455f1fa013af670.txt")
    assert story.title == "Taking Steps"
    assert [(c.number, c.label) for c in story.chapters] == [(1, "Chapter 1")]
    assert _paragraphs(story)[-1].startswith("Then their mouths meet again")  # "The End." gone


def test_004_title_after_the_authors_note() -> None:
    story = _story("004_6bfeca38034b4c2d.txt")
    assert story.title == "A Tale of Two Sinners"
    assert len(story.chapters) == 1
    note = story.chapters[0].note or ""
    assert note.startswith("A/N - this was written to explain")
    assert _paragraphs(story)[0].startswith("Willow was shaking")


def _check_time_machine(story: ParsedStory, chapters: int) -> None:
    assert story.title == "The Time Machine"
    numbers = [c.number for c in story.chapters]
    assert numbers == list(range(1, chapters + 2))
    assert story.chapters[0].label == "I. Introduction"
    assert story.chapters[-1].label == "Epilogue"
    text = _text(story)
    assert "Gutenberg" not in text
    assert "CONTENTS" not in text
    assert "An Invention" not in _paragraphs(story)
    assert "\n" not in story.chapters[0].paragraphs[0][1]  # unwrapped
    _assert_clean(story)
    _scenes_ok(story)


@pytest.mark.skipif(not CORPUS.exists(), reason="tests/fixtures/corpus is missing")
def test_the_time_machine() -> None:
    story = process(CORPUS.read_bytes(), CORPUS.name)
    _check_time_machine(story, 16)
    labels = [c.label for c in story.chapters]
    assert labels[1] == "II. The Machine"
    assert labels[14] == "XV. The Time Traveller’s Return"
    first = story.chapters[0].paragraphs[0][1]
    assert first.startswith("The Time Traveller (for so it will be convenient to speak of him) was")
    assert "\n" not in first  # unwrapped


def test_gutenberg_fixture() -> None:
    story = process(FIXTURE.read_bytes(), FIXTURE.name)
    _check_time_machine(story, 3)
