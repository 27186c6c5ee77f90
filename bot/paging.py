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


def paginate(text: str, limit: int = PAGE_LIMIT) -> list[str]:
    """Split ``text`` into pages of at most ``limit`` characters that join back to it."""
    if limit < 1:
        raise ValueError("limit must be positive")
    pages: list[str] = []
    start = 0
    while start < len(text):
        end = _cut(text, start, limit)
        pages.append(text[start:end])
        start = end
    return pages or [""]
