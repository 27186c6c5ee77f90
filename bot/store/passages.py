"""Scene passages: how a story's paragraphs are cut into the passages scene search ranks.

A scene passage is a run of whole paragraphs of one scene of one chapter (scenes end at scene
breaks and chapter ends), about PASSAGE_CHARS long: a scene of ``total`` characters (each
paragraph counted with its "\\n\\n" separator) is cut into ``n = max(1, (total + half) //
PASSAGE_CHARS)`` passages, and a paragraph starting ``start`` characters into its scene goes
to passage ``start * n // total``. Every engine cuts with this rule (the SQLite migration
that backfilled old libraries writes it in SQL: bot/store/sqlite/schema.py).
"""

from __future__ import annotations

from collections.abc import Sequence

PASSAGE_CHARS = 1250  # the SQLite migration's SQL holds the same number: change both or neither
SEPARATOR = "\n\n"


def passages(rows: Sequence[tuple[int, int, int, str]]) -> list[tuple[int, int, int]]:
    """(chapter, first position, last position) of each passage of a story's paragraphs.

    ``rows`` are (chapter, position, scene, text), in position order.
    """
    out: list[tuple[int, int, int]] = []
    i = 0
    while i < len(rows):
        j = i
        while j < len(rows) and rows[j][0] == rows[i][0] and rows[j][2] == rows[i][2]:
            j += 1
        group = rows[i:j]
        lengths = [len(r[3]) + len(SEPARATOR) for r in group]
        total = sum(lengths)
        n = max(1, (total + PASSAGE_CHARS // 2) // PASSAGE_CHARS)
        start = 0
        current: int | None = None
        for row, length in zip(group, lengths, strict=True):
            window = start * n // total
            if window != current:
                out.append((row[0], row[1], row[1]))
                current = window
            else:
                out[-1] = (row[0], out[-1][1], row[1])
            start += length
        i = j
    return out
