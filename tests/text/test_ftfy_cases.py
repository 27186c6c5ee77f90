"""The text pipeline fixes mojibake as ftfy does, on ftfy's own public test cases.

Each case of tests/text/fixtures/ftfy_cases.json (see the README there) is put as a paragraph
of a UTF-8 story, between two plain paragraphs, and the story goes through the whole text
pipeline (bot.text.process). The paragraph served must be what ftfy.fix_text gives on the same
paragraph, with ftfy's encoding fixes only (storybot keeps the author's typography: curly
quotes, ligatures, full-width letters and HTML-looking text stay as written), after the
pipeline's own rules for any text: no control characters, runs of spaces as one.

This is what the cheap gate in bot/text/repair.py must not spoil: it decides which lines go to
ftfy, and a line it misses is served as mojibake (MacRoman "‚Äô", Windows-1251 "вЂ™", cp437
"╨┐", C1 quotes...).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import ftfy
import pytest

from bot.text import decode, process
from bot.text.repair import repair

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "fixtures" / "ftfy_cases.json").read_text(encoding="utf-8")
)
FTFY_ENCODING_FIXES = ftfy.TextFixerConfig(
    unescape_html=False,
    remove_terminal_escapes=False,
    fix_latin_ligatures=False,
    fix_character_width=False,
    uncurl_quotes=False,
    fix_line_breaks=False,
    remove_control_chars=False,
    normalization=None,
)
BEFORE = "The morning was quiet, and nobody said much at breakfast."
AFTER = "Later that day the rain came back, as it always did."
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _story(paragraph: str) -> str:
    return f"Chapter 1\n\n{BEFORE}\n\n{paragraph}\n\n{AFTER}\n"


def _served(paragraph: str) -> list[str]:
    """The paragraphs served between BEFORE and AFTER."""
    story = process(_story(paragraph).encode("utf-8"), "case.txt")
    texts = [text for chapter in story.chapters for _, text in chapter.paragraphs]
    return texts[texts.index(BEFORE) + 1 : texts.index(AFTER)]


def test_the_fixture_is_ftfys_93_passing_cases() -> None:
    assert len(CASES) == 93
    assert {case["file"] for case in CASES} == {"in-the-wild.json", "synthetic.json"}
    assert not any("\ufffd" in case["fixed"] for case in CASES)
    assert sum(case["original"] != ftfy.fix_text(case["original"]) for case in CASES) >= 60


@pytest.mark.parametrize("case", CASES, ids=[case["label"] for case in CASES])
def test_served_text_is_what_ftfy_gives(case: dict[str, Any]) -> None:
    original = case["original"]
    fixed = ftfy.fix_text(original, FTFY_ENCODING_FIXES)
    # the repair step alone, on the whole story: exactly ftfy's fix, every other line untouched
    assert repair(decode(_story(original).encode("utf-8"))) == _CONTROLS.sub("", _story(fixed))
    want = re.sub(" {2,}", " ", _CONTROLS.sub("", fixed)).strip()
    if not any(ch.isalnum() for ch in want):
        # a line of symbols alone ("┒(⌣˛⌣)┎") is a scene break in a story: not served as text
        assert _served(original) == []
    else:
        assert _served(original) == [want]
