"""Search results, as /quote and /scene answer them: a line saying what was found, one embed
per hit (the story's title, a snippet with the matched words in bold, story and chapter
below) and a "Read from here" button for each; and the command body both run (refuse what
can be refused privately, defer, search, answer)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import discord

from bot.library import Library
from bot.models import Hit, SceneHit, Story
from cogs._context import Interaction, library_of, mature_ok
from cogs._limits import DESCRIPTION_LIMIT, FOOTER_LIMIT, TITLE_LIMIT
from cogs._render import COLOUR, fit, footer, render_snippet
from cogs._views import BookmarkButton, ReadButton

HITS_SHOWN = 3
KEYCAPS = ("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣")

R = TypeVar("R")


def hit_embed(hit: Hit | SceneHit, author: str | None) -> discord.Embed:
    """One hit: ``author`` above (which of how many, how sure), the snippet, the place."""
    embed = discord.Embed(
        title=fit(hit.story.name, TITLE_LIMIT),
        url=hit.story.url or None,
        description=fit(render_snippet(hit.snippet, hit.marks), DESCRIPTION_LIMIT),
        colour=COLOUR,
    )
    if author:
        embed.set_author(name=author)
    embed.set_footer(text=fit(footer(hit.story, hit.chapter_label), FOOTER_LIMIT))
    return embed


def results_message(
    heading: str,
    hits: Sequence[Hit | SceneHit],
    authors: Sequence[str | None],
    *,
    bookmarks: bool = False,
) -> dict[str, Any]:
    """The answer: ``heading``, an embed per hit (``authors`` above each) and its buttons,
    numbered by keycaps when there are several; a Bookmark button beside each if asked."""
    view = discord.ui.View(timeout=None)
    for number, hit in enumerate(hits, start=1):
        keycap = KEYCAPS[number - 1] if len(hits) > 1 else None
        read = ReadButton(
            hit.story.id, hit.chapter, hit.position, label="Read from here", emoji=keycap or "📖"
        )
        view.add_item(read)
        if bookmarks:
            view.add_item(BookmarkButton(hit.story.id, hit.position, emoji=keycap or "🔖"))
    return {
        "content": heading,
        "embeds": [hit_embed(hit, author) for hit, author in zip(hits, authors, strict=True)],
        "view": view,
    }


async def answer_search(
    interaction: Interaction,
    check: Callable[[Library, bool], Awaitable[Story | None]],
    search: Callable[[Library, Story | None, bool], Awaitable[R]],
    message: Callable[[R], dict[str, Any]],
    *,
    ephemeral: bool = False,
) -> None:
    """A search command's body: ``check`` refuses privately, before deferring, what can be
    refused (no words, a story not to be searched here) and finds the story named once;
    then ``search`` runs under a deferred (``ephemeral``) answer, sent as ``message``."""
    library = library_of(interaction)
    ok = mature_ok(interaction)
    scope = await check(library, ok)
    await interaction.response.defer(thinking=True, ephemeral=ephemeral)
    result = await search(library, scope, ok)
    await interaction.followup.send(**message(result))
