"""/quote: find the line a reader half-remembers, matched words in bold."""

from __future__ import annotations

from typing import Any

from discord import app_commands
from discord.ext import commands

from bot.models import SearchResult
from cogs._choices import story_choices
from cogs._context import Interaction
from cogs._render import echo, searched
from cogs._results import HITS_SHOWN, answer_search, results_message
from cogs._views import DYNAMIC_ITEMS

HEADINGS = {
    "exact": "Found",
    "words": "All the words of",
    "fuzzy": "Closest to",
}


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
            "content": f"No line in {searched(result.story)} is close to “{query}”. "
            "Try fewer words, or words you are surer of."
        }
    heading = f"{HEADINGS.get(result.match, 'Matches for')} “{query}”"
    heading = f"{heading} ({hidden}):" if result.hidden else f"{heading}:"
    total = len(hits)
    authors = [f"Match {n} of {total}" if total > 1 else None for n in range(1, total + 1)]
    return results_message(heading, hits, authors, bookmarks=True)


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
        reader = None if spoilers else interaction.user.id
        # spoilers:False answers privately: what was hidden would tell others how far you read
        await answer_search(
            interaction,
            lambda library, ok: library.check_quote(text, story, mature_ok=ok),
            lambda library, scope, ok: library.quote(
                text, scope, mature_ok=ok, limit=HITS_SHOWN, reader=reader
            ),
            quote_message,
            ephemeral=not spoilers,
        )


async def setup(bot: commands.Bot) -> None:
    bot.add_dynamic_items(*DYNAMIC_ITEMS)
    await bot.add_cog(Quotes(bot))
