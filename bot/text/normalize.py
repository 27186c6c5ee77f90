"""Folding for search and lookups: case, quotes, dashes, ellipses, diacritics, spaces.

This module does not cut the index: FTS5 does, with ``unicode61 remove_diacritics 2`` (a token
is a run of letters and digits, lower-cased, with Latin diacritics removed; everything else,
apostrophes of any shape, quotes, hyphens, emoji, U+FFFD, separates tokens). ``words()`` cuts
a query, and a text being scored, the same way, so the query "didn't" gives the tokens
``didn``, ``t`` exactly as the stored "didn’t" did, and "fiance" meets "fiancé".
"""

from __future__ import annotations

import re
import unicodedata

_PUNCT = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'",
        "\u00b4": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"',
        "\u2033": '"', "\u00ab": '"', "\u00bb": '"', "\u2010": "-", "\u2011": "-", "\u2012": "-",
        "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-", "\u2026": "...", "\u00a0": " ",
    }
)  # fmt: skip
_SPACES = re.compile(r"\s+")
# A word as FTS5's unicode61 sees one: letters and digits (the underscore is punctuation to
# FTS5). Combining marks stay inside the word so a decomposed "fiancé" is one word.
_WORD = re.compile(r"(?:[^\W_][\u0300-\u036f]*)+")
_LETTERS = re.compile(r"[^\W_]+")  # _WORD, for text without combining marks
# a character other than ASCII and the punctuation _PUNCT straightens ("ʼ" is a letter)
_NOT_PLAIN = re.compile(
    "[^\x00-\x7f" + "".join(chr(c) for c in sorted(_PUNCT) if not chr(c).isalnum()) + "]"
)


def fold(text: str) -> str:
    """Lower-case, strip diacritics, straighten quotes and dashes, collapse whitespace.

    ``str.lower`` rather than ``casefold``: FTS5 keeps "ß" as it is, and so must we.
    """
    text = text.translate(_PUNCT).lower()
    if not text.isascii():
        text = "".join(
            c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
        ).lower()
    return _SPACES.sub(" ", text).strip()


def words(text: str) -> list[str]:
    """The folded words of ``text``, as the search index tokenizes them.

    The same words, in the same order, as ``word_spans(text)``: folding maps punctuation to
    punctuation and never joins or splits words.
    """
    # The same as _WORD.findall(fold(text)), two to four times faster (search reads hundreds
    # of paragraphs per query): text whose only non-ASCII characters are quotes, dashes and
    # the like, which folding turns into other punctuation, has its words cut as they are.
    text = text.lower()
    if _NOT_PLAIN.search(text) is None:
        return _LETTERS.findall(text)
    return _WORD.findall(fold(text))


def word_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, folded word) for each word of ``text``, offsets into ``text`` itself."""
    spans: list[tuple[int, int, str]] = []
    for m in _WORD.finditer(text):
        word = m.group()
        if word.isascii():
            spans.append((m.start(), m.end(), word.lower()))
        else:  # folding may split a word ("x½" -> "x1⁄2"): every piece keeps the span
            spans.extend((m.start(), m.end(), piece) for piece in _WORD.findall(fold(word)))
    return spans


MAX_QUERY_CHARS = 500  # what a search reads of a query: a line or a description, not a book
MAX_QUERY_WORDS = 32


def cut_query(text: str) -> str:
    """``text`` cut at a space to at most MAX_QUERY_CHARS characters."""
    if len(text) <= MAX_QUERY_CHARS:
        return text
    cut = text.rfind(" ", 0, MAX_QUERY_CHARS)
    return text[: cut if cut > 0 else MAX_QUERY_CHARS]


def query_tokens(query: str) -> list[str]:
    """The query's words, folded, as FTS5's unicode61 tokenizer would see them."""
    return words(cut_query(query))[:MAX_QUERY_WORDS]
