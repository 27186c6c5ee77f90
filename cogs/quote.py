"""/quote: find the line a reader half-remembers, matched words in bold."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.models import Hit, SearchResult
from cogs._choices import story_choices
from cogs._context import Interaction, library_of, mature_ok
from cogs._limits import DESCRIPTION_LIMIT, FOOTER_LIMIT, TITLE_LIMIT
from cogs._render import COLOUR, echo, fit, footer, render_snippet
from cogs._views import DYNAMIC_ITEMS, BookmarkButton, ReadButton

HITS_SHOWN = 3
KEYCAPS = ("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣")
HEADINGS = {
    "exact": "Found",
    "words": "All the words of",
    "fuzzy": "Closest to",
}


def hit_embed(hit: Hit, number: int, total: int) -> discord.Embed:
    embed = discord.Embed(
        title=fit(hit.story.title, TITLE_LIMIT),
        url=hit.story.url or None,
        description=fit(render_snippet(hit.snippet, hit.marks), DESCRIPTION_LIMIT),
        colour=COLOUR,
    )
    if total > 1:
        embed.set_author(name=f"Match {number} of {total}")
    embed.set_footer(text=fit(footer(hit.story, hit.chapter_label), FOOTER_LIMIT))
    return embed


def hidden_line(count: int) -> str:
    """How many matches spoilers:False left out, e.g. "2 more matches in chapters you haven't
    read"."""
    return f"{count} more match{'es' if count != 1 else ''} in chapters you haven't read"


def quote_message(result: SearchResult) -> dict[str, Any]:
    """The answer to /quote: a line naming the kind of match, one embed and button per hit."""
    query = echo(result.query)
    hits = result.hits[:HITS_SHOWN]
    hidden = hidden_line(result.hidden)
    if not hits:
        if result.hidden:
            return {"content": f"No match for “{query}” in what you have read; {hidden}."}
        return {
            "content": f"No line in the library is close to “{query}”. "
            "Try fewer words, or words you are surer of."
        }
    view = discord.ui.View(timeout=None)
    for number, hit in enumerate(hits, start=1):
        emoji = KEYCAPS[number - 1] if len(hits) > 1 else None
        view.add_item(
            ReadButton(
                hit.story.id, hit.chapter, hit.position, label="Read from here", emoji=emoji or "📖"
            )
        )
        view.add_item(BookmarkButton(hit.story.id, hit.position, emoji=emoji or "🔖"))
    heading = f"{HEADINGS.get(result.match, 'Matches for')} “{query}”"
    return {
        "content": f"{heading} ({hidden}):" if result.hidden else f"{heading}:",
        "embeds": [hit_embed(hit, n, len(hits)) for n, hit in enumerate(hits, start=1)],
        "view": view,
    }


class Quotes(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @app_commands.command(name="quote")
    @app_commands.describe(
        text="The line as you remember it; close is good enough",
        story="Search only this story",
        spoilers="False: only what you have read (chapters up to your furthest place)",
    )
    @app_commands.autocomplete(story=story_choices)
    @app_commands.checks.cooldown(4, 10.0)
    async def quote(
        self, interaction: Interaction, text: str, story: str | None = None, spoilers: bool = True
    ) -> None:
        """Find a line in the stories from the words you remember."""
        library = library_of(interaction)
        ok = mature_ok(interaction)
        # no words, or a story not to be searched here: answered privately, before deferring
        scope = await library.check_quote(text, story, mature_ok=ok)
        # spoilers:False answers privately: what was hidden would tell others how far you read
        await interaction.response.defer(thinking=True, ephemeral=not spoilers)
        reader = None if spoilers else interaction.user.id
        result = await library.quote(text, scope, mature_ok=ok, limit=HITS_SHOWN, reader=reader)
        await interaction.followup.send(**quote_message(result))


async def setup(bot: commands.Bot) -> None:
    bot.add_dynamic_items(*DYNAMIC_ITEMS)
    await bot.add_cog(Quotes(bot))
