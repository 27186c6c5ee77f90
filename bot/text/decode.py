"""Bytes to text: UTF-8 (with or without BOM), else cp1252; LF line endings."""

from __future__ import annotations

from bot.errors import StoryBotError

_BOM = b"\xef\xbb\xbf"
# Control characters that never appear in a text file; NUL and friends mean binary.
_BINARY_BYTES = bytes(range(0, 9)) + b"\x0b\x0e\x0f" + bytes(range(0x10, 0x1B)) + bytes(range(0x1C, 0x20))
_SAMPLE = 64 * 1024


def looks_binary(data: bytes) -> bool:
    """True when the bytes are not plain text (NULs, or many control characters)."""
    sample = data[:_SAMPLE]
    if b"\x00" in sample:
        return True
    controls = sum(sample.count(bytes([b])) for b in _BINARY_BYTES)
    return controls > max(8, len(sample) // 100)


def decode(data: bytes) -> str:
    """Decode a story file, or raise StoryBotError saying why it is not a story.

    UTF-8 with or without a BOM is tried first; anything that is not valid UTF-8 is
    read as cp1252 (bytes cp1252 leaves undefined map to the same code points, as
    browsers do), so no byte ever makes decoding fail. CRLF and CR become LF.
    """
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    if not data.strip():
        raise StoryBotError("empty file", usage=False)
    if looks_binary(data):
        raise StoryBotError("not a text file (binary content)", usage=False)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        if "\ufffd" in text:
            # the five bytes cp1252 leaves undefined: keep them as their Latin-1 code points
            text = data.decode("latin-1").translate(_CP1252_TABLE)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise StoryBotError("empty file", usage=False)
    return text


def _cp1252_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for byte in range(0x80, 0xA0):
        try:
            table[byte] = bytes([byte]).decode("cp1252")
        except UnicodeDecodeError:
            continue
    return table


_CP1252_TABLE = _cp1252_table()
