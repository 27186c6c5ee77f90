"""Books made by the tools readers use read as their .txt does.

The fixtures in tests/fixtures/books were made by tests/fixtures/books/make_fixtures.sh with
Debian's pandoc 2.17 and calibre 6.13 and Project Gutenberg's ebookmaker 0.14.6 from The
Time Machine, Pride and Prejudice and the seed "Breaking alone". For each: the same chapter
labels as the .txt reading, numbered 1..N; chapter 1 starting where the book starts; every
chapter's words within 1% of the .txt's; no front matter in any chapter; and a sentence of
every chapter of the .txt found in the same chapter.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
import zipfile
from functools import cache
from pathlib import Path

import lxml.html
import pytest
from lxml import etree

from bot.models import ParsedStory
from bot.text import decode, process
from bot.text.repair import repair

ROOT = Path(__file__).resolve().parents[2]
BOOKS = ROOT / "tests" / "fixtures" / "books"
ILLUSTRATED = ROOT / "tests" / "text" / "fixtures" / "pride_1894_mini.txt"
SOURCES = {
    "tm": ROOT / "tests" / "fixtures" / "corpus" / "the_time_machine.txt",
    "pp": BOOKS / "pride_and_prejudice.txt",
    "ba": BOOKS / "breaking_alone.txt",
    "p94": ILLUSTRATED,  # the 1894 illustrated edition's layout (captions, list of illustrations)
}
FIXTURES = sorted(
    p.name
    for p in BOOKS.iterdir()
    if p.suffix in (".epub", ".html") and p.name.split(".")[0] in SOURCES
)
# what the makers put before chapter 1 or after the last: never in a chapter
FRONT_MATTER = (
    "CONTENTS",
    "PREFACE",
    "This edition follows the text",
    "Project Gutenberg",
    "PROJECT GUTENBERG",
    "Table of Contents",
    "I. Introduction II. The Machine",
    "Letter 1 Letter 2",
    "LIST OF ILLUSTRATIONS",
    "Heading to",
    "Illustration",
    "Transcriber",
    "CHISWICK",
    "START OF",
    "END OF",
    "Release date",
    "Title:",
    "Author:",
    "H. G. Wells",  # the title blocks' and title pages' authors
    "Jane Austen",
    "Anonymous",
    "calibre",
    "Dedication",  # pandoc's dedication page and the epigraph on it
    "who asked what came next",
    "Out of the night",
    "Invictus",
)
_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> int:
    return len(_WORD.findall(text))


def fold(text: str) -> str:
    """Without emphasis marks, quotes folded, whitespace collapsed: what both readings share."""
    text = re.sub(r"[*_]", "", text).replace("’", "'").replace("‘", "'")
    text = re.sub(r"--|[—–]", "-", text)  # pandoc and calibre make "--" a dash
    return " ".join(text.replace("“", '"').replace("”", '"').split())


def bare_words(text: str) -> str:
    """The words alone, lower-cased and without accents: what a reader's quote must match
    ("time– and" in one reading and "time-and" in another are the same words)."""
    bare = unicodedata.normalize("NFKD", text.lower())
    return " ".join(_WORD.findall("".join(c for c in bare if not unicodedata.combining(c))))


@cache
def txt(key: str) -> ParsedStory:
    path = SOURCES[key]
    return process(path.read_bytes(), path.name)


@cache
def book(name: str) -> ParsedStory:
    return process((BOOKS / name).read_bytes(), name)


def text_of(story: ParsedStory, index: int) -> str:
    return "\n\n".join(t for _, t in story.chapters[index].paragraphs)


def test_there_are_fixtures_of_every_maker() -> None:
    makers = {name.split(".")[1].split("-")[0] for name in FIXTURES}
    assert {"pandoc", "calibre", "ebookmaker"} <= makers, FIXTURES
    assert len(FIXTURES) >= 12


@pytest.mark.parametrize("name", FIXTURES)
def test_same_chapters_and_labels_as_the_txt(name: str) -> None:
    story, reference = book(name), txt(name.split(".", maxsplit=1)[0])
    assert [c.label for c in story.chapters] == [c.label for c in reference.chapters]
    assert [c.number for c in story.chapters] == list(range(1, len(story.chapters) + 1))


@pytest.mark.parametrize("name", FIXTURES)
def test_chapter_one_starts_where_the_book_starts(name: str) -> None:
    story, reference = book(name), txt(name.split(".", maxsplit=1)[0])
    first = fold(reference.chapters[0].paragraphs[0][1])[:80]
    assert fold(story.chapters[0].paragraphs[0][1])[:80] == first


@pytest.mark.parametrize("name", FIXTURES)
def test_words_within_one_percent_chapter_by_chapter(name: str) -> None:
    story, reference = book(name), txt(name.split(".", maxsplit=1)[0])
    for i, chapter in enumerate(reference.chapters):
        expected = words(text_of(reference, i))
        got = words(text_of(story, i)) if i < len(story.chapters) else 0
        assert abs(got - expected) <= expected / 100, (chapter.label, got, expected)


@pytest.mark.parametrize("name", FIXTURES)
def test_no_front_matter_in_any_chapter(name: str) -> None:
    story = book(name)
    for i, chapter in enumerate(story.chapters):
        text = text_of(story, i)
        for marker in FRONT_MATTER:
            assert marker not in text, (chapter.label, marker)


@pytest.mark.parametrize("key", sorted(SOURCES))
def test_the_txt_reading_has_no_front_matter_either(key: str) -> None:
    """The markers above are in no chapter of the .txt reading: absent because left out."""
    story = txt(key)
    text = "\n".join(text_of(story, i) for i in range(len(story.chapters)))
    assert [marker for marker in FRONT_MATTER if marker in text] == []


@pytest.mark.parametrize("name", FIXTURES)
def test_the_txt_quotes_are_in_the_same_chapter(name: str) -> None:
    """The first twelve words of the first, middle and last paragraphs of every chapter of
    the .txt, found in the same chapter of the book."""
    story, reference = book(name), txt(name.split(".", maxsplit=1)[0])
    for i, chapter in enumerate(reference.chapters):
        paragraphs = [t for _, t in chapter.paragraphs]
        for paragraph in (paragraphs[0], paragraphs[len(paragraphs) // 2], paragraphs[-1]):
            quote = " ".join(bare_words(paragraph).split()[:12])
            assert quote in bare_words(text_of(story, i)), (chapter.label, quote)


def _golden_lines() -> list[str]:
    """The quote search's golden lines of "Breaking alone" (seed 002, tests/search/test_quote.py):
    the exact lines and the real lines behind the misremembered ones."""
    from tests.search.test_quote import EXACT, MISREMEMBERED

    return [line for seed, line in EXACT if seed == "002"] + [
        line for seed, line, _ in MISREMEMBERED if seed == "002"
    ]


def _where(story: ParsedStory, line: str) -> list[int]:
    return [
        i for i in range(len(story.chapters)) if bare_words(line) in bare_words(text_of(story, i))
    ]


@pytest.mark.parametrize("name", [n for n in FIXTURES if n.startswith("ba.")])
def test_the_golden_quotes_are_in_the_same_chapter(name: str) -> None:
    story, reference = book(name), txt("ba")
    lines = _golden_lines()
    assert len(lines) >= 15
    for line in lines:
        expected = _where(reference, line)
        assert len(expected) == 1, (line, expected)  # the line is unique in the .txt
        assert _where(story, line) == expected, line


# ---- nothing lost: every word of the body is served or left out by kind ---------------------

_NOT_TEXT = frozenset({"script", "style", "head", "title"})


def _tag(element: object) -> str:
    tag = getattr(element, "tag", None)
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _body_text(root: etree._Element) -> str:
    """Every text node under <body> but scripts and styles: what a browser could show."""
    body = next((e for e in root.iter() if _tag(e) == "body"), root)
    out: list[str] = []
    for element in body.iter():
        if _tag(element) and _tag(element) not in _NOT_TEXT and element.text:
            out.append(element.text)
        if element is not body and element.tail:
            out.append(element.tail)
    return " ".join(out)


def _parse(data: bytes) -> etree._Element:
    try:
        return etree.fromstring(data)
    except etree.XMLSyntaxError:
        return lxml.html.document_fromstring(data)


def body_words(path: Path) -> int:
    """The words of a file's body, counted without the readers: an HTML file's <body>, or
    the <body> of every document an EPUB's spine lists (its OPF read here with lxml)."""
    if path.suffix == ".html":
        return words(_body_text(lxml.html.document_fromstring(path.read_bytes())))
    with zipfile.ZipFile(path) as box:
        container = etree.fromstring(box.read("META-INF/container.xml"))
        opf = next(e.get("full-path", "") for e in container.iter() if e.get("full-path"))
        package = etree.fromstring(box.read(opf))
        hrefs = {e.get("id"): e.get("href", "") for e in package.iter() if _tag(e) == "item"}
        total = 0
        for ref in (e for e in package.iter() if _tag(e) == "itemref"):
            href = posixpath.normpath(
                posixpath.join(posixpath.dirname(opf), hrefs[ref.get("idref")])
            )
            if ref.get("linear", "yes") != "no" and href.endswith(("html", "htm")):
                total += words(_body_text(_parse(box.read(href))))
    return total


ALL_FILES = sorted(p.name for p in BOOKS.iterdir() if p.suffix in (".epub", ".html"))


@pytest.mark.parametrize("name", ALL_FILES)
def test_served_and_left_out_words_are_the_body(name: str) -> None:
    story = book(name)
    served = sum(words(t) for c in story.chapters for _, t in c.paragraphs)
    notes = sum(words(c.note) for c in story.chapters if c.note)
    left = {kind: 0 for kind, _ in story.left_out}
    for kind, text in story.left_out:
        left[kind] += words(text)
    assert served + notes + sum(left.values()) == body_words(BOOKS / name), left


@pytest.mark.parametrize(
    "path",
    [*sorted((ROOT / "seeds").glob("*.txt")), SOURCES["tm"], SOURCES["pp"], ILLUSTRATED],
    ids=lambda p: p.name,
)
def test_a_txt_loses_no_word_either(path: Path) -> None:
    """For a .txt the body is the decoded, repaired text (what the structure step reads)."""
    story = process(path.read_bytes(), path.name)
    served = sum(words(t) for c in story.chapters for _, t in c.paragraphs)
    notes = sum(words(c.note) for c in story.chapters if c.note)
    left = sum(words(text) for _, text in story.left_out)
    assert served + notes + left == words(repair(decode(path.read_bytes())))


# ---- part headings, as the README says: not chapters, not in the text, counted ---------------

VOLUMES = ["Volume I", "Volume II", "Volume III"]


@pytest.mark.parametrize("name", ["pp.pandoc-volumes.epub", "pp.pandoc-volumes.html"])
def test_a_part_heading_is_not_a_chapter_nor_in_the_text(name: str) -> None:
    """pandoc's ``# Volume II`` over ``## Chapter 24``: the chapters keep their labels and
    their numbers run on across volumes; the volume's heading is in no chapter's text and
    the ingest report counts it under "headings"."""
    story = book(name)
    assert len(story.chapters) == 61
    assert (story.chapters[24].number, story.chapters[24].label) == (25, "Chapter 25")
    for i, chapter in enumerate(story.chapters):
        assert "Volume" not in text_of(story, i), chapter.label
    assert [t for kind, t in story.left_out if t in VOLUMES and kind == "headings"] == VOLUMES


def test_a_part_heading_in_a_txt_is_read_the_same_way() -> None:
    text = "\n\n".join(
        [
            "Pride and Prejudice",
            "VOLUME I",
            "Chapter 1",
            "It is a truth universally acknowledged.",
            "Chapter 2",
            "Mr. Bennet was among the earliest.",
            "VOLUME II",
            "Chapter 3",
            "Miss Bingley's letter arrived, and put an end to doubt.",
        ]
    )
    story = process(text.encode(), "volumes.txt")
    assert [(c.number, c.label) for c in story.chapters] == [
        (1, "Chapter 1"),
        (2, "Chapter 2"),
        (3, "Chapter 3"),
    ]
    assert all("VOLUME" not in text_of(story, i) for i in range(3))
    assert [t for kind, t in story.left_out if kind == "headings" and "VOLUME" in t] == [
        "VOLUME I",
        "VOLUME II",
    ]


# ---- calibre's EPUB of an illustrated Gutenberg .txt, written one line a paragraph ----------


def _left_words(story: ParsedStory) -> dict[str, int]:
    left: dict[str, int] = {}
    for kind, text in story.left_out:
        left[kind] = left.get(kind, 0) + words(text)
    return left


def test_calibre_epub_of_an_illustrated_book_reads_as_its_txt() -> None:
    """calibre wrote the 1894 layout's every line as a paragraph and guessed a heading
    ("Dedication vii") in its list of illustrations: read as the .txt is, its captions left
    out and counted as captions, word for word as the .txt's, and its paragraphs whole."""
    story, reference = book("p94.calibre.epub"), txt("p94")
    assert [(c.number, c.label) for c in story.chapters] == [
        (1, "Chapter I"),
        (2, "CHAPTER II"),
        (3, "CHAPTER III"),
    ]
    for i, chapter in enumerate(reference.chapters):
        assert [t for _, t in story.chapters[i].paragraphs] == [
            t.replace("_", "*") for _, t in chapter.paragraphs
        ], chapter.label
    left, expected = _left_words(story), _left_words(reference)
    assert left["captions"] == expected["captions"] > 0
    assert left["back matter"] == expected["back matter"] > 0  # the printer's colophon
    captions = "\n".join(text for kind, text in story.left_out if kind == "captions")
    for caption in ("GEORGE ALLEN", "He came down to see the place", "Copyright 1894"):
        assert caption in captions


def test_calibres_metadata_jacket_is_front_matter() -> None:
    """ebook-convert --insert-metadata puts a jacket page (title, author, tags, summary)
    before the text: left out as front matter, not served as chapter 1's first lines."""
    story = book("ba.calibre-jacket.epub")
    front = "\n".join(text for kind, text in story.left_out if kind == "front matter")
    assert "Willow and Spike, after the fall." in front and "Friendship" in front
    assert [c.label for c in story.chapters] == [c.label for c in txt("ba").chapters]


@pytest.mark.parametrize("name", ["epigraphs.pandoc.epub", "epigraphs.pandoc.html"])
def test_a_dedication_and_its_epigraph_are_front_matter_a_chapters_epigraph_stays(
    name: str,
) -> None:
    """pandoc's dedication page (epub:type) with an epigraph before chapter 1 is left out; the
    epigraph that opens chapter II is that chapter's."""
    story = book(name)
    assert [c.label for c in story.chapters] == ["I. Introduction", "II. The Machine"]
    assert text_of(story, 1).startswith("Time is the fire in which we burn.")
    assert text_of(story, 0) == "It was a dark and stormy night; the rain fell in torrents."
    front = "\n".join(text for kind, text in story.left_out if kind == "front matter")
    assert "To my mother" in front and "Did I request thee" in front


@pytest.mark.parametrize("under", [False, True])
def test_an_epigraph_opening_the_first_story_page_leaves_its_chapter(under: bool) -> None:
    """A first story page holding an epigraph (epub:type) and chapter 1 is story text (it was
    left out whole as front matter): an epigraph before the first heading is left out as front
    matter, as a .txt book's verse before its first heading is; one under chapter 1's heading
    stays the chapter's, as chapter 2's does. (Written with the suite's EPUB helpers: pandoc
    2.17 opens each page with its heading's section, so it writes no such page.)"""
    from tests.text.epub_fixtures import CONTAINER, make_epub, opf, xhtml

    quote = "Time is the fire in which we burn."
    epigraph = f'<div epub:type="epigraph"><blockquote><p>{quote}</p></blockquote></div>'
    one = "It was a dark and stormy night; the rain fell in torrents."
    two = "The next day was fine."
    first = f"<h1>Chapter 1</h1>{epigraph}" if under else "<h1>Chapter 1</h1>"
    pages = {
        "c1": (epigraph if not under else "") + f"{first}<p>{one}</p>",
        "c2": f"<h1>Chapter 2</h1>{epigraph}<p>{two}</p>",
    }
    files: dict[str, str | bytes] = {"META-INF/container.xml": CONTAINER}
    for name, body in pages.items():
        files[f"OEBPS/{name}.xhtml"] = xhtml(body)
    docs = [(name, f"{name}.xhtml") for name in pages]
    files["OEBPS/content.opf"] = opf("<dc:title>Epigraphs</dc:title>", docs)
    story = process(make_epub(files), "epigraphs.epub")
    assert [(c.number, c.label) for c in story.chapters] == [(1, "Chapter 1"), (2, "Chapter 2")]
    assert text_of(story, 0) == (f"{quote}\n\n{one}" if under else one)
    assert text_of(story, 1) == f"{quote}\n\n{two}"
    front = [text for kind, text in story.left_out if kind == "front matter"]
    assert front == ([] if under else [quote])


def test_an_epub_toc_names_chapters_that_have_no_heading() -> None:
    """Chapter documents with no heading of their own take the names the NCX gives them
    (written with the suite's EPUB helpers, as no tool here writes such a book): labels from
    the table of contents, numbers 1..N, every word of the text kept."""
    from tests.text.epub_fixtures import CONTAINER, make_epub, ncx, opf, xhtml

    texts = [
        "The Time Traveller was expounding a recondite matter to us.",
        "I think that at that time none of us quite believed in the Time Machine.",
        "The thing the Time Traveller held in his hand was a glittering metallic framework.",
    ]
    files: dict[str, str | bytes] = {"META-INF/container.xml": CONTAINER}
    for i, text in enumerate(texts):
        files[f"OEBPS/c{i}.xhtml"] = xhtml(f"<p>{text}</p><p>{text} Again.</p>")
    docs = [(f"c{i}", f"c{i}.xhtml") for i in range(len(texts))]
    extra = '<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>'
    files["OEBPS/content.opf"] = opf("<dc:title>Nameless</dc:title>", docs, extra_items=extra)
    names = ["I. Introduction", "II. The Machine", "III. The Time Traveller Returns"]
    files["OEBPS/toc.ncx"] = ncx([(name, f"c{i}.xhtml") for i, name in enumerate(names)])
    story = process(make_epub(files), "nameless.epub")
    assert [(c.number, c.label) for c in story.chapters] == list(enumerate(names, 1))
    for i, text in enumerate(texts):
        assert [t for _, t in story.chapters[i].paragraphs] == [text, f"{text} Again."]
