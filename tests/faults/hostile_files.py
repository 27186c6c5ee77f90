"""Hostile story files for the fault suite, built the way an attacker would: valid containers
(the EPUB fixtures' own zip, OPF and XHTML writers) around content shaped to amplify."""

from __future__ import annotations

import io
import random
import zipfile

from tests.text import epub_fixtures as fx

_WORDS = [
    "the",
    "time",
    "traveller",
    "said",
    "that",
    "we",
    "had",
    "never",
    "seen",
    "a",
    "machine",
    "like",
    "it",
    "before",
    "and",
    "the",
    "lamp",
    "burned",
    "low",
    "while",
    "Weena",
    "slept",
    "beside",
    "the",
    "fire",
    "in",
    "the",
    "hall",
    "of",
    "green",
    "porcelain",
]


def paragraphs(total_bytes: int, *, seed: int = 7) -> list[str]:
    """Sentences of ordinary words, about 600 characters a paragraph, ``total_bytes`` in all:
    forty paragraphs over and over, numbered (the story reader drops a paragraph repeated
    word for word as a page header), so the zip holds them in little space."""
    rng = random.Random(seed)
    some = [" ".join(rng.choice(_WORDS) for _ in range(100)).capitalize() + "." for _ in range(40)]
    out: list[str] = []
    size = 0
    while size < total_bytes:
        out.append(f"{len(out) + 1}. {some[len(out) % len(some)]}")
        size += len(out[-1]) + 7
    return out


def page(total_bytes: int, *, seed: int = 7) -> str:
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs(total_bytes, seed=seed))
    return fx.xhtml(f"<h1>Chapter 1</h1>\n{body}")


def epub(docs: dict[str, str], spine: list[str], *, title: str = "Hostile") -> bytes:
    """An EPUB 2 whose manifest holds ``docs`` (id -> XHTML) and whose spine names ``spine``."""
    items = "\n".join(
        f'<item id="{i}" href="{i}.xhtml" media-type="application/xhtml+xml"/>' for i in docs
    )
    refs = "\n".join(f'<itemref idref="{i}"/>' for i in spine)
    package = f"""<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="2.0" unique-identifier="id">
<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{title}</dc:title></metadata>
<manifest>{items}</manifest>
<spine>{refs}</spine>
</package>"""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        z.writestr("META-INF/container.xml", fx.CONTAINER)
        z.writestr("OEBPS/content.opf", package)
        for name, text in docs.items():
            z.writestr(f"OEBPS/{name}.xhtml", text)
    return buffer.getvalue()


def repeated_spine(page_bytes: int = 2 * 1024 * 1024, times: int = 300) -> bytes:
    """One page, named by the spine ``times`` times (43 KB on disk in the hunt)."""
    return epub({"page": page(page_bytes)}, ["page"] * times)


def inflating(documents: int = 5, each_bytes: int = 19_500_000) -> bytes:
    """A few MB on disk that inflate to just under the 100 MB inflate cap: distinct documents,
    each just under the per-document cap."""
    one = page(each_bytes, seed=1)
    docs = {f"d{i}": one.replace("Chapter 1", f"Chapter {i + 1}") for i in range(documents)}
    return epub(docs, list(docs))


def dense_html(total_bytes: int = 19 * 1024 * 1024) -> bytes:
    """Markup and almost no text: an element for every eight bytes."""
    return b"<html><body>" + b"<p>a</p>" * (total_bytes // 8) + b"</body></html>"
