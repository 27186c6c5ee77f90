"""The persistent views: the pager (a chapter's pages, the /stories list), its Jump box, and
"Read chapter" / "Read from here".

Every button keeps all its state in its custom_id (discord.ui.DynamicItem), so a message
keeps working after the bot restarts. Errors in buttons and modals go to the command tree's
one error handler (bot.runtime.StoryTree.on_error) like command errors do.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import discord

from bot.models import Chapter
from bot.runtime import tell
from cogs._context import Interaction, library_of, mature_ok, report
from cogs._render import chapter_page_embed, library_embed, library_pages

# ---- the pager ----------------------------------------------------------------------------------

PAGER_TEMPLATE = (
    r"sb:(?P<kind>pg|st):(?P<story>\d+):(?P<chapter>-?\d+):(?P<page>\d+):(?P<user>\d+)"
    r":(?P<action>first|prev|at|next|last|jump)"
)
ACTIONS = {"first": "First", "prev": "Prev", "next": "Next", "last": "Last", "jump": "Jump"}
EMOJI = {"first": "⏮️", "prev": "◀️", "next": "▶️", "last": "⏭️", "jump": "🔢"}


@dataclass(frozen=True, slots=True)
class PagerState:
    """Everything a pager button knows: what is shown, which page, and whose reader it is.

    ``kind`` is "pg" for a chapter (story id, chapter number) or "st" for the /stories list.
    """

    kind: str
    story: int
    chapter: int
    page: int
    user: int

    def custom_id(self, action: str) -> str:
        return f"sb:{self.kind}:{self.story}:{self.chapter}:{self.page}:{self.user}:{action}"

    @classmethod
    def from_match(cls, match: re.Match[str]) -> PagerState:
        return cls(
            kind=match["kind"],
            story=int(match["story"]),
            chapter=int(match["chapter"]),
            page=int(match["page"]),
            user=int(match["user"]),
        )


@dataclass(frozen=True, slots=True)
class Rendered:
    """One page ready to send: its embed, the page it shows, and how many there are."""

    embed: discord.Embed
    page: int
    total: int


def page_of_position(chapter: Chapter, pages: Sequence[str], position: int) -> int:
    """The index of the page holding the paragraph at ``position`` (0 if it is not here)."""
    offset = 0
    for p in chapter.paragraphs:
        if p.position >= position:
            break
        offset += len(p.text) + 2
    start = 0
    for index, page in enumerate(pages):
        if start <= offset < start + len(page):
            return index
        start += len(page)
    return 0


class ChapterPages:
    """A chapter of a story, as pages (state: story id, chapter number)."""

    not_yours = "This is {name}'s reader — start your own with /chapter"

    async def render(self, interaction: Interaction, state: PagerState) -> Rendered:
        chapter, pages = await library_of(interaction).pages(
            state.story, state.chapter, mature_ok=mature_ok(interaction)
        )
        index = max(0, min(state.page, len(pages) - 1))
        return Rendered(chapter_page_embed(chapter, pages, index), index, len(pages))


class LibraryPages:
    """The /stories list, as pages (story and chapter unused)."""

    not_yours = "This is {name}'s list — see your own with /stories"

    async def render(self, interaction: Interaction, state: PagerState) -> Rendered:
        stories = await library_of(interaction).stories(mature_ok=mature_ok(interaction))
        pages = library_pages(stories)
        index = max(0, min(state.page, len(pages) - 1))
        return Rendered(library_embed(stories, pages, index), index, len(pages))


# What a pager shows, by the kind in its custom_id (kept as they were: old messages hold them)
SOURCES: dict[str, ChapterPages | LibraryPages] = {"pg": ChapterPages(), "st": LibraryPages()}


async def render_page(interaction: Interaction, state: PagerState) -> Rendered:
    """The page ``state`` asks for (clamped to what exists now), as an embed."""
    return await SOURCES[state.kind].render(interaction, state)


def pager_view(state: PagerState, total: int) -> discord.ui.View | None:
    """First / Prev / n of N / Next / Last, and Jump; None when there is one page."""
    if total <= 1:
        return None
    view = discord.ui.View(timeout=None)
    at_start, at_end = state.page <= 0, state.page >= total - 1
    for action, disabled in (("first", at_start), ("prev", at_start)):
        view.add_item(PagerButton(state, action, disabled=disabled))
    view.add_item(PagerButton(state, "at", disabled=True, label=f"{state.page + 1} of {total}"))
    for action, disabled in (("next", at_end), ("last", at_end)):
        view.add_item(PagerButton(state, action, disabled=disabled))
    view.add_item(PagerButton(state, "jump", row=1))
    return view


async def owner_name(interaction: Interaction, user_id: int) -> str:
    """The display name of the reader's owner: from the message, the cache, or Discord."""
    message = interaction.message
    meta = message.interaction_metadata if message is not None else None
    if meta is not None and meta.user.id == user_id:
        name = meta.user.display_name
    elif (cached := interaction.client.get_user(user_id)) is not None:
        name = cached.display_name
    else:
        try:
            name = (await interaction.client.fetch_user(user_id)).display_name
        except discord.HTTPException:
            name = "someone else"
    return discord.utils.escape_markdown(name)


class PagerButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=PAGER_TEMPLATE):
    """One pager button; all of its state is in its custom_id."""

    def __init__(
        self,
        state: PagerState,
        action: str,
        *,
        disabled: bool = False,
        label: str | None = None,
        row: int | None = None,
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=label or ACTIONS[action],
                emoji=EMOJI.get(action),
                style=discord.ButtonStyle.secondary
                if action in ("at", "jump")
                else discord.ButtonStyle.primary,
                custom_id=state.custom_id(action),
                disabled=disabled,
            ),
            row=row if row is not None else 0,
        )
        self.state = state
        self.action = action

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PagerButton:
        return cls(PagerState.from_match(match), match["action"])

    async def interaction_check(self, interaction: Interaction, /) -> bool:
        if interaction.user.id == self.state.user:
            return True
        try:
            name = await owner_name(interaction, self.state.user)
            text = SOURCES[self.state.kind].not_yours.format(name=name)
            await interaction.response.send_message(text, ephemeral=True)
        except Exception as exc:
            await report(interaction, exc, f"pager {self.action}")
        return False

    async def callback(self, interaction: Interaction) -> None:
        try:
            if self.action == "jump":
                current = await render_page(interaction, self.state)
                await interaction.response.send_modal(JumpModal(self.state, current.total))
                return
            await turn_to(interaction, self.state, self._target())
        except Exception as exc:
            await report(interaction, exc, f"pager {self.action}")

    def _target(self) -> int:
        page = self.state.page
        return {
            "first": 0,
            "prev": page - 1,
            "next": page + 1,
            "last": 1 << 30,  # clamped to the last page by render_page
        }.get(self.action, page)


async def turn_to(interaction: Interaction, state: PagerState, page: int) -> None:
    """Show ``page`` in the message the interaction came from."""
    rendered = await render_page(interaction, replace(state, page=max(0, page)))
    shown = replace(state, page=rendered.page)
    await interaction.response.edit_message(
        embed=rendered.embed, view=pager_view(shown, rendered.total)
    )


class JumpModal(discord.ui.Modal, title="Jump to page"):
    def __init__(self, state: PagerState, total: int) -> None:
        super().__init__(timeout=600)
        self.state = state
        self.total = total
        self.page_input: discord.ui.TextInput[JumpModal] = discord.ui.TextInput(
            label=f"Page number (1-{total})",
            custom_id="page",
            placeholder=str(state.page + 1),
            min_length=1,
            max_length=6,
        )
        self.add_item(self.page_input)

    async def on_submit(self, interaction: Interaction, /) -> None:
        typed = self.page_input.value.strip()
        if not typed.isdigit() or not 1 <= int(typed) <= self.total:
            await tell(interaction, f"Pick a page from 1 to {self.total}.")
            return
        await turn_to(interaction, self.state, int(typed) - 1)

    async def on_error(self, interaction: Interaction, error: Exception, /) -> None:
        await report(interaction, error, "jump modal")


async def send_pager(
    interaction: Interaction, state: PagerState, *, ephemeral: bool = False
) -> None:
    """Answer the interaction with a new reader at ``state``'s page."""
    rendered = await render_page(interaction, state)
    shown = replace(state, page=rendered.page)
    view = pager_view(shown, rendered.total)
    if view is None:
        await interaction.response.send_message(embed=rendered.embed, ephemeral=ephemeral)
    else:
        await interaction.response.send_message(
            embed=rendered.embed, view=view, ephemeral=ephemeral
        )


# ---- "Read chapter" / "Read from here" -----------------------------------------------------------

READ_TEMPLATE = r"sb:rd:(?P<story>\d+):(?P<chapter>-?\d+):(?P<position>\d+)"


class ReadButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=READ_TEMPLATE):
    """Open a private reader at the page holding a paragraph (an excerpt's or a quote's)."""

    def __init__(
        self,
        story: int,
        chapter: int,
        position: int,
        *,
        label: str = "Read chapter",
        emoji: str | None = "📖",
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                emoji=emoji,
                style=discord.ButtonStyle.secondary,
                custom_id=f"sb:rd:{story}:{chapter}:{position}",
            )
        )
        self.story, self.chapter, self.position = story, chapter, position

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ReadButton:
        label = getattr(item, "label", None) or "Read chapter"
        return cls(int(match["story"]), int(match["chapter"]), int(match["position"]), label=label)

    async def callback(self, interaction: Interaction) -> None:
        try:
            chapter, pages = await library_of(interaction).pages(
                self.story, self.chapter, mature_ok=mature_ok(interaction)
            )
            page = page_of_position(chapter, pages, self.position)
            state = PagerState("pg", chapter.story.id, chapter.number, page, interaction.user.id)
            await send_pager(interaction, state, ephemeral=True)
        except Exception as exc:
            await report(interaction, exc, "read")


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (PagerButton, ReadButton)
