"""Structure: title, chapters, scenes, author notes and paragraphs of a decoded, repaired text."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.models import StoryMeta


@dataclass(frozen=True, slots=True)
class ParsedChapter:
    number: int
    label: str
    note: str | None
    paragraphs: tuple[tuple[int, str], ...]  # (scene number across the story, text)


@dataclass(frozen=True, slots=True)
class ParsedStory:
    title: str
    chapters: tuple[ParsedChapter, ...]


_HEADING = re.compile(r"^\s*(Chapter|Part)\s+(\d+)\s*$", re.IGNORECASE)


def title_from_file(file_name: str) -> str:
    stem = file_name.rsplit(".", 1)[0]
    return re.sub(r"[_\s]+", " ", stem).strip() or "Untitled"


def parse(text: str, file_name: str, meta: StoryMeta | None = None) -> ParsedStory:
    """Split a story into chapters of paragraphs (minimal first version)."""
    meta = meta or StoryMeta()
    chapters: list[ParsedChapter] = []
    number, label, paras = 1, "Chapter 1", []
    scene = 0
    for block in re.split(r"\n\s*\n", text):
        block = block.strip()
        if not block:
            continue
        m = _HEADING.match(block)
        if m:
            if paras:
                chapters.append(ParsedChapter(number, label, None, tuple(paras)))
            number, label, paras = int(m.group(2)), block, []
            scene += 1
            continue
        paras.append((scene, block))
    if paras:
        chapters.append(ParsedChapter(number, label, None, tuple(paras)))
    return ParsedStory(meta.title or title_from_file(file_name), tuple(chapters))
