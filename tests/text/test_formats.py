"""EPUB and HTML stories: chapters, labels, metadata, notes apart, and hostile files."""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from bot.errors import StoryBotError
from bot.models import StoryMeta
from bot.text import ParsedStory, process, read_metadata
from bot.text.markup import MAX_DOCUMENT_BYTES, rating_from_text
from tests.text import epub_fixtures as fx

LEAK = re.compile(r"<[a-zA-Z/!?]|&(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);|\ufffd")


def texts(story: ParsedStory) -> list[list[str]]:
    return [[t for _, t in c.paragraphs] for c in story.chapters]


def assert_clean(story: ParsedStory) -> None:
    """No note, tag, entity or U+FFFD in any chapter's text."""
    for chapter in story.chapters:
        for _, text in chapter.paragraphs:
            assert not LEAK.search(text), text
            for word in fx.NOTE_WORDS:
                assert word not in text, (chapter.label, text)
            assert "drop by the Archive" not in text
            assert "Posted originally" not in text


def expected_texts(*, emphasis_first: bool) -> list[list[str]]:
    return [fx.expected(c, emphasis=emphasis_first and i == 0) for i, c in enumerate(fx.chapters())]


ARCHIVE_META = StoryMeta(
    title="The Time Machine Redux",
    author="hgw",
    rating="teen",
    url="http://archiveofourown.org/works/424242",
    fandom=("The Time Machine - H. G. Wells",),
    relationships=("Time Traveller & Weena",),
    characters=("The Time Traveller", "Weena", "Filby"),
    tags=("Time Travel", "Victorian"),
    summary=fx.SUMMARY,
    language="English",
)
ARCHIVE_LABELS = [
    "Chapter 1: Introduction",
    "Chapter 2: The Machine",
    "Chapter 3: The Time Traveller Returns",
]


def check_archive(story: ParsedStory, rating: str) -> None:
    assert story.title == "The Time Machine Redux"
    assert story.meta == StoryMeta(**{**_fields(ARCHIVE_META), "rating": rating})
    assert [c.label for c in story.chapters] == ARCHIVE_LABELS
    assert [c.number for c in story.chapters] == [1, 2, 3]
    assert texts(story) == expected_texts(emphasis_first=True)
    # the centred ornament is a scene break: each chapter has two scenes
    for chapter in story.chapters:
        assert len({scene for scene, _ in chapter.paragraphs}) == 2
    notes = [c.note or "" for c in story.chapters]
    assert fx.WORK_NOTE in notes[0] and fx.CHAPTER_NOTE in notes[0]
    assert fx.CHAPTER_SUMMARY in notes[0]
    assert fx.CHAPTER_END_NOTE in notes[1]
    assert fx.WORK_END_NOTE in notes[2]
    assert fx.SUMMARY not in "".join(notes)  # the summary is metadata, not a note
    assert_clean(story)


def _fields(meta: StoryMeta) -> dict[str, object]:
    return {name: getattr(meta, name) for name in StoryMeta.__slots__}  # type: ignore[attr-defined]


def test_archive_html_download() -> None:
    check_archive(process(fx.archive_html(), "redux.html"), "teen")


def test_archive_epub_split_over_documents() -> None:
    check_archive(process(fx.archive_epub(), "redux.epub"), "explicit")


@pytest.mark.parametrize(
    ("text", "rating"),
    [
        ("General Audiences", "general"),
        ("Teen And Up Audiences", "teen"),
        ("Mature", "mature"),
        ("Explicit", "explicit"),
        ("Not Rated", "mature"),
        ("K", "general"),
        ("K+", "general"),
        ("Fiction T", "teen"),
        ("M", "mature"),
        ("Rated: M", "mature"),
        ("Something Else Entirely", "mature"),  # unknown: fail closed
    ],
)
def test_ratings_map_and_fail_closed(text: str, rating: str) -> None:
    assert rating_from_text(text) == rating


def test_archive_rating_gates_from_the_file() -> None:
    story = process(fx.archive_html("Not Rated"), "redux.html")
    assert story.meta.rating == "mature"


def test_library_toml_overrides_file_metadata() -> None:
    toml = StoryMeta(title="My Title", rating="general", tags=("Mine",))
    story = process(fx.archive_epub(), "redux.epub", toml)
    assert story.title == "My Title"
    assert story.meta.rating == "general"
    assert story.meta.tags == ("Mine",)
    assert story.meta.characters == ARCHIVE_META.characters  # not overridden: the file's


def test_fanficfare_epub() -> None:
    story = process(fx.fanficfare_epub(), "ffn.epub")
    assert story.title == "Time Machine Redux"
    assert story.meta.author == "Wellsian"
    assert story.meta.rating == "mature"  # "Fiction M" on the title page
    assert story.meta.characters == ("Time Traveller", "Weena")
    assert story.meta.fandom == ("The Time Machine",)
    assert story.meta.summary == "A **summary** in markup."  # the OPF's, its markup read
    assert story.meta.url == "https://www.fanfiction.net/s/1/1/"
    assert [c.label for c in story.chapters] == list(fx.FANFICFARE_TITLES)
    assert [c.number for c in story.chapters] == [1, 2, 3]
    assert texts(story) == expected_texts(emphasis_first=False)
    assert_clean(story)
    joined = "\n".join(t for c in texts(story) for t in c)
    assert "Table of Contents" not in joined and "Category" not in joined


def test_gutenberg_epub_front_matter_is_not_story() -> None:
    story = process(fx.gutenberg_epub(), "letters.epub")
    assert story.title == "Time Letters"
    assert story.meta.url == "https://www.gutenberg.org/ebooks/35"
    assert [(c.number, c.label) for c in story.chapters] == [
        (1, "Letter 1"),
        (2, "Letter 2"),
        (3, "CHAPTER I"),
    ]
    assert texts(story) == expected_texts(emphasis_first=False)
    joined = "\n".join(t for c in texts(story) for t in c) + "".join(
        c.note or "" for c in story.chapters
    )
    for word in ("Obadiah", "Gutenberg", "CONTENTS", "Licence", "by H. G. Wells"):
        assert word not in joined


def test_plain_html_by_headings() -> None:
    page = b"""<html><head><title>Page Title</title><meta name="author" content="Ann"></head>
    <body><h1>The Story</h1><p>By Ann.</p>
    <h2>Chapter 1</h2><h3>The Storm</h3><p>It rained &amp; rained &mdash; <i>all</i> night.</p>
    <p>Line one<br>Line two</p><hr><p>Morning came.</p>
    <h2>Chapter 2</h2><p>The sun <b>shone</b>.</p><script>document.write("bad")</script>
    <style>p{}</style></body></html>"""
    story = process(page, "page.htm")
    assert story.title == "The Story"
    assert story.meta.author == "Ann"
    assert [(c.number, c.label) for c in story.chapters] == [  # "By Ann." is a byline
        (1, "Chapter 1: The Storm"),
        (2, "Chapter 2"),
    ]
    assert texts(story) == [
        ["It rained & rained — *all* night.", "Line one\nLine two", "Morning came."],
        ["The sun **shone**."],
    ]
    scenes = [s for s, _ in story.chapters[0].paragraphs]
    assert scenes[1] < scenes[2]  # <hr> is a scene break
    assert_clean(story)


def test_html_mojibake_goes_through_repair() -> None:
    page = "<html><body><p>She didnâ€™t go to the cafÃ© today.</p></body></html>".encode()
    story = process(page, "m.html")
    assert texts(story) == [["She didn’t go to the café today."]]


def test_read_metadata_alone() -> None:
    assert read_metadata(fx.archive_html(), "x.html").characters == ARCHIVE_META.characters
    assert read_metadata(b"plain", "x.txt") == StoryMeta()


# ---- hostile files -------------------------------------------------------------------------


def one_line_error(data: bytes, name: str) -> str:
    with pytest.raises(StoryBotError) as caught:
        process(data, name)
    message = caught.value.message
    assert "\n" not in message and message
    return message


def test_bad_zip() -> None:
    assert "bad zip" in one_line_error(b"PK\x03\x04 this is not a zip", "bad.epub")


def test_missing_opf() -> None:
    data = fx.make_epub({"OEBPS/chapter.xhtml": fx.xhtml("<p>Hello.</p>")})
    assert "no OPF" in one_line_error(data, "no-opf.epub")


def test_broken_opf_xml() -> None:
    data = fx.make_epub(
        {"META-INF/container.xml": fx.CONTAINER, "OEBPS/content.opf": "<package><oops"}
    )
    assert "not well-formed" in one_line_error(data, "broken.epub")


def test_spine_naming_a_missing_document() -> None:
    data = fx.make_epub(
        {
            "META-INF/container.xml": fx.CONTAINER,
            "OEBPS/content.opf": fx.opf("<dc:title>T</dc:title>", [("a", "gone.xhtml")]),
        }
    )
    assert "missing" in one_line_error(data, "gone.epub")


def test_zip_bomb_refused_before_inflating() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("META-INF/container.xml", fx.CONTAINER)
        for i in range(6):
            z.writestr(f"OEBPS/bomb{i}.xhtml", b"\0" * (20 * 1024 * 1024))
    data = buffer.getvalue()
    assert len(data) < 1024 * 1024  # small on disk
    assert "uncompressed" in one_line_error(data, "bomb.epub")


def test_one_huge_document_refused() -> None:
    huge = fx.xhtml("<p>" + "word " * (MAX_DOCUMENT_BYTES // 5 + 10) + "</p>")
    data = fx.make_epub(
        {
            "META-INF/container.xml": fx.CONTAINER,
            "OEBPS/content.opf": fx.opf("<dc:title>T</dc:title>", [("a", "a.xhtml")]),
            "OEBPS/a.xhtml": huge,
        }
    )
    assert "larger than" in one_line_error(data, "huge.epub")


def test_fifty_megabyte_html_refused() -> None:
    data = (
        b"<html><body>"
        + b"<p>All work and no play.</p>" * (50 * 1024 * 1024 // 28)
        + b"</body></html>"
    )
    assert "too large" in one_line_error(data, "big.html")


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE html [<!ENTITY secret SYSTEM "file:///etc/passwd"><!ENTITY remote SYSTEM "http://127.0.0.1:9/x">]>
<html xmlns="http://www.w3.org/1999/xhtml"><body><p>Before &secret; &remote; after.</p>
<script>steal()</script><p onclick="x()">Clean text here.</p></body></html>"""


def test_external_entities_are_not_resolved() -> None:
    data = fx.make_epub(
        {
            "META-INF/container.xml": fx.CONTAINER,
            "OEBPS/content.opf": fx.opf("<dc:title>XXE</dc:title>", [("a", "a.xhtml")]),
            "OEBPS/a.xhtml": XXE,
        }
    )
    story = process(data, "xxe.epub")
    joined = "\n".join(t for c in texts(story) for t in c)
    assert "root:" not in joined and "steal" not in joined
    assert "Clean text here." in joined
    assert_clean(story)


def test_html_with_entities_and_scripts() -> None:
    story = process(XXE, "xxe.html")
    joined = "\n".join(t for c in texts(story) for t in c)
    assert "root:" not in joined and "steal" not in joined
    assert "Clean text here." in joined


def test_deep_nesting_is_refused_or_read() -> None:
    data = b"<html><body>" + b"<div>" * 5000 + b"<p>deep text here.</p>" + b"</div>" * 5000
    try:
        story = process(data, "deep.html")
    except StoryBotError as exc:
        assert "\n" not in exc.message
    else:
        assert texts(story) == [["deep text here."]]


def test_html_without_text() -> None:
    assert "no story text" in one_line_error(
        b"<html><body><script>x</script></body></html>", "e.html"
    )


def test_html_encodings() -> None:
    cp1252 = b"<p>caf\xe9 na\xefve \x93hi\x94 it\x92s</p>"  # no charset declared: Windows-1252
    assert texts(process(cp1252, "w.html")) == [["café naïve “hi” it’s"]]
    no_meta = "<p>déjà vu — “yes”</p>".encode()  # UTF-8 with no <meta charset>
    assert texts(process(no_meta, "u.html")) == [["déjà vu — “yes”"]]
