"""Choosing an excerpt: whole consecutive paragraphs of one scene, about 400-1,500 characters."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.models import Paragraph
from bot.paging import SENTENCE_END

MIN_CHARS = 400
MAX_CHARS = 1500
SEPARATOR = "\n\n"
# How far around the anchor paragraph the store is asked for neighbours.
LOOK_BEHIND = 10
LOOK_AHEAD = 20

_SENTENCE = re.compile(r".+?(?:[.!?…]+[\"'”’)\]*_]*(?=\s)|$)", re.DOTALL)


def _size(parts: Sequence[str]) -> int:
    return sum(len(p) for p in parts) + len(SEPARATOR) * max(0, len(parts) - 1)


def trim_to_sentences(text: str, limit: int = MAX_CHARS) -> str:
    """The longest run of whole sentences from the start of ``text`` within ``limit``."""
    if len(text) <= limit:
        return text
    out = ""
    for match in _SENTENCE.finditer(text):
        candidate = text[: match.end()].rstrip()
        if len(candidate) > limit:
            break
        out = candidate
    if out:
        return out
    cut = text[:limit].rsplit(" ", 1)[0].rstrip()
    return cut + "…"


def _sentence_start(text: str, offset: int) -> int:
    """The start of the sentence holding ``offset``."""
    starts = [0] + [m.end() for m in SENTENCE_END.finditer(text, 0, offset)]
    return starts[-1]


def window(
    scene: Sequence[Paragraph], anchor: int, focus: str | None = None
) -> tuple[int, int, str]:
    """Pick paragraphs around ``scene[anchor]`` (all of one scene) for an excerpt.

    Returns (first index, last index, text). Grows forward from the anchor, then back,
    never past MAX_CHARS unless a single paragraph is longer, which is trimmed to whole
    sentences, starting at the sentence that names ``focus`` when one is given.
    """
    first = last = anchor
    parts = [scene[anchor].text]
    while _size(parts) < MIN_CHARS and last + 1 < len(scene):
        nxt = scene[last + 1].text
        if _size([*parts, nxt]) > MAX_CHARS:
            break
        parts.append(nxt)
        last += 1
    while _size(parts) < MIN_CHARS and first > 0:
        prev = scene[first - 1].text
        if _size([prev, *parts]) > MAX_CHARS:
            break
        parts.insert(0, prev)
        first -= 1
    text = SEPARATOR.join(parts)
    if len(text) > MAX_CHARS:  # one long paragraph
        found = text.casefold().find(focus.casefold()) if focus else -1
        if found > 0:
            text = text[_sentence_start(text, found) :]
        text = trim_to_sentences(text)
    return first, last, text


def same_scene(paragraphs: Sequence[Paragraph], anchor: Paragraph) -> list[Paragraph]:
    """The contiguous run of ``paragraphs`` in the anchor's chapter and scene."""
    return [p for p in paragraphs if p.scene == anchor.scene and p.chapter == anchor.chapter]


def passage(
    around: Sequence[Paragraph], anchor: Paragraph, focus: str | None = None
) -> tuple[Paragraph, Paragraph, str]:
    """The excerpt grown from ``anchor`` among its neighbours ``around`` (the paragraphs
    LOOK_BEHIND before it to LOOK_AHEAD after): its first and last paragraphs, and its text."""
    scene = same_scene(around, anchor)
    first, last, text = window(scene, scene.index(anchor), focus)
    return scene[first], scene[last], text


def passage_anchors(paragraphs: Sequence[Paragraph]) -> list[int]:
    """The passages a story is cut into for excerpts that must not repeat: the positions of
    their first paragraphs, in order, none overlapping another.

    Each is the excerpt ``passage`` grows from that paragraph, so showing the passage at an
    anchor shows exactly that excerpt; the next anchor is the paragraph after it. A paragraph
    whose excerpt would reach back into the one before is not an anchor. ``paragraphs`` are
    a whole story's, in order of position, with no gaps."""
    anchors: list[int] = []
    i = 0
    while i < len(paragraphs):
        anchor = paragraphs[i]
        around = paragraphs[max(0, i - LOOK_BEHIND) : i + LOOK_AHEAD + 1]
        first, last, _ = passage(around, anchor)
        if first.position == anchor.position:
            anchors.append(anchor.position)
            i += last.position - anchor.position + 1
        else:
            i += 1
    return anchors
