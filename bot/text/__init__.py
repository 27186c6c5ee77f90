"""The text pipeline: pure functions, no I/O. bytes -> (unpack) -> decode -> repair -> structure.

``.txt`` files are decoded as they are; ``.epub`` and ``.html``/``.htm`` files are first
unpacked by their readers (bot/text/epub.py, bot/text/html.py) into metadata and chapters of
plain text, which then take the same repair and structure rules.

The markup readers (lxml) and repair (ftfy) are imported when a file is read, not with the
package: a process that only serves the library (searches fold words with
bot/text/normalize.py) never loads them (about 10 MB of its memory).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from bot.errors import StoryBotError
from bot.models import StoryMeta
from bot.text.decode import decode
from bot.text.structure import ParsedChapter, ParsedStory, Section, parse, parse_sections

if TYPE_CHECKING:
    from bot.text.markup import Document

__all__ = [
    "STORY_SUFFIXES",
    "ParsedChapter",
    "ParsedStory",
    "decode",
    "parse",
    "process",
    "read_metadata",
]

# The story formats the library reads, by file name suffix (lower case).
STORY_SUFFIXES = (".txt", ".epub", ".html", ".htm")


def _suffix(file_name: str) -> str:
    return "." + file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""


def process(
    data: bytes, file_name: str, meta: StoryMeta | None = None, *, max_text: int | None = None
) -> ParsedStory:
    """Turn a story file's bytes into its structure, or raise StoryBotError saying why not.

    ``meta`` (library.toml) overrides what an EPUB or HTML file says of itself; the merged
    metadata is the returned story's ``meta``. ``max_text`` (MAX_STORY_MB) bounds the text an
    EPUB or HTML file yields, in characters, as it bounds a .txt file's bytes.
    """
    from bot.text.repair import repair

    suffix = _suffix(file_name)
    if suffix in (".epub", ".html", ".htm"):
        story = _process_document(data, file_name, suffix, meta or StoryMeta(), max_text)
    else:
        story = parse(repair(decode(data)), file_name, meta)
    if not any(chapter.paragraphs for chapter in story.chapters):
        raise StoryBotError("no story text found", usage=False)
    return story


def _read_document(data: bytes, suffix: str) -> Document:
    from bot.text.epub import read_epub
    from bot.text.html import read_html

    try:
        return read_epub(data) if suffix == ".epub" else read_html(data)
    except RecursionError:
        raise StoryBotError("markup nested too deeply", usage=False) from None


def _process_document(
    data: bytes, file_name: str, suffix: str, meta: StoryMeta, max_text: int | None
) -> ParsedStory:
    from bot.text.repair import repair

    document = _read_document(data, suffix)
    size = sum(len(s.text) + len(s.note or "") for s in document.sections)
    if max_text is not None and size > max_text:
        raise StoryBotError(
            f"its text is too big: {size / (1024 * 1024):.1f} MB, the limit is"
            f" {max_text / (1024 * 1024):.1f} MB (MAX_STORY_MB)",
            usage=False,
        )
    merged = meta.over(_repaired_meta(document.meta))
    sections = [
        Section(
            section.label and repair(section.label),
            repair(section.text),
            section.note and repair(section.note),
            given=section.given,
        )
        for section in document.sections
    ]
    book = any(kind == "licence" for kind, _ in document.left_out)  # a Gutenberg book
    story = parse_sections(sections, file_name, merged, book=book)
    left = tuple((kind, repair(text)) for kind, text in document.left_out) + story.left_out
    return replace(story, meta=merged, left_out=left)


def _repaired_meta(meta: StoryMeta) -> StoryMeta:
    from bot.text.repair import repair

    def fix(value: str | None) -> str | None:
        return repair(value) if value else value

    def fix_all(values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(repair(v) for v in values)

    return replace(
        meta,
        title=fix(meta.title),
        author=fix(meta.author),
        summary=fix(meta.summary),
        fandom=fix_all(meta.fandom),
        relationships=fix_all(meta.relationships),
        characters=fix_all(meta.characters),
        tags=fix_all(meta.tags),
    )


def read_metadata(data: bytes, file_name: str) -> StoryMeta:
    """What an EPUB or HTML file says of itself (no text work); empty for a .txt file.

    For front ends (an upload's preview, a story card) that need the metadata alone.
    """
    suffix = _suffix(file_name)
    if suffix not in (".epub", ".html", ".htm"):
        return StoryMeta()
    return _repaired_meta(_read_document(data, suffix).meta)
