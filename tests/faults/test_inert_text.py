"""Story text is always inert (issue 17, item 8): a page whose escapes would overflow the
reader's 4,000 characters is cut shorter before escaping, never shown unescaped; the Bookmark
confirmation escapes the story's words like /bookmarks does. Before the fix the page below
was shown unescaped (a live masked link, spoilers and code in a public /chapter) and the
confirmation quoted "@everyone" and "<@id>" as written."""

from __future__ import annotations

from pathlib import Path

import pytest
import simcord

from tests.cogs.helpers import answer, footer_text, page_text, server

HOSTILE = "[click here](https://evil.example/phish) ||the spoiler|| `code` ~~gone~~ ||x|| `y`."
PER = 20  # a paragraph of 1,800 characters, 700 of them escaped
STORY = (
    "Markup Heavy\n\nChapter 1\n\n"
    + "\n\n".join(f"Part {n}. " + " ".join([HOSTILE] * PER) for n in range(12))
    + "\n\nChapter 2\n\n@everyone look <@123456789012345678> here, said the note.\n"
)


@pytest.fixture
def stories_dir(stories_dir: Path) -> Path:
    (stories_dir / "markup-heavy.txt").write_text(STORY, encoding="utf-8")
    with (stories_dir / "library.toml").open("a", encoding="utf-8") as toml:
        toml.write('\n["markup-heavy.txt"]\nrating = "general"\n')  # unrated reads explicit
    return stories_dir


def assert_inert(shown: str) -> None:
    for live in ("](", "||the", "`code`", "~~gone~~"):
        assert live not in shown, (live, shown[:300])


async def test_every_page_of_a_markup_heavy_chapter_is_escaped(simcord_env: simcord.Env) -> None:
    s = server(simcord_env)
    message = answer(await s.alice.slash(s.channel, "chapter", story="markup-heavy", chapter="1"))
    pages = int(footer_text(message).rsplit(" of ", 1)[1])
    assert pages > 1
    seen = [page_text(message)]
    for _ in range(pages - 1):
        message = answer(await s.alice.click(message, label="Next"))
        seen.append(page_text(message))
    for shown in seen:
        assert_inert(shown)
    assert sum(shown.count("click here") for shown in seen) == PER * 12  # nothing left out


async def test_the_bookmark_confirmation_escapes_the_story_words(simcord_env: simcord.Env) -> None:
    s = server(simcord_env)
    message = answer(await s.alice.slash(s.channel, "chapter", story="markup-heavy", chapter="2"))
    told = answer(await s.alice.click(message, label="Bookmark"))
    assert "@everyone" not in told.content.replace("@\u200beveryone", "")
    assert "<@123456789012345678>" not in told.content
