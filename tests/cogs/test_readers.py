"""Readers come back (issue 13) end to end: places that survive a restart, /continue, Next
across chapter ends, bookmarks, spoiler-safe search, /forget, DMs, no repeated excerpts; and
the button faults of issue 11 (floods, stories that are gone, a Jump box across a restart)."""

from __future__ import annotations

from collections import defaultdict

import pytest
import simcord

from bot.library import STORY_GONE
from bot.runtime import StoryBot
from cogs._render import render_text
from tests.cogs.closing import BuildBot
from tests.cogs.helpers import answer, buttons, footer_text, page_text, restart, server, texts
from tests.refusing import allow, refuse

EXPLICIT = "Taking Steps"


def _custom_id(message: simcord.ResponseMessage, prefix: str) -> str:
    return next(b["custom_id"] for b in buttons(message) if b["custom_id"].startswith(prefix))


async def test_continue_after_a_restart_and_each_reader_has_their_own_place(
    simcord_env: simcord.Env, closing_bots: BuildBot
) -> None:
    s = server(simcord_env)
    message = answer(await s.alice.slash(s.channel, "chapter", story="breaking-alone", chapter="2"))
    page_two = page_text(answer(await s.alice.click(message, label="Next")))
    assert " · page 2 of " in footer_text(message)

    await restart(simcord_env, closing_bots)
    back = answer(await s.alice.slash(s.channel, "continue"))
    assert back.ephemeral  # a reader's place is never shown to others
    assert page_text(back) == page_two and " · Part 2 · page 2 of " in footer_text(back)
    named = answer(await s.alice.slash(s.channel, "continue", story="breaking-alone"))
    assert page_text(named) == page_two

    hint = answer(await s.bob.slash(s.channel, "continue"))
    assert hint.ephemeral and "/chapter" in hint.content and "/stories" in hint.content
    answer(await s.bob.slash(s.channel, "chapter", story="breaking-alone", chapter="3"))
    assert "Part 3 · page 1" in footer_text(answer(await s.bob.slash(s.channel, "continue")))
    assert page_text(answer(await s.alice.slash(s.channel, "continue"))) == page_two
    errors = simcord_env.errors
    assert len(errors) == 1  # Bob's hint went through the one error handler


async def test_next_on_a_chapters_last_page_opens_the_next_chapter(
    simcord_env: simcord.Env,
) -> None:
    s = server(simcord_env)
    message = answer(await s.alice.slash(s.channel, "chapter", story="breaking-alone", chapter="2"))
    message = answer(await s.alice.click(message, label="Last"))
    assert footer_text(message).startswith("Breaking alone · Part 2")
    message = answer(await s.alice.click(message, label="Next"))
    part3 = await s.library.chapter("breaking-alone", "3", mature_ok=False)
    assert texts(message)[0].endswith("**Part 3**")
    assert footer_text(message).startswith("Breaking alone · Part 3")
    assert page_text(message) == render_text(part3.text[: len(page_text(message))].strip()) or (
        part3.paragraphs[0].text[:100] in page_text(message)
    )
    message = answer(await s.alice.click(message, label="Prev"))  # back to Part 2's last page
    assert footer_text(message).startswith("Breaking alone · Part 2 · page ")
    total = footer_text(message).rsplit(" of ", 1)[1]
    assert footer_text(message).endswith(f"page {total} of {total}")


def _count_door_calls(monkeypatch: pytest.MonkeyPatch, library: object) -> list[str]:
    """Every call through the Library's entrances from now on, by name."""
    calls: list[str] = []
    for name in dir(library):
        entrance = getattr(library, name)
        if name.startswith("_") or not callable(entrance) or isinstance(entrance, type):
            continue

        def counted(*args: object, _name: str = name, _call=entrance, **kwargs: object) -> object:
            calls.append(_name)
            return _call(*args, **kwargs)

        monkeypatch.setattr(library, name, counted)
    return calls


async def test_a_page_turn_crosses_the_door_once(
    simcord_env: simcord.Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = server(simcord_env)
    message = answer(await s.alice.slash(s.channel, "chapter", story="breaking-alone", chapter="2"))
    message = answer(await s.alice.click(message, label="Last"))
    calls = _count_door_calls(monkeypatch, s.library)
    message = answer(await s.alice.click(message, label="Next"))  # on to Part 3
    assert footer_text(message).startswith("Breaking alone · Part 3")
    assert calls == ["turn_page"]
    calls.clear()
    message = answer(await s.alice.click(message, label="Next"))
    assert calls == ["turn_page"]
    place = await s.library.reading_place(s.alice.id, mature_ok=False)
    assert place.chapter == 3 and " · Part 3 · page 2 of " in footer_text(message)


async def test_bookmarks_are_listed_opened_removed_and_private(simcord_env: simcord.Env) -> None:
    s = server(simcord_env)
    message = answer(await s.alice.slash(s.channel, "chapter", story="breaking-alone", chapter="2"))
    message = answer(await s.alice.click(message, label="Next"))
    page_two = page_text(message)
    saved = answer(await s.alice.click(message, label="Bookmark"))
    assert saved.ephemeral and saved.content.startswith("Bookmarked Breaking alone · Part 2")

    listed = answer(await s.alice.slash(s.channel, "bookmarks"))
    assert listed.ephemeral
    assert "Breaking alone · Part 2" in texts(listed)[1]
    opened = answer(await s.alice.click(listed, custom_id=_custom_id(listed, "sb:bk:open:")))
    assert opened.ephemeral and page_text(opened) == page_two

    others = answer(await s.bob.slash(s.channel, "bookmarks"))
    assert others.ephemeral and "no bookmarks" in others.content
    assert not others.components

    removed = answer(await s.alice.click(listed, custom_id=_custom_id(listed, "sb:bk:rm:")))
    assert "all removed" in texts(removed)[0]
    again = answer(await s.alice.slash(s.channel, "bookmarks"))
    assert "no bookmarks" in again.content


async def test_bookmarks_are_paged_newest_first(simcord_env: simcord.Env) -> None:
    s = server(simcord_env)
    story = await s.library.find_story("breaking-alone", mature_ok=False)
    for info in story.chapters[:7]:  # seven places, one per chapter
        await s.library.add_bookmark(s.alice.id, story.id, info.first, mature_ok=False)
    listed = answer(await s.alice.slash(s.channel, "bookmarks"))
    assert "Part 7" in texts(listed)[1] and "page 1 of 2" in texts(listed)[-1]
    later = answer(await s.alice.click(listed, label="Next"))
    assert "Part 2" in texts(later)[1] and "Part 1" in texts(later)[2]


async def test_spoiler_safe_quote_hides_unread_chapters_and_says_so(
    simcord_env: simcord.Env,
) -> None:
    s = server(simcord_env)
    part5 = await s.library.chapter("breaking-alone", "5", mature_ok=False)
    line = max((p.text for p in part5.paragraphs), key=len)
    words = " ".join(line.split()[:9])
    answer(await s.alice.slash(s.channel, "chapter", story="breaking-alone", chapter="1"))

    hidden = answer(
        await s.alice.slash(s.channel, "quote", text=words, story="breaking-alone", spoilers=False)
    )
    assert hidden.ephemeral and not hidden.embeds
    assert "in chapters you haven't read" in hidden.content and "more match" in hidden.content
    everything = answer(await s.alice.slash(s.channel, "quote", text=words, story="breaking-alone"))
    assert any(e.footer.text == "Breaking alone · Part 5" for e in everything.embeds)

    answer(await s.alice.slash(s.channel, "chapter", story="breaking-alone", chapter="5"))
    await simcord_env.advance_time(11)
    shown = answer(
        await s.alice.slash(s.channel, "quote", text=words, story="breaking-alone", spoilers=False)
    )
    assert any(e.footer.text == "Breaking alone · Part 5" for e in shown.embeds)


async def test_forget_deletes_places_and_bookmarks_after_asking(simcord_env: simcord.Env) -> None:
    s = server(simcord_env)
    message = answer(await s.alice.slash(s.channel, "chapter", story="breaking-alone", chapter="2"))
    answer(await s.alice.click(message, label="Bookmark"))
    question = answer(await s.alice.slash(s.channel, "forget"))
    assert question.ephemeral and "1 story and 1 bookmark" in question.content
    kept = answer(await s.alice.click(question, label="Keep"))
    assert kept.content == "Nothing was deleted."
    assert (await s.library.reader_data(s.alice.id)).bookmarks == 1

    question = answer(await s.alice.slash(s.channel, "forget"))
    done = answer(await s.alice.click(question, label="Forget me"))
    assert done.content.startswith("Done")
    data = await s.library.reader_data(s.alice.id)
    assert (data.positions, data.bookmarks) == (0, 0)
    await simcord_env.advance_time(11)
    assert "nothing to continue" in answer(await s.alice.slash(s.channel, "continue")).content
    assert "no bookmarks" in answer(await s.alice.slash(s.channel, "bookmarks")).content
    assert simcord_env.errors  # the hint is a refusal, through the error handler


async def test_removed_stories_take_their_places_with_them_and_old_buttons_say_so(
    simcord_env: simcord.Env,
) -> None:
    s = server(simcord_env)
    excerpt = answer(await s.alice.slash(s.channel, "excerpt", story="breaking-alone"))
    reader = answer(await s.alice.slash(s.channel, "chapter", story="breaking-alone", chapter="2"))
    answer(await s.alice.click(reader, label="Bookmark"))
    assert (await s.library.reader_data(s.alice.id)).positions == 1

    await s.library.admin.remove("breaking-alone")
    data = await s.library.reader_data(s.alice.id)
    assert (data.positions, data.bookmarks) == (0, 0)
    for message, label in (
        (excerpt, "Another"),
        (excerpt, "Continue reading"),
        (excerpt, "Read chapter"),
        (excerpt, "Bookmark"),
        (reader, "Next"),
    ):
        await simcord_env.advance_time(11)
        told = answer(await s.alice.click(message, label=label))
        assert told.ephemeral and told.content == STORY_GONE, label
    assert len(simcord_env.errors) == 5


async def test_a_flood_of_another_is_answered_privately(simcord_env: simcord.Env) -> None:
    s = server(simcord_env)
    first = answer(await s.alice.slash(s.channel, "excerpt", story="breaking-alone"))
    public = 0
    for _ in range(8):
        result = answer(await s.bob.click(first, label="Another"))
        public += not result.ephemeral
        if result.ephemeral:
            assert result.content.startswith("Slow down a little")
    assert public == 4  # /excerpt's cooldown, 4 per 10 s, per user
    refused = answer(await s.alice.click(first, label="Continue reading"))
    refused = answer(await s.alice.click(first, label="Continue reading"))
    refused = answer(await s.alice.click(first, label="Continue reading"))
    refused = answer(await s.alice.click(first, label="Continue reading"))
    assert refused.ephemeral and refused.content.startswith("Slow down a little")
    assert len(simcord_env.errors) == 5


async def test_a_jump_box_opened_before_a_restart_is_answered_after_it(
    simcord_env: simcord.Env, closing_bots: BuildBot
) -> None:
    s = server(simcord_env)
    message = answer(await s.alice.slash(s.channel, "chapter", story="breaking-alone", chapter="2"))
    shown = await s.alice.click(message, label="Jump")
    assert shown.modal is not None
    await restart(simcord_env, closing_bots)
    turned = answer(await s.alice.submit_modal(shown, {"page": "2"}))
    assert " · page 2 of " in footer_text(turned)


async def test_dms_serve_readers_but_never_a_mature_story(simcord_env: simcord.Env) -> None:
    env = simcord_env
    alice = env.create_user("alice")
    available = set(alice.available_commands())
    assert {"excerpt", "chapter", "continue", "bookmarks", "quote", "forget"} <= available
    assert not {"library", "daily"} & {name.split()[0] for name in available}
    for _ in range(30):
        result = answer(await alice.slash("excerpt"))
        assert result.embeds and result.embeds[0].author.name != EXPLICIT
        await env.advance_time(3)
    refused = answer(await alice.slash("chapter", story="taking-steps", chapter="1"))
    assert "age-restricted" in refused.content
    assert await alice.autocomplete("continue", "story", "tak") == []
    reader = answer(await alice.slash("chapter", story="breaking-alone", chapter="2"))
    answer(await alice.click(reader, label="Next"))
    assert " · page 2 of " in footer_text(answer(await alice.slash("continue")))
    assert len(env.errors) == 1


async def test_no_excerpt_repeats_in_a_channel_before_its_pool_is_used_up(
    simcord_env: simcord.Env,
) -> None:
    s = server(simcord_env)
    shown: dict[str, list[str]] = defaultdict(list)
    for n in range(200):
        if n and n % 4 == 0:
            await simcord_env.advance_time(11)  # /excerpt's cooldown: 4 per 10 s
        embed = answer(await s.alice.slash(s.channel, "excerpt")).embeds[0]
        shown[embed.author.name or ""].append(embed.description or "")
    stories = {s.title: s for s in await s.library.stories(mature_ok=False)}
    assert set(shown) == set(stories)  # every story, evenly chosen (P(missing one) ~ 1e-25)
    for title, seen in shown.items():
        pool = len(await s.library.excerpt_pool(stories[title].id, mature_ok=False))
        first_round = seen[:pool]
        assert len(set(first_round)) == len(first_round), title
        if len(seen) > pool:  # a second round: the whole pool came first
            assert set(seen[pool:]) <= set(first_round)


@pytest.mark.parametrize("scope", [{"story": "a-tale-of-two-sinners"}])
async def test_the_shuffle_survives_a_restart(
    simcord_env: simcord.Env, closing_bots: BuildBot, scope: dict[str, str]
) -> None:
    s = server(simcord_env)
    pool = len(await s.library.excerpt_pool(scope["story"], mature_ok=False))
    seen = []
    for n in range(min(pool, 12)):
        if n == 6:
            await restart(simcord_env, closing_bots)
        if n and n % 4 == 0:
            await simcord_env.advance_time(11)
        seen.append(
            answer(await s.alice.slash(s.channel, "excerpt", **scope)).embeds[0].description
        )
    assert len(set(seen)) == len(seen)


async def test_forget_counts_the_places_waiting_to_be_written(simcord_env: simcord.Env) -> None:
    """The database refuses reading places for a while (a trigger): they wait in memory,
    /continue reads them and /forget drops them, so /forget's count says them too, each
    story's place once. Before the fix the count left them out: 'your place in 1 story'."""
    s = server(simcord_env)
    bot = simcord_env.bot
    assert isinstance(bot, StoryBot)
    answer(await s.alice.slash(s.channel, "chapter", story="breaking-alone", chapter="1"))
    await bot.library.readers.settled()
    assert len(await bot.library.store.reading_positions(s.alice.id)) == 1
    await refuse(bot.settings, "reading_positions", "INSERT")
    answer(await s.alice.slash(s.channel, "chapter", story="breaking-alone", chapter="2"))
    answer(await s.alice.slash(s.channel, "chapter", story="soaked-in-sorry", chapter="1"))
    await bot.library.readers.settled()  # refused: both places wait
    question = answer(await s.alice.slash(s.channel, "forget"))
    assert "your place in 2 stories and 0 bookmarks" in question.content, question.content
    done = answer(await s.alice.click(question, label="Forget me"))
    assert done.content == "Done: your place in 2 stories and 0 bookmarks are deleted."
    await allow(bot.settings, "reading_positions")
    assert await bot.library.store.reading_positions(s.alice.id) == []
