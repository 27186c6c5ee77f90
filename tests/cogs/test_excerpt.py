"""/excerpt end to end: whole paragraphs of the chosen story, Another, Continue reading."""

from __future__ import annotations

import simcord

from bot.library import Library
from cogs._render import render_text
from tests.cogs.helpers import answer, button, custom_ids, page_text, server, texts


async def _paragraphs(library: Library, slug: str) -> dict[int, str]:
    """position -> paragraph text, as rendered in embeds, for every chapter of a story."""
    story = await library.find_story(slug, mature_ok=True)
    found: dict[int, str] = {}
    for info in story.chapters:
        chapter = await library.chapter(story.id, info.number, mature_ok=True)
        found.update({p.position: render_text(p.text) for p in chapter.paragraphs})
    return found


def _positions(description: str, paragraphs: dict[int, str]) -> list[int]:
    """The positions of the description's paragraphs, asserting they are whole, consecutive
    paragraphs (a short line like "I'm fine." may stand at several places in a story)."""
    parts = description.split("\n\n")
    if len(parts) == 1:  # one paragraph, whole or (over 1,500 chars) cut to whole sentences
        return [next(p for p, text in sorted(paragraphs.items()) if text.startswith(parts[0]))]
    for start in sorted(p for p, text in paragraphs.items() if text == parts[0]):
        if all(paragraphs.get(start + i) == part for i, part in enumerate(parts)):
            return list(range(start, start + len(parts)))
    raise AssertionError(f"not whole consecutive paragraphs: {description[:80]!r}")


async def test_excerpt_another_and_continue(simcord_env: simcord.Env) -> None:
    s = server(simcord_env)
    paragraphs = await _paragraphs(s.library, "breaking-alone")

    first = answer(await s.alice.slash(s.channel, "excerpt", story="breaking-alone"))
    assert not first.ephemeral
    embed = first.embeds[0]
    assert embed.footer.text is not None and embed.footer.text.startswith("Breaking alone · Part ")
    assert embed.author.name == "Breaking alone"
    text = embed.description or ""
    assert 100 < len(text) <= 4096
    assert "\ufffd" not in text and "A/N" not in text
    shown = _positions(text, paragraphs)
    assert set(custom_ids(first)) >= {"Another", "Continue reading", "Read chapter"}

    another = answer(await s.bob.click(first, label="Another"))
    other_text = another.embeds[0].description or ""
    assert other_text != text
    assert another.embeds[0].footer.text.startswith("Breaking alone")  # type: ignore[union-attr]
    _positions(other_text, paragraphs)

    follow = answer(await s.alice.click(first, label="Continue reading"))
    assert custom_ids(first)["Continue reading"].endswith(f":{shown[-1]}")
    following = _positions(follow.embeds[0].description or "", paragraphs)
    assert following[0] == shown[-1] + 1
    expected = await s.library.continue_after("breaking-alone", shown[-1], mature_ok=False)
    assert expected.start == following[0]


async def test_another_does_not_repeat_recent_excerpts(simcord_env: simcord.Env) -> None:
    s = server(simcord_env)
    message = answer(await s.alice.slash(s.channel, "excerpt", story="a-tale-of-two-sinners"))
    seen = [message.embeds[0].description]
    for _ in range(3):
        message = answer(await s.alice.click(message, label="Another"))
        seen.append(message.embeds[0].description)
    assert len(set(seen)) == len(seen)


async def test_excerpt_any_story_and_by_character(simcord_env: simcord.Env) -> None:
    s = server(simcord_env)
    titles = {story.title for story in await s.library.stories(mature_ok=False)}
    anywhere = answer(await s.alice.slash(s.channel, "excerpt"))
    footer = anywhere.embeds[0].footer.text or ""
    assert any(footer.startswith(f"{title} · ") for title in titles)
    assert custom_ids(anywhere)["Another"].startswith("sb:ex:a:0:")

    spike = answer(await s.alice.slash(s.channel, "excerpt", character="Spike"))
    assert "spike" in (spike.embeds[0].description or "").casefold()
    again = answer(await s.alice.click(spike, label="Another"))
    assert "spike" in (again.embeds[0].description or "").casefold()


async def test_excerpt_of_a_chapter_and_read_chapter(simcord_env: simcord.Env) -> None:
    s = server(simcord_env)
    story = await s.library.find_story("breaking-alone", mature_ok=False)
    excerpt = answer(
        await s.alice.slash(s.channel, "excerpt", story="breaking-alone", chapter="10")
    )
    assert excerpt.embeds[0].footer.text == "Breaking alone · Part 10"
    assert excerpt.embeds[0].title == "Part 10"

    reader = answer(await s.bob.click(excerpt, label="Read chapter"))
    assert reader.ephemeral
    assert texts(reader)[0].endswith("**Part 10**")
    assert custom_ids(reader)["Next"].startswith(f"sb:pg:{story.id}:10:")
    # the reader opens on the page holding the excerpt's first paragraph
    first_paragraph = (excerpt.embeds[0].description or "").split("\n\n")[0]
    assert first_paragraph[:200] in page_text(reader)
    # Bob owns this private reader: he turns its pages
    move = "Prev" if button(reader, "Next").get("disabled") else "Next"
    before = page_text(reader)
    turned = answer(await s.bob.click(reader, label=move))
    assert page_text(turned) != before


async def test_unknown_story_and_chapter_are_explained_privately(
    simcord_env: simcord.Env,
) -> None:
    s = server(simcord_env)
    unknown = answer(await s.alice.slash(s.channel, "excerpt", story="no such story"))
    assert unknown.ephemeral
    assert unknown.content.startswith("No story called “no such story”")
    chapter = answer(
        await s.alice.slash(s.channel, "excerpt", story="breaking-alone", chapter="99")
    )
    assert chapter.ephemeral and "has no chapter 99" in chapter.content
    errors = simcord_env.errors
    assert len(errors) == 2  # both reached the tree's error handler, which answered them
