"""The persistent views: the pager (a chapter's pages as a Components V2 reader, the /stories
list as an embed), its Jump box, "Read chapter" / "Read from here" and "Bookmark".

Every button keeps all its state in its custom_id (discord.ui.DynamicItem), so a message
keeps working after the bot restarts; so does the Jump box, whose custom_id holds the page it
was opened on (answered by ``answer_jump``, not by a Modal object that a restart forgets).
Errors in buttons and modals go to the command tree's one error handler
(bot.runtime.StoryTree.on_error) like command errors do.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import discord

from bot.models import Chapter
from bot.runtime import tell
from cogs._context import Interaction, library_of, mature_ok, report
from cogs._deadline import in_time
from cogs._render import COLOUR, escape, library_embed, library_pages, reader_texts

# ---- the pager ----------------------------------------------------------------------------------

PAGER_TEMPLATE = (
    r"sb:(?P<kind>pg|st):(?P<story>\d+):(?P<chapter>-?\d+):(?P<page>\d+):(?P<user>\d+)"
    r":(?P<action>first|prev|at|next|last|jump)"
)
JUMP_TEMPLATE = (
    r"sb:jm:(?P<kind>pg|st):(?P<story>\d+):(?P<chapter>-?\d+):(?P<page>\d+):(?P<user>\d+)"
    r":(?P<total>\d+)"
)
ACTIONS = {"first": "First", "prev": "Prev", "next": "Next", "last": "Last", "jump": "Jump"}
EMOJI = {"first": "⏮️", "prev": "◀️", "next": "▶️", "last": "⏭️", "jump": "🔢"}
LAST = 1 << 30  # a page number past any chapter's end: clamped to its last page


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

    def jump_id(self, total: int) -> str:
        return f"sb:jm:{self.kind}:{self.story}:{self.chapter}:{self.page}:{self.user}:{total}"

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
    """One page ready to send: the page it shows, how many there are, and what it is made of
    (a chapter's page, or an embed of the /stories list)."""

    page: int
    total: int
    embed: discord.Embed | None = None
    chapter: Chapter | None = None
    pages: Sequence[str] = ()
    position: int = 0  # the first paragraph of a chapter's page
    before: bool = False  # a chapter before this one (Prev on the first page goes there)
    after: bool = False  # a chapter after this one (Next on the last page goes there)

    def message(self, state: PagerState) -> dict[str, Any]:
        """What to send or edit the message with, for a pager at ``state``'s page."""
        if self.chapter is not None:
            return {"view": reader_layout(self, state)}
        view = pager_view(state, self.total)
        return {"embed": self.embed, "view": view} if view else {"embed": self.embed}


class ChapterPages:
    """A chapter of a story, as pages (state: story id, chapter number)."""

    not_yours = "This is {name}'s reader — start your own with /chapter"

    async def render(
        self,
        interaction: Interaction,
        state: PagerState,
        *,
        step: int = 0,
        position: int | None = None,
        record: bool = True,
    ) -> Rendered:
        """The page, in one trip through the door, which also records the reader's place."""
        turn = await library_of(interaction).turn_page(
            interaction.user.id if record else None,
            state.story,
            state.chapter,
            state.page,
            mature_ok=mature_ok(interaction),
            step=step,
            position=position,
        )
        return Rendered(
            turn.page,
            turn.total,
            chapter=turn.chapter,
            pages=turn.pages,
            position=turn.position,
            before=turn.before,
            after=turn.after,
        )


class LibraryPages:
    """The /stories list, as pages (story and chapter unused)."""

    not_yours = "This is {name}'s list — see your own with /stories"

    async def render(self, interaction: Interaction, state: PagerState) -> Rendered:
        stories = await library_of(interaction).stories(mature_ok=mature_ok(interaction))
        pages = library_pages(stories)
        index = max(0, min(state.page, len(pages) - 1))
        return Rendered(index, len(pages), embed=library_embed(stories, pages, index))


CHAPTERS = ChapterPages()
LIST = LibraryPages()
# What a pager shows, by the kind in its custom_id (kept as they were: old messages hold them)
SOURCES: dict[str, ChapterPages | LibraryPages] = {"pg": CHAPTERS, "st": LIST}


async def render_page(
    interaction: Interaction, state: PagerState, *, step: int = 0, record: bool = True
) -> Rendered:
    """The page ``state`` asks for (clamped to what exists now); a chapter's page records the
    reader's place there unless ``record`` is False. Past a chapter's first or last page,
    ``step`` goes on to the chapter before (-1) or after (1)."""
    if state.kind == "pg":
        return await CHAPTERS.render(interaction, state, step=step, record=record)
    return await LIST.render(interaction, state)


def _nav_buttons(state: PagerState, rendered: Rendered) -> Iterator[PagerButton]:
    """First / Prev / n of N / Next / Last: Prev and Next go on to the chapter before or
    after when there is one."""
    at_start, at_end = state.page <= 0, state.page >= rendered.total - 1
    yield PagerButton(state, "first", disabled=at_start)
    yield PagerButton(state, "prev", disabled=at_start and not rendered.before)
    label = f"{state.page + 1} of {rendered.total}"
    yield PagerButton(state, "at", disabled=True, label=label)
    yield PagerButton(state, "next", disabled=at_end and not rendered.after)
    yield PagerButton(state, "last", disabled=at_end)


def pager_view(state: PagerState, total: int) -> discord.ui.View | None:
    """The /stories list's buttons: First / Prev / n of N / Next / Last, and Jump; None when
    there is one page."""
    if total <= 1:
        return None
    view = discord.ui.View(timeout=None)
    for item in _nav_buttons(state, Rendered(state.page, total)):
        view.add_item(item)
    view.add_item(PagerButton(state, "jump", row=1))
    return view


def action_row(*items: discord.ui.Item[Any]) -> discord.ui.ActionRow[Any]:
    """A Components V2 row of buttons (dynamic items included)."""
    row: discord.ui.ActionRow[Any] = discord.ui.ActionRow()
    for item in items:
        row.add_item(item)
    return row


def reader_layout(rendered: Rendered, state: PagerState) -> discord.ui.LayoutView:
    """A chapter's page as a Components V2 reader: a container with the story title and chapter
    label, the page's text, a separator, the footer line and the buttons."""
    assert rendered.chapter is not None
    texts = reader_texts(rendered.chapter, rendered.pages, rendered.page)
    container: discord.ui.Container[Any] = discord.ui.Container(accent_colour=COLOUR)
    container.add_item(discord.ui.TextDisplay(texts.heading))
    if texts.note is not None:
        container.add_item(discord.ui.TextDisplay(texts.note))
    container.add_item(discord.ui.TextDisplay(texts.body))
    container.add_item(discord.ui.Separator())
    container.add_item(discord.ui.TextDisplay(texts.footer))
    if rendered.total > 1 or rendered.before or rendered.after:
        container.add_item(action_row(*_nav_buttons(state, rendered)))
    tools: list[discord.ui.Item[Any]] = []
    if rendered.total > 1:
        tools.append(PagerButton(state, "jump"))
    tools.append(BookmarkButton(rendered.chapter.story.id, rendered.position))
    container.add_item(action_row(*tools))
    view = discord.ui.LayoutView(timeout=None)
    view.add_item(container)
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
            row=row,
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
                current = await render_page(interaction, self.state, record=False)
                await interaction.response.send_modal(jump_modal(self.state, current.total))
                return
            await turn_to(interaction, self.state, self._target(), step=self._step())
        except Exception as exc:
            await report(interaction, exc, f"pager {self.action}")

    def _target(self) -> int:
        page = self.state.page
        return {"first": 0, "prev": page - 1, "next": page + 1, "last": LAST}.get(self.action, page)

    def _step(self) -> int:
        """Which way Prev and Next go on past the chapter's ends (0: they stop)."""
        if self.state.kind != "pg":
            return 0
        return {"prev": -1, "next": 1}.get(self.action, 0)


async def turn_to(interaction: Interaction, state: PagerState, page: int, *, step: int = 0) -> None:
    """Show ``page`` in the message the interaction came from; past the chapter's first or
    last page, ``step`` goes on to the chapter before (-1) or after (1)."""
    rendered = await render_page(interaction, replace(state, page=page), step=step)
    if rendered.chapter is not None:
        state = replace(state, chapter=rendered.chapter.number)
    shown = replace(state, page=rendered.page)
    await interaction.response.edit_message(**rendered.message(shown))


def jump_modal(state: PagerState, total: int) -> discord.ui.Modal:
    """The Jump box. Its answer comes through ``answer_jump``, before or after a restart; the
    Modal object itself does nothing on submit and is dropped after a second."""
    modal = discord.ui.Modal(title="Jump to page", custom_id=state.jump_id(total), timeout=1)
    modal.add_item(
        discord.ui.TextInput(
            label=f"Page number (1-{total})",
            custom_id="page",
            placeholder=str(state.page + 1),
            min_length=1,
            max_length=6,
        )
    )
    return modal


def _typed(components: Any) -> str:
    """The value of the Jump box's "page" field in a modal submit's components."""
    for component in components or ():
        if component.get("custom_id") == "page":
            return str(component.get("value") or "")
        nested = component.get("components") or [component.get("component") or {}]
        found = _typed(nested)
        if found:
            return found
    return ""


async def answer_jump(interaction: Interaction) -> None:
    """Answer a Jump box, whichever process opened it: its custom_id holds the state."""
    if interaction.type is not discord.InteractionType.modal_submit:
        return
    data: Any = interaction.data or {}
    match = re.fullmatch(JUMP_TEMPLATE, str(data.get("custom_id", "")))
    if match is None:
        return
    try:
        state, total = PagerState.from_match(match), int(match["total"])
        typed = _typed(data.get("components")).strip()
        if not typed.isdigit() or not 1 <= int(typed) <= total:
            await tell(interaction, f"Pick a page from 1 to {total}.")
            return
        await turn_to(interaction, state, int(typed) - 1)
    except Exception as exc:
        await report(interaction, exc, "jump modal")


async def send_pager(
    interaction: Interaction,
    state: PagerState,
    *,
    ephemeral: bool = False,
    rendered: Rendered | None = None,
) -> None:
    """Answer the interaction with a new reader at ``state``'s page (or the one rendered)."""
    rendered = rendered or await render_page(interaction, state)
    shown = replace(state, page=rendered.page)
    await interaction.response.send_message(**rendered.message(shown), ephemeral=ephemeral)


async def open_reader(
    interaction: Interaction, story: int, chapter: int, position: int, *, ephemeral: bool = True
) -> None:
    """A reader of one's own, opened at the page holding the paragraph at ``position``."""
    asked = PagerState("pg", story, chapter, 0, interaction.user.id)
    rendered = await CHAPTERS.render(interaction, asked, position=position)
    assert rendered.chapter is not None
    state = replace(asked, story=rendered.chapter.story.id, chapter=rendered.chapter.number)
    await send_pager(interaction, state, ephemeral=ephemeral, rendered=rendered)


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
            await open_reader(interaction, self.story, self.chapter, self.position)
        except Exception as exc:
            await report(interaction, exc, "read")


# ---- "Bookmark" ---------------------------------------------------------------------------------

BOOKMARK_TEMPLATE = r"sb:bm:(?P<story>\d+):(?P<position>\d+)"


class BookmarkButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=BOOKMARK_TEMPLATE):
    """Save this place (a page's first paragraph, an excerpt's, a hit's) for whoever clicks."""

    def __init__(self, story: int, position: int, *, emoji: str | None = "🔖") -> None:
        super().__init__(
            discord.ui.Button(
                label="Bookmark",
                emoji=emoji,
                style=discord.ButtonStyle.secondary,
                custom_id=f"sb:bm:{story}:{position}",
            )
        )
        self.story, self.position = story, position

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> BookmarkButton:
        return cls(int(match["story"]), int(match["position"]))

    async def callback(self, interaction: Interaction) -> None:
        try:
            library = library_of(interaction)
            saved = await in_time(
                interaction,
                library.add_bookmark(
                    interaction.user.id, self.story, self.position, mature_ok=mature_ok(interaction)
                ),
                ephemeral=True,
            )
            story = await library.find_story(saved.story_id, mature_ok=True)
            label = story.chapter_info(saved.chapter)
            where = f"{story.name} · {label.label if label else saved.chapter}"
            await tell(
                interaction,
                f"Bookmarked {escape(where)}: “{escape(saved.words)}” "
                "(see your bookmarks with /bookmarks).",
            )
        except Exception as exc:
            await report(interaction, exc, "bookmark")


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    PagerButton,
    ReadButton,
    BookmarkButton,
)
