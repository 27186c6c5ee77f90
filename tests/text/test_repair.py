"""repair: targeted ftfy for mojibake and our restoration of U+FFFD punctuation."""

from __future__ import annotations

import importlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.text.repair import needs_repair, repair, restore_replacements

repair_module = importlib.import_module("bot.text.repair")

R = "\ufffd"


@pytest.mark.parametrize(
    ("broken", "fixed"),
    [
        (f"It didn{R}t help.", "It didn’t help."),
        (f"I{R}m sure she{R}d say we{R}ll go, they{R}re here, I{R}ve seen.", None),
        (f"{R}What?{R} he said.", "“What?” he said."),
        (f"the Summers{R} house", "the Summers’ house"),
        (f"Xander{R}s face and Giles{R} red face.", "Xander’s face and Giles’ red face."),
        (f"as a sister{R} no, a friend", "as a sister… no, a friend"),
        (f"{R}Yeah I{R}m-{R}", "“Yeah I’m-”"),
        (f"{R}Buffy-{R} his voice", "“Buffy-” his voice"),
        (f"{R}you have a{R}{R}", "“you have a—”"),
        (f"{R}{R}llo.{R} He nodded.", "“’llo.” He nodded."),
        (f"He was her fianc{R} or lover", "He was her fiancé or lover"),
        (
            f"a caf{R} and a r{R}sum{R}, so na{R}ve, clich{R}",
            "a café and a résumé, so naïve, cliché",
        ),
        (f"FIANC{R}", "FIANCÉ"),
        (f"He felt more alive{R}well less undead", "He felt more alive—well less undead"),
        (
            f"{R}Oh, here it is{R} hmm{R}I see{R} do they?{R}",
            "“Oh, here it is… hmm…I see… do they?”",  # issue 12: a pause after "hmm", not a dash
        ),
        (f"{R}you{R}re not well {R}fine{R}.{R}", "“you’re not well ‘fine’.”"),
        (f"{R}Call me{R} or if there{R}s news.{R}", "“Call me… or if there’s news.”"),
        (f"{R}Well, so far{R}", "“Well, so far”"),
        (f"them all {R}flummoxed{R} as Giles put it", "them all “flummoxed” as Giles put it"),
        (f"{R}How{R}?{R} he asked", "“How…?” he asked"),
        (f"Li{R}l Bit, d{R}you know", "Li’l Bit, d’you know"),
        (f"{R}can{R}t see {R}em, can I?{R}", "“can’t see ’em, can I?”"),
        (f"one {R} two", "one – two"),
    ],
)
def test_replacement_rules(broken: str, fixed: str | None) -> None:
    out = repair(broken)
    assert R not in out
    if fixed is not None:
        assert out == fixed
    else:
        assert out == broken.replace(R, "’")


def test_quote_left_open_carries_to_the_next_line() -> None:
    text = f"{R}You always said\nI bounce around\nSince you broke our hearts{R} Willow sang."
    assert restore_replacements(text).endswith("hearts” Willow sang.")


def test_blank_line_closes_a_dangling_quote() -> None:
    text = f"{R}Open and never closed\n\nHe was tired{R} no, exhausted."
    assert restore_replacements(text).endswith("tired… no, exhausted.")


def test_no_replacement_character_survives_odd_contexts() -> None:
    for text in (R, R * 5, f" {R} ", f"{R}\n{R}", f"a{R}{R}{R}b", f"({R}x{R})", f"1{R}2"):
        assert R not in repair(text)


@pytest.mark.parametrize(
    ("broken", "fixed"),
    [
        ("donâ€™t", "don’t"),
        ("cafÃ©", "café"),
        ("â€œHelloâ€\x9d she said", "“Hello” she said"),
    ],
)
def test_mojibake(broken: str, fixed: str) -> None:
    assert repair(broken) == fixed


def test_ftfy_runs_only_on_the_lines_that_need_it(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    real = repair_module.ftfy.fix_text

    def spy(text: str, config: object = None) -> str:
        seen.append(text)
        return real(text, config)

    monkeypatch.setattr(repair_module.ftfy, "fix_text", spy)
    text = "clean line one\nIt was donâ€™t\nclean “curly” line three\n"
    assert repair(text) == "clean line one\nIt was don’t\nclean “curly” line three\n"
    assert seen == ["It was donâ€™t"]


def test_ftfy_keeps_the_authors_typography() -> None:
    text = "“Curly” quotes, ﬁ ligature, ＦＵＬＬ width &amp; entity — and cafÃ©"
    assert repair(text) == "“Curly” quotes, ﬁ ligature, ＦＵＬＬ width &amp; entity — and café"


def test_clean_text_is_returned_unchanged_and_fast() -> None:
    clean = "“Curly” quotes, café, naïve — fine.\n" * 1000
    assert not needs_repair(clean)
    assert repair(clean) is clean
    ascii_text = "plain ascii\n" * 1000
    assert repair(ascii_text) is ascii_text


def test_c1_controls_are_dropped() -> None:
    assert repair("a\x81b\x9dc") == "abc"


def test_seed_002_reads_right() -> None:
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "seeds" / "002_0ccc7f018ffbd0dd.txt"
    text = repair(path.read_text(encoding="utf-8"))
    assert R not in text
    for phrase in ("didn’t", "“What?”", "Summers’ house", "fiancé", "“’llo.”"):
        assert phrase in text
    assert repair(text) == text


_ALPHABET = st.sampled_from(
    [*"ab sS.,?!-'\"\n", R, "’", "“", "”", "Ã", "©", "â", "€", "™", "\x9d", "é"]
)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=60))
def test_repair_is_idempotent_and_leaves_no_fffd(text: str) -> None:
    once = repair(text)
    assert R not in once
    assert repair(once) == once


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_repair_is_idempotent_on_any_text(text: str) -> None:
    once = repair(text)
    assert repair(once) == once


def test_fffd_elisions_and_hesitations_from_seed_002() -> None:
    from bot.text.repair import repair as fix

    assert fix("\ufffdNow the Dr\ufffds have said t\ufffd take it easy,\ufffd") == (
        "“Now the Dr’s have said t’ take it easy,”"
    )
    assert fix("\ufffdOh, yes here it is\ufffd hmm\ufffdI see\ufffd do they?\ufffd") == (
        "“Oh, yes here it is… hmm…I see… do they?”"
    )
    assert fix("alive\ufffdwell") == "alive—well"  # a word that is no hesitation: a dash


@pytest.mark.parametrize(
    ("broken", "fixed"),
    [
        ("It was don‚Äôt", "It was don’t"),  # MacRoman
        ("It was donвЂ™t, Tip 2 вЂ“ Email", "It was don’t, Tip 2 – Email"),  # Windows-1251
        ("LiĂ¨ge Avenue de l'HĂ´pital", "Liège Avenue de l'Hôpital"),  # Windows-1250
        ("#╨┐╤Ç╨░╨▓╨╕╨╗╤î╨╜╨╛", "#правильно"),  # cp437
        ("\x93Quoted\x94 and\x85", "“Quoted” and…"),  # C1 controls, Windows-1252 meant
        ("voilÃ le travail", "voilà le travail"),  # a lost 0xA0
    ],
)
def test_mojibake_beyond_windows_1252(broken: str, fixed: str) -> None:
    text = f"A clean line, “curly” and café.\n{broken}\nAnother — clean… line.\n"
    assert needs_repair(text)
    assert repair(text) == f"A clean line, “curly” and café.\n{fixed}\nAnother — clean… line.\n"


@pytest.mark.parametrize(
    "clean",
    [
        "“Well…” she said—“no.” ‘Fine’, he thought – naïve, her fiancé, a café, 5 °C, ½ cup.",
        "He’s the “Nordic” type: Æther, Ørsted, Ñandú, Zoë, Björk, São Paulo, Łódź.",
        "Привет, мир. Καλημέρα κόσμε. Ça va, à bientôt — “très” bien!",
        "A no-break\u00a0space, an ellipsis…\u00a0and a dash —\u00a0here.",
    ],
)
def test_clean_text_shows_no_signature(clean: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Usual typography, accents and other scripts send no line to ftfy. (Some clean text does
    show a signature, "fiancé’s" being cp1252's "é’": ftfy then leaves it as it is.)"""

    def fail(*_args: object, **_kwargs: object) -> str:
        raise AssertionError("ftfy called on clean text")

    monkeypatch.setattr(repair_module.ftfy, "fix_text", fail)
    assert not needs_repair(clean)
    assert repair(clean) == clean
