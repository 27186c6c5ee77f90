"""/scene: find a scene from a description in the reader's own words.

The best three passages, each as an embed: how sure the search is ("Close match",
"Possible", "Long shot") above, the story's title, a snippet with the words that matched in
bold, and the story and chapter label below; one "Read from here" button per passage.
A weak match is still offered, labelled as such: a description is rarely the story's words.
"""

from __future__ import annotations

from typing import Any

from discord import app_commands
from discord.ext import commands

from bot.models import SceneResult, long_shots
from cogs._choices import story_choices
from cogs._context import Interaction
from cogs._render import echo, searched
from cogs._results import HITS_SHOWN, answer_search, results_message
from cogs._views import DYNAMIC_ITEMS

SURE = {"close match": "Close match", "possible": "Possible", "long shot": "Long shot"}


def scene_message(result: SceneResult) -> dict[str, Any]:
    """The answer to /scene: a line saying how sure, one embed and button per passage."""
    query = echo(result.query)
    hits = result.hits[:HITS_SHOWN]
    if not hits:
        return {
            "content": f"No passage in {searched(result.story)} shares a word with “{query}”. "
            "Try the names of the characters, the place, or what happens."
        }
    if all(hit.confidence == "long shot" for hit in hits):
        heading = f"Nothing close to “{query}”; {long_shots(len(hits))}:"
    elif len(hits) > 1:
        heading = f"Scenes like “{query}”, best first:"
    else:  # one passage (a story of one chapter): no order to speak of
        heading = f"A scene like “{query}”:"
    total = len(hits)
    authors = [
        (f"{n} of {total} · " if total > 1 else "") + SURE[hit.confidence]
        for n, hit in enumerate(hits, start=1)
    ]
    return results_message(heading, hits, authors)


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
        await answer_search(
            interaction,
            lambda library, ok: library.check_scene(description, story, mature_ok=ok),
            lambda library, scope, ok: library.scene(
                description, scope, mature_ok=ok, limit=HITS_SHOWN
            ),
            scene_message,
        )


async def setup(bot: commands.Bot) -> None:
    bot.add_dynamic_items(*DYNAMIC_ITEMS)
    await bot.add_cog(Scenes(bot))
