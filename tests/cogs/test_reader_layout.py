"""The Components V2 reader, without Discord: for every chapter, pages join exactly to the
chapter, and no page's layout exceeds 4,000 characters of text displays or 40 components."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.library import Library
from bot.models import Chapter, ChapterInfo, Paragraph, Story
from bot.paging import paginate
from cogs._limits import COMPONENTS_LIMIT, TEXT_DISPLAYS_LIMIT
from cogs._views import PagerState, Rendered, reader_layout


def _walk(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for c in components:
        found.append(c)
        found += _walk(c.get("components", []))
        if "accessory" in c:
            found += _walk([c["accessory"]])
    return found


def _check(chapter: Chapter) -> None:
    pages = paginate(chapter.text)
    assert "".join(pages) == chapter.text
    for index in range(len(pages)):
        state = PagerState("pg", chapter.story.id, chapter.number, index, 1)
        rendered = Rendered(
            index, len(pages), chapter=chapter, pages=pages, before=True, after=True
        )
        parts = _walk(reader_layout(rendered, state).to_components())
        text = sum(len(c["content"]) for c in parts if c["type"] == 10)
        assert text <= TEXT_DISPLAYS_LIMIT
        assert len(parts) <= COMPONENTS_LIMIT


async def test_every_seed_chapter_fits(library: Library) -> None:
    for story in await library.stories(mature_ok=True):
        for info in story.chapters:
            _check(await library.chapter(story.id, info.number, mature_ok=True))


paragraph = st.text(
    alphabet=st.sampled_from("ab *_#>-`|~[]()\n.!?\u2019"), min_size=1, max_size=900
).filter(lambda t: t.strip() and "\n\n" not in t)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(paragraph, min_size=1, max_size=12),
    st.text(min_size=1, max_size=300),
    st.text(min_size=1, max_size=300),
    st.none() | st.text(min_size=1, max_size=3000),
)
def test_any_chapter_fits(texts: list[str], title: str, label: str, note: str | None) -> None:
    story = Story(
        7, "s", title, "s.txt", None, "general", None, 1, (ChapterInfo(1, label, 1, 0, 99),)
    )
    paragraphs = tuple(Paragraph(i, 7, 1, i, 0, t) for i, t in enumerate(texts))
    _check(Chapter(story, 1, label, note, paragraphs))
