"""Lines into paragraphs: the file's layout measured, then the walk over its lines."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.text.structure.headings import (
    _BLANK,
    _CONTENTS_MARK,
    _bare_number,
    _bare_title,
    _classify,
    _Heading,
    _strip_decoration,
    _verse_like,
)
from bot.text.structure.left_out import leave_out
from bot.text.structure.patterns import (
    _BARE_FIRST,
    _CANDIDATE,
    _HYPHEN_BREAK,
    _QUOTES,
    _SENTENCE_END,
    _SPACES,
    _STOPS,
)

MAX_PARAGRAPH = 10_000


def _group_lines(lines: list[str], out: list[str]) -> None:
    """One paragraph per line, except runs of two or more verse-like lines (lyrics)."""
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        if _verse_like(line):
            j = i + 1
            while j < n and _verse_like(lines[j]):
                j += 1
            if j - i >= 2:
                if j < n and len(lines[j]) <= 50 and lines[j][0] not in _QUOTES:
                    j += 1  # the stanza's last line, ending in a full stop
                out.append("\n".join(lines[i:j]))
                i = j
                continue
        out.append(line)
        i += 1


def _unwrap(lines: list[str]) -> str:
    """Join hard-wrapped lines into one; a line ending in a hyphen or dash joins without space."""
    return _HYPHEN_BREAK.sub("", "\n".join(lines)).replace("\n", " ")


def split_long(text: str, limit: int = MAX_PARAGRAPH) -> list[str]:
    """Split a paragraph longer than ``limit`` at sentence ends, else spaces, else anywhere."""
    pieces: list[str] = []
    while len(text) > limit:
        window = text[: limit + 1]
        cut = -1
        for match in _SENTENCE_END.finditer(window, limit // 2):
            cut = match.end()
        if cut <= 0:
            space = window.rfind(" ", limit // 2)
            cut = space + 1 if space > 0 else limit
        cut = min(cut, limit)
        piece = text[:cut].strip()
        if piece:
            pieces.append(piece)
        text = text[cut:].lstrip()
    if text.strip():
        pieces.append(text.strip())
    return pieces


@dataclass(slots=True)
class _Layout:
    wrapped: bool
    by_line: bool


def _measure(lines: list[str], book: bool = False) -> _Layout:
    """Hard-wrapped (most lines that run on are 45-100 characters, almost none longer), one
    paragraph per line (most lines run on into the next), or blank-line separated blocks."""
    nonblank = 0
    runs_on = 0  # lines followed by a non-blank line
    full = 0  # ... of which 45-100 characters long
    stops = 0  # ... of which end a sentence (a wrapped line mostly stops mid-sentence)
    long_lines = 0
    prev = ""
    for line in lines:
        if line:
            nonblank += 1
            if len(line) > 100:
                long_lines += 1
            if prev:
                runs_on += 1
                if 45 <= len(prev) <= 100:
                    full += 1
                if prev[-1] in _STOPS:
                    stops += 1
        prev = line
    wrapped = (
        (runs_on >= 8 or (book and runs_on > 0))
        and full * 2 >= runs_on
        and stops * 2 < runs_on
        and long_lines * 50 <= nonblank
    )
    return _Layout(wrapped, not wrapped and runs_on * 2 >= nonblank > 0)


Item = tuple[str, object]  # ("para", str) | ("heading", _Heading) | (_BREAK|_END|_BLANK, None)


# A table of cases (radon E): each kind of line (blank, a heading, an entry of a table of
# contents, a marker, story text) is one branch of the loop, in the order a reader meets them.
def _walk(lines: list[str], layout: _Layout) -> list[Item]:
    """Turn stripped lines into paragraphs and markers, in order."""
    items: list[Item] = []
    block: list[str] = []

    def flush() -> None:
        _flush(block, items, layout)

    n = len(lines)
    # _classify's first look at every line, in one pass (map: no Python call per line); a
    # wrapped text looks only at its blocks' first lines, so there _classify looks itself
    candidates = None if layout.wrapped else list(map(_CANDIDATE.match, lines))
    i = 0
    in_contents = False
    blank_run = 0
    while i < n:
        line = lines[i]
        if not line:
            flush()
            blank_run += 1
            if in_contents and blank_run >= 2:
                in_contents = False
            if layout.by_line and blank_run == 1:
                items.append((_BLANK, None))
            i += 1
            continue
        at_block_start = blank_run > 0 or i == 0
        blank_run = 0
        kind: str | _Heading | None = None
        if len(line) <= 120 and (at_block_start or not layout.wrapped):
            kind, i = _line_kind(lines, i, candidates)
        if in_contents:
            if len(line) <= 100 and kind != _CONTENTS_MARK:
                leave_out("front matter", line)
                i += 1
                continue  # an entry of the table of contents, until two blank lines
            in_contents = False
        if kind is None:
            block.append(line)
        elif kind == _CONTENTS_MARK:
            flush()
            leave_out("front matter", line)
            in_contents = True
        elif isinstance(kind, _Heading):
            flush()
            items.append(("heading", kind))
        else:
            flush()
            items.append((kind, line))
        i += 1
        if layout.wrapped and not in_contents:
            # in a wrapped text only a block's first line can be a heading or a marker: the
            # rest of the block, up to the next blank line, is story text, taken in one step
            end = _next_blank(lines, i)
            block.extend(lines[i:end])
            i = end
    flush()
    return items


def _flush(block: list[str], items: list[Item], layout: _Layout) -> None:
    """The lines gathered since the last blank line or marker, as paragraphs (emptied)."""
    if not block:
        return
    if len(block) == 1:
        items.append(("para", block[0]))
    elif layout.wrapped:
        if len(block[0]) < 45 and max(map(len, block[:-1])) < 45:
            items.append(("para", "\n".join(block)))  # verse in a wrapped text
        else:
            items.append(("para", _unwrap(block)))
    elif not layout.by_line and max(map(len, block)) <= 80:
        items.append(("para", "\n".join(block)))  # short lines kept together
    else:
        paragraphs: list[str] = []
        _group_lines(block, paragraphs)
        items.extend(("para", p) for p in paragraphs)
    block.clear()


def _line_kind(
    lines: list[str], i: int, candidates: list[re.Match[str] | None] | None
) -> tuple[str | _Heading | None, int]:
    """What the short line ``i`` is (None: story text) and the index of its last line: a bare
    " I." takes the chapter's title from the next line. ``candidates``: _CANDIDATE's first
    look at every line, or None to look here."""
    line = lines[i]
    kind = _classify(line) if candidates is None or candidates[i] else None
    if kind is None and (line[0] in _BARE_FIRST or line[0].isdecimal()):
        number = _bare_number(line)
        if number is not None:
            kind = _Heading(number, _strip_decoration(line).rstrip("."), "")
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            if nxt and len(nxt) <= 60 and _bare_title(nxt):
                kind.label = f"{kind.label}. {nxt}"
                i += 1
    return kind, i


def _next_blank(lines: list[str], start: int) -> int:
    """The index of the first blank line from ``start`` on, or the number of lines."""
    try:
        return lines.index("", start)
    except ValueError:
        return len(lines)


def _collapse_spaces(text: str, lines: list[str], marks: list[str]) -> None:
    """Collapse runs of spaces in the stripped ``lines`` of ``text`` that hold one of the
    ``marks`` found in the text: a tab, a no-break space or a double space (in place).

    Most texts have such runs only in the indentation that strip() removed, or nowhere: the
    lines to look at are found with str.find rather than by testing every line.
    """
    found: list[int] = []
    for mark in marks:
        at = text.find(mark)
        while at >= 0 and len(found) <= len(lines) // 8:
            found.append(at)
            at = text.find(mark, at + len(mark))
    if len(found) > len(lines) // 8:
        candidates: Iterable[int] = range(len(lines))  # many: test every line
    else:
        candidates = set()
        index, counted = 0, 0
        for at in sorted(found):
            index += text.count("\n", counted, at)
            counted = at
            candidates.add(index)
    for index in candidates:
        line = lines[index]
        if "  " in line or "\t" in line or "\u00a0" in line:
            lines[index] = _SPACES.sub(" ", line)
