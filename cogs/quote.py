"""/quote: find the line a reader half-remembers, matched words in bold."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import search
from bot.models import Hit, SearchResult
from cogs import _ui
from cogs._ui import Interaction

HITS_SHOWN = 3
KEYCAPS = ("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣")
HEADINGS = {
    "exact": "Found",
    "words": "All the words of",
    "fuzzy": "Closest to",
}


def hit_embed(hit: Hit, number: int, total: int) -> discord.Embed:
    embed = discord.Embed(
        title=_ui.fit(hit.story.title, _ui.TITLE_LIMIT),
        url=hit.story.url or None,
        description=_ui.fit(_ui.render_snippet(hit.snippet), _ui.DESCRIPTION_LIMIT),
        colour=_ui.COLOUR,
    )
    if total > 1:
        embed.set_author(name=f"Match {number} of {total}")
    embed.set_footer(text=_ui.fit(_ui.footer(hit.story, hit.chapter_label), 2048))
    return embed


def quote_message(result: SearchResult) -> dict[str, Any]:
    """The answer to /quote: a line naming the kind of match, one embed and button per hit."""
    query = _ui.echo(result.query)
    hits = result.hits[:HITS_SHOWN]
    if not hits:
        return {
            "content": f"No line in the library is close to “{query}”. "
            "Try fewer words, or words you are surer of."
        }
    view = discord.ui.View(timeout=None)
    for number, hit in enumerate(hits, start=1):
        view.add_item(
            _ui.ReadButton(
                hit.story.id,
                hit.chapter,
                hit.position,
                label="Read from here",
                emoji=KEYCAPS[number - 1] if len(hits) > 1 else "📖",
            )
        )
    return {
        "content": f"{HEADINGS.get(result.match, 'Matches for')} “{query}”:",
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
    )
    @app_commands.autocomplete(story=_ui.story_choices)
    @app_commands.checks.cooldown(4, 10.0)
    async def quote(self, interaction: Interaction, text: str, story: str | None = None) -> None:
        """Find a line in the stories from the words you remember."""
        library = _ui.library_of(interaction)
        ok = _ui.mature_ok(interaction)
        if not search.tokens(text):
            await _ui.tell(interaction, "Type a few words of the line you remember.")
            return
        if story is not None:  # an unknown story is answered privately, before deferring
            await library.find_story(story, mature_ok=ok)
        await interaction.response.defer(thinking=True)
        result = await library.quote(text, story, mature_ok=ok, limit=HITS_SHOWN)
        await interaction.followup.send(**quote_message(result))


async def setup(bot: commands.Bot) -> None:
    bot.add_dynamic_items(*_ui.DYNAMIC_ITEMS)
    await bot.add_cog(Quotes(bot))
