"""Quote search on the seeds: exact, misremembered and unknown lines, hostile input."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.library import Library
from bot.models import SearchResult
from bot.search import snippets, vocabulary
from bot.text.normalize import _WORD, fold, words

# (file prefix, the line as a reader types it). Lines of 002 are typed with plain apostrophes
# and straight quotes although the stored text has ’ “ ” (repaired from U+FFFD). The lines are
# unique in their story, so the right story and a paragraph holding the line is the right place;
# the test checks that the hit's chapter really holds that paragraph.
EXACT = [
    ("000", "She understood that Tara loved Willow dearly and always would."),
    ("000", "I understand that your feelings for Willow run deep and always will."),
    ("000", "Faith said with a smug look on her face."),
    ("000", "You've repaid the favor and then some Tara."),
    ("000", "I love her with everything inside of me!"),
    ("001", "Daylight was creeping back in to claim the world."),
    ("001", "But the book was pink, and not written for the likes of him."),
    ("001", "Tara granted her whole face to him, accepting this."),
    ("001", "my whole world is soaked in sorry"),
    ("001", "Buffy stared at him, a book in her hands"),
    ("002", "It didn't help that it was the middle of summer"),
    ("002", '"What?" he said quietly not wanting to wake the redhead.'),
    ("002", "Truth was that he still watched the Summers' house."),
    ("002", "practically moving into the Summers' basement"),
    ("002", "They assumed he was her fiance or lover"),
    ("002", "They waited for Anya to explain and gaped when she didn't."),
    ("002", "Spike winced as Buffy entered the crypt."),
    ("002", "He vowed and turned his attention to Willow as Buffy nodded and left."),
    ("002", "She finished cleaning the cut and sat back."),
    ("002", "Dawn said and went in before Buffy could do anything."),
    ("002", "I can't tell them I feel like I don't even know them."),
    ("002", '"Spike you can\'t use Fyarl words in Scrabble!"'),
    ("003", "Her hand reaches for his arm and he lets her touch him."),
    ("003", "Spike downs a huge draught and she realizes he's staring at her."),
    ("003", '"Who the bloody hell is it?"'),
    ("003", "It's empathy, isn't it? They're both outsiders"),
    ("004", "Or the stone will become a pebble, eroded by time."),
    ("004", "The pain had changed over the months but it hadn't gone away."),
    ("004", "Wish I'd been here so I could've helped Buffy and the Bit."),
    ("004", "As much as it hurt, she still hoped it would never leave her."),
]

# (file prefix, the line as it really is, the line as a reader half-remembers it)
MISREMEMBERED = [
    ("000", "Tara loved Willow dearly", "She knew that Tara loved Willow dearly and always would"),
    (
        "000",
        "feelings for Willow run deep",
        "I understand your feelings for Willow run deep and always will",
    ),
    ("001", "creeping back in to claim", "Daylight was creeping back to claim the world"),
    (
        "001",
        "not written for the likes",
        "But the book was pink and not meant for the likes of him",
    ),
    ("001", "whole face to him, accepting", "Tara granted her whole face to him, acepting this"),
    ("001", "soaked in sorry", "my whole world is soaked in sorrow"),
    ("002", "Spike winced as Buffy", "Spike flinched as Buffy entered the crypt"),
    ("002", "explain and gaped", "They waited for Anya to explain and stared when she didn't"),
    (
        "002",
        "turned his attention to Willow",
        "He vowed and turned his atention to Willow as Buffy nodded",
    ),
    ("002", "finished cleaning the cut", "She finished cleaning the wound and sat back"),
    ("003", "he lets her touch him", "Her hand reaches for his arm and he let her touch him"),
    (
        "003",
        "huge draught and she realizes",
        "Spike downs a huge draft and she realizes he's staring at her",
    ),
    ("004", "become a pebble, eroded", "Or the rock will become a pebble, eroded by time"),
    (
        "004",
        "changed over the months",
        "The pain had changed over the years but it hadn't gone away",
    ),
    ("004", "hoped it would never leave", "As much as it hurt, she hoped it would never leave her"),
]

NOWHERE = [
    "I never wanted to be a hero, I just wanted to go home",
    "The dragon circled the tower twice before landing on the battlements",
    "She poured the coffee and stared out at the rain over the harbour",
    "Nobody ever told me the ocean could be this loud at night",
    "The spreadsheet had forty columns and none of them added up",
]

HOSTILE = [
    "",
    "   ",
    '"',
    '""',
    '"unbalanced quote',
    "*",
    "spike*",
    "-spike",
    "^spike",
    "NEAR",
    "NEAR(",
    "NEAR(spike buffy, 2)",
    "spike AND",
    "AND OR NOT",
    "spike OR buffy NOT willow",
    "(",
    ")",
    "((spike)",
    "text:foo",
    "text: spike",
    "paragraphs_fts:spike",
    "texts_fts:spike",
    "{text}: spike",
    "@everyone",
    "@here <@123456789>",
    "...",
    "?!?! — … ’“”",
    "🧛‍♂️🔥💀",
    "Spike 🧛 Buffy",
    "שלום עולם",
    "مرحبا بالعالم",
    "吸血鬼の夜",
    "Zalgo s̷̡̛p̶i̵k̸e̴",
    "\x00\x01\x02",
    "x" * 10_000,
    "spike " * 2_000,
    "\u202espike\u202c",
    "'; DROP TABLE paragraphs; --",
    "'); DELETE FROM texts; --",
]


async def quote(library: Library, text: str, **kwargs: object) -> SearchResult:
    return await library.quote(text, mature_ok=True, **kwargs)  # type: ignore[arg-type]


def _contains(text: str, line: str) -> bool:
    return " ".join(words(line)) in " ".join(words(text))


@pytest.mark.parametrize(("prefix", "line"), EXACT, ids=[e[1][:40] for e in EXACT])
async def test_exact_line_is_found_first(library: Library, prefix: str, line: str) -> None:
    result = await quote(library, line)
    assert result.match == "exact"
    top = result.hits[0]
    assert top.story.file.startswith(prefix + "_")
    assert _contains(top.text, line)
    chapter = await library.chapter(top.story.slug, top.chapter, mature_ok=True)
    assert (top.position, top.text) in {(p.position, p.text) for p in chapter.paragraphs}
    assert top.chapter_label == chapter.label
    assert top.marks and all(0 <= a < b <= len(top.snippet) for a, b in top.marks)


@pytest.mark.parametrize(
    ("prefix", "really", "typed"), MISREMEMBERED, ids=[m[2][:40] for m in MISREMEMBERED]
)
async def test_misremembered_line_is_in_top_three(
    library: Library, prefix: str, really: str, typed: str
) -> None:
    result = await quote(library, typed)
    assert result.match in ("words", "fuzzy")
    assert any(
        h.story.file.startswith(prefix + "_") and _contains(h.text, really) for h in result.hits[:3]
    ), [h.snippet for h in result.hits]


@pytest.mark.parametrize("line", NOWHERE)
async def test_line_from_nowhere_is_none(library: Library, line: str) -> None:
    result = await quote(library, line)
    assert result.match == "none", [(h.score, h.snippet) for h in result.hits]
    assert result.hits == ()


async def test_soaked_in_sorry_marks_the_phrase(library: Library) -> None:
    result = await quote(library, "my whole world is soaked in sorry")
    top = result.hits[0]
    assert top.story.file.startswith("001_")
    # the phrase is marked, not every "my" of the paragraph
    assert [top.snippet[a:b] for a, b in top.marks] == ["my whole world is soaked in sorry"]
    assert top.text.count("my ") > 1


async def test_typographic_query_matches_plain_text_and_back(library: Library) -> None:
    plain = await quote(library, "Truth was that he still watched the Summers' house.")
    curly = await quote(library, "Truth was that he still watched the Summers’ house.")
    assert plain.match == curly.match == "exact"
    assert plain.hits[0].text == curly.hits[0].text


async def test_snippet_is_a_window_cut_at_words(library: Library) -> None:
    result = await quote(library, "Tempers were hot and nerves were stretched")
    top = result.hits[0]
    assert len(top.text) > 400
    body = top.snippet
    assert len(body) <= snippets.SNIPPET_CHARS + 2
    assert body.startswith("…") or top.text.startswith(body[:20])
    for piece in body.strip("…").split("…"):
        assert piece.strip() in top.text
    marked = [body[a:b] for a, b in top.marks]
    assert marked == ["Tempers were hot and nerves were stretched"]


async def test_context_gives_neighbouring_paragraphs(library: Library) -> None:
    result = await quote(library, "Spike winced as Buffy entered the crypt", context=True)
    top = result.hits[0]
    chapter = await library.chapter(top.story.slug, top.chapter, mature_ok=True)
    texts = [p.text for p in chapter.paragraphs]
    at = [p.position for p in chapter.paragraphs].index(top.position)
    assert top.before == (texts[at - 1] if at > 0 else None)
    assert top.after == (texts[at + 1] if at + 1 < len(texts) else None)
    assert top.before is not None or top.after is not None
    plain = await quote(library, "Spike winced as Buffy entered the crypt")
    assert plain.hits[0].before is None and plain.hits[0].after is None


async def test_story_filter(library: Library) -> None:
    everywhere = await quote(library, "Willow")
    assert {h.story.file[:3] for h in everywhere.hits} != {"004"}
    only = await quote(library, "Willow", story="004_6bfeca38034b4c2d.txt", limit=25)
    assert only.hits and {h.story.file[:3] for h in only.hits} == {"004"}


async def test_hits_are_best_first_and_not_repeated(library: Library) -> None:
    result = await quote(library, "Spike", limit=25)
    assert len(result.hits) == 25
    seen = {(h.story.id, h.text) for h in result.hits}
    assert len(seen) == len(result.hits)
    misremembered = await quote(library, "Buffy stared at him with a book in her hands", limit=5)
    scores = [h.score for h in misremembered.hits]
    assert scores == sorted(scores, reverse=True)


async def test_scattered_words_lose_to_the_actual_line(library: Library) -> None:
    """All the words of a long query appearing somewhere is weaker than the line itself."""
    result = await quote(library, "Spike winced as Buffy walked into the crypt")
    top = result.hits[0]
    assert _contains(top.text, "Spike winced as Buffy entered the crypt")


async def test_vocabulary_follows_the_library(
    library: Library, stories_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A misspelled word is corrected against words added by a later ingest."""
    monkeypatch.setattr(vocabulary, "SIGNATURE_TTL", 0.0)
    assert (await quote(library, "the quixotically marmalade zeppelin")).match == "none"
    (stories_dir / "005_new.txt").write_text(
        "A New One\n\nThe zeppelin drifted quixotically over the marmalade factory at dawn.\n",
        encoding="utf-8",
    )
    await library.ingest()
    result = await quote(library, "the zepelin drifted quixoticaly over the marmalade factory")
    assert result.match == "fuzzy"
    assert result.hits[0].story.file == "005_new.txt"


def test_folding_agrees_with_the_index() -> None:
    assert words("didn't") == words("didn’t") == ["didn", "t"]
    assert words("fiancé") == words("fiance") == words("FIANCE\u0301") == ["fiance"]
    assert words("well-known — “quoted”…") == ["well", "known", "quoted"]
    assert words("Spike🧛Buffy") == ["spike", "buffy"]
    assert words("snake_case") == ["snake", "case"]
    assert fold("  A\u00a0 B\n") == "a b"


@settings(max_examples=500)
@given(
    st.text(alphabet="aBcÉé\u0301ßİıŁ½x’‘“”—–…\u00a0 \t\n'-_🧛" + "ab" * 5, max_size=40) | st.text()
)
def test_words_are_the_words_of_the_folded_text(text: str) -> None:
    """words() skips folding steps that cannot change words; it must agree with fold()."""
    assert words(text) == _WORD.findall(fold(text))


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
async def test_hostile_query_gets_a_sensible_answer(library: Library, text: str) -> None:
    result = await quote(library, text)
    assert result.query == text
    assert result.match in ("exact", "words", "fuzzy", "none")
    assert (result.match == "none") == (not result.hits)
    for hit in result.hits:
        assert hit.text and hit.snippet


async def test_punctuation_only_is_none(library: Library) -> None:
    for text in ("", "   ", "...", "?!?! — … ’“”", "🧛‍♂️🔥💀", '""', "*", "("):
        result = await quote(library, text)
        assert result.match == "none" and result.hits == ()


_FTS_SYNTAX = st.from_regex(
    r'(?:\s|"|\*|\^|-|\+|:|\(|\)|\{|\}|NEAR|NEAR\(|AND|OR|NOT|text|spike|buffy|[a-z]{1,6}|\d|,)*',
    fullmatch=True,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.one_of(st.text(), st.text(alphabet=st.characters(codec="utf-8")), _FTS_SYNTAX))
async def test_no_query_raises(library: Library, text: str) -> None:
    result = await quote(library, text)
    assert result.match in ("exact", "words", "fuzzy", "none")
