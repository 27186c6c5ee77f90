"""/excerpt: a random passage, with Another, Continue reading, Read chapter and Bookmark buttons.

A channel does not see a passage twice until it has seen all of its story's (the Library keeps
each channel's shuffle in the database). Another and Continue reading post publicly, so they
share /excerpt's per-user cooldown: a flood of clicks is answered privately, like a flood of
commands.
"""

from __future__ import annotations

import re
from collections import deque
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.models import Excerpt
from bot.paging import paginate
from cogs._choices import chapter_choices, story_choices
from cogs._context import Interaction, library_of, mature_ok, report
from cogs._deadline import in_time, send
from cogs._limits import SharedCooldown
from cogs._render import story_embed
from cogs._views import DYNAMIC_ITEMS, BookmarkButton, ReadButton

RECENT_PER_CHANNEL = 12  # excerpts naming a character a channel remembers, not to repeat one
CHARACTER_IN_ID = 40  # a longer character name is not carried by the Another button
ANOTHER_TEMPLATE = r"sb:ex:a:(?P<story>\d+):(?P<chapter>-?\d+|-):(?P<character>.{0,40})"
CONTINUE_TEMPLATE = r"sb:ex:c:(?P<story>\d+):(?P<end>\d+)"


class RecentExcerpts:
    """A short per-channel memory of (story id, first position) of the excerpts shown, for
    excerpts naming a character (the others follow the channel's stored shuffle)."""

    def __init__(self, size: int = RECENT_PER_CHANNEL) -> None:
        self.size = size
        self._seen: dict[int, deque[tuple[int, int]]] = {}

    def of(self, channel_id: int | None) -> frozenset[tuple[int, int]]:
        return frozenset(self._seen.get(channel_id or 0, ()))

    def add(self, channel_id: int | None, excerpt: Excerpt) -> None:
        seen = self._seen.setdefault(channel_id or 0, deque(maxlen=self.size))
        seen.append((excerpt.story.id, excerpt.start))

    def forget(self, channel_id: int) -> None:
        self._seen.pop(channel_id, None)


def _cog(interaction: Interaction) -> Excerpts:
    cog = interaction.client.get_cog(Excerpts.__cog_name__)
    if not isinstance(cog, Excerpts):
        raise TypeError("the excerpt buttons need the Excerpts cog")
    return cog


def _recent(interaction: Interaction) -> RecentExcerpts:
    return _cog(interaction).recent


def _slow_down(interaction: Interaction) -> bool:
    """/excerpt's per-user cooldown, shared by the buttons that post an excerpt publicly."""
    return _cog(interaction).cooldown.check(interaction)


def excerpt_message(
    excerpt: Excerpt,
    *,
    scope_story: int | None,
    scope_chapter: int | None,
    character: str | None,
) -> dict[str, Any]:
    """The embed and buttons of an excerpt; a passage too long for one embed is cut visibly."""
    pages = paginate(excerpt.text)
    more = f"continues in {excerpt.chapter_label}" if len(pages) > 1 else None
    text = pages[0].rstrip() + ("…" if more else "")
    embed = story_embed(excerpt.story, excerpt.chapter_label, text, extra=more)
    view = discord.ui.View(timeout=None)
    view.add_item(AnotherButton(scope_story, scope_chapter, character))
    view.add_item(ContinueButton(excerpt.story.id, excerpt.end))
    view.add_item(ReadButton(excerpt.story.id, excerpt.chapter, excerpt.start))
    view.add_item(BookmarkButton(excerpt.story.id, excerpt.start))
    return {"embed": embed, "view": view}


async def _post_excerpt(
    interaction: Interaction,
    story: str | int | None,
    chapter: str | int | None,
    character: str | None,
) -> None:
    library = library_of(interaction)
    recent = _recent(interaction)
    # the channel's shuffle is a write, which may wait on another process's lock
    excerpt = await in_time(
        interaction,
        library.excerpt(
            story,
            chapter,
            character,
            mature_ok=mature_ok(interaction),
            avoid=recent.of(interaction.channel_id),
            channel=interaction.channel_id,
        ),
    )
    recent.add(interaction.channel_id, excerpt)
    scope_story = excerpt.story.id if story is not None else None
    scope_chapter = excerpt.chapter if chapter is not None else None
    await send(
        interaction,
        **excerpt_message(
            excerpt, scope_story=scope_story, scope_chapter=scope_chapter, character=character
        ),
    )


class AnotherButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=ANOTHER_TEMPLATE):
    """Another passage from the same choice (story, chapter, character), not a recent one."""

    def __init__(self, story: int | None, chapter: int | None, character: str | None) -> None:
        name = character if character and len(character) <= CHARACTER_IN_ID else ""
        chapter_part = str(chapter) if chapter is not None and story else "-"
        super().__init__(
            discord.ui.Button(
                label="Another",
                emoji="🎲",
                style=discord.ButtonStyle.primary,
                custom_id=f"sb:ex:a:{story or 0}:{chapter_part}:{name}",
            )
        )
        self.story = story or None
        self.chapter = chapter if self.story and chapter is not None else None
        self.character = name or None

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> AnotherButton:
        chapter = None if match["chapter"] == "-" else int(match["chapter"])
        return cls(int(match["story"]), chapter, match["character"] or None)

    async def callback(self, interaction: Interaction) -> None:
        try:
            _slow_down(interaction)
            await _post_excerpt(interaction, self.story, self.chapter, self.character)
        except Exception as exc:
            await report(interaction, exc, "excerpt another")


class ContinueButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=CONTINUE_TEMPLATE):
    """The passage that follows the one shown."""

    def __init__(self, story: int, end: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Continue reading",
                emoji="➡️",
                style=discord.ButtonStyle.secondary,
                custom_id=f"sb:ex:c:{story}:{end}",
            )
        )
        self.story = story
        self.end = end

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ContinueButton:
        return cls(int(match["story"]), int(match["end"]))

    async def callback(self, interaction: Interaction) -> None:
        try:
            _slow_down(interaction)
            library = library_of(interaction)
            excerpt = await library.continue_after(
                self.story, self.end, mature_ok=mature_ok(interaction)
            )
            _recent(interaction).add(interaction.channel_id, excerpt)
            await interaction.response.send_message(
                **excerpt_message(
                    excerpt, scope_story=excerpt.story.id, scope_chapter=None, character=None
                )
            )
            await library.record_place(interaction.user.id, excerpt.story, excerpt.start)
        except Exception as exc:
            await report(interaction, exc, "excerpt continue")


class Excerpts(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        self.recent = RecentExcerpts()
        self.cooldown = SharedCooldown()  # /excerpt, Another and Continue reading, per user

    @app_commands.command(name="excerpt")
    @app_commands.describe(
        story="Only this story (any story when left out)",
        chapter="Only this chapter of the story",
        character="A passage that names this character",
    )
    @app_commands.autocomplete(story=story_choices, chapter=chapter_choices)
    @app_commands.check(_slow_down)
    async def excerpt(
        self,
        interaction: Interaction,
        story: str | None = None,
        chapter: str | None = None,
        character: str | None = None,
    ) -> None:
        """A random passage from the library, or from one story."""
        await _post_excerpt(interaction, story, chapter, character)


async def setup(bot: commands.Bot) -> None:
    bot.add_dynamic_items(AnotherButton, ContinueButton, *DYNAMIC_ITEMS)
    await bot.add_cog(Excerpts(bot))


async def teardown(bot: commands.Bot) -> None:
    bot.remove_dynamic_items(AnotherButton, ContinueButton)
