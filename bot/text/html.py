"""HTML stories: the Archive of Our Own download layout, and any HTML file by its headings.

**Archive of Our Own** (its download templates, also inside its EPUBs): ``#preface`` holds a
``dl.tags`` list (Rating, Archive Warning, Category, Fandom, Relationship, Characters,
Additional Tags, Language, Series, Collections, Stats), the ``h1`` title, the ``.byline``,
and "Summary" / "Notes" blockquotes; ``#chapters`` holds, per chapter, a ``div.meta`` with
its ``h2.heading`` and optional summary and notes, the ``div.userstuff`` body, and a
``div.meta#endnotesN`` with its end notes (a one-chapter work has only the body);
``#afterword`` holds the work's end notes and the "Please drop by the Archive and comment"
message. Only chapter bodies are story text. The work's notes join the first chapter's note,
its end notes the last chapter's; a chapter's summary, notes and end notes are its note.

**Any other HTML**: the body's text, split into chapters at its ``h1``-``h3`` headings (a
lone ``h1`` at the top is the title); ``<title>`` and ``<meta name="author">`` are used
when present.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from lxml import etree

from bot.models import Rating, StoryMeta
from bot.text.archive_calibre import read_flat_archive
from bot.text.book import _without_blanks, book_blocks, licence_of, rejoin_lines, title_block
from bot.text.markup import (
    TOC_LEVEL,
    Block,
    Document,
    blocks,
    element_text,
    local,
    parse_html,
    rating_from_text,
    section_text,
)
from bot.text.structure import Section, reads_as_heading

__all__ = [
    "archive_rating",
    "is_archive",
    "read_archive",
    "read_html",
    "split_by_headings",
    "stated_rating",
]

_HAS_CLASS = "contains(concat(' ', normalize-space(@class), ' '), ' {} ')"
_ARCHIVE_PARTS = etree.XPath(
    "//*[(local-name()='div' or local-name()='blockquote') and ("
    + _HAS_CLASS.format("meta")
    + " or "
    + _HAS_CLASS.format("userstuff")
    + ")] | //*[@id='afterword']"
)
_TAGS_LIST = etree.XPath("//*[local-name()='dl' and " + _HAS_CLASS.format("tags") + "]")
_BOILERPLATE = ("no archive warnings apply", "creator chose not to use archive warnings")


def _nodes(xpath: etree.XPath, root: etree._Element) -> list[etree._Element]:
    found = xpath(root)
    return [e for e in found if isinstance(e, etree._Element)] if isinstance(found, list) else []


def _classes(element: etree._Element) -> set[str]:
    return set((element.get("class") or "").split())


def is_archive(root: etree._Element) -> bool:
    """Whether a tree is (part of) an Archive of Our Own download: its tags list, or its
    #preface, #chapters or #afterword holding the Archive's .meta or .userstuff blocks (an
    id alone is not enough: pandoc writes ``<section id="preface">`` for a "# Preface")."""
    if _nodes(_TAGS_LIST, root):
        return True
    for e in root.iter("*"):
        if e.get("id") in ("preface", "chapters", "afterword") and any(
            _classes(d) & {"meta", "userstuff", "byline"} for d in e.iterdescendants()
        ):
            return True
    return False


def _names(dd: etree._Element) -> tuple[str, ...]:
    links = [element_text(a) for a in dd.iter("*") if local(a.tag) == "a"]
    names = links or [n.strip() for n in element_text(dd).split(",")]
    return tuple(dict.fromkeys(n for n in names if n))


def _labelled_quotes(meta: etree._Element) -> list[tuple[str, str]]:
    """(label, text) of each blockquote in a div.meta: the label is the <p> before it."""
    out: list[tuple[str, str]] = []
    label = ""
    for child in meta.iter("*"):
        tag = local(child.tag)
        if tag == "p" and not _classes(child) & {"message", "byline"}:
            label = element_text(child).rstrip(":")
        elif tag == "blockquote":
            text = section_text(blocks(child))
            if text:
                out.append((label, text))
    return out


def _archive_meta(root: etree._Element) -> tuple[StoryMeta, str | None]:
    """The work's metadata from the preface, and its notes (for the first chapter's note)."""
    fields = _tag_fields(root)
    preface = next((e for e in root.iter("*") if e.get("id") == "preface"), root)
    title = next((element_text(e) for e in preface.iter("*") if local(e.tag) == "h1"), "")
    authors = _authors(preface)
    url = next(
        (
            href
            for a in preface.iter("*")
            if local(a.tag) == "a" and "/works/" in (href := a.get("href") or "")
        ),
        None,
    )
    summary, notes = _summary_and_notes(preface)
    rating = fields.get("rating", ())
    warnings = [w for w in fields.get("archive warning", ()) if w.lower() not in _BOILERPLATE]
    language = fields.get("language", ())
    meta = StoryMeta(
        title=title or None,
        author=", ".join(a for a in authors if a) or None,
        rating=rating_from_text(", ".join(rating)) if rating else None,
        url=url,
        fandom=fields.get("fandom", ()),
        relationships=fields.get("relationship", ()),
        characters=fields.get("character", ()),
        tags=tuple(dict.fromkeys([*warnings, *fields.get("additional tag", ())])),
        summary=summary,
        language=language[0] if language else None,
    )
    return meta, "\n\n".join(notes) or None


def _tag_fields(root: etree._Element) -> dict[str, tuple[str, ...]]:
    """The work's tag list ("Rating:", "Fandoms:" ...) by its key, singular and in lower case."""
    fields: dict[str, tuple[str, ...]] = {}
    tags = _nodes(_TAGS_LIST, root)
    if tags:
        key = ""
        for child in tags[0]:
            tag = local(child.tag)
            if tag == "dt":
                key = element_text(child).rstrip(":").strip().lower()
            elif tag == "dd" and key:
                fields[key.removesuffix("s")] = _names(child)
    return fields


def _authors(preface: etree._Element) -> list[str]:
    byline = next((e for e in preface.iter("*") if "byline" in _classes(e)), None)
    if byline is None:
        return []
    authors = [element_text(a) for a in byline.iter("*") if a.get("rel") == "author"]
    return authors or [re.sub(r"^by\s+", "", element_text(byline), flags=re.IGNORECASE)]


def _summary_and_notes(preface: etree._Element) -> tuple[str | None, list[str]]:
    """The preface's summary and the work's notes, from its labelled quotes."""
    summary: str | None = None
    notes: list[str] = []
    meta_div = next((e for e in preface.iter("*") if "meta" in _classes(e)), None)
    if meta_div is not None:
        for label, text in _labelled_quotes(meta_div):
            if label.lower() == "summary" and summary is None:
                summary = text
            else:
                notes.append(text)
    return summary, notes


def _inside(element: etree._Element, ids: Iterable[str], classes: Iterable[str] = ()) -> bool:
    wanted_ids, wanted_classes = set(ids), set(classes)
    for ancestor in element.iterancestors():
        if ancestor.get("id") in wanted_ids or _classes(ancestor) & wanted_classes:
            return True
    return False


def _note_text(parts: list[tuple[str, str]]) -> str | None:
    return "\n\n".join(f"{label}: {text}" if label else text for label, text in parts) or None


_Chapter = tuple[str | None, list[str], list[Block]]  # label, notes, body


def read_archive(root: etree._Element) -> Document:
    """An Archive of Our Own download (its HTML, or its EPUB's documents in one tree)."""
    meta, work_notes = _archive_meta(root)
    chapters: list[_Chapter] = []
    end_notes: list[str] = []
    for part in _nodes(_ARCHIVE_PARTS, root):
        _read_archive_part(part, chapters, end_notes)
    if not any(body for _, _, body in chapters):  # ids and classes lost to a converter
        return read_flat_archive(root, meta)
    if work_notes and chapters:
        chapters[0][1].insert(0, work_notes)
    if end_notes and chapters:
        chapters[-1][1].append("\n\n".join(end_notes))
    sections = tuple(
        Section(label, section_text(body), "\n\n".join(n for n in notes if n) or None)
        for label, notes, body in chapters
    )
    return Document(meta, sections)


def _read_archive_part(
    part: etree._Element, chapters: list[_Chapter], end_notes: list[str]
) -> None:
    """One part of an Archive page, added to what was read before it: the preface is left
    out, the afterword's notes are the work's end notes, a chapter's meta opens a chapter or
    ends one (``_read_chapter_meta``), and a chapter's body goes to the last chapter."""
    classes = _classes(part)
    if _inside(part, ("preface",)) or part.get("id") == "preface":
        return
    if part.get("id") == "afterword" or _inside(part, ("afterword",)):
        if "meta" in classes and not _inside(part, (), ("meta",)):
            end_notes.extend(text for _, text in _labelled_quotes(part))
        return
    if "meta" in classes:
        _read_chapter_meta(part, chapters)
    elif _is_chapter_body(part, classes):
        if not chapters:
            chapters.append((None, [], []))
        chapters[-1][2].extend(blocks(part))


def _read_chapter_meta(part: etree._Element, chapters: list[_Chapter]) -> None:
    """A chapter's meta: with a heading, a new chapter with its notes; without one, the
    last chapter's end notes."""
    heading = next(
        (e for e in part.iter("*") if "heading" in _classes(e) and local(e.tag) == "h2"),
        None,
    )
    quotes = _labelled_quotes(part)
    if heading is not None:
        chapters.append((element_text(heading), [_note_text(quotes) or ""], []))
    elif chapters and quotes:  # a chapter's end notes
        chapters[-1][1].append(_note_text(quotes) or "")


def _is_chapter_body(part: etree._Element, classes: set[str]) -> bool:
    """Whether ``part`` is a chapter's text: a userstuff div outside any meta that holds no
    other (#chapters itself holds the chapter bodies, which come next)."""
    if local(part.tag) != "div" or "userstuff" not in classes or _inside(part, (), ("meta",)):
        return False
    return not any(
        "userstuff" in _classes(e) and local(e.tag) == "div" for e in part.iterdescendants()
    )


# ---- any HTML ------------------------------------------------------------------------------

_CHAPTER_LEVELS = 3  # h1-h3 start chapters; h4-h6 are text


def split_by_headings(
    parts: list[Block], *, find_title: bool = True
) -> tuple[str | None, list[Section]]:
    """(the title, when a lone h1 opens the text; the sections at h1-h3 headings).

    A heading right after another (no text between) that is one level deeper and whose
    predecessor is a bare number ("Chapter 1", "IV") is its title: "Chapter 1: The Storm".
    """
    headings = [b for b in parts if 1 <= b.level <= _CHAPTER_LEVELS]
    title = None
    h1s = [b for b in headings if b.level == 1]
    if find_title and len(h1s) == 1 and headings and headings[0] is h1s[0]:
        title = h1s[0].text
    sections: list[Section] = []
    label: str | None = None
    label_level = 0
    given = False  # the label is the table of contents' (TOC_LEVEL)
    body: list[Block] = []

    def flush() -> None:
        if label is not None or body:
            sections.append(Section(label, section_text(body), given=given))

    for block in parts:
        if title is not None and block.level == 1 and block.text == title:
            continue
        level = 1 if block.level == TOC_LEVEL else block.level
        if 1 <= level <= _CHAPTER_LEVELS:
            if label is not None and not body and level > label_level and _bare(label):
                label = f"{label}: {block.text}"
                continue
            flush()
            label, label_level, body = block.text, level, []
            given = block.level == TOC_LEVEL
        else:
            body.append(block if block.level <= 0 else Block(block.text))
    flush()
    return title, sections


_BARE_LABEL = re.compile(
    r"(?:chapter|part|book|letter|stave)?\s*(?:\d+|[ivxlcdm]+|[a-z]+(?:-[a-z]+)?)\.?",
    re.IGNORECASE,
)


def _bare(label: str) -> bool:
    """A heading that is only a number: "Chapter 1", "IV.", "Chapter Twenty-One"."""
    return len(label) <= 30 and bool(_BARE_LABEL.fullmatch(label.strip()))


def _head_meta(root: etree._Element) -> StoryMeta:
    title = next((element_text(e) for e in root.iter("*") if local(e.tag) == "title"), "")
    author = None
    for e in root.iter("*"):
        if local(e.tag) == "meta" and (e.get("name") or "").lower() in ("author", "dc.creator"):
            author = (e.get("content") or "").strip() or None
            break
    return StoryMeta(title=title or None, author=author)


def read_html(data: bytes) -> Document:
    """An HTML story: an Archive download, or any page read by its headings."""
    root = parse_html(data)
    if is_archive(root):
        document = read_archive(root)
        return Document(archive_rating(document.meta), document.sections, document.left_out)
    body = next((e for e in root.iter("*") if local(e.tag) == "body"), root)
    left: list[tuple[str, str]] = []
    skip = licence_of(root, left)
    header, block_title, author = title_block(root)
    if header is not None:  # pandoc's title block: the title and author, not story text
        skip.append(header)
        left.append(("title", section_text(blocks(header))))
    for nav in (e for e in body.iter("*") if local(e.tag) == "nav"):
        left.append(("front matter", section_text(blocks(nav, include_skipped=True))))
    meta = StoryMeta(title=block_title, author=author).over(_head_meta(root))
    found = blocks(body, iter(skip), blanks=True)
    every = _without_blanks(found)
    (lines,) = rejoin_lines([found], reads_as_heading)
    parts = book_blocks(lines, meta.title, left)
    title, sections = split_by_headings(parts, find_title=header is None)
    if title:
        meta = StoryMeta(title=title).over(meta)
        left.append(("title", title))
    rating = stated_rating(every[:_FRONT_BLOCKS])
    if rating is not None:
        meta = StoryMeta(rating=rating).over(meta)
    return Document(meta, tuple(sections), tuple(left))


def archive_rating(meta: StoryMeta) -> StoryMeta:
    """The Archive always states a rating: a preface whose rating is empty or missing was
    edited or cut, and is read as "Not Rated" (mature), never as general."""
    return meta if meta.rating is not None else replace(meta, rating="mature")


# The blocks a downloader's title page can fill before the story begins (FanFicFare writes a
# dozen fields; fanfiction.net's story header is one line).
_FRONT_BLOCKS = 60
_RATING_LABEL = re.compile(r"[*_\s]*(?:rating|rated|content\s+rating)[*_\s]*:?[*_\s]*", re.I)
_RATING_FIELD = re.compile(
    r"(?<!\w)(?:content\s+)?(?:rating|rated)[*_\s]*:[*_\s]*(\S[^\n]*)", re.IGNORECASE
)


def stated_rating(parts: list[Block]) -> Rating | None:
    """The rating a page states in its header: "**Rating:** Explicit" on one line (FanFicFare's
    EPUB title page, its HTML's table as two cells), "Rated: Fiction T - English - ..."
    (fanfiction.net). An unknown value is mature (see rating_from_text)."""
    for i, block in enumerate(parts):
        for line in block.text.split("\n"):
            if _RATING_LABEL.fullmatch(line) and i + 1 < len(parts):
                value = parts[i + 1].text.split("\n", 1)[0]
            elif match := _RATING_FIELD.search(line):
                value = match[1]
            else:
                continue
            return rating_from_text(value.split(" - ", 1)[0].strip(" *_"))
    return None
