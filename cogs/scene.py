"""/scene: find a scene from a description in the reader's own words.

The best three passages, each as an embed: how sure the search is ("Close match",
"Possible", "Long shot") above, the story's title, a snippet with the words that matched in
bold, and the story and chapter label below; one "Read from here" button per passage.
A weak match is still offered, labelled as such: a description is rarely the story's words.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.models import SceneHit, SceneResult
from cogs._choices import story_choices
from cogs._context import Interaction, library_of, mature_ok
from cogs._limits import DESCRIPTION_LIMIT, FOOTER_LIMIT, TITLE_LIMIT
from cogs._render import COLOUR, echo, fit, footer, render_snippet
from cogs._views import DYNAMIC_ITEMS, ReadButton

HITS_SHOWN = 3
KEYCAPS = ("1️⃣", "2️⃣", "3️⃣")
SURE = {"close match": "Close match", "possible": "Possible", "long shot": "Long shot"}


def scene_embed(hit: SceneHit, number: int, total: int) -> discord.Embed:
    embed = discord.Embed(
        title=fit(hit.story.title, TITLE_LIMIT),
        url=hit.story.url or None,
        description=fit(render_snippet(hit.snippet, hit.marks), DESCRIPTION_LIMIT),
        colour=COLOUR,
    )
    place = f"{number} of {total} · " if total > 1 else ""
    embed.set_author(name=f"{place}{SURE[hit.confidence]}")
    embed.set_footer(text=fit(footer(hit.story, hit.chapter_label), FOOTER_LIMIT))
    return embed


def scene_message(result: SceneResult) -> dict[str, Any]:
    """The answer to /scene: a line saying how sure, one embed and button per passage."""
    query = echo(result.query)
    hits = result.hits[:HITS_SHOWN]
    if not hits:
        return {
            "content": f"No passage in the library shares a word with “{query}”. "
            "Try the names of the characters, the place, or what happens."
        }
    view = discord.ui.View(timeout=None)
    for number, hit in enumerate(hits, start=1):
        view.add_item(
            ReadButton(
                hit.story.id,
                hit.chapter,
                hit.position,
                label="Read from here",
                emoji=KEYCAPS[number - 1] if len(hits) > 1 else "📖",
            )
        )
    if all(hit.confidence == "long shot" for hit in hits):
        heading = f"Nothing close to “{query}”; the best guesses, long shots all:"
    else:
        heading = f"Scenes like “{query}”, best first:"
    return {
        "content": heading,
        "embeds": [scene_embed(hit, n, len(hits)) for n, hit in enumerate(hits, start=1)],
        "view": view,
    }


class Scenes(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @app_commands.command(name="scene")
    @app_commands.describe(
        description="What happens, in your own words: who, where, what",
        story="Search only this story",
    )
    @app_commands.autocomplete(story=story_choices)
    @app_commands.checks.cooldown(4, 10.0)
    async def scene(
        self, interaction: Interaction, description: str, story: str | None = None
    ) -> None:
        """Find a scene from a description: the best three passages, and how sure."""
        library = library_of(interaction)
        ok = mature_ok(interaction)
        # no words, or a story not to be searched here: answered privately, before deferring
        scope = await library.check_scene(description, story, mature_ok=ok)
        await interaction.response.defer(thinking=True)
        result = await library.scene(description, scope, mature_ok=ok, limit=HITS_SHOWN)
        await interaction.followup.send(**scene_message(result))


async def setup(bot: commands.Bot) -> None:
    bot.add_dynamic_items(*DYNAMIC_ITEMS)
    await bot.add_cog(Scenes(bot))
