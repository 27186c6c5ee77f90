"""How story text and the library look in Discord: markdown that shows what the author wrote,
a hit's matches in bold, and the embeds of pages, excerpts and the /stories list."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import discord

from bot.library import one_line
from bot.models import Chapter, Story
from bot.paging import paginate
from cogs._limits import (
    DESCRIPTION_LIMIT,
    EMBED_LIMIT,
    FIELD_LIMIT,
    FOOTER_LIMIT,
    TEXT_DISPLAYS_LIMIT,
    TITLE_LIMIT,
)

COLOUR = discord.Colour(0x8E6BBF)
EMPTY_LIBRARY = "The library is empty: add story files (.txt, .epub, .html) to the stories folder."


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


def render_snippet(snippet: str, marks: Sequence[tuple[int, int]]) -> str:
    """A search snippet with its matched ranges in **bold**.

    The snippet is plain story text and is escaped here, once, like any story text
    (render_text); inside a match, emphasis markers are escaped too so the bold cannot break.
    """
    out: list[str] = []
    at = 0
    for start, end in marks:
        if start < at or start >= end:
            continue
        out += [snippet[at:start], _OPEN, re.sub(r"([*_])", r"\\\1", snippet[start:end]), _CLOSE]
        at = end
    out.append(snippet[at:])
    rendered = render_text("".join(out))
    return rendered.replace(_OPEN, "**").replace(_CLOSE, "**")


def echo(text: str, limit: int = 80) -> str:
    """What the user typed, quoted back: one line, short, inert (no markdown, no mentions)."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(one_line(text, limit)))


def searched(story: Story | None) -> str:
    """Where a search looked, for a "no match" line: the story named, or the library."""
    return f"“{discord.utils.escape_markdown(story.name)}”" if story else "the library"


def footer(story: Story, label: str, extra: str | None = None) -> str:
    """ "Story title · Chapter label" (always starting with the story title)."""
    text = f"{story.name} · {label}"
    return f"{text} · {extra}" if extra else text


def story_embed(story: Story, label: str, text: str, *, extra: str | None = None) -> discord.Embed:
    """An embed of story text: story title above, chapter label as title, footer below."""
    body = render_text(text.strip())
    if len(body) > DESCRIPTION_LIMIT:  # escapes made it too long: show it unescaped instead
        body = fit(text.strip(), DESCRIPTION_LIMIT)
    embed = discord.Embed(title=fit(label, TITLE_LIMIT), description=body, colour=COLOUR)
    embed.set_author(name=fit(story.name, TITLE_LIMIT), url=story.url or None)
    embed.set_footer(text=fit(footer(story, label, extra), FOOTER_LIMIT))
    return embed


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


# ---- the reader (Components V2) ------------------------------------------------------------------
# A page of at most PAGE_LIMIT (3,500) characters, with a title of at most READER_TITLE and a
# label of at most READER_LABEL in the heading and the footer, always fits the 4,000 characters a
# message's text displays may hold; an author's note gets what room is left.
READER_TITLE = 100
READER_LABEL = 80
NOTE_HEADING = "-# Author's note\n"


@dataclass(frozen=True, slots=True)
class ReaderTexts:
    """The text displays of a reader page: heading, author's note (or None), page, footer."""

    heading: str
    note: str | None
    body: str
    footer: str

    def parts(self) -> list[str]:
        return [t for t in (self.heading, self.note, self.body, self.footer) if t is not None]


def reader_texts(chapter: Chapter, pages: Sequence[str], index: int) -> ReaderTexts:
    """What a reader page says, within the 4,000 characters of a message's text displays."""
    story = chapter.story
    title, label = fit(escape(story.name), READER_TITLE), fit(escape(chapter.label), READER_LABEL)
    heading = f"### {title}\n**{label}**"
    total = len(pages)
    extra = f"page {index + 1} of {total}" if total > 1 else None
    line = footer(story, chapter.label, extra)
    tail = f"-# {fit(escape(line), READER_TITLE + READER_LABEL + 30)}"
    room = TEXT_DISPLAYS_LIMIT - len(heading) - len(tail)
    body = render_text(pages[index].strip())
    if len(body) > room:  # escapes made it too long: show it unescaped instead
        body = fit(pages[index].strip(), room)
    note = None
    room -= len(body) + len(NOTE_HEADING)
    if index == 0 and chapter.note and room > 40:
        note = NOTE_HEADING + fit(render_text(chapter.note.strip()), min(FIELD_LIMIT, room))
    return ReaderTexts(heading, note, body or "\u200b", tail)


def escape(text: str) -> str:
    """Text from a title or label, shown inert (no markdown, no mentions)."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


# what /stories shows of a story's own metadata: a line each, cut visibly
FANDOM_IN_LIST = 120
SUMMARY_IN_LIST = 300


def plain(text: str, limit: int) -> str:
    """Metadata (a title, an author, a summary) on one line, as written: no markdown it holds
    is rendered, cut to ``limit`` with "…"."""
    return discord.utils.escape_markdown(one_line(text, limit))


def library_pages(stories: Sequence[Story]) -> list[str]:
    """The /stories list as pages of text, one story per paragraph, cut between stories:
    title, author, slug, rating, chapters and words; fandom and summary when the story has
    them (EPUB and HTML files bring them, or library.toml); then the chapters."""
    if not stories:
        return [EMPTY_LIBRARY]
    blocks = []
    for s in stories:
        chapters = ", ".join(f"{c.label} ({c.words:,})" for c in s.chapters)
        count = f"{len(s.chapters)} chapter{'s' if len(s.chapters) != 1 else ''}"
        by = f" by {s.author}" if s.author else ""
        lines = [
            f"**{discord.utils.escape_markdown(s.name)}**{discord.utils.escape_markdown(by)}"
            f" · `{s.slug}` · {s.rating} · {count} · {s.words:,} words"
        ]
        if s.fandom:
            lines.append(f"Fandom: {plain(', '.join(s.fandom), FANDOM_IN_LIST)}")
        if s.summary:
            lines.append(f"> {plain(s.summary, SUMMARY_IN_LIST)}")
        lines.append(render_text(chapters))
        blocks.append("\n".join(lines))
    return [page.strip() for page in paginate("\n\n".join(blocks))]


def library_embed(stories: Sequence[Story], pages: Sequence[str], index: int) -> discord.Embed:
    words = sum(s.words for s in stories)
    embed = discord.Embed(title="The library", description=pages[index], colour=COLOUR)
    where = f" · page {index + 1} of {len(pages)}" if len(pages) > 1 else ""
    count = f"{len(stories)} stor{'ies' if len(stories) != 1 else 'y'}"
    embed.set_footer(text=f"{count} · {words:,} words{where}")
    return embed
