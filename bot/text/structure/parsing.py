"""The entry points: a whole story from its text, or from a format reader's sections."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from bot.models import ParsedStory, StoryMeta
from bot.text.structure.assembly import _assemble
from bot.text.structure.front_matter import (
    _drop_illustrations,
    _drop_repeated_title,
    _split_gutenberg,
)
from bot.text.structure.headings import (
    _NOTE_ITEM,
    _bare_number,
    _classify,
    _Heading,
    _take_title,
    title_from_file,
)
from bot.text.structure.left_out import _LEFT_OUT, leave_out
from bot.text.structure.paragraphs import Item, _collapse_spaces, _measure, _walk


def parse(text: str, file_name: str, meta: StoryMeta | None = None) -> ParsedStory:
    """Split a story into its title and chapters of (scene, paragraph) pairs; what is in no
    chapter is the story's ``left_out``, by kind."""
    left: list[tuple[str, str]] = []
    token = _LEFT_OUT.set(left)
    try:
        story = _parse(text, file_name, meta or StoryMeta())
    finally:
        _LEFT_OUT.reset(token)
    return replace(story, left_out=tuple(left))


def _parse(text: str, file_name: str, meta: StoryMeta) -> ParsedStory:
    gutenberg = _split_gutenberg(text)
    book_title: str | None = None
    if gutenberg is not None:
        pre, body, book_title = gutenberg
        text = f"{pre}\n\n{body}" if pre.strip() else body
    if "[Illustration" in text:
        text = _drop_illustrations(text)
    lines = [line.strip() for line in text.split("\n")]
    marks = [mark for mark in ("\t", "\u00a0", "  ") if mark in text]
    if marks:
        _collapse_spaces(text, lines, marks)
    title, at = _take_title(lines)
    if at >= 0:
        leave_out("title", lines[at])
        lines[at] = ""
    layout = _measure(lines, book=gutenberg is not None)
    items = _walk(lines, layout)
    if gutenberg is not None and title is None:
        items = _drop_repeated_title(items, book_title)
    chapters = _assemble(items, front_matter=gutenberg is not None)
    chosen = meta.title or title or book_title or title_from_file(file_name)
    return ParsedStory(chosen, tuple(chapters), meta)


def looks_wrapped(lines: list[str]) -> bool:
    """Whether stripped lines read as a hard-wrapped text (the .txt reader's measure)."""
    return _measure(lines).wrapped


def reads_as_heading(line: str) -> bool:
    """Whether a line would start a chapter (or front matter) in a .txt: "Chapter 2",
    "CHAPTER II.", "I. Introduction", "PREFACE", a bare " I."."""
    line = " ".join(line.split())
    if not line or len(line) > 120:
        return False
    return isinstance(_classify(line), _Heading) or _bare_number(line) is not None


@dataclass(frozen=True, slots=True)
class Section:
    """One chapter as a format reader (EPUB, HTML) found it: its label (None: text with no
    heading of its own), its text as a .txt file would hold it, and its notes, kept apart."""

    label: str | None
    text: str
    note: str | None = None
    given: bool = False  # the label comes from the table of contents, not from the text


def parse_sections(
    sections: Iterable[Section],
    file_name: str,
    meta: StoryMeta | None = None,
    *,
    book: bool = False,
) -> ParsedStory:
    """Chapters from sections a format reader split by their markup.

    Each section's label is its heading (read as a .txt heading is, for its number: "Chapter
    3: Storm" is chapter 3; a label that is no heading, "The Time Traveller", takes the next
    number); its text goes through the same paragraph, note, break and scene rules as a .txt
    file's. Headings inside a section's text start chapters too, except one that opens the
    section (the author repeating the label). Front matter is dropped as in a .txt book;
    ``book`` (a Project Gutenberg book): short lines before the first heading are its title
    page, as in a Gutenberg .txt.
    """
    left: list[tuple[str, str]] = []
    token = _LEFT_OUT.set(left)
    try:
        story = _parse_sections(sections, file_name, meta or StoryMeta(), book)
    finally:
        _LEFT_OUT.reset(token)
    return replace(story, left_out=tuple(left))


def _parse_sections(
    sections: Iterable[Section], file_name: str, meta: StoryMeta, book: bool
) -> ParsedStory:
    items: list[Item] = []
    for section in sections:
        text = section.text
        if "[Illustration" in text:
            text = _drop_illustrations(text)  # Gutenberg's captions, as in a .txt
        lines = [line.strip() for line in text.split("\n")]
        walked = _walk(lines, _measure(lines))
        if section.label:
            label = " ".join(section.label.split())
            heading = _classify(label) if len(label) <= 120 else None
            if not isinstance(heading, _Heading):
                heading = _Heading(None, label, "")
            heading.given = section.given
            items.append(("heading", heading))
            if walked and walked[0][0] == "heading":
                repeated = walked[0][1]
                assert isinstance(repeated, _Heading)
                leave_out("headings", repeated.label)
                walked = walked[1:]  # "Chapter 1" again as the text's first line
        if section.note:
            items.append((_NOTE_ITEM, section.note))
        items.extend(walked)
    chapters = _assemble(items, front_matter=book)
    return ParsedStory(meta.title or title_from_file(file_name), tuple(chapters), meta)
