"""Text repair: ftfy for mojibake (only where needed), and restoration of lost U+FFFD punctuation."""

from __future__ import annotations

import re

import ftfy

# Cheap pre-check: sequences that UTF-8 read as cp1252/latin-1 leaves behind.
_MOJIBAKE_HINT = re.compile("[\u00c2\u00c3\u00e2][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u203a\u20ac\u2122]")


def repair(text: str) -> str:
    """Return the text as the author wrote it. Idempotent: repair(repair(t)) == repair(t)."""
    if _MOJIBAKE_HINT.search(text):
        text = ftfy.fix_text(text, normalization="NFC")
    if "\ufffd" in text:
        text = text.replace("\ufffd", "'")  # placeholder: see restore rules in DESIGN.md
    return text
