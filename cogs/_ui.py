"""Shared UI for the cogs: embeds, markdown safety, autocomplete, and the persistent pager.

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
from discord import app_commands

from bot.errors import StoryBotError
from bot.library import Library
from bot.models import Chapter, Story
from bot.paging import paginate
from bot.runtime import ComponentError, StoryBot, tell
from bot.search import MARK_CLOSE, MARK_OPEN

COLOUR = discord.Colour(0x8E6BBF)
DESCRIPTION_LIMIT = 4096
FIELD_LIMIT = 1024
TITLE_LIMIT = 256
EMBED_LIMIT = 6000
CHOICES_LIMIT = 25
CHOICE_NAME_LIMIT = 100

Interaction = discord.Interaction[Any]


# ---- reaching the core ------------------------------------------------------------------------


def library_of(interaction: Interaction) -> Library:
    client = interaction.client
    if not isinstance(client, StoryBot):
        raise TypeError("the story cogs run only on a StoryBot")
    return client.library


def channel_mature_ok(channel: object) -> bool:
    """Mature stories are served only in age-restricted channels, never in DMs.

    Takes any channel object: a guild channel or thread (``is_nsfw()``), a channel given as a
    command option (``nsfw``), or a DM, which has neither.
    """
    is_nsfw = getattr(channel, "is_nsfw", None)
    if callable(is_nsfw):
        return bool(is_nsfw())
    return bool(getattr(channel, "nsfw", False))


def mature_ok(interaction: Interaction) -> bool:
    """Whether the channel the interaction came from may show mature stories."""
    return channel_mature_ok(interaction.channel)


async def report(interaction: Interaction, error: Exception, where: str) -> None:
    """Send a button's or modal's error to the tree's error handler: one error path."""
    await interaction.client.tree.on_error(interaction, ComponentError(error, where))


def fit(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, visibly cut with "…" when it must be."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# ---- markdown -----------------------------------------------------------------------------------
# Story text is shown as its authors wrote it: fan fiction uses *asterisks* and _underscores_
# for emphasis, and Discord renders them the same way, so they stay. What would render as
# something the author never meant is escaped: headings, quotes, lists and subtext at the start
# of a line, code, spoilers, strikethrough and masked links; and a paragraph whose emphasis
# markers do not pair up (a lone asterisk, or a run cut by a page or snippet edge) has them
# escaped, so one stray "*" cannot swallow the rest of the page or break a match's bold.

_LINE_START = re.compile(
    r"^([ \t]*)(#{1,3}[ \t]|-#[ \t]|>>>[ \t]|>[ \t]|[-*+][ \t]|\d+\.[ \t])", re.M
)
_INLINE = re.compile(r"(`|\|\||~~|\]\()")
_EMPHASIS = re.compile(r"(?<!\\)(\*+|_+)")
_OPEN, _CLOSE = "\x01", "\x02"  # stand-ins for a match's bold while the text is escaped


def _escape_line_start(match: re.Match[str]) -> str:
    lead, marker = match.group(1), match.group(2)
    return f"{lead}\\{marker}"


def _balance_emphasis(paragraph: str) -> str:
    runs: dict[str, int] = {}
    for m in _EMPHASIS.finditer(paragraph):
        run = m.group(1)
        if run[0] == "_" and _intraword(paragraph, m.start(), m.end()):
            continue
        runs[run] = runs.get(run, 0) + 1
    unbalanced = {run for run, count in runs.items() if count % 2}
    if not unbalanced:
        return paragraph

    def escape(m: re.Match[str]) -> str:
        run = m.group(1)
        if run not in unbalanced or (run[0] == "_" and _intraword(paragraph, m.start(), m.end())):
            return run
        return "".join("\\" + ch for ch in run)

    return _EMPHASIS.sub(escape, paragraph)


def _intraword(text: str, start: int, end: int) -> bool:
    return start > 0 and end < len(text) and text[start - 1].isalnum() and text[end].isalnum()


def render_text(text: str) -> str:
    """Story text as Discord markdown that shows what the author wrote (see above)."""
    text = _INLINE.sub(lambda m: "".join("\\" + ch for ch in m.group(1)), text)
    text = _LINE_START.sub(_escape_line_start, text)
    return "\n\n".join(_balance_emphasis(p) for p in text.split("\n\n"))


def render_snippet(snippet: str) -> str:
    """A search snippet with its matched words in **bold**.

    Inside a match, emphasis markers are escaped so the bold cannot break; outside, the text
    is treated like any story text (render_text).
    """
    parts = re.split(f"({re.escape(MARK_OPEN)}|{re.escape(MARK_CLOSE)})", snippet)
    out: list[str] = []
    inside = False
    for part in parts:
        if part == MARK_OPEN:
            inside = True
            out.append(_OPEN)
        elif part == MARK_CLOSE:
            inside = False
            out.append(_CLOSE)
        elif inside:
            out.append(re.sub(r"([*_])", r"\\\1", part))
        else:
            out.append(part)
    rendered = render_text("".join(out))
    return rendered.replace(_OPEN, "**").replace(_CLOSE, "**")


def echo(text: str, limit: int = 80) -> str:
    """What the user typed, quoted back: one line, short, inert (no markdown, no mentions)."""
    one_line = " ".join(text.split())
    return discord.utils.escape_mentions(discord.utils.escape_markdown(fit(one_line, limit)))


def footer(story: Story, label: str, extra: str | None = None) -> str:
    """ "Story title · Chapter label" (always starting with the story title)."""
    text = f"{story.title} · {label}"
    return f"{text} · {extra}" if extra else text


def story_embed(story: Story, label: str, text: str, *, extra: str | None = None) -> discord.Embed:
    """An embed of story text: story title above, chapter label as title, footer below."""
    body = render_text(text.strip())
    if len(body) > DESCRIPTION_LIMIT:  # escapes made it too long: show it unescaped instead
        body = fit(text.strip(), DESCRIPTION_LIMIT)
    embed = discord.Embed(title=fit(label, TITLE_LIMIT), description=body, colour=COLOUR)
    embed.set_author(name=fit(story.title, TITLE_LIMIT), url=story.url or None)
    embed.set_footer(text=fit(footer(story, label, extra), 2048))
    return embed


# ---- autocomplete -------------------------------------------------------------------------------


async def story_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Stories whose title matches what was typed; the value is the slug."""
    try:
        stories = await library_of(interaction).suggest(current, mature_ok=mature_ok(interaction))
    except StoryBotError:
        return []
    return [
        app_commands.Choice(name=fit(s.title, CHOICE_NAME_LIMIT), value=s.slug)
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


def chapter_page_embed(chapter: Chapter, pages: Sequence[str], index: int) -> discord.Embed:
    total = len(pages)
    extra = f"page {index + 1} of {total}" if total > 1 else None
    embed = story_embed(chapter.story, chapter.label, pages[index], extra=extra)
    if index == 0 and chapter.note:
        note = fit(render_text(chapter.note.strip()), FIELD_LIMIT)
        room = EMBED_LIMIT - len(embed) - len("Author's note")
        if room > 1:
            embed.add_field(name="Author's note", value=fit(note, min(FIELD_LIMIT, room)))
    return embed


def library_pages(stories: Sequence[Story]) -> list[str]:
    """The /stories list as pages of text, one story per paragraph, cut between stories."""
    if not stories:
        return ["The library is empty: add .txt stories to the stories folder."]
    blocks = []
    for s in stories:
        chapters = ", ".join(f"{c.label} ({c.words:,})" for c in s.chapters)
        count = f"{len(s.chapters)} chapter{'s' if len(s.chapters) != 1 else ''}"
        by = f" by {s.author}" if s.author else ""
        blocks.append(
            f"**{discord.utils.escape_markdown(s.title)}**{discord.utils.escape_markdown(by)}"
            f" · `{s.slug}` · {count} · {s.words:,} words\n{render_text(chapters)}"
        )
    return [page.strip() for page in paginate("\n\n".join(blocks))]


def library_embed(stories: Sequence[Story], pages: Sequence[str], index: int) -> discord.Embed:
    words = sum(s.words for s in stories)
    embed = discord.Embed(title="The library", description=pages[index], colour=COLOUR)
    where = f" · page {index + 1} of {len(pages)}" if len(pages) > 1 else ""
    count = f"{len(stories)} stor{'ies' if len(stories) != 1 else 'y'}"
    embed.set_footer(text=f"{count} · {words:,} words{where}")
    return embed


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


async def render_page(interaction: Interaction, state: PagerState) -> Rendered:
    """The page ``state`` asks for (clamped to what exists now), as an embed."""
    library = library_of(interaction)
    ok = mature_ok(interaction)
    if state.kind == "st":
        stories = await library.stories(mature_ok=ok)
        pages = library_pages(stories)
        index = max(0, min(state.page, len(pages) - 1))
        return Rendered(library_embed(stories, pages, index), index, len(pages))
    chapter, pages = await library.pages(state.story, state.chapter, mature_ok=ok)
    index = max(0, min(state.page, len(pages) - 1))
    return Rendered(chapter_page_embed(chapter, pages, index), index, len(pages))


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
            if self.state.kind == "st":
                text = f"This is {name}'s list — see your own with /stories"
            else:
                text = f"This is {name}'s reader — start your own with /chapter"
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
            library = library_of(interaction)
            chapter, pages = await library.pages(
                self.story, self.chapter, mature_ok=mature_ok(interaction)
            )
            page = page_of_position(chapter, pages, self.position)
            state = PagerState("pg", chapter.story.id, chapter.number, page, interaction.user.id)
            await send_pager(interaction, state, ephemeral=True)
        except Exception as exc:
            await report(interaction, exc, "read")


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (PagerButton, ReadButton)
