"""/chapter end to end: pages, the pager buttons, only the reader turns, survives a restart."""

from __future__ import annotations

import simcord

from bot.paging import paginate
from bot.runtime import StoryBot
from cogs._render import render_text
from tests.cogs.closing import BuildBot
from tests.cogs.helpers import (
    answer,
    button,
    custom_ids,
    footer_text,
    page_text,
    restart,
    server,
    texts,
)


def _shown(message: simcord.ResponseMessage) -> str:
    return page_text(message)


def _at(message: simcord.ResponseMessage) -> str:
    labels = set(custom_ids(message))
    return next(label for label in labels if " of " in label)


async def test_chapter_pages_and_buttons(simcord_env: simcord.Env) -> None:
    s = server(simcord_env)
    chapter = await s.library.chapter("breaking-alone", "2", mature_ok=False)
    pages = paginate(chapter.text)
    assert "".join(pages) == chapter.text
    total = len(pages)
    assert total >= 2
    expected = [render_text(page.strip()) for page in pages]

    message = answer(await s.alice.slash(s.channel, "chapter", story="breaking-alone", chapter="2"))
    assert not message.embeds and texts(message)[0] == "### Breaking alone\n**Part 2**"
    assert footer_text(message).startswith("Breaking alone · Part 2")
    assert _at(message) == f"1 of {total}"
    assert set(custom_ids(message)) >= {"First", "Prev", "Next", "Last", "Jump"}
    assert button(message, "First")["disabled"]
    assert not button(message, "Prev").get("disabled")  # back to Part 1
    assert all(len(custom_id) <= 100 for custom_id in custom_ids(message).values())

    seen = [_shown(message)]
    for number in range(2, total + 1):
        message = answer(await s.alice.click(message, label="Next"))
        assert _at(message) == f"{number} of {total}"
        seen.append(_shown(message))
    assert seen == expected  # every page, in order: the chapter, nothing dropped
    assert button(message, "Last")["disabled"]
    assert not button(message, "Next").get("disabled")  # on to Part 3

    message = answer(await s.alice.click(message, label="First"))
    assert _shown(message) == expected[0]
    message = answer(await s.alice.click(message, label="Last"))
    assert _shown(message) == expected[-1] and _at(message) == f"{total} of {total}"
    message = answer(await s.alice.click(message, label="Prev"))
    assert _shown(message) == expected[-2]

    shown = await s.alice.click(message, label="Jump")
    assert shown.modal is not None
    message = answer(await s.alice.submit_modal(shown, {"page": "1"}))
    assert _shown(message) == expected[0] and _at(message) == f"1 of {total}"

    shown = await s.alice.click(message, label="Jump")
    refused = answer(await s.alice.submit_modal(shown, {"page": str(total + 5)}))
    assert refused.ephemeral and refused.content == f"Pick a page from 1 to {total}."


async def test_only_the_reader_turns_pages(simcord_env: simcord.Env) -> None:
    s = server(simcord_env)
    result = await s.alice.slash(s.channel, "chapter", story="breaking-alone", chapter="2")
    message = answer(result)
    before = _shown(message)

    refused = answer(await s.bob.click(message, label="Next"))
    assert refused.ephemeral
    assert refused.content == "This is Alice's reader — start your own with /chapter"
    assert _shown(answer(result)) == before and _at(answer(result)).startswith("1 of ")


async def test_buttons_work_after_a_restart(
    simcord_env: simcord.Env, closing_bots: BuildBot
) -> None:
    s = server(simcord_env)
    bot = simcord_env.bot
    assert isinstance(bot, StoryBot)
    message = answer(await s.alice.slash(s.channel, "chapter", story="breaking-alone", chapter="2"))
    chapter = await s.library.chapter("breaking-alone", "2", mature_ok=False)
    pages = paginate(chapter.text)

    assert await restart(simcord_env, closing_bots) is bot
    assert simcord_env.bot is not bot

    turned = answer(await s.alice.click(message, label="Next"))
    assert _shown(turned) == render_text(pages[1].strip())
    assert _at(turned) == f"2 of {len(pages)}"
    refused = answer(await s.bob.click(turned, label="Prev"))
    assert refused.ephemeral and "Alice's reader" in refused.content


async def test_chapter_by_label_single_page_and_author_note(simcord_env: simcord.Env) -> None:
    s = server(simcord_env)
    story = next(
        story for story in await s.library.stories(mature_ok=False) if story.file.startswith("000_")
    )
    label = story.chapters[0].label
    chapter = await s.library.chapter(story.id, story.chapters[0].number, mature_ok=False)
    assert chapter.note and chapter.note.startswith("A/N")

    result = await s.alice.slash(s.channel, "chapter", story=story.slug, chapter=label)
    heading, note, body, footer = texts(answer(result))
    assert heading.endswith(f"**{label}**") and label == "Chapter 11"
    assert footer.startswith(f"-# {story.title} · {label} · page 1 of ")
    assert note == "-# Author's note\n" + render_text(chapter.note)
    assert "A/N" not in body
    assert sum(len(t) for t in texts(answer(result))) <= 4000


async def test_chapter_autocomplete(simcord_env: simcord.Env) -> None:
    s = server(simcord_env)
    choices = await s.alice.autocomplete(
        s.channel, "chapter", "chapter", "", story="breaking-alone"
    )
    assert [c["name"] for c in choices] == [f"Part {n}" for n in range(1, 11)]
    assert [c["value"] for c in choices] == [str(n) for n in range(1, 11)]
    narrowed = await s.alice.autocomplete(
        s.channel, "chapter", "chapter", "part 1", story="breaking-alone"
    )
    assert [c["name"] for c in narrowed] == ["Part 1", "Part 10"]
    assert await s.alice.autocomplete(s.channel, "chapter", "chapter", "", story="nope") == []
