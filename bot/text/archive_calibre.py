"""An Archive of Our Own work after a converter flattened it (calibre's HTML of an Archive
EPUB, its .htmlz's index.html): the Archive's ``dl.tags`` survive, but its ids (#preface,
#chapters, #afterword) and classes (.meta, .userstuff on chapter bodies) do not.

Read by layout instead, in document order:

* **the preface**, up to the first chapter heading: the tags list (rating, fandom ...), the
  ``h1`` title, the byline (``a[rel=author]``), "Summary" and "Notes" over a blockquote;
  the rest ("Posted originally on the Archive ...") is front matter;
* **chapters**: each ``h2`` (but "Preface" and "Afterword"); a paragraph "Chapter Summary",
  "Chapter Notes", "Chapter End Notes", "Notes" or "End Notes" and the blockquote after it
  are the chapter's note, other paragraphs its text;
* **the afterword** (an ``h2`` "Afterword"): its end notes join the last chapter's note; its
  "Please drop by the Archive and comment" is back matter.

The rating comes from the tags list whatever else is lost, so a converted explicit work is
never served as general.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from bot.models import StoryMeta
from bot.text.markup import Block, Document, blocks, element_text, local, section_text
from bot.text.structure import Section

__all__ = ["read_flat_archive"]

_NOTE_LABELS = frozenset(
    {"summary", "notes", "chapter summary", "chapter notes", "chapter end notes", "end notes"}
)
_CONTAINERS = frozenset({"div", "section", "article", "main", "body", "header", "footer"})
_INLINE_ONLY = frozenset({"a", "b", "i", "em", "strong", "span", "br", "small", "sup", "sub"})


@dataclass
class _Chapter:
    label: str
    notes: list[str] = field(default_factory=list)
    body: list[Block] = field(default_factory=list)


@dataclass
class _Reader:
    chapters: list[_Chapter] = field(default_factory=list)
    work_notes: list[str] = field(default_factory=list)
    end_notes: list[str] = field(default_factory=list)
    summary: str | None = None
    left: list[tuple[str, str]] = field(default_factory=list)
    part: str = "preface"  # "preface", "chapters" or "afterword"
    label: str = ""  # a note label waiting for its blockquote

    def heading(self, text: str) -> None:
        if text.lower() in ("afterword", "preface"):
            self.left.append(("headings", text))
            self.part = "afterword" if text.lower() == "afterword" else self.part
        else:  # a chapter: its heading is its label (counted by the structure step)
            self.part = "chapters"
            self.chapters.append(_Chapter(text))

    def quote(self, text: str) -> None:
        label, self.label = self.label, ""
        noted = f"{label}: {text}" if label else text
        if self.part == "preface":
            if label.lower() == "summary" and self.summary is None:
                self.summary = text
                self.left.append(("front matter", noted))
            else:
                self.work_notes.append(noted)
        elif self.part == "chapters" and self.chapters:
            self.chapters[-1].notes.append(noted)
        else:
            self.end_notes.append(noted)

    def paragraph(self, found: list[Block]) -> None:
        text = section_text(found)
        if text.strip().rstrip(":").lower() in _NOTE_LABELS:
            self.label = text.strip().rstrip(":")
        elif self.part == "chapters" and self.chapters:
            self.chapters[-1].body.extend(found)
        else:
            kind = "front matter" if self.part == "preface" else "back matter"
            self.left.append((kind, text))

    def walk(self, element: etree._Element) -> None:
        for child in element:
            tag = local(child.tag)
            if not tag:
                continue
            if (tag in ("h1", "h2", "h3") and self.part != "preface") or tag == "h2":
                self.heading(element_text(child))
            elif tag == "h1":
                self.left.append(("title", element_text(child)))
            elif tag == "dl":
                self.left.append(("front matter", section_text(blocks(child))))
            elif tag == "blockquote":
                self.quote(section_text(blocks(child)))
            elif tag in _CONTAINERS and not _inline_only(child):
                self.walk(child)
            elif element_text(child):
                self.paragraph(blocks(child))


def _inline_only(element: etree._Element) -> bool:
    """A div holding only text and inline markup ("by <a>hgw</a>"): read as a paragraph."""
    return bool((element.text or "").strip()) and all(
        local(e.tag) in _INLINE_ONLY for e in element.iterdescendants()
    )


def read_flat_archive(root: etree._Element, meta: StoryMeta) -> Document:
    """The chapters, notes and summary of a flattened Archive work; ``meta`` is what its
    tags list says (rating, fandom, characters ...)."""
    body = next((e for e in root.iter("*") if local(e.tag) == "body"), root)
    reader = _Reader()
    reader.walk(body)
    authors = [element_text(a) for a in root.iter("*") if a.get("rel") == "author"]
    found = StoryMeta(author=", ".join(a for a in authors if a) or None, summary=reader.summary)
    chapters = reader.chapters
    if chapters:
        chapters[0].notes[:0] = reader.work_notes
        chapters[-1].notes += reader.end_notes
    else:
        reader.left += [("notes", n) for n in reader.work_notes + reader.end_notes]
    sections = tuple(
        Section(c.label, section_text(c.body), "\n\n".join(c.notes) or None) for c in chapters
    )
    return Document(meta.over(found), sections, tuple(reader.left))
