"""cogs/_render.py and cogs/_views.py without Discord: markdown safety, embed limits,
custom_id limits."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.models import ChapterInfo, Story
from cogs._render import render_snippet, render_text, story_embed
from cogs._views import PagerState

STORY = Story(
    id=7,
    slug="s",
    title="T" * 300,
    file="s.txt",
    author=None,
    rating="general",
    url=None,
    words=1,
    chapters=(ChapterInfo(1, "Chapter 1", 1),),
)


def test_author_emphasis_is_kept_and_what_would_misrender_is_escaped() -> None:
    assert render_text("She was *so* tired.") == "She was *so* tired."
    assert render_text("# Not a heading\n> not a quote") == "\\# Not a heading\n\\> not a quote"
    assert render_text("- a dash of dialogue") == "\\- a dash of dialogue"
    assert render_text("a `tick` and ||spoiler|| and ~~x~~") == (
        "a \\`tick\\` and \\|\\|spoiler\\|\\| and \\~\\~x\\~\\~"
    )
    # a lone asterisk would pair with a later one and swallow text: escaped
    assert render_text("five *six and seven") == "five \\*six and seven"
    assert render_text("*a* and *b") == "\\*a\\* and \\*b"  # odd count: none can be trusted
    assert render_text("snake_case_word stays") == "snake_case_word stays"


def test_snippet_bold_survives_emphasis() -> None:
    assert render_snippet("my whole world is", [(3, 14)]) == "my **whole world** is"
    assert render_snippet("*I love* you", [(3, 12)]) == "\\*I **love\\* you**"
    assert render_snippet("…cut* here word", [(11, 15)]) == "…cut\\* here **word**"


def test_story_text_that_looks_like_a_mark_is_not_bold() -> None:
    """Matches travel as ranges: "[[link]]" written in a story stays as it was written."""
    text = "See [[link]] and the word"
    assert render_snippet(text, [(21, 25)]) == "See [[link]] and the **word**"
    assert render_snippet(text, []) == text


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=3500))
def test_story_embeds_fit_discord_limits(text: str) -> None:
    embed = story_embed(STORY, "L" * 300, text, extra="page 1 of 2")
    assert len(embed.description or "") <= 4096
    assert len(embed.title or "") <= 256 and len(embed.author.name or "") <= 256
    assert len(embed) <= 6000


def test_custom_ids_fit_in_100_characters() -> None:
    state = PagerState("pg", 2**31, -(2**31), 99999, 2**64 - 1)
    assert all(len(state.custom_id(a)) <= 100 for a in ("first", "prev", "at", "jump"))
