"""Chapter numbers as books write them: '11', 'XI', 'Six', 'Twenty-One'."""

from __future__ import annotations

import re

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_WORD_NUMBER = (
    r"(?:(?:" + "|".join(_TENS) + r")(?:[- ](?:" + "|".join(k for k in _UNITS if k != "zero")
    + r"))?|" + "|".join(sorted(_UNITS, key=len, reverse=True)) + r"|hundred)"
)  # fmt: skip
_ROMAN = re.compile(r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
_NUM = r"(?:\d{1,4}|[IVXLCDM]{1,9}|[ivxlcdm]{1,9}|" + _WORD_NUMBER + r")"


def _roman(text: str) -> int | None:
    upper = text.upper()
    if not upper or not _ROMAN.fullmatch(upper) or not (text.isupper() or text.islower()):
        return None
    total = 0
    for i, ch in enumerate(upper):
        value = _ROMAN_VALUES[ch]
        nxt = _ROMAN_VALUES[upper[i + 1]] if i + 1 < len(upper) else 0
        total += -value if value < nxt else value
    return total if total <= 300 else None  # "mix" is a word, not 1009


def parse_number(text: str) -> int | None:
    """'11' -> 11, 'XI' -> 11, 'Six' -> 6, 'Twenty-One' -> 21; None when it is not a number."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    word = text.lower()
    if word in _UNITS:
        return _UNITS[word]
    if word == "hundred":
        return 100
    parts = re.split(r"[- ]", word)
    if parts[0] in _TENS and (len(parts) == 1 or (len(parts) == 2 and parts[1] in _UNITS)):
        return _TENS[parts[0]] + (_UNITS[parts[1]] if len(parts) == 2 else 0)
    return _roman(text)
