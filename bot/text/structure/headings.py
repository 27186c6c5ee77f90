"""What a short line is: a heading, a scene break, an end marker, a contents mark or a title."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.text.structure.numbers import _NUM, parse_number
from bot.text.structure.patterns import (
    _BARE_FIRST,
    _BARE_NUMBER,
    _CANDIDATE,
    _CLOSERS,
    _CONTENTS,
    _CONTRACTION,
    _DECORATION,
    _END_MARKER,
    _FRONT_MATTER,
    _HASH_MARKER,
    _HEADING,
    _NOTE,
    _NUMBERED_TITLE,
    _OX_BREAK,
    _PROSE_VERB,
    _QUOTES,
    _SCENE_MARKER,
    _SPECIAL_HEADING,
    _SYMBOLS_ONLY,
    _TERMINAL,
)


@dataclass(slots=True)
class _Heading:
    number: int | None  # None: Prologue/Epilogue, numbered when the story is assembled
    label: str
    keyword: str  # "Chapter", "Part" ... as written; "" for a bare numeral
    special: str = ""  # "prologue", "epilogue", "interlude", or "front" (front matter)
    given: bool = False  # the label is the table of contents', not a heading of the text


_BREAK = "break"
_END = "end"
_BLANK = "blank"
_CONTENTS_MARK = "contents"
_NOTE_ITEM = "note"  # a note a format reader found apart from the text (AO3 chapter notes)


def _strip_decoration(line: str) -> str:
    return line.strip(_DECORATION)


def _is_break(line: str) -> bool:
    if "\n" in line:
        return False
    if _SYMBOLS_ONLY.fullmatch(line):
        return len(line.replace(" ", "")) >= 3 or line in ("*", "#", "§", "~", "+", "•")
    return bool(
        _OX_BREAK.fullmatch(line) or _HASH_MARKER.fullmatch(line) or _SCENE_MARKER.fullmatch(line)
    )


def _heading(line: str) -> _Heading | None:
    """A heading written on one line, or None. ``line`` is stripped and short."""
    core = _strip_decoration(line)
    if not core or core[0] in _QUOTES:
        return None
    match = _HEADING.fullmatch(core)
    if match:
        number = parse_number(match["num"])
        title = match["title"]
        if number is None or number > 9999:
            return None
        if title:
            words = title.split()
            if match["sep"].strip() == "":
                # "Chapter 1 The Storm" is a heading; "Chapter one of my life was..." is not
                of_number = re.fullmatch(r"of\s+" + _NUM, title, re.IGNORECASE)
                if not (title[0].isupper() or title[0].isdigit() or of_number):
                    return None
                if core.endswith((".", "!", "?", ",")) and not of_number:
                    return None
            if len(words) > 12 or (core.endswith(".") and len(words) > 6):
                return None
        keyword = match["kw"]
        label = core.rstrip(".: ")
        return _Heading(number, label, keyword[:1].upper() + keyword[1:].lower())
    match = _SPECIAL_HEADING.fullmatch(core)
    if match:
        return _Heading(None, core.rstrip(".: "), "", match["kw"].lower())
    match = _NUMBERED_TITLE.fullmatch(core)
    if match and _title_case(match["title"]):
        number = parse_number(match["num"])
        if number is not None:
            return _Heading(number, core.rstrip(".: "), "")
    return None


def _bare_number(line: str) -> int | None:
    """' I.' or '12' alone on a line: a chapter number whose title may follow on the next line."""
    if line[:1] not in _BARE_FIRST and not line[:1].isdecimal():
        return None  # (cheap) it starts with neither decoration nor a numeral
    core = _strip_decoration(line)
    match = _BARE_NUMBER.fullmatch(core)
    return parse_number(match["num"]) if match else None


def _title_case(text: str) -> bool:
    """ALL CAPS, or every longer word capitalised, with no sentence punctuation at the end."""
    if not text or text[-1] in _TERMINAL or text[-1] == ",":
        return False
    letters = [w for w in text.split() if w[:1].isalpha()]
    if not letters or not letters[0][0].isupper():
        return False
    return text.isupper() or all(w[0].isupper() for w in letters if len(w) > 3)


def _classify(line: str) -> str | _Heading | None:
    """What a short stripped line is when it is not story text; None when it is."""
    if not _CANDIDATE.match(line):
        return None
    if _is_break(line):
        return _BREAK
    if _END_MARKER.fullmatch(line):
        return _END
    heading = _heading(line)
    if heading is not None:
        return heading
    core = _strip_decoration(line)
    if _CONTENTS.fullmatch(core):
        return _CONTENTS_MARK
    if len(core) <= 60 and core[:1].isupper() and _FRONT_MATTER.fullmatch(core.rstrip(".:")):
        return _Heading(None, core.rstrip(".: "), "", "front")
    return None


def _ends_sentence(line: str) -> bool:
    core = line.rstrip(_CLOSERS)
    return not core or core[-1] in _TERMINAL


# “Talk to me?” he almost begged: a quotation with narration after it is dialogue, not verse
_QUOTED_THEN_TEXT = re.compile(r"[”»]\s*\w|\"\s+[a-z]")


def _verse_like(line: str) -> bool:
    return len(line) <= 80 and not _ends_sentence(line) and not _QUOTED_THEN_TEXT.search(line)


def _title_line(line: str) -> str | None:
    """The title this line states, or None when it reads as prose, a heading or a note."""
    if not 0 < len(line) <= 80 or line[0] in _QUOTES or line[0] in "*_~-#":
        return None
    if not (line[0].isupper() or line[0].isdigit()):
        return None
    if _classify(line) is not None or _bare_number(line) is not None or _NOTE.match(line):
        return None
    words = line.split()
    if line.endswith(".") and not line.endswith(".."):
        text = line[:-1].rstrip()
        if len(words) > 6 or _PROSE_VERB.search(text) or _CONTRACTION.search(text) or ", " in text:
            return None
    else:
        text = line
        if len(words) > 12 or text[-1] in "!?,;:…-–—":
            return None
    if not text or re.search(r"[.!?]\s", text):
        return None
    return text


def title_from_file(file_name: str) -> str:
    """A readable title from a file name: 'my_story-v2.txt' -> 'My story v2'.

    Hash-like parts (8+ hex digits) and a leading index are not words; a name with nothing
    else reads "Untitled (name)".
    """
    stem = file_name.rsplit("/", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    words = [w for w in re.split(r"[_\s]+|(?<=\w)-(?=\w)", stem) if w]
    kept = [w for w in words if not (len(w) >= 8 and re.fullmatch(r"[0-9a-fA-F]+", w))]
    if kept and kept[0].isdigit() and len(kept) > 1:
        kept = kept[1:]
    if not kept or all(w.isdigit() for w in kept):
        return f"Untitled ({stem})" if stem else "Untitled"
    text = " ".join(kept)
    return text[:1].upper() + text[1:]


def _bare_title(line: str) -> bool:
    """The line after a bare ' I.' that names the chapter: short, not a sentence."""
    return (
        line[0] not in _QUOTES
        and not _ends_sentence(line)
        and len(line.split()) <= 10
        and _is_title_text(_classify(line))
    )


def _is_title_text(kind: str | _Heading | None) -> bool:
    """Nothing but text, or a front-matter word: " I." then "Introduction" is chapter I's title."""
    return kind is None or (isinstance(kind, _Heading) and kind.special == "front")


def _take_title(lines: list[str]) -> tuple[str | None, int]:
    """Find the title line at the top: (title, its index) or (None, -1).

    Leading author notes (a block starting "A/N ...") and breaks are looked past.
    """
    n = len(lines)
    i = 0
    while i < n:
        line = lines[i]
        if not line:
            i += 1
            continue
        if _NOTE.match(line):
            while i < n and lines[i]:
                i += 1  # the whole note block
            continue
        if len(line) <= 120 and _classify(line) == _BREAK:
            i += 1
            continue
        title = _title_line(line)
        if title is None:
            return None, -1
        nxt = lines[i + 1] if i + 1 < n else ""
        if nxt and not (len(nxt) <= 120 and isinstance(_classify(nxt), _Heading)):
            return None, -1
        return title, i
    return None, -1
