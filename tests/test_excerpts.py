"""Excerpts: whole paragraphs of one scene, 400-1,500 characters, reproducible, fair, filtered."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from bot.errors import StoryBotError
from bot.excerpts import MAX_CHARS, trim_to_sentences, window
from bot.library import Library
from bot.models import Paragraph
from bot.settings import Settings


def para(position: int, text: str, scene: int = 0) -> Paragraph:
    return Paragraph(position, 1, 1, position, scene, text)


def test_window_grows_to_the_minimum_within_a_scene() -> None:
    scene = [para(i, f"Line {i} " + "x" * 90 + ".") for i in range(10)]
    first, last, text = window(scene, 2)
    assert first == 2 and last == 6
    assert text == "\n\n".join(p.text for p in scene[2:7])
    assert 400 <= len(text) <= MAX_CHARS


def test_window_grows_backwards_at_the_end_of_a_scene() -> None:
    scene = [para(i, "y" * 150 + ".") for i in range(5)]
    first, last, text = window(scene, 4)
    assert last == 4 and first < 4 and len(text) >= 400


def test_long_paragraph_is_trimmed_to_whole_sentences() -> None:
    long = " ".join(f"This is sentence {i}." for i in range(200))
    _, _, text = window([para(0, long)], 0)
    assert len(text) <= MAX_CHARS and text.endswith(".")
    assert long.startswith(text)


def test_trim_without_sentence_end_cuts_at_a_word() -> None:
    text = trim_to_sentences("word " * 1000, 100)
    assert len(text) <= 101 and text.endswith("…") and "wor…" not in text


async def test_excerpts_of_the_seeds(library: Library) -> None:
    stories = await library.stories(mature_ok=True)
    rng = random.Random(7)
    for _ in range(150):
        e = await library.excerpt(mature_ok=True, rng=rng)
        assert "\ufffd" not in e.text
        assert "A/N" not in e.text
        paragraphs = await library.store.paragraphs_between(e.story.id, e.start, e.end)
        assert len({p.scene for p in paragraphs}) == 1, "one scene"
        assert len({p.chapter for p in paragraphs}) == 1
        joined = "\n\n".join(p.text for p in paragraphs)
        assert e.text == joined or (e.start == e.end and joined.startswith(e.text))
        assert len(e.text) <= MAX_CHARS
    assert len(stories) == 5


async def test_each_story_equally_likely(library: Library) -> None:
    rng = random.Random(1)
    counts = Counter(
        [(await library.excerpt(mature_ok=True, rng=rng)).story.slug for _ in range(500)]
    )
    assert len(counts) == 5
    assert min(counts.values()) > 60, counts  # 100 expected each; the big story must not dominate


async def test_seed_makes_it_reproducible(library: Library) -> None:
    a = await library.excerpt(mature_ok=True, rng=random.Random(42))
    b = await library.excerpt(mature_ok=True, rng=random.Random(42))
    assert (a.story.id, a.start, a.text) == (b.story.id, b.start, b.text)


async def test_named_story_and_chapter(library: Library) -> None:
    story = (await library.stories(mature_ok=True))[0]
    chapter = story.chapters[-1]
    for seed in range(20):
        e = await library.excerpt(
            story.slug, str(chapter.number), mature_ok=True, rng=random.Random(seed)
        )
        assert e.story.id == story.id and e.chapter == chapter.number


async def test_character_filter(library: Library) -> None:
    for seed in range(30):
        e = await library.excerpt(character="Giles", mature_ok=True, rng=random.Random(seed))
        assert "Giles" in e.text
    with pytest.raises(StoryBotError, match="No passage names"):
        await library.excerpt(character="Gandalf", mature_ok=True)


async def test_avoid_recent(library: Library) -> None:
    story = (await library.stories(mature_ok=True))[0]
    first = await library.excerpt(story.slug, mature_ok=True, rng=random.Random(3))
    again = await library.excerpt(
        story.slug, mature_ok=True, rng=random.Random(3), avoid={(first.story.id, first.start)}
    )
    assert again.start != first.start


async def test_continue_after_follows_on(library: Library) -> None:
    e = await library.excerpt(mature_ok=True, rng=random.Random(5))
    nxt = await library.continue_after(e.story.id, e.end, mature_ok=True)
    assert nxt.start == e.end + 1 and nxt.story.id == e.story.id


async def test_continue_at_the_end_says_so(library: Library) -> None:
    story = (await library.stories(mature_ok=True))[0]
    last = story.chapters[-1].last
    assert len(await library.store.paragraphs_between(story.id, last, last + 5)) == 1
    with pytest.raises(StoryBotError, match="end of"):
        await library.continue_after(story.id, last, mature_ok=True)


async def test_character_tags_make_a_story_eligible(stories_dir: Path, settings: Settings) -> None:
    """A story whose character tags list the name is picked even when no passage names it as
    typed; where passages do name the character, the excerpt is one of them."""
    toml = stories_dir / "library.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8")
        + '\ncharacters = ["Gandalf the Grey", "Tara Maclay"]\n',  # for 003, the last table
        encoding="utf-8",
    )
    library = await Library.open(settings)
    try:
        await library.ingest()
        tagged = next(s for s in await library.stories(mature_ok=True) if s.file.startswith("003"))
        assert tagged.characters == ("Gandalf the Grey", "Tara Maclay")
        for seed in range(12):
            rng = random.Random(seed)
            for name in ("Gandalf", "gandalf the grey", "Grey"):
                e = await library.excerpt(character=name, mature_ok=True, rng=rng)
                assert e.story.id == tagged.id
            e = await library.excerpt(tagged.slug, character="Tara", mature_ok=True, rng=rng)
            assert "Tara" in e.text  # named in the text: a passage that names her
        with pytest.raises(StoryBotError, match="No passage names"):
            await library.excerpt(character="Grey Gandalf", mature_ok=True)  # not the tag
        with pytest.raises(StoryBotError):  # the tags do not lift the age gate
            await library.excerpt(character="Gandalf", mature_ok=False)
    finally:
        await library.close()
