"""What the EPUB and HTML readers do alike to a book's blocks before it is split into chapters.

* **Project Gutenberg** header and footer: the elements the file marks (``#pg-header``,
  ``#pg-footer``, ``.pg-boilerplate``), else the blocks up to its ``*** START OF`` line and
  from its ``*** END OF`` line: a licence, left out.
* **pandoc's title block** (``header#title-block-header``: title, author, date) and a heading
  that is the book's title, with what follows it up to the next heading (a title page, a
  contents list run together): left out.
* **A chapter numeral apart from its title**: calibre's txt input writes " I." then
  "Introduction" as two paragraphs (even in two files), or the numeral as a paragraph before
  an ``h2``: joined into one heading, "I. Introduction", as the .txt reader reads them.
* **A wrapped text written one line a paragraph**: calibre's txt input may write each line of
  a hard-wrapped .txt as a ``<p>`` and each blank line as an empty ``<p>``. When the lines,
  put back between those blank lines, read as a wrapped text by the .txt reader's own
  measure, they are read as the .txt is (its blocks unwrapped, only a block's first line a
  heading), and a heading the converter guessed from a line (calibre's "Dedication vii", a
  list of illustrations' entry) that neither the book's table of contents lists nor the .txt
  rules read as a heading is a line of text again.

Each reader records what it leaves out as (kind, text), for the ingest report.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml import etree

from bot.text.markup import BLANK_LEVEL, TOC_LEVEL, Block, blocks, element_text, section_text
from bot.text.structure import looks_wrapped

__all__ = [
    "boilerplate",
    "book_blocks",
    "licence_of",
    "outermost",
    "rejoin_lines",
    "same_title",
    "title_block",
]

_GUTENBERG_START = re.compile(r"\*{3}\s*START OF (?:THE|THIS) PROJECT GUTENBERG", re.IGNORECASE)
_GUTENBERG_END = re.compile(r"\*{3}\s*END OF (?:THE|THIS) PROJECT GUTENBERG", re.IGNORECASE)
_BOILERPLATE_CLASS = re.compile(r"\bpg-boilerplate\b|\bpgheader\b|\bpgfooter\b")
# a paragraph that is only a chapter's numeral: "I.", "XII.", "12." (a title may follow)
_NUMERAL = re.compile(r"(?P<num>[IVXLC]{1,7}|\d{1,3})\.")
_TERMINAL = '.!?…:;,"”’'
_CONTENTS = re.compile(r"(?:table\s+of\s+)?contents:?", re.IGNORECASE)
_ENTRY = re.compile(r"\b(?:[IVXLC]{1,7}|\d{1,3})\.?(?=\s)")

Left = list[tuple[str, str]]


# found by lxml in C: a walk over every element in Python made the issue-18 readers 20-45%
# slower (make bench)
_MARKED = etree.XPath(
    "descendant-or-self::*[@id='pg-header' or @id='pg-footer' or contains(@class, 'pg')]"
)
_TITLE_BLOCK = etree.XPath("descendant-or-self::*[@id='title-block-header']")


def boilerplate(root: etree._Element) -> list[etree._Element]:
    """The elements a Project Gutenberg file marks as its header, footer or licence."""
    found = _MARKED(root)
    assert isinstance(found, list)
    return [
        e
        for e in found
        if isinstance(e, etree._Element)
        and (
            e.get("id") in ("pg-header", "pg-footer")
            or _BOILERPLATE_CLASS.search(e.get("class") or "")
        )
    ]


def outermost(elements: list[etree._Element]) -> list[etree._Element]:
    """Those of ``elements`` not inside another of them."""
    chosen = {id(e) for e in elements}
    return [e for e in elements if not any(id(a) in chosen for a in e.iterancestors())]


def title_block(root: etree._Element) -> tuple[etree._Element | None, str | None, str | None]:
    """pandoc's ``header#title-block-header``: (the element, its title, its author)."""
    found = _TITLE_BLOCK(root)
    header = found[0] if isinstance(found, list) and found else None
    if not isinstance(header, etree._Element):
        return None, None, None
    title = next((e for e in header.iter("*") if "title" in (e.get("class") or "").split()), None)
    authors = [e for e in header.iter("*") if "author" in (e.get("class") or "").split()]
    text = element_text(title) if title is not None else None
    author = ", ".join(element_text(a) for a in authors) or None
    return header, text or None, author


def same_title(text: str, title: str | None) -> bool:
    def fold(s: str) -> str:
        return re.sub(r"\W+", " ", s).strip().lower()

    return bool(title) and fold(text) == fold(title or "")


def _is_heading(block: Block) -> bool:
    return block.level == TOC_LEVEL or 1 <= block.level <= 3


def _gutenberg_body(parts: list[Block], left: Left) -> list[Block]:
    """Without a Project Gutenberg header (to its START line) and footer (from its END line)."""
    start = next((i for i, b in enumerate(parts) if _GUTENBERG_START.match(b.text)), None)
    if start is not None:
        left.append(("licence", section_text(parts[: start + 1])))
        parts = parts[start + 1 :]
    end = next((i for i, b in enumerate(parts) if _GUTENBERG_END.match(b.text)), None)
    if end is not None:
        left.append(("licence", section_text(parts[end:])))
    return parts[:end] if end is not None else parts


def _without_title_page(parts: list[Block], title: str | None, left: Left) -> list[Block]:
    """Without a heading that is the book's title and what follows it up to the next
    heading: the title page, a contents list."""
    out: list[Block] = []
    dropping = False
    seen_heading = False
    for block in parts:
        heading = _is_heading(block)
        seen_heading = seen_heading or heading
        if not seen_heading and block.level == 0 and same_title(block.text, title):
            left.append(("title", block.text))  # the title as the text's first line
            continue
        if heading and same_title(block.text, title):
            left.append(("title", block.text))
            dropping = True
            continue
        if dropping and not heading:
            left.append(("front matter", block.text))
            continue
        dropping = False
        out.append(block)
    return out


def _title_like(text: str) -> bool:
    """A chapter's title on its own: short, capitalised, not a sentence."""
    return (
        0 < len(text) <= 60
        and "\n" not in text
        and text[0].isupper()
        and text[-1] not in _TERMINAL
        and len(text.split()) <= 10
    )


def _join_numerals(parts: list[Block]) -> list[Block]:
    """A numeral paragraph ("I.") and the chapter title after it (a heading, or a short
    title-like paragraph) as one heading; a numeral before prose is a heading alone."""
    out: list[Block] = []
    i = 0
    while i < len(parts):
        block = parts[i]
        match = _NUMERAL.fullmatch(block.text.strip()) if block.level == 0 else None
        if match is None:
            out.append(block)
            i += 1
            continue
        nxt = parts[i + 1] if i + 1 < len(parts) else None
        numeral = match["num"]
        if nxt is not None and (_is_heading(nxt) or (nxt.level == 0 and _title_like(nxt.text))):
            out.append(Block(f"{numeral}. {nxt.text}", 2))
            i += 2
            continue
        out.append(Block(numeral, 2))
        i += 1
    return out


def _contents_like(text: str) -> bool:
    """Entries of a contents list: short lines that are no sentences, or entries run
    together ("I. Introduction II. The Machine ..."): numerals and capitalised words."""
    lines = text.split("\n")
    if _NUMERAL.fullmatch(lines[0].strip()):
        return False  # "I." then its title: a chapter's heading, after the contents
    if all(len(line) <= 80 and line.strip()[-1:] not in _TERMINAL for line in lines):
        return True
    words = _ENTRY.sub(" ", text).split()
    capitals = sum(1 for w in words if w[:1].isupper())
    return (
        len(_ENTRY.findall(text)) >= 3
        and not re.search(r"[!?;,“”\"]|[a-z]\.", text)
        and capitals * 3 >= len(words) * 2
    )


def _without_contents(parts: list[Block], left: Left) -> list[Block]:
    """Without a "CONTENTS" paragraph (or h4-h6) and the entries after it."""
    out: list[Block] = []
    in_contents = False
    for block in parts:
        if (block.level == 0 or block.level > 3) and block.level != TOC_LEVEL:
            if _CONTENTS.fullmatch(block.text.strip()):
                left.append(("front matter", block.text))
                in_contents = True
                continue
            if in_contents and block.level == 0 and _contents_like(block.text):
                left.append(("front matter", block.text))
                continue
        in_contents = False
        out.append(block)
    return out


def book_blocks(parts: list[Block], title: str | None, left: Left) -> list[Block]:
    """A book's blocks without its licence, contents and title page, its numerals joined
    to their titles."""
    parts = _gutenberg_body(parts, left)
    if any(b.level == 0 and _NUMERAL.fullmatch(b.text.strip()) for b in parts):
        parts = _join_numerals(parts)
    if any(_CONTENTS.fullmatch(b.text.strip()) for b in parts):
        parts = _without_contents(parts, left)
    return _without_title_page(parts, title, left)


def licence_of(root: etree._Element, left: Left) -> list[etree._Element]:
    """The boilerplate elements of a tree (to skip), their text recorded as licence."""
    found = boilerplate(root)
    left += [("licence", section_text(blocks(e))) for e in outermost(found)]
    return found


def _without_blanks(parts: list[Block]) -> list[Block]:
    return [b for b in parts if b.level != BLANK_LEVEL]


def _as_lines(parts: list[Block], keep: Callable[[str], bool]) -> list[Block]:
    """Each run of paragraphs between blank ones as one block of lines; a heading that
    ``keep`` refuses is a line of text on its own."""
    out: list[Block] = []
    run: list[str] = []
    for block in parts:
        if block.level == 0:
            run.append(block.text)
            continue
        if run:
            out.append(Block("\n".join(run)))
            run = []
        if 1 <= block.level <= 3 and not keep(block.text):
            out.append(Block(block.text))
        elif block.level != BLANK_LEVEL:
            out.append(block)
    if run:
        out.append(Block("\n".join(run)))
    return out


def rejoin_lines(documents: list[list[Block]], keep: Callable[[str], bool]) -> list[list[Block]]:
    """A book's documents (their blocks read with ``blanks``) without their blank blocks;
    when they hold a wrapped text written one line a paragraph, each run of lines between
    blank ones is one block of lines, as the .txt holds it (the text pipeline then measures
    and unwraps them as the .txt's), and a heading ``keep`` refuses (one the converter
    guessed from a line) is a line of text."""
    if not any(b.level == BLANK_LEVEL for parts in documents for b in parts):
        return documents
    joined = [_as_lines(parts, keep) for parts in documents]
    lines: list[str] = []
    for parts in joined:
        for block in parts:
            lines.extend(line.strip() for line in block.text.split("\n"))
            lines.append("")
    if not looks_wrapped(lines):
        return [_without_blanks(parts) for parts in documents]
    return joined
