"""What readers see of the seeds, through the Library and a real database: no U+FFFD anywhere,
and the lost punctuation of seed 002 restored as its author meant it (issue 12, item 7)."""

from __future__ import annotations

import random

from bot.library import Library


async def test_no_replacement_character_is_served(library: Library) -> None:
    stories = await library.stories(mature_ok=True)
    assert len(stories) == 5
    for story in stories:
        for field in (story.title, story.author, story.summary, *story.characters):
            assert "\ufffd" not in (field or "")
        for info in story.chapters:
            chapter = await library.chapter(story.slug, info.number, mature_ok=True)
            assert "\ufffd" not in chapter.text, (story.slug, info.label)
            assert "\ufffd" not in (chapter.note or ""), (story.slug, info.label)
            assert "\ufffd" not in info.label
    rng = random.Random(12)
    for _ in range(60):
        excerpt = await library.excerpt(mature_ok=True, rng=rng)
        assert "\ufffd" not in excerpt.text


async def test_seed_002_punctuation_as_the_author_meant(library: Library) -> None:
    story = await library.find_story("breaking-alone", mature_ok=True)
    text = "\n\n".join(
        [(await library.chapter(story.slug, c.number, mature_ok=True)).text for c in story.chapters]
    )
    for phrase in (
        "“Now the Dr’s have said t’ take it easy",  # not "Dr…s", not "t” take"
        "here it is… hmm…I see… do they",  # ellipses, not dashes
        "didn’t",
        "Summers’ house",
        "fiancé",
    ):
        assert phrase in text, phrase
    # the found phrases are served by quote search too, typed with straight punctuation
    result = await library.quote("the Dr's have said t' take it easy", mature_ok=True)
    assert result.hits and "Dr’s" in result.hits[0].text
