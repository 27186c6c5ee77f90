"""The golden misremembered lines of tests/search/test_quote.py cut to 3-4 words with exactly
one word wrong: a short query should still reach the fuzzy step and find its line.

`.venv/bin/pytest -s tests/search/test_quote_short.py` prints the figure (before the single-key
fuzzy candidates: 29 of 63; after: 36 of 63)."""

from __future__ import annotations

from bot.library import Library
from bot.text.normalize import fold, words
from tests.search.test_quote import MISREMEMBERED, _contains


def short_windows(typed: str, paragraph: str) -> list[str]:
    """Runs of 3 and 4 typed words of which exactly one is not a word of the paragraph."""
    typed_words = typed.split()
    present = set(words(fold(paragraph)))
    folded = " ".join(words(fold(paragraph)))
    out = []
    for n in (3, 4):
        for i in range(len(typed_words) - n + 1):
            cut = " ".join(typed_words[i : i + n])
            cut_words = words(fold(cut))
            if " ".join(cut_words) in folded:
                continue
            if sum(w not in present for w in cut_words) == 1:
                out.append(cut)
    return out


async def test_short_queries_with_one_word_wrong(library: Library) -> None:
    total = found = 0
    for prefix, really, typed in MISREMEMBERED:
        paragraph = (await library.quote(really, mature_ok=True)).hits[0].text
        for cut in short_windows(typed, paragraph):
            result = await library.quote(cut, mature_ok=True, limit=5)
            total += 1
            found += any(
                h.story.file.startswith(prefix + "_") and _contains(h.text, really)
                for h in result.hits[:3]
            )
    print(f"\n{found}/{total} short queries with one word wrong find their line in the top 3")
    assert total == 63
    assert found >= 36


async def test_three_words_one_wrong_reach_the_fuzzy_step(library: Library) -> None:
    result = await library.quote("soaked in sorrow", mature_ok=True)
    assert result.match == "fuzzy"
    assert "my whole world is soaked in sorry" in result.hits[0].text
