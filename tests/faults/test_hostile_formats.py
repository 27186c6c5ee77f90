"""EPUB and HTML files that are not stories, or that lie about themselves (issue 17, items 2, 9
and 12). Each test failed on the code before the fix: the DRM EPUB and the binary .html files
were "Story added" with garbage text, the cp1252 page under a UTF-8 <meta> read "Caf—", the
internal subset left "]>" as the first paragraph and "&xxe;" in the title, and 10,000-deep
nesting was "no story text found"."""

from __future__ import annotations

import io
import zipfile

import pytest

from bot.errors import StoryBotError
from bot.text import process
from tests.faults import hostile_files as hostile
from tests.text import epub_fixtures as fx

# META-INF/encryption.xml as Adobe ADEPT writes it (the spine's document encrypted, AES-CBC)
ADEPT = """<?xml version="1.0"?>
<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container"
  xmlns:enc="http://www.w3.org/2001/04/xmlenc#">
<enc:EncryptedData>
  <enc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
  <KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><resource xmlns="http://ns.adobe.com/adept">urn:uuid:5b1c2a10-0000-4000-8000-00000000abcd</resource></KeyInfo>
  <enc:CipherData><enc:CipherReference URI="OEBPS/page.xhtml"/></enc:CipherData>
</enc:EncryptedData>
</encryption>"""
RIGHTS = """<?xml version="1.0"?><adept:rights xmlns:adept="http://ns.adobe.com/adept">
<adept:licenseToken><adept:operatorURL>https://acs.example/fulfillment</adept:operatorURL>
</adept:licenseToken></adept:rights>"""
# font obfuscation (EPUB 3's IDPF algorithm): the font is mangled, the text is not
OBFUSCATED_FONT = """<?xml version="1.0"?>
<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container"
  xmlns:enc="http://www.w3.org/2001/04/xmlenc#">
<enc:EncryptedData>
  <enc:EncryptionMethod Algorithm="http://www.idpf.org/2008/embedding"/>
  <enc:CipherData><enc:CipherReference URI="OEBPS/fonts/Serif.otf"/></enc:CipherData>
</enc:EncryptedData>
</encryption>"""


def with_files(data: bytes, extra: dict[str, bytes | str]) -> bytes:
    """An EPUB with more files in it (the way a DRM server or calibre adds them)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in source.infolist():
            z.writestr(info, source.read(info.filename))
        for name, content in extra.items():
            z.writestr(name, content)
    return out.getvalue()


def refused(data: bytes, name: str) -> str:
    with pytest.raises(StoryBotError) as caught:
        process(data, name)
    assert "\n" not in caught.value.message
    return caught.value.message


def a_story() -> bytes:
    return hostile.epub({"page": hostile.page(20_000)}, ["page"])


def test_adept_drm_epub_is_refused_as_encrypted() -> None:
    scrambled = bytes((i * 151 + 7) % 256 for i in range(60_000))  # what the cipher leaves
    data = with_files(
        hostile.epub({"page": "x"}, ["page"]),
        {"META-INF/encryption.xml": ADEPT, "META-INF/rights.xml": RIGHTS},
    )
    data = with_files_replaced(data, "OEBPS/page.xhtml", scrambled)
    assert refused(data, "drm.epub") == "encrypted (DRM): cannot be read"


def with_files_replaced(data: bytes, name: str, content: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in source.infolist():
            z.writestr(info, content if info.filename == name else source.read(info.filename))
    return out.getvalue()


def test_an_unreadable_encryption_xml_is_refused_as_encrypted() -> None:
    data = with_files(a_story(), {"META-INF/encryption.xml": b"\x00\x01 not xml"})
    assert refused(data, "drm.epub") == "encrypted (DRM): cannot be read"


def test_font_obfuscation_alone_still_loads() -> None:
    data = with_files(
        a_story(),
        {"META-INF/encryption.xml": OBFUSCATED_FONT, "OEBPS/fonts/Serif.otf": b"\x9a" * 4096},
    )
    story = process(data, "fonts.epub")
    assert story.chapters and story.chapters[0].paragraphs


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"
    + bytes(range(256)) * 8
)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(PNG, id="png"),
        pytest.param(bytes((i * 7919 + 13) % 251 for i in range(50_000)), id="random-bytes"),
        pytest.param(fx.make_epub({"OEBPS/a.xhtml": fx.xhtml("<p>Hi.</p>")}), id="epub-as-html"),
    ],
)
def test_binary_saved_as_html_is_not_a_text_file(data: bytes) -> None:
    assert "not a text file" in refused(data, "story.html")


def test_html_bytes_decide_the_encoding_not_the_meta() -> None:
    page = (
        '<html><head><meta charset="utf-8"><title>Caf\xe9</title></head>'
        "<body><p>\u201cCaf\xe9\u201d \u2014 na\xefve</p></body></html>"
    )
    story = process(page.encode("cp1252"), "cafe.html")
    assert [t for _, t in story.chapters[0].paragraphs] == ["\u201cCaf\xe9\u201d \u2014 na\xefve"]
    assert story.meta.title == "Caf\xe9"


def test_a_declared_single_byte_charset_is_still_read() -> None:
    page = (
        '<html><head><meta charset="windows-1251"></head>'
        "<body><p>\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440.</p></body></html>"
    )
    story = process(page.encode("cp1251"), "ru.html")
    assert [t for _, t in story.chapters[0].paragraphs] == [
        "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440."
    ]


def test_doctype_internal_subset_leaves_no_trace() -> None:
    page = b"""<!DOCTYPE html [
  <!ENTITY xxe SYSTEM "file:///etc/passwd">
  <!ENTITY lol "lol">
]>
<html><head><title>The &xxe; Title</title></head>
<body><h1>Chapter 1: &lol;Begin</h1><p>First words &xxe;here.</p></body></html>"""
    story = process(page, "subset.html")
    texts = [t for c in story.chapters for _, t in c.paragraphs]
    assert texts == ["First words here."], texts
    assert "&" not in (story.meta.title or "") and "]>" not in " ".join(texts)
    assert "&" not in story.chapters[0].label


def test_ten_thousand_deep_nesting_says_so() -> None:
    page = b"<html><body>" + b"<div>" * 10_000 + b"<p>deep</p>" + b"</div>" * 10_000
    assert "nested too deeply" in refused(page, "deep.html")
    data = hostile.epub(
        {"page": fx.xhtml("<div>" * 10_000 + "<p>deep</p>" + "</div>" * 10_000)}, ["page"]
    )
    assert "nested too deeply" in refused(data, "deep.epub")
