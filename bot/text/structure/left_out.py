"""What a parse leaves out of the chapters, by kind, for the ingest report."""

from __future__ import annotations

from contextvars import ContextVar

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
