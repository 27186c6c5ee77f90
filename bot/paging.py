"""Cut a chapter's text into pages: what the pages are, apart from the buttons that show them.

Pages are exact slices of the text: ``"".join(pages) == text``. A page ends right after
a paragraph break when it can, else after a sentence, else after a space; the break's
whitespace stays at the end of the page it follows (front ends strip it for display).
"""

from __future__ import annotations

import re

# An embed description may hold 4,096 characters and a whole embed 6,000; a page of at
# most 3,500 leaves room for the title, footer and an author's-note field, and reads
# better on a phone than a full 4,096.
PAGE_LIMIT = 3500

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n\s*")
# a sentence ends at . ! ? or …, then any closing quotes, brackets or emphasis, then space
SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]*_]*\s+")
_SPACE = re.compile(r"\s+")


def _cut(text: str, start: int, limit: int) -> int:
    """Where the page that starts at ``start`` should end (exclusive)."""
    end = start + limit
    if end >= len(text):
        return len(text)
    window = text[start:end]
    for pattern in (_PARAGRAPH_BREAK, SENTENCE_END, _SPACE):
        last = None
        for last in pattern.finditer(window):  # noqa: B007 - we want the last match
            pass
        # a break in the first fifth of the window would make a stub page; look for a finer one
        if last is not None and last.end() > limit // 5 and last.end() <= limit:
            return start + last.end()
    return end


# A page is shown inert: a front end escapes what would render as markup (cogs/_render.py
# escapes Discord markdown: code, spoilers, strikethrough, masked links, line-start headings,
# quotes and lists, stray emphasis), each escape one more character. A page's shown length, with
# every escape it may need, stays within SHOWN_LIMIT, so a page full of markup characters is
# cut shorter here rather than shown unescaped (the reader's text displays hold 4,000
# characters, about 3,600 of them for the page).
SHOWN_LIMIT = 3590
_ESCAPED_ONE = re.compile(
    r"[`*_]|^[ \t]*(?:#{1,3}[ \t]|-#[ \t]|>>>[ \t]|>[ \t]|[-+][ \t]|\d+\.[ \t])", re.M
)
_ESCAPED_TWO = ("||", "~~", "](")


def shown_length(text: str) -> int:
    """``text``'s length once every markup character in it is escaped (an upper bound)."""
    extra = len(_ESCAPED_ONE.findall(text)) + sum(2 * text.count(m) for m in _ESCAPED_TWO)
    return len(text) + extra


def paginate(text: str, limit: int = PAGE_LIMIT, shown: int = SHOWN_LIMIT) -> list[str]:
    """Split ``text`` into pages of at most ``limit`` characters (``shown`` once escaped) that
    join back to it."""
    if limit < 1:
        raise ValueError("limit must be positive")
    pages: list[str] = []
    start = 0
    while start < len(text):
        end = _cut(text, start, limit)
        while end - start > 1 and (over := shown_length(text[start:end]) - shown) > 0:
            end = _cut(text, start, max(1, end - start - over))
        pages.append(text[start:end])
        start = end
    return pages or [""]
