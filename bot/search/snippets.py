"""Snippets: a window of a hit's text around where it matched, cut at spaces, with "…" where
it was cut, and the ranges of the window to mark.

A hit carries its snippet as plain text and the character ranges of it that matched; each
front end renders them its own way (bold in an embed, asterisks in a terminal, ranges in
JSON).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

SNIPPET_CHARS = 300

Marks = tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class Frame:
    """A window of a text as shown: ``text`` (with its "…"), and where the shown part stands
    in the whole text, [first, last); a text offset plus ``shift`` is a snippet offset."""

    text: str
    shift: int
    first: int
    last: int


def frame(text: str, start: int, end: int) -> Frame:
    """Characters [start, end) of ``text``, stripped, with "…" where the text goes on."""
    window = text[start:end]
    body = window.strip()
    lead = "…" if start > 0 else ""
    space = len(window) - len(window.lstrip())
    shown = lead + body + ("…" if end < len(text) else "")
    return Frame(shown, len(lead) - start - space, start + space, start + space + len(body))


def joinable(text: str, end: int, start: int, gap: int) -> bool:
    """Whether two marks, one ending at ``end`` and one starting at ``start``, read as one:
    at most ``gap`` characters of punctuation or spaces between them, on one line."""
    between = text[end:start]
    return len(between) <= gap and "\n" not in between and not any(c.isalnum() for c in between)


def joined(text: str, ranges: Iterable[tuple[int, int]], gap: int) -> list[tuple[int, int]]:
    """``ranges`` (in order) with neighbours that read as one merged."""
    out: list[tuple[int, int]] = []
    for start, end in ranges:
        if out and joinable(text, out[-1][1], start, gap):
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def snippet(
    text: str,
    marks: Sequence[tuple[int, int]],
    focus: tuple[int, int] | None = None,
    width: int = SNIPPET_CHARS,
) -> tuple[str, Marks]:
    """A window of about ``width`` characters around ``focus`` (else the first mark), cut at
    spaces, with "…" where it was cut; and the marks that fall inside it, as character ranges
    of the window (a mark the window cuts is cut with it)."""
    if len(text) <= width:
        start, end = 0, len(text)
    else:
        if focus is None:
            focus = marks[0] if marks else (0, 0)
        lo, hi = focus[0], max(focus)
        span = max(width, hi - lo)
        start = max(0, lo - (span - (hi - lo)) // 3)
        end = min(len(text), start + span)
        start = max(0, min(start, end - span))
        if start > 0:
            cut = text.find(" ", start, lo)
            start = cut + 1 if cut >= 0 else start
        if end < len(text):
            cut = text.rfind(" ", max(hi, start + 1), end)
            end = cut if cut > 0 else end
    shown = frame(text, start, end)
    kept: list[tuple[int, int]] = []
    at = 0
    for mark_start, mark_end in marks:
        lo = max(mark_start, start, shown.first) + shown.shift
        hi = min(mark_end, end, shown.last) + shown.shift
        if lo >= hi or lo < at:
            continue
        kept.append((lo, hi))
        at = hi
    return shown.text, tuple(kept)


def stretch_snippet(
    text: str, stretch: tuple[int, int], words: Iterable[tuple[int, int]], width: int
) -> tuple[str, Marks]:
    """About ``width`` characters of ``text`` around a stretch of it (its start kept when it
    is longer), and ``words`` (ranges of the text, in order) that the window holds whole."""
    lo, hi = stretch
    if len(text) <= width:
        start, end = 0, len(text)
    else:
        if hi - lo > width:  # keep the start of the stretch, where it begins
            hi = lo + width
        pad = (width - (hi - lo)) // 3
        start = max(0, lo - pad)
        end = min(len(text), start + width)
        start = max(0, min(start, end - width))
        if start > 0:
            cut = text.find(" ", start, lo + 1)
            start = cut + 1 if cut >= 0 else start
        if end < len(text):
            cut = text.rfind(" ", start + 1, end)
            end = cut if cut > start else end
    shown = frame(text, start, end)
    inside = (
        (a + shown.shift, b + shown.shift) for a, b in words if a >= shown.first and b <= shown.last
    )
    return shown.text, tuple(joined(shown.text, inside, gap=2))
