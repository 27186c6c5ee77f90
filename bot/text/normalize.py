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
from collections.abc import Callable, Sequence

_PUNCT = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'",
        "\u00b4": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"',
        "\u2033": '"', "\u00ab": '"', "\u00bb": '"', "\u2010": "-", "\u2011": "-", "\u2012": "-",
        "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-", "\u2026": "...", "\u00a0": " ",
    }
)  # fmt: skip
_STRAIGHTENED = {chr(k): v for k, v in _PUNCT.items()}
_STRAIGHTEN = re.compile("[" + re.escape("".join(_STRAIGHTENED)) + "]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _ranges(codes: list[int]) -> str:
    """A regular expression's character class body for ``codes`` (ascending), as ranges."""
    spans: list[list[int]] = []
    for code in codes:
        if spans and code == spans[-1][1] + 1:
            spans[-1][1] = code
        else:
            spans.append([code, code])
    return "".join(re.escape(chr(a)) + (f"-{re.escape(chr(b))}" if b > a else "") for a, b in spans)


# the combining marks folding drops (a combining class above 0; none beyond U+1FFFF) and
# those _WORD keeps in a word (U+0300-036F, U+034F too)
_MARKS = _ranges(
    [c for c in range(0x20000) if unicodedata.combining(chr(c)) or 0x300 <= c <= 0x36F]
)
# A word as FTS5's unicode61 sees one: letters and digits (the underscore is punctuation to
# FTS5). Combining marks stay inside the word so a decomposed "fiancé" is one word. This cuts
# folded text, which holds no other mark (folding drops them all); text as it stands is cut by
# _TEXT_WORD, which keeps every combining mark inside the word, so that a word's span and its
# folded word agree ("д\u0483ом" is "дом" either way: ``words`` and ``word_spans`` cut the
# same words). FTS5 itself drops only the Latin diacritics and parts words at most other
# marks (U+0305, U+0483: "д", "ом"), and keeps a ligature ("ﬁ") a letter of its own where
# folding makes it "fi": such a word is not found by FTS5 but by the fuzzy stage, which
# compares folded words (tests/search/test_fold_differences.py).
_WORD = re.compile(r"(?:[^\W_][\u0300-\u036f]*)+")
_TEXT_WORD = re.compile(rf"(?:[^\W_][{_MARKS}]*)+")
# a character other than ASCII and the punctuation _PUNCT straightens ("ʼ" is a letter)
_NOT_PLAIN = re.compile(
    "[^\x00-\x7f" + "".join(chr(c) for c in sorted(_PUNCT) if not chr(c).isalnum()) + "]"
)


def fold(text: str) -> str:
    """Lower-case, strip diacritics, straighten quotes and dashes, collapse whitespace.

    ``str.lower`` rather than ``casefold``: FTS5 keeps "ß" as it is, and so must we.
    """
    # What text.translate(_PUNCT), then NFKD and dropping combining marks over the whole text,
    # then collapsing whitespace with a regular expression, would give (tests/text/
    # test_normalize.py holds them equal), several times faster on long text: only the
    # non-ASCII runs are decomposed (an ASCII character is its own decomposition and no mark
    # moves across it), and str.split collapses the same whitespace as \s+.
    text = _STRAIGHTEN.sub(_straightened, text).lower()
    if not text.isascii():
        # a final sigma is a sigma, as FTS5 folds it: the index holds "δρομοσ" for "ΔΡΟΜΟΣ"
        # and "δρόμος" alike, and PostgreSQL is asked for the words as cut here, literally
        text = _NON_ASCII.sub(_decomposed, text).lower().replace("ς", "σ")
    return " ".join(text.split())


def _straightened(match: re.Match[str]) -> str:
    return _STRAIGHTENED[match.group()]


def _decomposed(match: re.Match[str]) -> str:
    """A run of non-ASCII characters, decomposed (NFKD), without its combining marks."""
    decomposed = unicodedata.normalize("NFKD", match.group())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# What separates words (below), byte by byte of the UTF-8: ASCII other than letters and
# digits. A byte of a multi-byte character is 0x80 or above: in plain text every such
# character is punctuation (_PLAIN_SEPARATORS, which also lower-cases); in other text it is
# kept and looked at again.
_PLAIN_SEPARATORS = bytes(
    ord(chr(c).lower()) if chr(c).isascii() and chr(c).isalnum() else 32 for c in range(256)
)
_ASCII_SEPARATORS = bytes(c if c >= 0x80 or chr(c).isalnum() else 32 for c in range(256))
_ASCII_BYTES = bytes(range(128))
# the characters beside ASCII that plain text may hold: punctuation that folding straightens
_PLAIN_EXTRA = "".join(
    chr(c) for c in sorted(_PUNCT) if not chr(c).isascii() and not chr(c).isalnum()
)


def spaced(text: str) -> str | None:
    """The words of plain text, as ``words`` cuts them, each parted from the next by one
    space or more (and maybe spaces before the first and after the last); None for other
    text.

    Plain text is ASCII and the punctuation folding straightens (quotes, dashes, ellipses):
    its words are runs of ASCII letters and digits, lower-cased. Cutting a text this far costs
    a fraction of cutting it into a list of words: enough to look for words and phrases in
    (``" word " in f" {spaced} "``, ``phrase_test``)."""
    # by bytes: the UTF-8 of every character beyond ASCII is bytes of 0x80 and above, which
    # the tables turn into spaces (str.lower and a regular expression over a text holding a
    # curly quote cost several times as much)
    data = text.encode(errors="surrogatepass")  # a lone surrogate stays one: not plain
    beyond = data.translate(None, _ASCII_BYTES)
    if beyond and beyond.decode(errors="surrogatepass").strip(_PLAIN_EXTRA):
        return None
    return data.translate(_PLAIN_SEPARATORS).decode("ascii")


def words(text: str) -> list[str]:
    """The folded words of ``text``, as the search index tokenizes them.

    The same words, in the same order, as ``word_spans(text)``: folding maps punctuation to
    punctuation and never joins or splits words.
    """
    # The same as _WORD.findall(fold(text)), several times faster (search reads hundreds of
    # paragraphs per query): words are cut at ASCII punctuation and spaces by bytes.translate
    # rather than a regular expression. In plain text, whose only non-ASCII characters are
    # quotes, dashes and the like (which folding turns into other punctuation), those cut
    # words too, and nothing is folded (``spaced``); in other text, the few pieces holding a
    # non-ASCII character are cut again by _WORD.
    plain = spaced(text)
    if plain is not None:
        return plain.split()
    # lower-cased before folding, as always (a final sigma is told by what stands before it)
    folded = fold(text.lower()).encode(errors="surrogatepass")  # a lone surrogate stays one
    pieces = folded.translate(_ASCII_SEPARATORS).decode(errors="surrogatepass").split()
    out: list[str] = []
    for piece in pieces:
        if piece.isascii():
            out.append(piece)
        else:
            out += _WORD.findall(piece)
    return out


def phrase_in(phrase: Sequence[str]) -> Callable[[str], bool]:
    """A test of whether words parted by spaces (``spaced``'s, or a list of words joined by
    spaces) hold ``phrase`` (a non-empty list of words as ``words`` cuts them), one word after
    another."""
    # the regular expression engine skips ahead to where " first " is
    pattern = re.compile(" " + " +".join(re.escape(word) for word in phrase) + " ")
    return lambda text: pattern.search(f" {text} ") is not None


def phrase_test(phrase: Sequence[str]) -> Callable[[str], bool | None]:
    """A quick test of whether ``words(text)`` holds ``phrase`` (a non-empty list of words as
    ``words`` cuts them), one word after another, without cutting the text into words: True
    or False for plain text (see ``spaced``); None for other text, which must be cut with
    ``words`` to tell."""
    holds = phrase_in(phrase)

    def test(text: str) -> bool | None:
        plain = spaced(text)
        return None if plain is None else holds(plain)

    return test


# a word of plain text (see ``words``): a run of ASCII letters and digits
_PLAIN_WORD = re.compile(r"[A-Za-z0-9]+")


def word_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, folded word) for each word of ``text``, offsets into ``text`` itself."""
    if text.isascii() or _NOT_PLAIN.search(text) is None:
        # the same spans as below, several times faster: in plain text a word is a run of
        # ASCII letters and digits (no combining mark, no other letter), folded by lower()
        return [(m.start(), m.end(), m.group().lower()) for m in _PLAIN_WORD.finditer(text)]
    spans: list[tuple[int, int, str]] = []
    for m in _TEXT_WORD.finditer(text):
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
