"""Where the words a query and a text are cut into (bot/text/normalize.py) differ from the
index's (FTS5's unicode61, remove_diacritics 2), /quote still finds the line and marks it.

- A final sigma: FTS5 folds "ς" to "σ"; so do we, so a Greek line typed with either is an
  exact match on both engines (PostgreSQL is asked for the words literally).
- A combining mark beyond the Latin diacritics (U+0483, U+0305): FTS5 parts the word there,
  folding drops the mark; a word's span and its folded word agree, so the line is marked.
- A ligature ("ﬁ"): FTS5 keeps it a letter of its own, folding makes it "fi", so a line typed
  with "fi" is found (by the fuzzy stage) and marked.
"""

from __future__ import annotations

import unicodedata
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.library import Library
from bot.settings import Settings
from bot.text.normalize import word_spans, words

_GREEK_UPPER = "ΚΑΙ Ο ΔΡΟΜΟΣ ΗΤΑΝ ΜΑΚΡΥΣ ΜΕΣΑ ΣΤΗ ΝΥΧΤΑ ΠΟΥ ΕΠΕΦΤΕ ΑΡΓΑ ΠΑΝΩ ΣΤΗΝ ΠΟΛΗ."
_GREEK = "και ο δρομος ηταν μακρυς μεσα στη νυχτα που επεφτε αργα πανω στην πολη ξανα."
_TITLO = "The old book said д\u0483ом in faded ink beside the drawing of the monastery."
_LIGATURE = "She read the ﬁne print twice before she signed the ﬂimsy contract that evening."
_FILLER = "Nothing happened in the village that morning, and the baker sold his bread."


@pytest.fixture(params=["sqlite", "postgresql"])
async def library(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Library]:
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    folder = tmp_path / "stories"
    folder.mkdir()
    lines = [_FILLER] * 3 + [_GREEK_UPPER, _GREEK, _TITLO, _LIGATURE]
    (folder / "001_story.txt").write_text("Story\n\n" + "\n\n".join(lines) + "\n", encoding="utf-8")
    settings = Settings(
        stories_dir=folder, data_dir=tmp_path / "data", scene_model="off", database_url=url
    )
    opened = await Library.open(settings)
    await opened.ingest()
    try:
        yield opened
    finally:
        await opened.close()


def _marked(snippet: str, marks: tuple[tuple[int, int], ...]) -> str:
    return " ".join(snippet[a:b] for a, b in marks)


@pytest.mark.parametrize(
    ("query", "line", "shown"),
    [
        ("ΔΡΟΜΟΣ ΗΤΑΝ ΜΑΚΡΥΣ", _GREEK_UPPER, "ΔΡΟΜΟΣ ΗΤΑΝ ΜΑΚΡΥΣ"),
        ("ο δρομος ηταν μακρυς μεσα στη νυχτα που επεφτε αργα πανω στην πολη ξανα", _GREEK, None),
        ("ο δρομοσ ηταν μακρυσ μεσα στη νυχτα που επεφτε αργα πανω στην πολη ξανα", _GREEK, None),
    ],
    ids=["upper case", "final sigma", "sigma typed at the end"],
)
async def test_a_greek_line_with_a_final_sigma_is_an_exact_match(
    library: Library, query: str, line: str, shown: str | None
) -> None:
    found = await library.quote(query, mature_ok=True)
    assert found.match == "exact" and found.hits[0].text == line
    hit = found.hits[0]
    assert _marked(hit.snippet, hit.marks) == (shown or line[4:-1])  # without "και", "."


async def test_a_word_holding_a_mark_fts5_parts_at_is_found_and_marked(
    library: Library,
) -> None:
    assert words(_TITLO) == [w for _, _, w in word_spans(_TITLO)]
    for query in ("the old book said дом in faded ink", "the old book said д\u0483ом in faded ink"):
        found = await library.quote(query, mature_ok=True)
        hit = found.hits[0]
        assert found.match == "fuzzy" and hit.text == _TITLO
        assert _marked(hit.snippet, hit.marks) == "The old book said д\u0483ом in faded ink"


async def test_a_line_holding_a_ligature_is_found_by_the_letters_and_marked(
    library: Library,
) -> None:
    found = await library.quote("the fine print twice", mature_ok=True)
    hit = found.hits[0]
    assert found.match == "fuzzy" and hit.text == _LIGATURE
    assert _marked(hit.snippet, hit.marks) == "the ﬁne print twice"


_MARKS = [chr(c) for c in range(0x300, 0x20000) if unicodedata.combining(chr(c))]


@settings(max_examples=1000)
@given(st.text(alphabet=st.sampled_from([*"aBé дом ΣςΔ x’-_.", "\u034f", *_MARKS]), max_size=30))
def test_words_and_their_spans_are_the_same_words_with_marks_of_every_script(text: str) -> None:
    assert words(text) == [w for _, _, w in word_spans(text)]
