"""HTML and XHTML to story text, with lxml: the shared half of the EPUB and HTML readers.

A document is parsed once (lxml, safely: no network, no external entities, no huge trees) and
its body walked into *tokens*: paragraphs, headings (h1-h6) and scene breaks, in order.

* ``<em>``/``<i>`` become ``*x*``, ``<strong>``/``<b>`` become ``**x**`` (the spaces inside
  the tag move outside the marks); ``<br>`` keeps its line break; ``<hr>`` and a centred
  paragraph of ornaments only ("❦", "* * *", an image) are scene breaks.
* Entities are decoded by the parser; scripts, styles, forms, images and the like give no text;
  HTML whitespace collapses to single spaces (``<pre>`` keeps its lines).

Then :func:`sections_text` writes the paragraphs of a section as the text pipeline reads a
.txt file: paragraphs between blank lines, breaks as "* * *", so the same repair, paragraph,
note and scene rules apply to every format.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree, html

from bot.errors import StoryBotError
from bot.models import Rating, StoryMeta
from bot.text.decode import looks_binary
from bot.text.structure import Section

__all__ = [
    "BLANK_LEVEL",
    "BREAK",
    "MAX_DOCUMENT_BYTES",
    "MAX_TAGS",
    "TOC_LEVEL",
    "Block",
    "Document",
    "blocks",
    "check_tags",
    "element_text",
    "local",
    "parse_html",
    "parse_xml",
    "rating_from_text",
    "section_text",
]

# A story document larger than this is refused (a 50 MB HTML file is not a story download).
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
# Tags ("<") in a document, or in all of an EPUB's: memory grows with elements, not bytes (20 MB
# of "<p>a</p>" is a 780 MB tree). A story has a few per paragraph: a 1,000,000-word story
# about 100,000.
MAX_TAGS = 400_000
BREAK = "* * *"
# the level of a heading a reader took from the table of contents for a document that has
# none of its own: a chapter heading (level 1) whose words are not in the file's text
TOC_LEVEL = 7
# the level of an empty paragraph (``<p>&nbsp;</p>``), kept only when blocks() is asked for
# them: a blank line of a text a converter wrote one line a paragraph (bot/text/book.py)
BLANK_LEVEL = -2

_SKIP = frozenset(
    {
        "head", "script", "style", "noscript", "template", "title", "meta", "link", "object",
        "embed", "iframe", "svg", "math", "form", "button", "input", "select", "textarea",
        "nav", "audio", "video", "canvas", "map", "img", "image",
    }
)  # fmt: skip
# never text, even when a nav's words are read for the report
_NEVER_TEXT = frozenset(
    {"head", "script", "style", "noscript", "template", "title", "img", "image"}
)
_BLOCK = frozenset(
    {
        "p", "div", "blockquote", "li", "ul", "ol", "dl", "dt", "dd", "pre", "section",
        "article", "aside", "header", "footer", "main", "center", "table", "tr", "td", "th",
        "tbody", "thead", "tfoot", "caption", "figure", "figcaption", "address", "body",
        "h1", "h2", "h3", "h4", "h5", "h6", "hgroup", "details", "summary",
    }
)  # fmt: skip
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_MARKS = {"em": "*", "i": "*", "cite": "*", "strong": "**", "b": "**"}
_CENTRED = re.compile(r"text-align\s*:\s*center", re.IGNORECASE)
_CENTRE_CLASS = re.compile(r"\b(?:center|centre|centered|centred|ornament|divider|break)\b")
_WORDS = re.compile(r"\w")


@dataclass(frozen=True, slots=True)
class Block:
    """A paragraph (level 0), a heading (level 1-6) or a scene break (text BREAK, level -1)."""

    text: str
    level: int = 0

    @property
    def is_break(self) -> bool:
        return self.level < 0


_BREAK_BLOCK = Block(BREAK, -1)
_BLANK_BLOCK = Block("", BLANK_LEVEL)


def local(tag: object) -> str:
    """An element's tag without its namespace, lower case ("" for comments and the like)."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].lower()


def _check_size(data: bytes, what: str) -> None:
    if len(data) > MAX_DOCUMENT_BYTES:
        raise StoryBotError(
            f"{what} is too large ({len(data) // (1024 * 1024)} MB; the limit is"
            f" {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB)",
            usage=False,
        )
    check_tags(data.count(b"<"), what)


def check_tags(tags: int, what: str) -> None:
    """Refuse more markup than a story has: each element costs lxml about 300 bytes."""
    if tags > MAX_TAGS:
        raise StoryBotError(
            f"{what} has too much markup ({tags:,} tags; the limit is {MAX_TAGS:,})", usage=False
        )


def parse_html(data: bytes, what: str = "HTML document") -> etree._Element:
    """Parse HTML leniently (as browsers do) but safely: nothing fetched, no entity expansion."""
    _check_size(data, what)
    if not data.startswith(_UTF16_BOMS) and looks_binary(data):
        raise StoryBotError(f"{what} is not a text file (binary content)", usage=False)
    data = _without_internal_subset(data)
    parser = html.HTMLParser(
        no_network=True,
        remove_comments=True,
        remove_pis=True,
        huge_tree=False,
        recover=True,
        encoding=_html_encoding(data),
    )
    try:
        root = html.document_fromstring(data, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise StoryBotError(f"{what} cannot be read: {_reason(exc)}", usage=False) from None
    _check_depth(parser.error_log, what)
    return root


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# A DOCTYPE with an internal subset (<!DOCTYPE html [ <!ENTITY x "..."> ]>): an HTML parser
# does not read one (its "]>" became text), and its entities are never expanded (billion laughs).
_INTERNAL_SUBSET = re.compile(rb"<!DOCTYPE[^\[>]{0,200}\[(.{0,65536}?)\]\s*>", re.I | re.S)
_ENTITY_NAME = re.compile(rb"<!ENTITY\s+([\w.:-]+)", re.IGNORECASE)


def _without_internal_subset(data: bytes) -> bytes:
    """The page without its DOCTYPE's internal subset, nor references to the entities it
    declares (they would stay as literal "&name;" text)."""
    match = _INTERNAL_SUBSET.search(data, 0, 70_000)
    if match is None:
        return data
    names = _ENTITY_NAME.findall(match[1])
    data = data[: match.start()] + b"<!DOCTYPE html>" + data[match.end() :]
    if names:
        refs = re.compile(b"&(?:" + b"|".join(re.escape(n) for n in names) + b");")
        data = refs.sub(b"", data)
    return data


def _check_depth(log: etree._ListErrorLog, what: str) -> None:
    """libxml2 stops reading at 256 levels of nesting: say so rather than lose the rest."""
    if any("Excessive depth" in entry.message for entry in log):
        raise StoryBotError(f"{what} cannot be read: markup nested too deeply", usage=False)


_CHARSET = re.compile(rb"""charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)


def _html_encoding(data: bytes) -> str | None:
    """The bytes decide, as for .txt files, whatever a <meta charset> says: UTF-8 when they are
    UTF-8 (libxml2 alone would read a page with no <meta charset> as Latin-1); else the declared
    charset when it is not UTF-8 and the bytes decode in it (Windows-1251, Shift JIS); else
    Windows-1252."""
    if data.startswith(_UTF16_BOMS):
        return None  # lxml reads the BOM
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        declared = _CHARSET.search(data, 0, 4096)
        name = declared[1].decode("ascii", "replace") if declared else ""
        try:
            codec = codecs.lookup(name).name if name else ""
            if codec not in ("", "utf-8", "utf-16", "utf-32") and data.decode(codec):
                return codec
        except (LookupError, UnicodeDecodeError):
            pass
        return "windows-1252"
    return "utf-8"


def parse_xml(data: bytes, what: str) -> etree._Element:
    """Parse XML strictly and safely: no DTD loading, no entity expansion, no network."""
    _check_size(data, what)
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(data, parser=parser)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise StoryBotError(f"{what} is not well-formed XML: {_reason(exc)}", usage=False) from None
    if root is None:
        raise StoryBotError(f"{what} is empty", usage=False)
    return root


def parse_xhtml(data: bytes, what: str) -> etree._Element:
    """An EPUB content document: XHTML, read as XML; if it is not well-formed, as HTML."""
    try:
        return parse_xml(data, what)
    except StoryBotError as exc:
        if "too large" in exc.message:
            raise
        return parse_html(data, what)


def _reason(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:120]


def _centred(element: etree._Element) -> bool:
    if local(element.tag) == "center":
        return True
    style = element.get("style") or ""
    classes = element.get("class") or ""
    return bool(_CENTRED.search(style) or _CENTRE_CLASS.search(classes.lower()))


def _clean(text: str, keep_spaces: bool = False) -> str:
    """Collapse HTML whitespace line by line; drop blank lines at either end."""
    if keep_spaces:
        lines = [line.rstrip() for line in text.split("\n")]
    else:
        lines = [" ".join(line.split()) for line in text.split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def _wrap(inner: str, mark: str) -> str:
    """*inner* with its outer spaces moved outside the marks, line by line."""
    if not inner.strip():
        return inner
    out = []
    for line in inner.split("\n"):
        core = line.strip()
        if not core:
            out.append(line)
            continue
        lead = line[: len(line) - len(line.lstrip())]
        trail = line[len(line.rstrip()) :]
        out.append(f"{lead}{mark}{core}{mark}{trail}")
    return "\n".join(out)


class _Walker:
    """Collects the blocks of a tree, in document order."""

    def __init__(self, skip: frozenset[int]) -> None:
        self.out: list[Block] = []
        self.buffer: list[str] = []
        self.skip = skip  # id() of elements to leave out entirely
        self.pre = 0
        self.read_all = False  # read nav and the like too (not scripts, styles, images)
        self.blanks = False  # an empty <p> gives a BLANK_LEVEL block
        self.held: list[etree._Element] = []  # the skipped elements, alive while ids matter

    def flush(self, level: int = 0, centred: bool = False) -> None:
        text = _clean("".join(self.buffer), keep_spaces=self.pre > 0)
        self.buffer.clear()
        if not text:
            return
        if centred and not _WORDS.search(text):
            self.out.append(_BREAK_BLOCK)
        else:
            self.out.append(Block(text, level))

    def walk(self, element: etree._Element) -> None:
        tag = local(element.tag)
        skipped = tag in _SKIP and not (self.read_all and tag not in _NEVER_TEXT)
        if tag and not skipped and id(element) not in self.skip:
            if tag == "br":
                self.buffer.append("\n")
            elif tag == "hr":
                self.flush()
                self.out.append(_BREAK_BLOCK)
            elif tag in _BLOCK:
                self._block(element, tag)
            elif tag in _MARKS and not _has_block(element):
                start = len(self.buffer)
                self._children(element)
                inner = "".join(self.buffer[start:])
                del self.buffer[start:]
                self.buffer.append(_wrap(inner, _MARKS[tag]))
            else:
                self._children(element)
        elif tag in ("img", "image") and _centred_parent(element):
            self.buffer.append("")  # an ornament image: its centred paragraph becomes a break
        if element.tail:
            self.buffer.append(self.text(element.tail))

    def text(self, text: str) -> str:
        """A text node as a browser shows it: its line breaks are spaces (only ``<br>``
        breaks a line), except inside ``<pre>``. The spaces around them are collapsed with
        the rest when the block is flushed (_clean)."""
        return text if self.pre else text.replace("\n", " ")

    def _children(self, element: etree._Element) -> None:
        if element.text:
            self.buffer.append(self.text(element.text))
        for child in element:
            self.walk(child)

    def _block(self, element: etree._Element, tag: str) -> None:
        self.flush()
        found = len(self.out)
        level = _HEADINGS.get(tag, 0)
        centred = _centred(element)
        had_image = any(local(e.tag) in ("img", "image") for e in element.iterchildren())
        if tag == "pre":
            self.pre += 1
        self._children(element)
        if tag == "pre":
            self.pre -= 1
        if had_image and centred and not "".join(self.buffer).strip():
            self.buffer.clear()
            if not self.out or not self.out[-1].is_break:
                self.out.append(_BREAK_BLOCK)
            return
        self.flush(level, centred)
        if self.blanks and tag == "p":
            if len(self.out) == found:
                self.out.append(_BLANK_BLOCK)
            elif "scenebreak" in (element.get("class") or "").split():
                # calibre's scene break took the blank lines around it into its margins
                self.out.insert(found, _BLANK_BLOCK)
                self.out.append(_BLANK_BLOCK)


def _has_block(element: etree._Element) -> bool:
    return any(local(e.tag) in _BLOCK for e in element.iterdescendants())


def _centred_parent(element: etree._Element) -> bool:
    parent = element.getparent()
    return parent is not None and _centred(parent)


def blocks(
    element: etree._Element,
    skip: Iterator[etree._Element] | None = None,
    *,
    include_skipped: bool = False,
    blanks: bool = False,
) -> list[Block]:
    """The paragraphs, headings and breaks under ``element`` (its own tail excluded);
    ``include_skipped`` reads ``element`` itself even when it is a tag never read as text
    (a ``nav``: its words, for the ingest report); ``blanks`` keeps each empty ``<p>`` as a
    block of BLANK_LEVEL (for bot.text.book.rejoin_lines, which takes them out)."""
    # the elements themselves are held while the walk runs: lxml makes a new proxy (with a new
    # id()) for an element no Python object holds
    held = list(skip) if skip is not None else []
    walker = _Walker(frozenset(id(e) for e in held))
    walker.held = held
    walker.read_all = include_skipped
    walker.blanks = blanks
    tail = element.tail
    element.tail = None
    try:
        walker.walk(element)
    finally:
        element.tail = tail
    walker.flush()
    return walker.out


def element_text(element: etree._Element | None) -> str:
    """An element's text as one line (a title, a label, a tag name)."""
    if element is None:
        return ""
    return " ".join("".join(str(t) for t in element.itertext()).split())


def section_text(parts: list[Block]) -> str:
    """Blocks as the text pipeline reads a .txt file: paragraphs between blank lines."""
    return "\n\n".join(b.text for b in parts)


# ---- what a reader makes of a file -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Document:
    meta: StoryMeta
    sections: tuple[Section, ...]
    # text of the file the reader left out of the sections, (kind, text): front matter pages,
    # a licence, the Archive's preface and afterword (see ParsedStory.left_out)
    left_out: tuple[tuple[str, str], ...] = ()


# Ratings as the archives write them, folded (lower case, spaces only).
_RATINGS: dict[str, Rating] = {
    "general audiences": "general",
    "general": "general",
    "g": "general",
    "k": "general",
    "k+": "general",
    "fiction k": "general",
    "fiction k+": "general",
    "teen and up audiences": "teen",
    "teen and up": "teen",
    "teen": "teen",
    "teens": "teen",
    "pg": "teen",
    "pg-13": "teen",
    "t": "teen",
    "fiction t": "teen",
    "mature": "mature",
    "m": "mature",
    "fiction m": "mature",
    "r": "mature",
    "not rated": "mature",  # the safe side: nobody said it is for everyone
    "explicit": "explicit",
    "e": "explicit",
    "nc-17": "explicit",
    "ma": "explicit",
    "fiction ma": "explicit",
    "adult": "explicit",
    "adults only": "explicit",
    "x": "explicit",
    "xxx": "explicit",
}


def rating_from_text(text: str | None) -> Rating | None:
    """Our rating for an archive's rating text; None when there is no text.

    Fails closed: a rating we do not know ("Rated: Grown-ups", a typo) is "mature", which is
    served only where mature and explicit stories are (the two gate alike), so an unknown
    rating never makes a story general.
    """
    if text is None:
        return None
    folded = " ".join(text.replace("\u00a0", " ").lower().strip(" .:;").split())
    folded = folded.removeprefix("rating:").removeprefix("rated:").strip()
    if not folded:
        return None
    return _RATINGS.get(folded, "mature")


def is_rating(text: str) -> bool:
    """Whether a subject or tag names a rating we know ("Teen And Up Audiences", "Rated: M")."""
    folded = " ".join(text.lower().strip(" .:;").split())
    folded = folded.removeprefix("rating:").removeprefix("rated:").strip()
    return (folded in _RATINGS and len(folded) > 2) or text.lower().startswith(
        ("rated:", "rating:")
    )
