"""The patterns of the lines and paragraphs a story is made of: headings, breaks, end
markers, notes, front matter, Project Gutenberg's licence."""

from __future__ import annotations

import re

from bot.text.structure.numbers import _NUM

_QUOTES = "\"“”‘’'«»„"
_TERMINAL = ".!?…:;"
_STOPS = frozenset('.!?…"”')
_CLOSERS = "\"”’')]*_~"
# Decoration around a heading or marker: "/Chapter Six/", "**Part 2**", "~ Chapter 3 ~".
_DECORATION = "/*_~=#+[](){}<>|-–— \t"

# A cheap first look: can this short line be a heading, break, end marker or CONTENTS?
_CANDIDATE = re.compile(
    r"[^\w\"“‘'’]|\d|(?i:chap|ch\b|part|book|vol|prologue|epilogue|the end|end\b|fin\b|finis\b"
    r"|letter|stave|interlude|preface|introduction|foreword|dedication|epigraph|list of"
    r"|transcriber|illustrations"
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
    r"|dedication|epigraph"
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
