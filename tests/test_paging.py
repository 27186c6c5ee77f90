"""Pages: exact slices of the chapter, none over the limit, cut at paragraph breaks."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.paging import PAGE_LIMIT, paginate

paragraph = (
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"),
        min_size=1,
        max_size=900,
    )
    .map(str.strip)
    .filter(bool)
)


@given(
    st.lists(paragraph, min_size=1, max_size=40), st.integers(min_value=40, max_value=PAGE_LIMIT)
)
@settings(max_examples=200, deadline=None)
def test_pages_concatenate_to_the_chapter_and_fit(paragraphs: list[str], limit: int) -> None:
    text = "\n\n".join(paragraphs)
    pages = paginate(text, limit)
    assert "".join(pages) == text
    assert all(0 < len(p) <= limit for p in pages)


@given(st.text(max_size=5000), st.integers(min_value=1, max_value=500))
@settings(max_examples=200, deadline=None)
def test_any_text_any_limit(text: str, limit: int) -> None:
    pages = paginate(text, limit)
    assert "".join(pages) == text
    assert all(len(p) <= limit for p in pages)


def test_cuts_at_paragraph_breaks() -> None:
    paragraphs = [f"Paragraph {i} " + "word " * 60 for i in range(30)]
    text = "\n\n".join(p.strip() for p in paragraphs)
    pages = paginate(text, 1000)
    assert len(pages) > 3
    for page in pages[:-1]:
        assert page.endswith("\n\n"), "each page but the last ends at a paragraph break"
        assert not page[0].isspace()


def test_long_paragraph_is_cut_after_a_sentence() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(400))
    pages = paginate(text, 500)
    assert "".join(pages) == text
    assert all(p.rstrip().endswith(".") for p in pages[:-1])


def test_short_text_is_one_page() -> None:
    assert paginate("Just one line.") == ["Just one line."]
    assert paginate("") == [""]
