"""What comes before (and after) the story: Project Gutenberg's licence, a title page,
illustration captions, a preface or contents list, a printer's colophon."""

from __future__ import annotations

import re

from bot.text.structure.draft import _Draft
from bot.text.structure.headings import _ends_sentence, _heading
from bot.text.structure.left_out import leave_out
from bot.text.structure.paragraphs import Item
from bot.text.structure.patterns import (
    _GUTENBERG_END,
    _GUTENBERG_END_MARKERS,
    _GUTENBERG_HEADER,
    _GUTENBERG_START,
    _GUTENBERG_TITLE,
    _QUOTES,
)


def _split_gutenberg(text: str) -> tuple[str, str, str | None] | None:
    """(text before the licence header, the book, its Title:) or None for a non-Gutenberg text."""
    head = min(len(text), 200_000)
    if text.find("START OF THE PROJECT GUTENBERG", 0, head) < 0 and (
        text.find("START OF THIS PROJECT GUTENBERG", 0, head) < 0
    ):
        return None  # str.find runs at GB/s; the regex only confirms
    start = _GUTENBERG_START.search(text, 0, head)
    if start is None:
        return None
    header_at = _GUTENBERG_HEADER.search(text, 0, start.start())
    pre = text[: header_at.start()] if header_at else ""
    header = text[header_at.start() if header_at else 0 : start.start()]
    title_match = _GUTENBERG_TITLE.search(header)
    title = title_match[1].strip() if title_match else None
    tail_from = max(start.end(), len(text) - 200_000)
    found = [
        at for marker in _GUTENBERG_END_MARKERS if (at := text.find(marker, tail_from)) >= 0
    ]  # str.find at GB/s; the regex confirms the line
    end = _GUTENBERG_END.search(text, text.rfind("\n", 0, min(found)) + 1) if found else None
    body = text[start.end() : end.start() if end else len(text)]
    leave_out("licence", header + text[start.start() : start.end()])
    if end is not None:
        leave_out("licence", text[end.start() :])
    return pre, body, title


def _front_matter_line(text: str) -> bool:
    """A line of a title page: short, no sentence ('An Invention', 'by H. G. Wells',
    'Frankenstein;'); or a few such lines together, as a centred title page sets them
    ('PRIDE.\nand\nPREJUDICE')."""
    lines = text.split("\n")
    return len(lines) <= 6 and all(
        len(line) <= 80 and not _ends_sentence(line.rstrip(".;,:")) for line in lines
    )


# front matter only before the first chapter: after it, the author's own
_PREFACE_LIKE = re.compile(
    r"(?:\S+\s+)?(?:preface|introduction|foreword|dedication|epigraph)", re.IGNORECASE
)


def _drop_front_matter(drafts: list[_Draft]) -> list[_Draft]:
    """Without the front matter's sections: a preface, introduction, foreword, dedication or
    epigraph before the first chapter, and a contents list, list of illustrations,
    transcriber's note, licence ... anywhere. Kept when the story has no other chapter (a
    story titled "Preface")."""
    if not any(d.heading is not None and d.heading.special == "front" for d in drafts):
        return drafts
    real = [
        i
        for i, d in enumerate(drafts)
        if d.heading is not None and d.heading.special != "front" and d.paragraphs
    ]
    if not real:
        return drafts
    kept: list[_Draft] = []
    for i, draft in enumerate(drafts):
        heading = draft.heading
        if (
            heading is not None
            and heading.special == "front"
            and (i < real[0] or not _PREFACE_LIKE.match(heading.label))
        ):
            kind = "front matter" if i < real[0] else "back matter"
            for text in [*draft.notes, *(t for _, t in draft.paragraphs)]:
                leave_out(kind, text)
            continue
        kept.append(draft)
    return kept


_ILLUSTRATION = re.compile(r"^[ \t]*\[Illustration\b", re.MULTILINE)
_CAPTION_TRIM = " \t_[]:"


def _drop_illustrations(text: str) -> str:
    """Without Gutenberg's ``[Illustration: caption]`` blocks (captions, publishers' imprints
    and "THE END" drawn as art are not story text), brackets nested within them included.

    A heading on a block's last line stays, as its own paragraph: the 1894 illustrated Pride
    and Prejudice draws chapter I's opening as one picture, ``[Illustration: ·PRIDE AND
    PREJUDICE· ... Chapter I.]``, and its only "Chapter I." heading is that caption's last
    line. A block left unclosed within 3,000 characters is left as it is.
    """
    out: list[str] = []
    pos = 0
    for match in _ILLUSTRATION.finditer(text):
        start = match.start()
        if start < pos:
            continue
        depth, end = 0, -1
        for at in range(match.end() - len("Illustration") - 1, min(len(text), start + 3000)):
            char = text[at]
            if char == "[":
                depth += 1
            elif char == "]":
                depth -= 1
                if depth == 0:
                    end = at + 1
                    break
        if end < 0 or text[end : end + 1] not in ("", "\n", "\r", " ", "\t"):
            continue
        inner = [line.strip(_CAPTION_TRIM) for line in text[match.end() : end].split("\n")]
        inner = [line for line in inner if line]
        heading = inner[-1] if inner and _heading(inner[-1]) is not None else ""
        caption = text[start:end]
        if heading:  # the heading stays: the rest is the caption
            at = caption.rfind(heading)
            caption = caption[:at] + caption[at + len(heading) :] if at >= 0 else caption
        leave_out("captions", caption)
        out.append(text[pos:start])
        out.append(f"\n{heading}\n" if heading else "")
        pos = end
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


def _drop_repeated_title(items: list[Item], book_title: str | None) -> list[Item]:
    """A Gutenberg book repeats its title first thing after the header: not a paragraph."""
    if book_title and items and items[0][0] == "para" and str(items[0][1]) == book_title:
        leave_out("title", book_title)
        return items[1:]
    return items


# A printer's colophon closing a printed book: "CHISWICK PRESS:--CHARLES WHITTINGHAM AND CO.
# TOOKS COURT, CHANCERY LANE, LONDON." (all capitals, naming a press or printer), or a line
# "Printed by/in/at ..." naming places and firms ("Printed in Great Britain by Butler &
# Tanner Ltd., Frome and London"), not a sentence of the story ("Printed by hand, the letter
# ...").
_PRINTER = re.compile(r"\b(?:PRESS|PRINTERS?|PRINTED|PRINTING(?:\s+WORKS)?)\b")
_PRINTED = re.compile(r"Printed\s+(?:by|in|at)\s")
_IMPRINT_LOWER = frozenset({"in", "by", "at", "and", "of", "the", "for", "&"})


def _imprint(text: str) -> bool:
    """A "Printed in/by/at ..." line whose other words are names: capitalised, but for the
    small words between them."""
    if not _PRINTED.match(text) or "\n" in text or len(text) > 160:
        return False
    return all(not w[:1].islower() or w in _IMPRINT_LOWER for w in text.split()[1:])


def _colophon(text: str) -> bool:
    if len(text) > 300 or text.count("\n") > 3:
        return False
    if any(q in text for q in '"“”!?'):
        return False  # said by someone: story text
    if _imprint(text):
        return True
    return not any(c.islower() for c in text) and _PRINTER.search(text) is not None


def _drop_colophon(drafts: list[_Draft]) -> None:
    """Without a printer's colophon at the end of a book's last chapter (in place)."""
    last = next((d for d in reversed(drafts) if d.paragraphs), None)
    while last is not None and len(last.paragraphs) > 1 and _colophon(last.paragraphs[-1][1]):
        leave_out("back matter", last.paragraphs.pop()[1])
        last.marks.pop()


def _drop_epigraph(drafts: list[_Draft]) -> None:
    """Without a book's epigraph: lines of verse or a quotation and their attribution before
    its first heading, with no heading of their own ("Did I request thee, Maker, from my
    clay / To mould me man?" ... "Paradise Lost."), in place. An epigraph under a chapter's
    heading is that chapter's and stays."""
    lead = drafts[0]
    if lead.heading is not None or not any(d.heading and d.paragraphs for d in drafts[1:]):
        return
    texts = [text for _, text in lead.paragraphs]
    if not texts or len(texts) > 4 or sum(len(t.split()) for t in texts) > 120:
        return
    quoted = ["\n" in t or t[:1] in _QUOTES for t in texts]
    if any(quoted) and all(q or len(t.split()) <= 8 for q, t in zip(quoted, texts, strict=True)):
        for text in texts:
            leave_out("front matter", text)
        lead.paragraphs.clear()
        lead.marks.clear()
