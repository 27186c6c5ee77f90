"""Readers come back: /continue, /bookmarks and /forget, and the Jump box's answer.

What the bot keeps about a reader (their place in each story they open, their bookmarks) is
theirs alone: these commands answer privately, and every button here acts for whoever clicks
it, on their own data.
"""

from __future__ import annotations

import logging
import re
from typing import Any, ClassVar

import discord
from discord import app_commands
from discord.ext import commands

from bot.models import Bookmark, ReaderData, Story
from cogs._choices import story_choices
from cogs._context import Interaction, library_of, mature_ok, report
from cogs._deadline import edit, in_time
from cogs._limits import COMMAND_PER, COMMAND_RATE
from cogs._render import COLOUR, escape
from cogs._views import DYNAMIC_ITEMS, action_row, answer_jump, open_reader

log = logging.getLogger(__name__)

BOOKMARKS_PER_PAGE = 5
KEYCAPS = ("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣")
NO_BOOKMARKS = (
    "You have no bookmarks yet: the Bookmark button under a page, an excerpt or a quote "
    "saves that place."
)
LIST_TEMPLATE = r"sb:bk:(?P<action>open|rm|pg):(?P<value>\d+)(?::(?P<page>\d+))?"
FORGET_TEMPLATE = r"sb:fg:(?P<answer>yes|no):(?P<user>\d+)"


def _count(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


def _where(bookmark: Bookmark, story: Story) -> str:
    info = story.chapter_info(bookmark.chapter)
    return f"{story.name} · {info.label if info else bookmark.chapter}"


async def bookmarks_layout(interaction: Interaction, page: int) -> discord.ui.LayoutView | None:
    """One page of the clicker's bookmarks, newest first, each with Open and Remove; None when
    there is nothing to show here."""
    shown, elsewhere = await library_of(interaction).bookmarks(
        interaction.user.id, mature_ok=mature_ok(interaction)
    )
    if not shown:
        return None
    pages = max(1, -(-len(shown) // BOOKMARKS_PER_PAGE))
    page = max(0, min(page, pages - 1))
    first = page * BOOKMARKS_PER_PAGE
    container: discord.ui.Container[Any] = discord.ui.Container(accent_colour=COLOUR)
    heading = f"### Your bookmarks\n-# {_count(len(shown), 'bookmark')}, newest first"
    container.add_item(discord.ui.TextDisplay(heading))
    for n, (bookmark, story) in enumerate(shown[first : first + BOOKMARKS_PER_PAGE]):
        words = escape(bookmark.words)
        container.add_item(
            discord.ui.TextDisplay(f"{KEYCAPS[n]} **{escape(_where(bookmark, story))}**\n{words}")
        )
        container.add_item(
            action_row(
                ListButton("open", bookmark.id, emoji=KEYCAPS[n]),
                ListButton("rm", bookmark.id, page=page),
            )
        )
    container.add_item(discord.ui.Separator())
    footer = f"-# page {page + 1} of {pages}"
    if elsewhere:
        footer += f" · {_count(elsewhere, 'more bookmark')} in stories shown only in "
        footer += "age-restricted channels"
    container.add_item(discord.ui.TextDisplay(footer))
    if pages > 1:
        container.add_item(
            action_row(
                ListButton("pg", max(0, page - 1), label="Prev", disabled=page == 0),
                ListButton(
                    "pg", min(pages - 1, page + 1), label="Next", disabled=page >= pages - 1
                ),
            )
        )
    view = discord.ui.LayoutView(timeout=None)
    view.add_item(container)
    return view


class ListButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=LIST_TEMPLATE):
    """A button of the /bookmarks list: open or remove a bookmark, or turn the list's page.
    It acts on the bookmarks of whoever clicks (the list is private to them anyway)."""

    LABELS: ClassVar[dict[str, str]] = {"open": "Open", "rm": "Remove", "pg": "Page"}

    def __init__(
        self,
        action: str,
        value: int,
        *,
        page: int | None = None,
        label: str | None = None,
        emoji: str | None = None,
        disabled: bool = False,
    ) -> None:
        custom_id = f"sb:bk:{action}:{value}" + (f":{page}" if page is not None else "")
        style = discord.ButtonStyle.danger if action == "rm" else discord.ButtonStyle.secondary
        super().__init__(
            discord.ui.Button(
                label=label or self.LABELS[action],
                emoji=emoji,
                style=discord.ButtonStyle.primary if action == "open" else style,
                custom_id=custom_id,
                disabled=disabled,
            )
        )
        self.action, self.value, self.page = action, value, page or 0

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ListButton:
        page = int(match["page"]) if match["page"] else None
        return cls(match["action"], int(match["value"]), page=page)

    async def callback(self, interaction: Interaction) -> None:
        try:
            library = library_of(interaction)
            if self.action == "open":
                place = await library.bookmark_place(
                    interaction.user.id, self.value, mature_ok=mature_ok(interaction)
                )
                await open_reader(interaction, place.story.id, place.chapter, place.position)
                return
            page = self.value
            if self.action == "rm":
                removing = library.remove_bookmark(interaction.user.id, self.value)
                await in_time(interaction, removing, update=True)
                page = self.page
            view = await bookmarks_layout(interaction, page)
            if view is None:
                view = _note_layout("Your bookmarks are all removed.")
            await edit(interaction, view=view)
        except Exception as exc:
            await report(interaction, exc, f"bookmarks {self.action}")


def _note_layout(text: str) -> discord.ui.LayoutView:
    view = discord.ui.LayoutView(timeout=None)
    view.add_item(discord.ui.Container(discord.ui.TextDisplay(text), accent_colour=COLOUR))
    return view


def _kept(data: ReaderData) -> str:
    """What the bot keeps about a reader, in words: "your place in 2 stories and 1 bookmark"."""
    parts = [f"your place in {_count(data.positions, 'story', 'stories')}"]
    parts.append(_count(data.bookmarks, "bookmark"))
    if data.clubs:
        parts.append(f"your place on {_count(data.clubs, 'club board')}")
    if data.follows:
        parts.append(f"{_count(data.follows, 'story', 'stories')} you follow")
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def forget_question(data: ReaderData) -> str:
    return (
        f"This deletes everything the bot keeps about you: {_kept(data)}. "
        "It cannot be undone. Forget it all?"
    )


async def _dm_channel(interaction: Interaction) -> int | None:
    """The asker's DM channel with the bot (its excerpt shuffles are about them), also
    forgotten from the excerpt cog's memory; None when Discord will not say."""
    if interaction.guild is None and interaction.channel_id is not None:
        channel: int | None = interaction.channel_id
    else:
        try:
            dm = interaction.user.dm_channel or await interaction.user.create_dm()
        except discord.HTTPException:
            log.warning("forget %s: cannot find their DM channel", interaction.user.id)
            return None
        channel = dm.id
    cog = interaction.client.get_cog("Excerpts")
    recent = getattr(cog, "recent", None)
    if channel is not None and recent is not None:
        recent.forget(channel)
    return channel


class ForgetButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=FORGET_TEMPLATE):
    """The answer to /forget's question: "Forget me" deletes, "Keep" leaves things as they are."""

    def __init__(self, answer: str, user: int) -> None:
        yes = answer == "yes"
        super().__init__(
            discord.ui.Button(
                label="Forget me" if yes else "Keep",
                style=discord.ButtonStyle.danger if yes else discord.ButtonStyle.secondary,
                custom_id=f"sb:fg:{answer}:{user}",
            )
        )
        self.answer, self.user = answer, user

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ForgetButton:
        return cls(match["answer"], int(match["user"]))

    async def callback(self, interaction: Interaction) -> None:
        try:
            if interaction.user.id != self.user:  # only the asker sees it; checked all the same
                await interaction.response.send_message(
                    "This question is someone else's: ask your own with /forget.", ephemeral=True
                )
                return
            if self.answer == "no":
                text = "Nothing was deleted."
            else:
                dm_channel = await _dm_channel(interaction)
                forgetting = library_of(interaction).forget_reader(self.user, dm_channel)
                gone = await in_time(interaction, forgetting, update=True)
                text = f"Done: {_kept(gone)} are deleted."
            await edit(interaction, content=text, view=None)
        except Exception as exc:
            await report(interaction, exc, "forget")


class Readers(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @app_commands.command(name="continue")
    @app_commands.describe(story="The story to continue (the one you read last when left out)")
    @app_commands.autocomplete(story=story_choices)
    @app_commands.checks.cooldown(COMMAND_RATE, COMMAND_PER)
    async def continue_(self, interaction: Interaction, story: str | None = None) -> None:
        """Go back to where you stopped reading."""
        place = await library_of(interaction).reading_place(
            interaction.user.id, story, mature_ok=mature_ok(interaction)
        )
        await open_reader(interaction, place.story.id, place.chapter, place.position)

    @app_commands.command(name="bookmarks")
    @app_commands.checks.cooldown(COMMAND_RATE, COMMAND_PER)
    async def bookmarks(self, interaction: Interaction) -> None:
        """Your bookmarks, newest first: open one, or remove it."""
        view = await bookmarks_layout(interaction, 0)
        if view is None:
            _, elsewhere = await library_of(interaction).bookmarks(
                interaction.user.id, mature_ok=False
            )
            hint = NO_BOOKMARKS if not elsewhere else "No bookmark of yours can be shown here."
            await interaction.response.send_message(hint, ephemeral=True)
            return
        await interaction.response.send_message(view=view, ephemeral=True)

    @app_commands.command(name="forget")
    @app_commands.checks.cooldown(COMMAND_RATE, COMMAND_PER)
    async def forget(self, interaction: Interaction) -> None:
        """Delete everything the bot keeps about you (reading places, bookmarks)."""
        data = await library_of(interaction).reader_data(interaction.user.id)
        if not (data.positions or data.bookmarks or data.clubs or data.follows):
            await interaction.response.send_message(
                "The bot keeps nothing about you: no reading place, no bookmark.", ephemeral=True
            )
            return
        view = discord.ui.View(timeout=None)
        view.add_item(ForgetButton("yes", interaction.user.id))
        view.add_item(ForgetButton("no", interaction.user.id))
        await interaction.response.send_message(forget_question(data), view=view, ephemeral=True)

    @commands.Cog.listener("on_interaction")
    async def jump_box(self, interaction: Interaction) -> None:
        """The Jump box's answer, for boxes opened before a restart as well as after."""
        await answer_jump(interaction)


async def setup(bot: commands.Bot) -> None:
    bot.add_dynamic_items(ListButton, ForgetButton, *DYNAMIC_ITEMS)
    await bot.add_cog(Readers(bot))


async def teardown(bot: commands.Bot) -> None:
    bot.remove_dynamic_items(ListButton, ForgetButton)
