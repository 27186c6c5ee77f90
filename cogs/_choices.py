"""Autocomplete for the cogs' options: one story chooser, one chapter chooser."""

from __future__ import annotations

from discord import app_commands

from bot.errors import StoryBotError
from cogs._context import Interaction, library_of, mature_ok
from cogs._limits import CHOICE_NAME_LIMIT, CHOICES_LIMIT
from cogs._render import fit


async def story_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Stories whose title matches what was typed; the value is the slug.

    Mature stories are offered only where they may be shown: the channel the command names
    (``/daily set channel:``) when it names one, else the channel it was typed in.
    """
    target = getattr(interaction.namespace, "channel", None) or interaction.channel
    try:
        stories = await library_of(interaction).suggest(
            current, mature_ok=mature_ok(interaction, target)
        )
    except StoryBotError:
        return []
    return [
        app_commands.Choice(name=fit(s.name, CHOICE_NAME_LIMIT), value=s.slug[:CHOICE_NAME_LIMIT])
        for s in stories[:CHOICES_LIMIT]
    ]


async def chapter_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """The chosen story's chapters by label; the value is the chapter number."""
    story_ref = getattr(interaction.namespace, "story", None)
    if not story_ref:
        return []
    try:
        story = await library_of(interaction).find_story(
            str(story_ref), mature_ok=mature_ok(interaction)
        )
    except StoryBotError:
        return []
    typed = current.strip().casefold()
    chapters = [c for c in story.chapters if typed in c.label.casefold() or typed == str(c.number)]
    return [
        app_commands.Choice(name=fit(c.label, CHOICE_NAME_LIMIT), value=str(c.number))
        for c in chapters[:CHOICES_LIMIT]
    ]
