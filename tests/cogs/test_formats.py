"""EPUB and HTML stories in Discord, end to end through simcord: an explicit EPUB dropped in
the stories folder is refused in an ordinary channel and served in an age-restricted one;
/library add takes an EPUB (or HTML) as it takes a .txt (what it refuses: in
test_library_admin.py); /stories and the story embed show author, rating, fandom and
summary."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import discord
import pytest
import simcord

from bot.models import ChapterInfo, Story
from bot.runtime import StoryBot
from bot.settings import Settings
from cogs._limits import EMBED_LIMIT, FIELD_LIMIT
from cogs._render import SUMMARY_IN_LIST, library_pages
from cogs.library_admin import story_embed
from tests.cogs.age_restricted import Mark, age_restricted
from tests.cogs.closing import BuildBot, closing_bots
from tests.cogs.helpers import admin, answer, server, texts, uploaded
from tests.cogs.helpers import everything as _everything
from tests.text import epub_fixtures as fx

__all__ = ["age_restricted", "closing_bots"]

REDUX = "The Time Machine Redux"
SLUG = "the-time-machine-redux"
FANDOM = "The Time Machine - H. G. Wells"


@pytest.fixture
def simcord_bot(settings: Settings, stories_dir: Path, closing_bots: BuildBot) -> StoryBot:
    (stories_dir / "redux.epub").write_bytes(fx.archive_epub("Explicit"))
    return closing_bots(dataclasses.replace(settings, max_upload_bytes=256 * 1024))


@pytest.mark.simcord(check_errors=False)
async def test_explicit_epub_refused_in_an_ordinary_channel(simcord_env: simcord.Env) -> None:
    env = simcord_env
    s = server(env, channel="general")
    general, alice = s.channel, s.alice
    for name, options in (
        ("excerpt", {"story": SLUG}),
        ("chapter", {"story": SLUG, "chapter": "1"}),
    ):
        message = answer(await alice.slash(general, name, **options))
        assert message.ephemeral
        assert "rated explicit" in message.content and "age-restricted" in message.content
        await env.advance_time(3)
    listed = answer(await alice.slash(general, "stories"))
    assert REDUX not in _everything(listed)
    assert await alice.autocomplete(general, "excerpt", "story", "the time") == []
    for _ in range(20):  # never drawn at random either
        await env.advance_time(3)
        drawn = answer(await alice.slash(general, "excerpt"))
        assert drawn.embeds[0].author.name != REDUX


async def test_explicit_epub_served_in_an_age_restricted_channel(
    simcord_env: simcord.Env, age_restricted: Mark
) -> None:
    env = simcord_env
    s = server(env, channel="after-dark")
    after_dark, alice = s.channel, s.alice
    await age_restricted(env, after_dark)

    excerpt = answer(await alice.slash(after_dark, "excerpt", story=SLUG))
    assert excerpt.embeds[0].author.name == REDUX
    text = excerpt.embeds[0].description or ""
    assert text and not any(word in text for word in fx.NOTE_WORDS)  # no notes in the text
    await env.advance_time(3)
    page = answer(await alice.slash(after_dark, "chapter", story=SLUG, chapter="2"))
    assert f"**Chapter 2: {fx.chapters()[1].title}**" in texts(page)[0]  # the reader's heading
    await env.advance_time(3)

    listed = _everything(answer(await alice.slash(after_dark, "stories")))
    assert f"**{REDUX}** by hgw · `{SLUG}` · explicit · 3 chapters" in listed
    assert f"Fandom: {discord.utils.escape_markdown(FANDOM)}" in listed
    assert f"> {fx.SUMMARY}" in listed
    choices = await alice.autocomplete(after_dark, "excerpt", "story", "the time")
    assert {"name": REDUX, "value": SLUG} in choices


async def test_library_add_takes_an_epub(simcord_env: simcord.Env, stories_dir: Path) -> None:
    env = simcord_env
    here = server(env, channel="admin")
    channel = here.channel
    ada = admin(env, here.guild)
    data = fx.archive_epub("Teen And Up Audiences").replace(b"redux", b"again")
    result = await ada.slash(channel, "library add", file=("Redux Again.EPUB", data))
    said = _everything(answer(result))
    assert "Story added" in said
    assert "(`Redux_Again.epub`)" in said  # the file keeps its format
    for line in ("Author: hgw", "Rating: teen", "Chapters: 3"):
        assert line in said, line
    assert f"Fandom: {discord.utils.escape_markdown(FANDOM)}" in said
    assert f"Summary: {fx.SUMMARY}" in said
    assert await uploaded(env, stories_dir, "Redux_Again.epub") == data

    # rated teen: served in an ordinary channel, as the Archive says
    bot = env.bot
    assert isinstance(bot, StoryBot)
    added = next(s for s in await bot.library.stories(mature_ok=False) if s.file.endswith("epub"))
    assert added.rating == "teen" and added.characters == tuple(fx.ARCHIVE_TAGS["Characters"])
    await env.advance_time(3)
    excerpt = answer(await ada.slash(channel, "excerpt", story=added.slug, character="Weena"))
    # the library holds redux.epub under the same title: the file tells them apart
    assert excerpt.embeds[0].author.name == f"{REDUX} (Redux_Again.epub)"


async def test_library_add_takes_an_html_page(simcord_env: simcord.Env, stories_dir: Path) -> None:
    env = simcord_env
    s = server(env, channel="admin")
    guild, channel = s.guild, s.channel
    ada = admin(env, guild)
    data = fx.archive_html("General Audiences")
    said = _everything(answer(await ada.slash(channel, "library add", file=("redux.htm", data))))
    assert "Story added" in said and "(`redux.htm`)" in said and "Rating: general" in said
    assert await uploaded(env, stories_dir, "redux.htm") == data


def test_metadata_is_shown_as_written_within_limits() -> None:
    """Markdown in an author's name, a fandom or a summary is shown, not rendered; a long
    summary is cut visibly; the embed stays within Discord's limits."""
    story = Story(
        id=1, slug="s", title="*Stars* _and_ `code`", file="s.epub", author="__xX_dark_Xx__",
        rating="teen", url=None, words=10, chapters=(ChapterInfo(1, "Chapter 1", 10),),
        fandom=("Buffy the ~~Vampire~~ Slayer",), summary="> not a quote *" + "long " * 400,
    )  # fmt: skip
    page = library_pages([story])[0]
    assert "**\\*Stars\\* \\_and\\_ \\`code\\`** by \\_\\_xX\\_dark\\_Xx\\_\\_" in page
    assert "Fandom: Buffy the \\~\\~Vampire\\~\\~ Slayer" in page
    summary = next(line for line in page.split("\n") if line.startswith("> "))
    assert summary.startswith("> \\> not a quote \\*") and summary.endswith("…")
    assert len(summary) <= 2 + 2 * SUMMARY_IN_LIST
    embed = story_embed(story, "Story added")
    fields = {f.name: f.value or "" for f in embed.fields}
    assert fields["Author"] == "\\_\\_xX\\_dark\\_Xx\\_\\_"
    assert fields["Summary"].endswith("…") and len(fields["Summary"]) <= FIELD_LIMIT
    assert len(embed) <= EMBED_LIMIT
