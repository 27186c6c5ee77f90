"""Structure: title, chapters, scenes, author notes and paragraphs of a decoded, repaired text.

How a text is read (pure functions, no I/O):

* **Project Gutenberg** licence header (up to and including the ``*** START OF ... ***``
  line) and footer (from ``*** END OF ...`` on) are dropped; the book's ``Title:`` is used
  when the file has no title line of its own; the title page and a CONTENTS list are dropped.
* **Title**: library metadata wins; else a title line at the top (after any author notes): a
  short line that is not prose, a heading or a note, followed by a blank line ("Breaking
  alone." -> "Breaking alone"); else the Gutenberg title; else the file name. The title line
  never appears as a paragraph.
* **Paragraphs**: the file's layout is measured first.

  - *wrapped* (Gutenberg-style: lines of ~70 characters, paragraphs between blank lines):
    each block is unwrapped to one line; a block of short lines (verse) keeps its breaks.
  - *lines* (most lines run straight into the next: one paragraph per line, as in seed 002):
    each line is a paragraph, a blank line starts a new scene, and a run of two or more
    short unpunctuated lines (lyrics, verse) stays one paragraph with "\\n" inside.
  - *blocks* (paragraphs between blank lines, each on one line): a block of several short
    lines stays one paragraph with its breaks; a block of long lines is one paragraph per line.

  Leading and trailing whitespace is stripped and runs of spaces and tabs inside a line are
  collapsed to one space; nothing else of the author's text is changed. A paragraph longer
  than 10,000 characters (a whole book on one line) is split at sentence ends, else at
  spaces, else hard, into paragraphs of at most 10,000 characters.
* **Headings** ("Chapter 11", "/Chapter Six/", "CHAPTER XI.", "Chapter 1: The Storm",
  "Part 5.", "I. A SCANDAL IN BOHEMIA", a bare " I." with its title on the next line,
  "Prologue", "Epilogue") start chapters; the label is the author's (decoration and a
  trailing period removed). A heading with no text under it (a table of contents) is not a
  chapter. Text before the first heading is its own chapter, labelled one before it when
  that heading is a later number ("Part 1" before "Part 2"), a "Prologue" before a first
  chapter, and merely a note when it is only author notes. Chapters are **numbered 1..N in
  reading order** whatever their labels say ("Chapter 11" alone is chapter 1, labelled
  "Chapter 11"), so "chapter 5" is always the fifth.
* **Notes** ("A/N", "Author's note", "Disclaimer:" ... paragraphs, text after an end
  marker, and a closing paragraph that talks about the fic rather than telling it) go to
  ``ParsedChapter.note``. **End markers** ("End Part 1.", "The End.", "TBC", "To Be
  Concluded in Chapter 7") and **scene breaks** ("* * *", "+++++", "~~~", "oOo", "xXx",
  "#End Flashback#") are dropped; a break starts a new scene, but never an empty one.
* **Repeats**: a run of paragraphs repeated immediately after itself (a copy-paste slip, at
  least 200 characters) is dropped; repeats that are further apart are the author's
  (seed 002 retells a scene line by line from the other side) and stay.

Scene numbers count across the whole story from 1: each chapter starts a new scene.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field, replace

from bot.models import ParsedChapter, ParsedStory, StoryMeta

__all__ = [
    "MAX_PARAGRAPH",
    "ParsedChapter",
    "ParsedStory",
    "Section",
    "parse",
    "parse_sections",
    "title_from_file",
]

MAX_PARAGRAPH = 10_000

# What a parse leaves out of the chapters, (kind, text), for the ingest report: set by parse()
# and parse_sections() for the duration of one parse (a ContextVar: each thread has its own).
_LEFT_OUT: ContextVar[list[tuple[str, str]] | None] = ContextVar("left_out", default=None)


def leave_out(kind: str, text: str) -> None:
    """Record text the chapters will not hold: "front matter", "back matter", "licence",
    "captions", "title", "headings" (shown as labels, or part headings), "markers" (scene
    breaks, end markers), "repeats". Notes are counted from the chapters' notes."""
    out = _LEFT_OUT.get()
    if out is not None and text.strip():
        out.append((kind, text))


# ---- numbers -----------------------------------------------------------------------------

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_WORD_NUMBER = (
    r"(?:(?:" + "|".join(_TENS) + r")(?:[- ](?:" + "|".join(k for k in _UNITS if k != "zero")
    + r"))?|" + "|".join(sorted(_UNITS, key=len, reverse=True)) + r"|hundred)"
)  # fmt: skip
_ROMAN = re.compile(r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
_NUM = r"(?:\d{1,4}|[IVXLCDM]{1,9}|[ivxlcdm]{1,9}|" + _WORD_NUMBER + r")"


def _roman(text: str) -> int | None:
    upper = text.upper()
    if not upper or not _ROMAN.fullmatch(upper) or not (text.isupper() or text.islower()):
        return None
    total = 0
    for i, ch in enumerate(upper):
        value = _ROMAN_VALUES[ch]
        nxt = _ROMAN_VALUES[upper[i + 1]] if i + 1 < len(upper) else 0
        total += -value if value < nxt else value
    return total if total <= 300 else None  # "mix" is a word, not 1009


def parse_number(text: str) -> int | None:
    """'11' -> 11, 'XI' -> 11, 'Six' -> 6, 'Twenty-One' -> 21; None when it is not a number."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    word = text.lower()
    if word in _UNITS:
        return _UNITS[word]
    if word == "hundred":
        return 100
    parts = re.split(r"[- ]", word)
    if parts[0] in _TENS and (len(parts) == 1 or (len(parts) == 2 and parts[1] in _UNITS)):
        return _TENS[parts[0]] + (_UNITS[parts[1]] if len(parts) == 2 else 0)
    return _roman(text)


# ---- line classes ------------------------------------------------------------------------

_QUOTES = "\"“”‘’'«»„"
_TERMINAL = ".!?…:;"
_STOPS = frozenset('.!?…"”')
_CLOSERS = "\"”’')]*_~"
# Decoration around a heading or marker: "/Chapter Six/", "**Part 2**", "~ Chapter 3 ~".
_DECORATION = "/*_~=#+[](){}<>|-–— \t"

# A cheap first look: can this short line be a heading, break, end marker or CONTENTS?
_CANDIDATE = re.compile(
    r"[^\w\"“‘'’]|\d|(?i:chap|ch\b|part|book|vol|prologue|epilogue|the end|end\b|fin\b|finis\b"
    r"|letter|stave|interlude|preface|introduction|foreword|list of|transcriber|illustrations"
    r"|tbc|t\.b\.c|to be|continued|contents|table of|[ivxlcdm]+\b|o|x|flash|begin|start"
    r"|[\w'’ .]{1,30}\s(?:pov|p\.o\.v))"
)
_NOT_SYMBOL = r"\w\s" + _QUOTES
_SYMBOLS_ONLY = re.compile(f"[^{_NOT_SYMBOL}?!.…]*[^{_NOT_SYMBOL}][^\\w{_QUOTES}]*")
_OX_BREAK = re.compile(
    r"[\W_]*(?:(?:oO)+o?|(?:Oo)+O?|(?:xX)+x?|(?:Xx)+X?|(?:[oOxX0][^\w\s]+){2,}[oOxX0]?)[\W_]*"
)
_HASH_MARKER = re.compile(r"#[^#]{1,60}#")
_SCENE_MARKER = re.compile(
    r"[\W_]*(?:(?:end|begin|start)\s+(?:of\s+)?)?flash\s*-?backs?(?:\s+(?:end|ends|over))?[\W_]*"
    r"|[\W_]*[\w'’ .]{1,30}\s+(?:POV|pov|P\.O\.V\.?)[\W_]*",
    re.IGNORECASE,
)
_END_MARKER = re.compile(
    r"[\W_]*(?:(?:the\s+)?end(?:\s*(?:of\s+)?(?:part|chapter|chap\.?|ch\.?|book|act|story|"
    r"prologue|epilogue|the\s+story)?\s*" + _NUM + r"?)?"
    r"|fin|finis|tbc|t\.\s?b\.\s?c\.?"
    r"|to\s+be\s+(?:continued|concluded)(?:\s+(?:in|with|soon|next)\b.{0,40})?"
    r"|(?:continued|concluded)\s+in\s+.{1,40}"
    r"|(?:part|chapter)\s+" + _NUM + r"\s+(?:coming\s+soon|to\s+follow|next)"
    r")[\W_]*",
    re.IGNORECASE,
)
_HEADING = re.compile(
    r"(?P<kw>chapter|chap\.?|ch\.|part|book|volume|vol\.|letter|stave)\s*(?P<num>" + _NUM + r")\b"
    r"(?:(?P<sep>\s*[:.\-–—]+\s*|\s+)(?P<title>\S.{0,99}?))?\s*[.:]?",
    re.IGNORECASE,
)
_NUMBERED_TITLE = re.compile(r"(?P<num>[IVXLC]{1,7}|\d{1,3})\.\s+(?P<title>\S.{0,79}?)")
_BARE_NUMBER = re.compile(r"(?P<num>[IVXLC]{1,7}|\d{1,3})\.?")
_BARE_FIRST = frozenset(_DECORATION + "IVXLC")  # or a digit: how a bare number's line starts
_SPECIAL_HEADING = re.compile(
    r"(?P<kw>prologue|epilogue|interlude)(?:\s*[:.\-–—]\s*(?P<title>\S.{0,79}?))?\s*\.?",
    re.IGNORECASE,
)
# A novel's front matter: sections that are not story text ("PREFACE", "Transcriber's Note").
# Those in _FRONT_ONLY_BEFORE count only before the story's first chapter (a "Preface" after
# chapter 3 is the author's); the rest are never story text.
_FRONT_MATTER = re.compile(
    r"(?:(?:the\s+)?(?:editor['’]?s\s+|author['’]?s\s+|translator['’]?s\s+)?"
    r"(?:preface|introduction|foreword|introductory\s+note)(?:\s+to\s+.{1,60})?"
    r"|(?:a\s+)?list\s+of\s+(?:illustrations|plates|figures|maps)|illustrations"
    r"|transcriber['’]?s\s+notes?|title\s+page|(?:table\s+of\s+)?contents"
    r"|copyright(?:\s+page)?|colophon|licen[cs]e|about\s+(?:this|the)\s+(?:book|e-?book|author)"
    r"|imprint|cover)",
    re.IGNORECASE,
)
_CONTENTS = re.compile(r"(?:table\s+of\s+)?contents:?", re.IGNORECASE)

_NOTE = re.compile(
    # (the lookahead, every alternative's first letter, spares trying them all on story text)
    r"[\W_]{0,3}(?=[abcdfnprstw])(?:A\s?/\s?N\b|A\.N\.|AN:|AN\s-|Authors?['’]?s?\s+notes?\b|Author\s+notes?\b"
    r"|Note\s+from\s+the\s+author|N/A\b|Notes?:|Disclaimer\b|Beta['’]?s?\s+notes?|Summary:"
    r"|Rating:|Rated:|Pairings?:|Spoilers?:|Feedback:|Warnings?:|Dedication:|Timeline:"
    r"|Category:|Categories:|Characters:|Word\s?count:|Archive:|Distribution:|Fandom:)",
    re.IGNORECASE,
)
# A closing paragraph that talks about the fic rather than telling it: a phrase only an author
# writes to readers. A word alone ("chapter", "reading", "review", "update") is no signal:
# story prose says "began the next chapter of the old book" and "reading the paper".
_META = re.compile(
    r"\b(?:fic|fics|fanfic|fanfics|fanfiction|R\s?&\s?R|sequel)\b"
    r"|\b(?:thanks?|thank\s+(?:you|u))\s+(?:\w+\s+){0,3}?(?:for|to)\s+(?:\w+\s+){0,2}?"
    r"(?:reading|reviewing|(?:the\s+|your\s+|my\s+)?reviews?|(?:my\s+|the\s+)?betas?)\b"
    r"|\bplease\s+(?:\w+\s+){0,2}?(?:review|r\s?&\s?r|comment|let\s+me\s+know)\b"
    r"|\breviews?\s+(?:please|would\s+be|make\s+me|keep\s+me|(?:are|is)\s+(?:welcome|loved))\b"
    r"|\b(?:leave|send|drop)\s+(?:me\s+)?(?:a\s+)?(?:review|reviews|comments?|feedback)\b"
    r"|\bfeedback\s+(?:please|is|would\s+be|welcome|appreciated)\b"
    r"|\b(?:next|new)\s+(?:chapter|part|update)\s+(?:will|should|is|'ll|’ll|coming|soon|up)\b"
    r"|\b(?:update|post)(?:s|ed|ing)?\s+(?:again\s+)?(?:soon|asap)\b"
    r"|\b(?:sorry|apologies)\s+(?:\w+\s+){0,3}?(?:the\s+)?(?:wait|delay|late\s+update)\b"
    r"|\b(?:sorry|apologies)\b.{0,40}\bthis\s+(?:chapter|update)\b"
    r"|\b(?:dear|my|to\s+(?:all\s+)?(?:my|the))\s+readers\b|\bmy\s+beta\b|\bunbeta['’]?d\b"
    r"|\b(?:won['’]?t|will\s+not|never)\s+(?:get\s+|be\s+)?(?:finished|continued|updated)\b",
    re.IGNORECASE,
)
_BYLINE = re.compile(r"(?:by|written\s+by|story\s+by|author:)\s+\S.{0,60}", re.IGNORECASE)
_PROSE_VERB = re.compile(
    r"\b(?:was|were|is|are|am|had|has|have|did|does|said|says|went|got|could|would|should|"
    r"will|can|it's|it’s|I'm|I’m|don't|don’t|didn't|didn’t)\b",
    re.IGNORECASE,
)
_CONTRACTION = re.compile(r"\w['’](?:t|s|re|ve|ll|d|m)\b", re.IGNORECASE)
_GUTENBERG_START = re.compile(
    r"^[ \t]*\*{3}\s*START OF (?:THE|THIS) PROJECT GUTENBERG[^\n]*$", re.MULTILINE | re.IGNORECASE
)
_GUTENBERG_END = re.compile(
    r"^[ \t]*(?:\*{3}\s*END OF (?:THE|THIS) PROJECT GUTENBERG|End of (?:the )?Project Gutenberg)",
    re.MULTILINE | re.IGNORECASE,
)
_GUTENBERG_END_MARKERS = (
    "END OF THE PROJECT GUTENBERG",
    "END OF THIS PROJECT GUTENBERG",
    "End of the Project Gutenberg",
    "End of Project Gutenberg",
)
_GUTENBERG_HEADER = re.compile(
    r"^[ \t]*(?:The )?Project Gutenberg(?:'s|’s)? (?:e-?book|etext)", re.MULTILINE | re.IGNORECASE
)
_GUTENBERG_TITLE = re.compile(r"^Title:[ \t]*(\S[^\n]*)$", re.MULTILINE)
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]{2,}|\t")
# a line break after a hyphenated word part or a dash (the literal first: it scans at C speed)
_HYPHEN_BREAK = re.compile(r"\n(?:(?<=[^\W\d_]-\n)|(?<=[—–]\n))")
_SENTENCE_END = re.compile(r"[.!?…][\"”’')\]]*\s+")


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


# ---- Gutenberg ---------------------------------------------------------------------------


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


# ---- paragraphs --------------------------------------------------------------------------


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


# ---- the walk over lines -----------------------------------------------------------------


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


def _walk(lines: list[str], layout: _Layout) -> list[Item]:
    """Turn stripped lines into paragraphs and markers, in order."""
    items: list[Item] = []
    block: list[str] = []

    def flush() -> None:
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
            kind = _classify(line) if candidates is None or candidates[i] else None
            if kind is None and (line[0] in _BARE_FIRST or line[0].isdecimal()):
                number = _bare_number(line)
                if number is not None:
                    kind = _Heading(number, _strip_decoration(line).rstrip("."), "")
                    nxt = lines[i + 1] if i + 1 < n else ""
                    if nxt and len(nxt) <= 60 and _bare_title(nxt):
                        kind.label = f"{kind.label}. {nxt}"
                        i += 1
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
            try:
                end = lines.index("", i)
            except ValueError:
                end = n
            block.extend(lines[i:end])
            i = end
    flush()
    return items


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


# ---- assembling chapters -----------------------------------------------------------------


@dataclass(slots=True)
class _Draft:
    heading: _Heading | None
    notes: list[str]
    paragraphs: list[tuple[int, str]]
    # how many notes came before each paragraph, so one turned into a note takes its place
    # among them in reading order
    marks: list[int] = field(default_factory=list)

    def note_paragraph(self, index: int) -> None:
        """Move paragraph ``index`` (the first or the last) to the notes, where it was read."""
        _, text = self.paragraphs.pop(index)
        self.notes.insert(self.marks.pop(index), text)


def _is_note(text: str) -> bool:
    return _NOTE.match(text) is not None


def _is_meta(text: str) -> bool:
    """A short paragraph about the fic itself (reviews, updates, 'this fic won't be finished')."""
    return len(text) <= 600 and not any(q in text for q in '"“”') and _META.search(text) is not None


def _drop_repeats(paragraphs: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Drop a run of paragraphs (200+ characters) that repeats the run just before it."""
    if len(paragraphs) < 2:
        return paragraphs
    texts = [t for _, t in paragraphs]
    if len(set(texts)) == len(texts):
        return paragraphs  # (cheap) no paragraph comes twice, so no run does
    seen: dict[str, int] = {}
    keep = [True] * len(texts)
    i = 0
    while i < len(texts):
        text = texts[i]
        j = seen.get(text)
        seen[text] = i
        if j is not None and 0 < i - j <= 50:
            k = i - j
            if texts[j:i] == texts[i : i + k] and sum(map(len, texts[j:i])) >= 200:
                for m in range(i, i + k):
                    keep[m] = False
                for m in range(i, i + k):
                    seen[texts[m]] = j + (m - i)
                i += k
                continue
        i += 1
    if all(keep):
        return paragraphs
    return [p for p, kept in zip(paragraphs, keep, strict=True) if kept]


def _assemble(items: list[Item], front_matter: bool) -> list[ParsedChapter]:
    drafts: list[_Draft] = [_Draft(None, [], [])]
    scene = 0
    new_scene = True
    after_end = False
    pending_blank = False
    last_text = ""
    leading = True  # still before any story paragraph of the first draft
    for kind, value in items:
        draft = drafts[-1]
        if kind == "heading":
            assert isinstance(value, _Heading)
            if not value.given:
                leave_out("headings", value.label)
            drafts.append(_Draft(value, [], []))
            new_scene = True
            after_end = False
            pending_blank = False
            leading = False
            continue
        if kind == _BREAK:
            leave_out("markers", str(value))
            new_scene = True
            pending_blank = False
            continue
        if kind == _END:
            leave_out("markers", str(value))
            new_scene = True
            after_end = True
            continue
        if kind == _BLANK:
            pending_blank = True
            continue
        if kind == _NOTE_ITEM:
            draft.notes.append(str(value))
            continue
        text = str(value)
        if after_end or _is_note(text):
            draft.notes.append(text)
            continue
        if (
            leading
            and draft.heading is None
            and not draft.paragraphs
            and (_BYLINE.fullmatch(text) or (front_matter and _front_matter_line(text)))
        ):
            leave_out("front matter", text)
            continue  # a byline or the title page
        leading = False
        if pending_blank and draft.paragraphs and "\n" not in text and "\n" not in last_text:
            new_scene = True
        pending_blank = False
        if new_scene:
            scene += 1
            new_scene = False
        draft.paragraphs.append((scene, text))
        draft.marks.append(len(draft.notes))
        last_text = text

    # a closing paragraph about the fic (or an apology that it stops here) is a note
    last = next((d for d in reversed(drafts) if d.paragraphs), None)
    for _ in range(3):
        if last is None or len(last.paragraphs) < 2 or not _is_meta(last.paragraphs[-1][1]):
            break
        last.note_paragraph(-1)  # the last first: each lands before the notes that followed it
    first_heading = next((d for d in drafts if d.heading is not None and d.paragraphs), None)
    lead = drafts[0]
    if first_heading is not None:
        # leading short paragraphs about the fic are notes too (000: "A/N thanks for ...")
        while lead.paragraphs and _is_meta(lead.paragraphs[0][1]) and len(lead.paragraphs) == 1:
            lead.note_paragraph(0)
    return _by_position(_number(drafts))


def _by_position(chapters: list[ParsedChapter]) -> list[ParsedChapter]:
    """Chapters numbered 1..N in reading order: a reader's "chapter 5" is the fifth chapter,
    whatever the book prints (its label keeps that: "Chapter 11", "Letter 2", "Prologue")."""
    return [ParsedChapter(i, c.label, c.note, c.paragraphs) for i, c in enumerate(chapters, 1)]


def _front_matter_line(text: str) -> bool:
    """A line of a title page: short, no sentence ('An Invention', 'by H. G. Wells',
    'Frankenstein;'); or a few such lines together, as a centred title page sets them
    ('PRIDE.\nand\nPREJUDICE')."""
    lines = text.split("\n")
    return len(lines) <= 6 and all(
        len(line) <= 80 and not _ends_sentence(line.rstrip(".;,:")) for line in lines
    )


_PREFACE_LIKE = re.compile(r"(?:\S+\s+)?(?:preface|introduction|foreword)", re.IGNORECASE)


def _drop_front_matter(drafts: list[_Draft]) -> list[_Draft]:
    """Without the front matter's sections: a preface, introduction or foreword before the
    first chapter, and a contents list, list of illustrations, transcriber's note, licence
    ... anywhere. Kept when the story has no other chapter (a story titled "Preface")."""
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


def _number(drafts: list[_Draft]) -> list[ParsedChapter]:
    drafts = _drop_front_matter(drafts)
    chapters: list[ParsedChapter] = []
    carried: list[str] = []  # notes of empty drafts, handed to the next chapter
    lead, rest = drafts[0], drafts[1:]
    firsts = [d for d in rest if d.paragraphs]
    highest = 0
    letters = 0  # the highest number of a "Letter" heading before the chapters
    offset = 0
    if lead.paragraphs:
        if not firsts:
            chapters.append(_chapter(1, "Chapter 1", lead.notes, lead.paragraphs))
            return chapters
        first = firsts[0].heading
        assert first is not None
        if first.number is not None and first.number > 1:
            number = first.number - 1
            keyword = first.keyword or "Chapter"
            chapters.append(_chapter(number, f"{keyword} {number}", lead.notes, lead.paragraphs))
            highest = number
        else:
            chapters.append(_chapter(0, "Prologue", lead.notes, lead.paragraphs))
    else:
        carried.extend(lead.notes)
    for draft in rest:
        heading = draft.heading
        assert heading is not None
        if not draft.paragraphs:
            carried.extend(draft.notes)
            continue
        if heading.number is not None and heading.keyword.lower() in ("letter", "stave"):
            number = heading.number  # counted on by the chapters after them (see below)
        elif heading.number is not None:
            # "Letter 1-4" then "Chapter 1-24" (Frankenstein): the chapters follow the letters
            number = heading.number + offset
            if offset == 0 and number <= highest and letters:
                offset = letters
                number += offset
        elif heading.special == "prologue" and not chapters:
            number = 0
        else:
            number = highest + 1
        highest = max(highest, number)
        if heading.keyword.lower() in ("letter", "stave"):
            letters = highest
        chapters.append(_chapter(number, heading.label, carried + draft.notes, draft.paragraphs))
        carried = []
    if carried and chapters:
        last = chapters[-1]
        notes = [last.note] if last.note else []
        chapters[-1] = ParsedChapter(
            last.number, last.label, "\n\n".join(notes + carried), last.paragraphs
        )
    return chapters


def _chapter(
    number: int, label: str, notes: list[str], paragraphs: list[tuple[int, str]]
) -> ParsedChapter:
    note = "\n\n".join(notes) if notes else None
    kept = _drop_repeats(paragraphs)
    if len(kept) < len(paragraphs):
        dropped = Counter(t for _, t in paragraphs) - Counter(t for _, t in kept)
        for text, times in dropped.items():
            for _ in range(times):
                leave_out("repeats", text)
    if any(len(text) > MAX_PARAGRAPH for _, text in kept):
        kept = [(scene, piece) for scene, text in kept for piece in split_long(text)]
    return ParsedChapter(number, label, note, tuple(kept))


# ---- title -------------------------------------------------------------------------------


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


# ---- entry point -------------------------------------------------------------------------


def parse(text: str, file_name: str, meta: StoryMeta | None = None) -> ParsedStory:
    """Split a story into its title and chapters of (scene, paragraph) pairs; what is in no
    chapter is the story's ``left_out``, by kind."""
    left: list[tuple[str, str]] = []
    token = _LEFT_OUT.set(left)
    try:
        story = _parse(text, file_name, meta or StoryMeta())
    finally:
        _LEFT_OUT.reset(token)
    return replace(story, left_out=tuple(left))


def _parse(text: str, file_name: str, meta: StoryMeta) -> ParsedStory:
    gutenberg = _split_gutenberg(text)
    book_title: str | None = None
    if gutenberg is not None:
        pre, body, book_title = gutenberg
        text = f"{pre}\n\n{body}" if pre.strip() else body
    if "[Illustration" in text:
        text = _drop_illustrations(text)
    lines = [line.strip() for line in text.split("\n")]
    marks = [mark for mark in ("\t", "\u00a0", "  ") if mark in text]
    if marks:
        _collapse_spaces(text, lines, marks)
    title, at = _take_title(lines)
    if at >= 0:
        leave_out("title", lines[at])
        lines[at] = ""
    layout = _measure(lines, book=gutenberg is not None)
    items = _walk(lines, layout)
    if gutenberg is not None and title is None:
        items = _drop_repeated_title(items, book_title)
    chapters = _assemble(items, front_matter=gutenberg is not None)
    chosen = meta.title or title or book_title or title_from_file(file_name)
    return ParsedStory(chosen, tuple(chapters), meta)


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


@dataclass(frozen=True, slots=True)
class Section:
    """One chapter as a format reader (EPUB, HTML) found it: its label (None: text with no
    heading of its own), its text as a .txt file would hold it, and its notes, kept apart."""

    label: str | None
    text: str
    note: str | None = None
    given: bool = False  # the label comes from the table of contents, not from the text


def parse_sections(
    sections: Iterable[Section],
    file_name: str,
    meta: StoryMeta | None = None,
    *,
    book: bool = False,
) -> ParsedStory:
    """Chapters from sections a format reader split by their markup.

    Each section's label is its heading (read as a .txt heading is, for its number: "Chapter
    3: Storm" is chapter 3; a label that is no heading, "The Time Traveller", takes the next
    number); its text goes through the same paragraph, note, break and scene rules as a .txt
    file's. Headings inside a section's text start chapters too, except one that opens the
    section (the author repeating the label). Front matter is dropped as in a .txt book;
    ``book`` (a Project Gutenberg book): short lines before the first heading are its title
    page, as in a Gutenberg .txt.
    """
    left: list[tuple[str, str]] = []
    token = _LEFT_OUT.set(left)
    try:
        story = _parse_sections(sections, file_name, meta or StoryMeta(), book)
    finally:
        _LEFT_OUT.reset(token)
    return replace(story, left_out=tuple(left))


def _parse_sections(
    sections: Iterable[Section], file_name: str, meta: StoryMeta, book: bool
) -> ParsedStory:
    items: list[Item] = []
    for section in sections:
        lines = [line.strip() for line in section.text.split("\n")]
        walked = _walk(lines, _measure(lines))
        if section.label:
            label = " ".join(section.label.split())
            heading = _classify(label) if len(label) <= 120 else None
            if not isinstance(heading, _Heading):
                heading = _Heading(None, label, "")
            heading.given = section.given
            items.append(("heading", heading))
            if walked and walked[0][0] == "heading":
                repeated = walked[0][1]
                assert isinstance(repeated, _Heading)
                leave_out("headings", repeated.label)
                walked = walked[1:]  # "Chapter 1" again as the text's first line
        if section.note:
            items.append((_NOTE_ITEM, section.note))
        items.extend(walked)
    chapters = _assemble(items, front_matter=book)
    return ParsedStory(meta.title or title_from_file(file_name), tuple(chapters), meta)


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


def _drop_repeated_title(items: list[Item], book_title: str | None) -> list[Item]:
    """A Gutenberg book repeats its title first thing after the header: not a paragraph."""
    if book_title and items and items[0][0] == "para" and str(items[0][1]) == book_title:
        leave_out("title", book_title)
        return items[1:]
    return items
