"""EPUB 2 and 3 stories: the zip container (standard zipfile), the OPF package, its spine.

* **Container**: ``META-INF/container.xml`` names the OPF package (else the first ``*.opf``).
  A zip bomb is refused before anything is inflated (the entries' declared sizes: at most
  MAX_TOTAL_BYTES in all, MAX_DOCUMENT_BYTES each), and each read stops at its limit
  whatever the header declared.
* **Metadata** from the OPF: title, creators, language, subjects (tags; a subject naming a
  rating is the rating), description (summary), source or identifier URL.
* **Reading order** from the spine (``linear="no"`` items left out); chapters from each
  document's h1-h3 headings, or, for a document with no heading of its own, from the label
  the navigation document (EPUB 3) or NCX (EPUB 2) gives it. A document with neither
  continues the chapter before (a converter split it for size).
* **Not story text**: the cover, title page, table of contents, copyright, colophon, "about"
  and licence pages (by the guide or landmarks, ``epub:type``, file name or label), calibre's
  metadata jacket (its ``calibre-content`` meta), and a Project Gutenberg header and footer.
  A title page's "Rating: T" / "Characters: ..." lines fill what the OPF does not say
  (FanFicFare writes them there).
* **Archive of Our Own** EPUBs hold the download layout (see :mod:`bot.text.html`): their
  documents are read as one tree by the Archive reader.

XML is parsed by lxml with entities unresolved, DTDs unloaded and the network off.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass
from urllib.parse import unquote

from lxml import etree

from bot.errors import StoryBotError
from bot.models import StoryMeta
from bot.text.book import boilerplate, book_blocks, licence_of, rejoin_lines
from bot.text.html import archive_rating, is_archive, read_archive, split_by_headings
from bot.text.markup import (
    MAX_DOCUMENT_BYTES,
    TOC_LEVEL,
    Block,
    Document,
    blocks,
    check_tags,
    element_text,
    is_rating,
    local,
    parse_html,
    parse_xhtml,
    parse_xml,
    rating_from_text,
    section_text,
)
from bot.text.structure import reads_as_heading

__all__ = ["MAX_TOTAL_BYTES", "read_epub"]

MAX_TOTAL_BYTES = 100 * 1024 * 1024  # inflated, all entries together
MAX_ENTRIES = 10_000
# What is read and parsed, all documents together, counted as read (not as the zip declares):
# with MAX_TAGS this bounds the trees held, whatever the spine names.
MAX_PARSED_BYTES = 40 * 1024 * 1024
# Font obfuscation (IDPF, Adobe) hides only fonts; any other algorithm in encryption.xml is DRM.
_OBFUSCATION = frozenset({"http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"})
_DOCUMENT = re.compile(r"\.(?:x?html?|xml|opf|ncx)$", re.IGNORECASE)

_EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"
# guide / landmarks types and epub:type values of pages that are not story text
_FRONT_TYPES = frozenset(
    {
        "cover", "title-page", "titlepage", "toc", "copyright-page", "copyright", "colophon",
        "loi", "lot", "imprint", "imprimatur", "dedication-page", "dedication",
        "other.ms-coverimage-standard",
        "other.ms-titlepage", "halftitlepage", "frontispiece", "license", "licence",
    }
)  # fmt: skip
_FRONT_FILE = re.compile(
    r"(?:^|[/_\-.])(?:cover|title|titlepage|title_page|toc|nav|contents|copyright|colophon"
    r"|about|license|licence|imprint|pg-header|pg-footer|wrap0000|info)(?:[_\-.\d]|$)",
    re.IGNORECASE,
)
_FRONT_LABEL = re.compile(
    r"(?:cover|title\s*page|(?:table\s+of\s+)?contents|copyright|colophon|imprint|licen[cs]e"
    r"|about\s+(?:this|the)\s+(?:book|e-?book|author)|information|the\s+full\s+project"
    r"\s+gutenberg\s+licen[cs]e)",
    re.IGNORECASE,
)
_FIELD = re.compile(r"[*_]*([A-Za-z][A-Za-z /]{1,30}?)\s*:[*_]*\s*(\S.*)")


def _fail(reason: str) -> StoryBotError:
    return StoryBotError(f"not a readable EPUB ({reason})", usage=False)


class _Container:
    """The zip, read within limits."""

    def __init__(self, data: bytes) -> None:
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
            raise _fail(f"bad zip: {exc}") from None
        if len(infos) > MAX_ENTRIES:
            raise _fail(f"{len(infos)} files in the archive")
        total = sum(info.file_size for info in infos)
        if total > MAX_TOTAL_BYTES:
            raise _fail(
                f"{total // (1024 * 1024)} MB uncompressed; the limit is"
                f" {MAX_TOTAL_BYTES // (1024 * 1024)} MB"
            )
        self.names = {info.filename for info in infos}
        self.parsed = 0  # bytes read so far
        self.tags = 0  # and the tags in them

    def read(self, name: str) -> bytes:
        if name not in self.names:
            raise _fail(f"{name} is missing")
        try:
            with self.zip.open(name) as handle:
                data = handle.read(MAX_DOCUMENT_BYTES + 1)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError) as exc:
            raise _fail(f"{name}: {exc}") from None
        except Exception as exc:  # zlib.error and the like, from a damaged entry
            raise _fail(f"{name}: {type(exc).__name__}") from None
        if len(data) > MAX_DOCUMENT_BYTES:
            raise _fail(f"{name} is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB")
        self.parsed += len(data)
        if self.parsed > MAX_PARSED_BYTES:
            raise _fail(
                f"its documents hold more than {MAX_PARSED_BYTES // (1024 * 1024)} MB of markup"
            )
        self.tags += data.count(b"<")
        check_tags(self.tags, "its documents")
        return data


def _refuse_drm(box: _Container) -> None:
    """An EPUB whose documents are encrypted (Adobe ADEPT, Readium LCP, ...) has no text we can
    read; one whose fonts alone are obfuscated is read as usual."""
    if "META-INF/encryption.xml" not in box.names:
        return
    drm = StoryBotError("encrypted (DRM): cannot be read", usage=False)
    try:
        root = parse_xml(box.read("META-INF/encryption.xml"), "META-INF/encryption.xml")
    except StoryBotError:
        raise drm from None
    for element in root.iter("*"):
        tag = local(element.tag)
        algorithm = (element.get("Algorithm") or "").strip()
        uri = unquote(element.get("URI") or "")
        if (tag == "encryptionmethod" and algorithm not in _OBFUSCATION) or (
            tag == "cipherreference" and _DOCUMENT.search(uri)
        ):
            raise drm


@dataclass(slots=True)
class _Item:
    href: str  # path inside the zip
    media_type: str
    properties: str


def _children(root: etree._Element, name: str) -> list[etree._Element]:
    return [e for e in root.iter("*") if local(e.tag) == name]


def _package_path(box: _Container) -> str:
    if "META-INF/container.xml" in box.names:
        container = parse_xml(box.read("META-INF/container.xml"), "META-INF/container.xml")
        for rootfile in _children(container, "rootfile"):
            path = rootfile.get("full-path")
            if path and path in box.names:
                return path
    found = sorted(n for n in box.names if n.lower().endswith(".opf"))
    if not found:
        raise _fail("no OPF package file")
    return found[0]


def _resolve(base: str, href: str) -> str:
    return posixpath.normpath(
        posixpath.join(posixpath.dirname(base), unquote(href.split("#", maxsplit=1)[0]))
    )


def _summary(text: str) -> str | None:
    """A description may hold HTML (escaped or not): its text, paragraphs kept."""
    if not text.strip():
        return None
    if "<" in text:
        try:
            return "\n\n".join(b.text for b in blocks(parse_html(text.encode()))) or None
        except StoryBotError:
            return None
    return text.strip()


def _opf_meta(package: etree._Element) -> tuple[StoryMeta, tuple[str, ...]]:
    """The OPF's metadata, and its subjects that named a rating."""
    meta_el = next(iter(_children(package, "metadata")), package)

    def texts(name: str) -> list[str]:
        return [t for e in _children(meta_el, name) if (t := element_text(e))]

    subjects = texts("subject")
    ratings = tuple(s for s in subjects if is_rating(s))
    tags = tuple(dict.fromkeys(s for s in subjects if s not in ratings))
    url = next(
        (
            u
            for u in [*texts("source"), *texts("identifier")]
            if u.startswith(("http://", "https://"))
        ),
        None,
    )
    descriptions = [e.text or "" for e in _children(meta_el, "description")]
    titles = texts("title")
    languages = texts("language")
    return (
        StoryMeta(
            title=titles[0] if titles else None,
            author=", ".join(dict.fromkeys(texts("creator"))) or None,
            rating=rating_from_text(ratings[0]) if ratings else None,
            url=url,
            tags=tags,
            summary=_summary(descriptions[0]) if descriptions else None,
            language=languages[0] if languages else None,
        ),
        ratings,
    )


def _labels(
    box: _Container, items: dict[str, _Item], toc_id: str | None
) -> tuple[dict[str, tuple[str, str]], set[str], set[str]]:
    """(label, the link's #fragment) by document path, from the EPUB 3 nav document or
    else the NCX; the paths the landmarks mark as front matter; and every name the table
    of contents gives (folded by _folded)."""
    labels: dict[str, tuple[str, str]] = {}
    front: set[str] = set()
    names: set[str] = set()
    nav = next((i for i in items.values() if "nav" in i.properties.split()), None)
    ncx = items.get(toc_id or "") or next(
        (i for i in items.values() if i.media_type == "application/x-dtbncx+xml"), None
    )
    if nav is not None:
        root = parse_xhtml(box.read(nav.href), nav.href)
        for nav_el in _children(root, "nav"):
            kind = nav_el.get(_EPUB_TYPE) or ""
            for a in _children(nav_el, "a"):
                href = a.get("href")
                if not href:
                    continue
                path = _resolve(nav.href, href)
                if kind == "landmarks":
                    if (a.get(_EPUB_TYPE) or "") in _FRONT_TYPES:
                        front.add(path)
                elif kind == "toc":
                    labels.setdefault(path, (element_text(a), _fragment(href)))
                    names.add(_folded(element_text(a)))
    elif ncx is not None:
        root = parse_xml(box.read(ncx.href), ncx.href)
        for point in _children(root, "navpoint"):  # local() lowers tags
            content = next(iter(_children(point, "content")), None)
            label = next(iter(_children(point, "text")), None)
            if content is not None and content.get("src"):
                src = content.get("src", "")
                labels.setdefault(_resolve(ncx.href, src), (element_text(label), _fragment(src)))
                names.add(_folded(element_text(label)))
    return labels, front, names


def _folded(text: str) -> str:
    return " ".join(text.split()).lower()


def _fragment(href: str) -> str:
    return unquote(href.split("#", 1)[1]) if "#" in href else ""


def _at_start(root: etree._Element, fragment: str) -> bool:
    """Whether the element ``#fragment`` comes before any text of the document's body."""
    body = next((e for e in root.iter("*") if local(e.tag) == "body"), root)
    for element in body.iter("*"):
        if element.get("id") == fragment:
            return True
        if local(element.tag) not in ("head", "title", "style", "script") and (
            (element.text or "").strip()
        ):
            return False
    return False


# the body and sections of a page, in any namespace (and in capitals: an XHTML page that
# failed as XML is read by the HTML parser, which lowers them, but a valid one may not)
_PAGE_TAGS = tuple(f"{{*}}{t}" for name in ("body", "section", "div") for t in (name, name.upper()))


# calibre's metadata jacket (ebook-convert --insert-metadata): title, author, tags, summary
_JACKET = etree.XPath(
    "/*/*[local-name()='head']/*[local-name()='meta' and @name='calibre-content'"
    " and @content='jacket']"
)


def _is_front(
    path: str, label: str, root: etree._Element, front: set[str], *, first: bool = False
) -> bool:
    """Whether a page is not story text; ``first``: no story page came before it (an
    epigraph page there is the book's, one later a part's or a chapter's)."""
    if path in front or _FRONT_FILE.search(posixpath.basename(path)) or _JACKET(root):
        return True
    if label and _FRONT_LABEL.fullmatch(label.strip()):
        return True
    for element in root.iter(*_PAGE_TAGS):  # lxml filters in C; a page may have no div
        if set((element.get(_EPUB_TYPE) or "").split()) & _FRONT_TYPES:
            return True
        if local(element.tag) != "body":
            break  # only the body and its first section say what the page is
    if first:  # an epigraph page: nothing but the epigraph (no heading, no text after it)
        body = _body(root)
        epigraph = _lead_epigraph(body)
        return epigraph is not None and _words(epigraph) == _words(body)
    return False


_HEADINGS = frozenset(f"h{n}" for n in range(1, 7))


def _body(root: etree._Element) -> etree._Element:
    return next((e for e in root.iter("*") if local(e.tag) == "body"), root)


def _words(element: etree._Element) -> list[str]:
    return "".join(str(t) for t in element.itertext()).split()


def _lead_epigraph(body: etree._Element) -> etree._Element | None:
    """The element marked epub:type epigraph that comes before any heading or text of the
    page (a book's epigraph, as in a .txt: before the first heading), or None."""
    for element in body.iter("*"):
        if "epigraph" in (element.get(_EPUB_TYPE) or "").split():
            return element
        if local(element.tag).lower() in _HEADINGS or (element.text or "").strip():
            return None
    return None


def _cut_lead_epigraph(body: etree._Element, left: list[tuple[str, str]]) -> None:
    """Takes a book's epigraph out of the first story page (in place), left out as front
    matter as the .txt reader leaves out verse before a book's first heading; an epigraph
    under a chapter's heading stays the chapter's."""
    epigraph = _lead_epigraph(body)
    parent = None if epigraph is None else epigraph.getparent()
    if epigraph is None or parent is None:
        return
    left.append(("front matter", section_text(blocks(epigraph))))
    tail = epigraph.tail or ""
    if tail.strip():  # the text after it stays
        before = epigraph.getprevious()
        if before is not None:
            before.tail = (before.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(epigraph)


def _fields(parts: list[Block]) -> dict[str, str]:
    """ "Rating: T" lines of a title page, keyed in lower case."""
    found: dict[str, str] = {}
    for block in parts:
        for line in block.text.split("\n"):
            match = _FIELD.fullmatch(line.strip())
            if match:
                found.setdefault(match[1].strip().lower(), match[2].strip(" *_"))
    return found


def _split_names(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(dict.fromkeys(n.strip() for n in value.split(",") if n.strip()))


def read_epub(data: bytes) -> Document:
    """An EPUB story, or StoryBotError with a one-line reason."""
    box = _Container(data)
    _refuse_drm(box)
    opf = _package_path(box)
    package = parse_xml(box.read(opf), opf)
    if local(package.tag) != "package":
        raise _fail(f"{opf} is not an OPF package")
    meta, _ = _opf_meta(package)
    items = _manifest(package, opf)
    spine, order = _reading_order(package, items)
    labels, front, names = _labels(box, items, spine.get("toc"))
    for guide_ref in _children(package, "reference"):
        if (guide_ref.get("type") or "").lower() in _FRONT_TYPES and guide_ref.get("href"):
            front.add(_resolve(opf, guide_ref.get("href", "")))
    docs = _documents(box, order, labels)
    if any(is_archive(root) for _, _, root in docs):
        return _archive_epub(docs, meta)
    page_fields: dict[str, str] = {}
    left: list[tuple[str, str]] = []
    read = _story_pages(docs, front, page_fields, left)
    pages = rejoin_lines(
        [found for _, found in read], lambda text: _folded(text) in names or reads_as_heading(text)
    )
    parts: list[Block] = []
    for (label, _), found in zip(read, pages, strict=True):
        first = next((b for b in found if not b.is_break), None)
        if label and (first is None or not 1 <= first.level <= 3):
            found.insert(0, Block(label, TOC_LEVEL))
        parts.extend(found)
    _, sections = split_by_headings(book_blocks(parts, meta.title, left), find_title=False)
    return Document(meta.over(_page_meta(page_fields)), tuple(sections), tuple(left))


def _story_pages(
    docs: list[tuple[str, str, etree._Element]],
    front: set[str],
    page_fields: dict[str, str],
    left: list[tuple[str, str]],
) -> list[tuple[str, list[Block]]]:
    """(the contents' label, blocks with blank ones) of each document that is story text;
    the others' words are left out as front matter and their "Rating: T" lines kept in
    ``page_fields``."""
    read: list[tuple[str, list[Block]]] = []
    for path, label, root in docs:
        body = _body(root)
        front_page = _is_front(path, label, root, front, first=not read)
        if not read and not front_page:
            _cut_lead_epigraph(body, left)
        found = blocks(body, iter(licence_of(root, left)), blanks=True)
        if front_page:
            page_fields.update(_fields(found))
            every = blocks(body, iter(boilerplate(root)), include_skipped=True)  # a nav's too
            left.append(("front matter", section_text(every)))
            continue
        read.append((label, found))
    return read


def _documents(
    box: _Container, order: list[_Item], labels: dict[str, tuple[str, str]]
) -> list[tuple[str, str, etree._Element]]:
    """The (X)HTML documents in reading order: (path, the contents' label for it, its tree)."""
    docs: list[tuple[str, str, etree._Element]] = []
    for item in order:
        if "html" not in item.media_type and not item.href.endswith((".html", ".htm", "xhtml")):
            continue
        root = parse_xhtml(box.read(item.href), item.href)
        label, fragment = labels.get(item.href, ("", ""))
        if fragment and not _at_start(root, fragment):
            label = ""  # it names a part further into the document, not the document
        docs.append((item.href, label, root))
    return docs


def _manifest(package: etree._Element, opf: str) -> dict[str, _Item]:
    """The package's items by id, their paths resolved against the OPF's."""
    items: dict[str, _Item] = {}
    for item in _children(package, "item"):
        item_id, href = item.get("id"), item.get("href")
        if item_id and href:
            items[item_id] = _Item(
                _resolve(opf, href), item.get("media-type") or "", item.get("properties") or ""
            )
    return items


def _reading_order(
    package: etree._Element, items: dict[str, _Item]
) -> tuple[etree._Element, list[_Item]]:
    """The spine and the documents it reads, in order (linear ones, each once)."""
    spine = next(iter(_children(package, "spine")), None)
    if spine is None:
        raise _fail("no spine")
    order = list(  # a document the spine names twice is read once
        {
            items[ref.get("idref", "")].href: items[ref.get("idref", "")]
            for ref in _children(spine, "itemref")
            if ref.get("idref") in items and ref.get("linear", "yes") != "no"
        }.values()
    )
    if not order:
        raise _fail("the spine lists no documents")
    return spine, order


def _page_meta(page_fields: dict[str, str]) -> StoryMeta:
    """What a title page's "Rating: T" lines say of the story."""
    rating = page_fields.get("rating") or page_fields.get("rated")
    return StoryMeta(
        rating=rating_from_text(rating),
        fandom=_split_names(page_fields.get("fandom") or page_fields.get("category")),
        relationships=_split_names(page_fields.get("relationships") or page_fields.get("pairing")),
        characters=_split_names(page_fields.get("characters")),
        summary=page_fields.get("summary"),
    )


def _archive_epub(docs: list[tuple[str, str, etree._Element]], meta: StoryMeta) -> Document:
    """The Archive's EPUB: its documents' bodies in one tree, read as its HTML download."""
    html_root = etree.Element("html")
    body = etree.SubElement(html_root, "body")
    for _, _, root in docs:
        doc_body = next((e for e in root.iter("*") if local(e.tag) == "body"), root)
        for child in list(doc_body):
            body.append(child)
    document = read_archive(html_root)
    return Document(archive_rating(document.meta.over(meta)), document.sections, document.left_out)
