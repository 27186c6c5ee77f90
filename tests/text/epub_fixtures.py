# ruff: noqa: E501  (HTML and XML written as the archives write them, one element a line)
"""Story files in the formats people download, built from public-domain text (The Time Machine,
from tests/fixtures/corpus, or the seed library when the corpus is absent).

* :func:`archive_html`: the Archive of Our Own download layout (its public templates,
  app/views/downloads in otwcode/otwarchive): every preface field, chapter summary, notes and
  end notes, work notes and end notes, the afterword's comment message.
* :func:`archive_epub`: the same layout split over three documents, as the Archive's EPUBs
  (calibre-converted) hold it.
* :func:`fanficfare_epub`: a FanFicFare-style EPUB 2 (title page with "Rating:" lines, a
  contents page, chapter files, an NCX).
* :func:`gutenberg_epub`: a Project Gutenberg-style EPUB 3 (licence header and footer,
  title page, contents, an editor's introduction, a list of illustrations, letters and
  chapters, a nav document).
* :func:`make_epub`: any EPUB from its files (used for the hostile ones).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from functools import cache
from html import escape
from pathlib import Path

from bot.text import process

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fixtures" / "corpus" / "the_time_machine.txt"
SEED = ROOT / "seeds" / "003_7455f1fa013af670.txt"

# Notes whose words must never reach a chapter's text
WORK_NOTE = "Zebulon work note: thanks to my beta."
WORK_END_NOTE = "Quillfeather end note: comments welcome."
SUMMARY = "Marmalade summary: a man builds a machine."
CHAPTER_SUMMARY = "Tangerine chapter summary."
CHAPTER_NOTE = "Pomegranate chapter note."
CHAPTER_END_NOTE = "Huckleberry chapter end note."
NOTE_WORDS = ("Zebulon", "Quillfeather", "Marmalade", "Tangerine", "Pomegranate", "Huckleberry")


@dataclass(frozen=True)
class Chapter:
    title: str  # "Introduction"
    paragraphs: tuple[str, ...]


@cache
def chapters(count: int = 3, paragraphs: int = 6) -> tuple[Chapter, ...]:
    """The first chapters of The Time Machine (as the .txt pipeline reads them), shortened."""
    path = CORPUS if CORPUS.is_file() else SEED
    story = process(path.read_bytes(), path.name)
    out = []
    for chapter in story.chapters[:count]:
        title = chapter.label.split(". ", 1)[-1]
        texts = tuple(t for _, t in chapter.paragraphs if "\n" not in t)[:paragraphs]
        out.append(Chapter(title, texts))
    return tuple(out)


def _paragraphs(chapter: Chapter, *, emphasis: bool = False) -> str:
    out = []
    for i, text in enumerate(chapter.paragraphs):
        body = escape(text, quote=False)
        if emphasis and i == 0:
            first, _, rest = body.partition(" ")
            body = f"<em>{first} </em>{rest}"  # the space inside the tag moves outside
        out.append(f"<p>{body}</p>")
        if i == 2:
            out.append('<p style="text-align: center;">❦</p>')  # a centred ornament
    return "\n".join(out)


def expected(chapter: Chapter, *, emphasis: bool = False) -> list[str]:
    texts = list(chapter.paragraphs)
    if emphasis:
        first, _, rest = texts[0].partition(" ")
        texts[0] = f"*{first}* {rest}"
    return texts


ARCHIVE_TAGS = {
    "Rating": ["Teen And Up Audiences"],
    "Archive Warning": ["No Archive Warnings Apply"],
    "Category": ["Gen"],
    "Fandom": ["The Time Machine - H. G. Wells"],
    "Relationship": ["Time Traveller &amp; Weena"],
    "Characters": ["The Time Traveller", "Weena", "Filby"],
    "Additional Tags": ["Time Travel", "Victorian"],
}


def _preface(rating: str) -> str:
    rows = []
    for key, names in {**ARCHIVE_TAGS, "Rating": [rating]}.items():
        links = ", ".join(
            f'<a class="tag" href="https://archiveofourown.org/tags/x">{n}</a>' for n in names
        )
        rows.append(f"<dt>{key}:</dt>\n<dd>{links}</dd>")
    rows.append("<dt>Language:</dt>\n<dd>English</dd>")
    rows.append(
        '<dt>Series:</dt>\n<dd>Part 1 of <a href="https://archiveofourown.org/series/9">Travels</a></dd>'
    )
    rows.append(
        "<dt>Stats:</dt>\n<dd>Published: 2020-01-01 Completed: 2020-02-01 Words: 2,000 Chapters: 3/3</dd>"
    )
    tags = "\n".join(rows)
    return f"""<div id="preface">
<h2 class="toc-heading">Preface</h2>
<p class="message"><b>The Time Machine Redux</b><br/>
Posted originally on the <a href="http://archiveofourown.org/">Archive of Our Own</a> at <a href="http://archiveofourown.org/works/424242">http://archiveofourown.org/works/424242</a>.</p>
<div class="meta">
<dl class="tags">
{tags}
</dl>
<h1>The Time Machine Redux</h1>
<div class="byline">by <a rel="author" href="http://archiveofourown.org/users/hgw/pseuds/hgw">hgw</a></div>
<p>Summary</p>
<blockquote class="userstuff"><p>{SUMMARY}</p></blockquote>
<p>Notes</p>
<blockquote class="userstuff"><p>{WORK_NOTE}</p></blockquote>
<div class="endnote-link">See the end of the work for more <a href="#endnotes">notes</a></div>
</div>
</div>"""


def _chapter(n: int, chapter: Chapter) -> str:
    meta = [f'<h2 class="heading">Chapter {n}: {chapter.title}</h2>']
    if n == 1:
        meta += [
            "<p>Chapter Summary</p>",
            f'<blockquote class="userstuff"><p>{CHAPTER_SUMMARY}</p></blockquote>',
        ]
        meta += [
            "<p>Chapter Notes</p>",
            f'<blockquote class="userstuff"><p>{CHAPTER_NOTE}</p></blockquote>',
        ]
    end = ""
    if n == 2:
        end = (
            f'<div class="meta" id="endnotes{n}"><p>Chapter End Notes</p>'
            f'<blockquote class="userstuff"><p>{CHAPTER_END_NOTE}</p></blockquote></div>'
        )
    meta_html = "\n".join(meta)
    return f"""<div class="meta group">
{meta_html}
</div>
<!--chapter content-->
<div class="userstuff">
{_paragraphs(chapter, emphasis=n == 1)}
</div>
<!--/chapter content-->
{end}"""


AFTERWORD = f"""<div id="afterword">
<h2 class="toc-heading">Afterword</h2>
<div class="meta">
<div id="endnotes"><p>End Notes</p>
<blockquote class="userstuff"><p>{WORK_END_NOTE}</p></blockquote></div>
</div>
<p class="message">Please <a href="http://archiveofourown.org/works/424242/comments/new">drop by the Archive and comment</a> to let the creator know if you enjoyed their work!</p>
</div>"""


def _page(body: str, title: str = "The Time Machine Redux - hgw") -> str:
    return (
        '<!DOCTYPE html>\n<html xmlns="http://www.w3.org/1999/xhtml"><head><meta charset="UTF-8"/>'
        f"<title>{title}</title><style>p {{ margin: 0 }}</style></head>\n<body>\n{body}\n</body></html>"
    )


def archive_html(rating: str = "Teen And Up Audiences") -> bytes:
    body = "\n".join(_chapter(n, c) for n, c in enumerate(chapters(), 1))
    return _page(
        f'{_preface(rating)}\n<div id="chapters" class="userstuff">\n{body}\n</div>\n{AFTERWORD}'
    ).encode()


def make_epub(files: dict[str, str | bytes], *, mimetype: bool = True) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        if mimetype:
            z.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        for name, data in files.items():
            z.writestr(name, data)
    return buffer.getvalue()


CONTAINER = """<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>"""


def opf(metadata: str, docs: list[tuple[str, str]], *, version: str = "2.0", extra_items: str = "",
        guide: str = "") -> str:  # fmt: skip
    items = "\n".join(
        f'<item id="{i}" href="{href}" media-type="application/xhtml+xml"/>' for i, href in docs
    )
    spine = "\n".join(f'<itemref idref="{i}"/>' for i, _ in docs)
    return f"""<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="{version}" unique-identifier="id">
<metadata xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:opf="http://www.idpf.org/2007/opf">
{metadata}
</metadata>
<manifest>
{items}
{extra_items}
</manifest>
<spine toc="ncx">
{spine}
</spine>
{guide}
</package>"""


def xhtml(body: str, title: str = "x") -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml"'
        ' xmlns:epub="http://www.idpf.org/2007/ops"><head>'
        f"<title>{title}</title></head><body>{body}</body></html>"
    )


def archive_epub(rating: str = "Explicit") -> bytes:
    """The Archive's EPUB: calibre splits the download into documents, the layout kept."""
    cs = chapters()
    preface = xhtml(_preface(rating))
    first = xhtml('<div id="chapters" class="userstuff">' + _chapter(1, cs[0]) + "</div>")
    rest = xhtml(
        '<div class="userstuff">' + "".join(_chapter(n, c) for n, c in enumerate(cs[1:], 2))
        + "</div>" + AFTERWORD
    )  # fmt: skip
    metadata = """<dc:title>The Time Machine Redux</dc:title>
<dc:creator opf:role="aut">hgw</dc:creator>
<dc:language>en</dc:language>
<dc:subject>Fanworks</dc:subject>
<dc:identifier id="id">urn:uuid:1234</dc:identifier>
<dc:source>http://archiveofourown.org/works/424242</dc:source>"""
    docs = [
        ("p", "Text/preface.xhtml"),
        ("c1", "Text/split_001.xhtml"),
        ("c2", "Text/split_002.xhtml"),
    ]
    return make_epub(
        {
            "META-INF/container.xml": CONTAINER,
            "OEBPS/content.opf": opf(metadata, docs),
            "OEBPS/Text/preface.xhtml": preface,
            "OEBPS/Text/split_001.xhtml": first,
            "OEBPS/Text/split_002.xhtml": rest,
        }
    )


def ncx(points: list[tuple[str, str]]) -> str:
    nav = "\n".join(
        f'<navPoint id="n{i}" playOrder="{i}"><navLabel><text>{escape(label)}</text></navLabel>'
        f'<content src="{src}"/></navPoint>'
        for i, (label, src) in enumerate(points, 1)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1"><head/><docTitle><text>x</text></docTitle>
<navMap>{nav}</navMap></ncx>"""


FANFICFARE_TITLES = ("The Dinner Party", "Arguments", "The Demonstration")


def fanficfare_epub() -> bytes:
    """FanFicFare's layout: a title page of "Label: value" lines, a contents page, then
    one file per chapter headed by its title (no "Chapter N"), and an NCX."""
    cs = chapters()
    title_page = xhtml(
        '<h3><a href="https://www.fanfiction.net/s/1/1/">Time Machine Redux</a> by '
        '<a class="authorlink" href="https://www.fanfiction.net/u/2/">Wellsian</a></h3>'
        "<div><b>Category:</b> The Time Machine<br/><b>Genre:</b> Sci-Fi<br/>"
        "<b>Language:</b> English<br/><b>Characters:</b> Time Traveller, Weena<br/>"
        "<b>Status:</b> Completed<br/><b>Rating:</b> Fiction M<br/>"
        f"<b>Summary:</b> {SUMMARY}<br/></div>",
        "Title Page",
    )
    toc = xhtml(
        "<h3>Table of Contents</h3>"
        + "".join(
            f'<a href="file{n:04}.xhtml">{t}</a><br/>' for n, t in enumerate(FANFICFARE_TITLES, 1)
        ),
        "Table of Contents",
    )
    files: dict[str, str | bytes] = {
        "META-INF/container.xml": CONTAINER,
        "OEBPS/title_page.xhtml": title_page,
        "OEBPS/toc_page.xhtml": toc,
    }
    docs = [("title_page", "title_page.xhtml"), ("toc_page", "toc_page.xhtml")]
    for n, (chapter, title) in enumerate(zip(cs, FANFICFARE_TITLES, strict=True), 1):
        files[f"OEBPS/file{n:04}.xhtml"] = xhtml(f"<h3>{title}</h3>\n{_paragraphs(chapter)}", title)
        docs.append((f"file{n:04}", f"file{n:04}.xhtml"))
    metadata = """<dc:title>Time Machine Redux</dc:title>
<dc:creator opf:role="aut">Wellsian</dc:creator>
<dc:language>en</dc:language>
<dc:subject>Sci-Fi</dc:subject>
<dc:description>&lt;p&gt;A &lt;b&gt;summary&lt;/b&gt; in markup.&lt;/p&gt;</dc:description>
<dc:identifier id="id">https://www.fanfiction.net/s/1/1/</dc:identifier>"""
    files["OEBPS/content.opf"] = opf(
        metadata,
        docs,
        extra_items='<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>',
    )
    files["OEBPS/toc.ncx"] = ncx(
        [("Title Page", "title_page.xhtml"), ("Table of Contents", "toc_page.xhtml")]
        + [(t, f"file{n:04}.xhtml") for n, t in enumerate(FANFICFARE_TITLES, 1)]
    )
    return make_epub(files)


GUTENBERG_INTRO = "Obadiah introduction by the editor, who explains the book at length."


def gutenberg_epub() -> bytes:
    """Project Gutenberg's EPUB 3 layout: a licence header, the title page with the contents,
    an editor's introduction, a list of illustrations, then letters and chapters (several to
    a document, headed h2), a transcriber's note and the licence footer."""
    cs = chapters()
    header = xhtml(
        '<section class="pg-boilerplate pgheader" id="pg-header"><h2>The Project Gutenberg eBook of'
        " Time Letters</h2><p>This ebook is for the use of anyone anywhere.</p>"
        "<p>*** START OF THE PROJECT GUTENBERG EBOOK TIME LETTERS ***</p></section>"
    )
    title = xhtml(
        "<h1>Time Letters</h1><p>by H. G. Wells</p><h2>CONTENTS</h2><table><tr><td>"
        '<a href="#l1">Letter 1</a></td></tr><tr><td><a href="#c1">Chapter I</a></td></tr></table>'
    )
    intro = xhtml(
        f"<h2>INTRODUCTION</h2><p>{GUTENBERG_INTRO}</p><h2>LIST OF ILLUSTRATIONS</h2>"
        "<p>Obadiah frontispiece . . . . 3</p>"
    )
    letters = xhtml(
        f'<h2 id="l1">Letter 1</h2>{_paragraphs(cs[0])}<h2>Letter 2</h2>{_paragraphs(cs[1])}'
    )
    body = xhtml(
        f'<h2 id="c1">CHAPTER I.</h2>{_paragraphs(cs[2])}<h2>TRANSCRIBER’S NOTE</h2>'
        "<p>Obadiah typos were corrected silently.</p>"
    )
    footer = xhtml(
        '<section class="pg-boilerplate pgfooter" id="pg-footer">'
        "<p>*** END OF THE PROJECT GUTENBERG EBOOK TIME LETTERS ***</p><p>Licence text.</p></section>"
    )
    nav = xhtml(
        '<nav epub:type="toc"><ol><li><a href="letters.xhtml">Letters</a></li>'
        '<li><a href="body.xhtml">Chapter I</a></li></ol></nav>'
        '<nav epub:type="landmarks"><ol><li><a epub:type="titlepage" href="title.xhtml">Title</a></li></ol></nav>'
    )
    metadata = """<dc:title>Time Letters</dc:title>
<dc:creator>Wells, H. G.</dc:creator>
<dc:language>en</dc:language>
<dc:subject>Science fiction</dc:subject>
<dc:source>https://www.gutenberg.org/ebooks/35</dc:source>
<dc:identifier id="id">http://www.gutenberg.org/35</dc:identifier>"""
    names = ["header", "title", "intro", "letters", "body", "footer"]
    docs = [(n, f"{n}.xhtml") for n in names]
    files: dict[str, str | bytes] = {
        "META-INF/container.xml": CONTAINER,
        "OEBPS/content.opf": opf(
            metadata,
            docs,
            version="3.0",
            extra_items='<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>',
        ),
        "OEBPS/nav.xhtml": nav,
    }
    for name, doc in zip(names, [header, title, intro, letters, body, footer], strict=True):
        files[f"OEBPS/{name}.xhtml"] = doc
    return make_epub(files)
