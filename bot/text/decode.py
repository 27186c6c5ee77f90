"""Bytes to text: UTF-8 (with or without BOM), else cp1252; LF line endings.

A file that is not a story (empty, whitespace only, binary, or text in no encoding we read)
raises StoryBotError(usage=False) with a short reason; ingest logs it as
"skipped story file NAME: reason". Nothing here ever raises anything else.
"""

from __future__ import annotations

import codecs
import io
import re

from bot.errors import StoryBotError

__all__ = ["decode", "looks_binary"]

_BOM = codecs.BOM_UTF8
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_SAMPLE = 64 * 1024
# C0 controls other than tab, LF, VT, FF and CR: never in a text file; many of them mean binary.
_CONTROL_BYTES = bytes(range(0x00, 0x09)) + bytes(range(0x0E, 0x1B)) + bytes(range(0x1C, 0x20))
# Checked with bytes.translate and `in` (C speed, ~GB/s) before any regex runs.
_STRAY_BYTES = bytes(range(0x00, 0x09)) + bytes(range(0x0E, 0x20)) + b"\x7f"
# What readers must never see: the remaining C0 controls, DEL and stray BOMs. (C1 controls stay
# for repair: ftfy needs them to undo mojibake, and repair removes what is left of them.)
_STRAY = re.compile("[\x00-\x08\x0e-\x1f\x7f\ufeff\ufffe]")
_BREAKS = re.compile("\r\n?|[\x0b\x0c\x1c-\x1e\u2028\u2029]")


def looks_binary(data: bytes) -> bool:
    """True when the bytes are not plain text (a NUL, or more than 1% control bytes)."""
    sample = data[:_SAMPLE]
    if b"\x00" in sample:
        return True
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls > max(8, len(sample) // 100)


def _mostly_high_bytes(data: bytes) -> bool:
    """More than a third of the sample outside ASCII: no cp1252 story looks like that."""
    sample = data[:_SAMPLE]
    ascii_count = len(sample) - len(sample.translate(None, bytes(range(128))))
    return ascii_count * 3 < len(sample) * 2


def decode(data: bytes) -> str:
    """Decode a story file, or raise StoryBotError saying why it is not a story.

    UTF-8 with or without a BOM is tried first (a UTF-16 file with its BOM is read too);
    anything else that is not valid UTF-8 is read as cp1252 (the five bytes cp1252 leaves
    undefined become their Latin-1 code points, as browsers do; repair drops them), so no
    byte ever makes decoding fail. CRLF, CR and the other line separators become LF; C0
    control characters and stray BOMs are removed.
    """
    if data.startswith(_UTF16_BOMS):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise StoryBotError("not a text file (broken UTF-16)", usage=False) from None
        return _finish(text)
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    if not data.strip():
        raise StoryBotError("empty file", usage=False)
    if looks_binary(data):
        raise StoryBotError("not a text file (binary content)", usage=False)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        if _mostly_high_bytes(data):
            raise StoryBotError("not a text file (unknown encoding)", usage=False) from None
        return _finish(data.decode("latin-1").translate(_CP1252_TABLE))
    # the common case: cheap checks decide whether any regex needs to run. One character is
    # looked for in the str (a memchr-like scan); a multi-byte sequence in the bytes is slower.
    if b"\r" in data:
        # universal newlines in C: CRLF and CR become LF in one pass (two str.replace take twice
        # as long on a CRLF file)
        text = io.IncrementalNewlineDecoder(None, translate=True).decode(text, final=True)
    if any(sep in text for sep in _SEPARATORS):
        text = _BREAKS.sub("\n", text)
    if len(data.translate(None, _STRAY_BYTES)) != len(data) or "\ufeff" in text or "\ufffe" in text:
        text = _STRAY.sub("", text)
    if not text.strip():
        raise StoryBotError("empty file", usage=False)
    return text


_SEPARATORS = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\u2028", "\u2029")


def _finish(text: str) -> str:
    if "\r" in text or _BREAKS.search(text):
        text = _BREAKS.sub("\n", text)
    if _STRAY.search(text):
        text = _STRAY.sub("", text)
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
