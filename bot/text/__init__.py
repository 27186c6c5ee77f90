"""The text pipeline: pure functions, no I/O. bytes -> decode -> repair -> structure."""

from __future__ import annotations

from bot.errors import StoryBotError
from bot.models import StoryMeta
from bot.text.decode import decode
from bot.text.repair import repair
from bot.text.structure import ParsedChapter, ParsedStory, parse

__all__ = ["ParsedChapter", "ParsedStory", "decode", "parse", "process", "repair"]


def process(data: bytes, file_name: str, meta: StoryMeta | None = None) -> ParsedStory:
    """Turn a story file's bytes into its structure, or raise StoryBotError saying why not."""
    story = parse(repair(decode(data)), file_name, meta)
    if not any(chapter.paragraphs for chapter in story.chapters):
        raise StoryBotError("no story text found", usage=False)
    return story
