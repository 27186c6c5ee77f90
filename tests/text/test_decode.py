"""decode: bytes to text, or a short reason why the file is not a story."""

from __future__ import annotations

import pytest

from bot.errors import StoryBotError
from bot.text.decode import decode, looks_binary


def test_utf8_with_and_without_bom() -> None:
    assert decode("café ’quoted’\n".encode()) == "café ’quoted’\n"
    assert decode(b"\xef\xbb\xbf" + "café\n".encode()) == "café\n"


def test_cp1252_fallback() -> None:
    assert decode(b"It\x92s a caf\xe9 \x93here\x94\x85") == "It’s a café “here”…"


def test_undefined_cp1252_bytes_never_fail() -> None:
    text = decode(b"odd \x81 byte \x8d and caf\xe9")
    assert text.startswith("odd ") and "café" in text


def test_line_endings() -> None:
    assert decode(b"a\r\nb\rc\nd") == "a\nb\nc\nd"
    assert decode("a\u2028b\x0cc".encode()) == "a\nb\nc"


def test_utf16_with_bom() -> None:
    assert decode("Title\n\nText ’here’.".encode("utf-16")) == "Title\n\nText ’here’."


def test_controls_and_stray_boms_removed() -> None:
    assert decode(b"a\x07b\x7fc\xef\xbb\xbfd") == "abcd"


@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n  ", b"\xef\xbb\xbf", b"\xef\xbb\xbf \n"])
def test_empty_is_rejected(data: bytes) -> None:
    with pytest.raises(StoryBotError) as info:
        decode(data)
    assert info.value.message == "empty file"
    assert info.value.usage is False


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 100,
        bytes(range(256)) * 10,
        b"\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f" * 50,
    ],
)
def test_binary_is_rejected(data: bytes) -> None:
    with pytest.raises(StoryBotError) as info:
        decode(data)
    assert "not a text file" in info.value.message
    assert len(info.value.message) < 60


def test_high_byte_soup_is_not_text() -> None:
    with pytest.raises(StoryBotError, match="not a text file"):
        decode(bytes(range(0xA0, 0x100)) * 40)


def test_looks_binary_tolerates_a_few_controls() -> None:
    assert not looks_binary(b"A story with a stray \x07 bell in it. " + b"More text. " * 100)
    assert looks_binary(b"text\x00more")
