"""tools/sizes.py, the size check `make lint` runs: long functions anywhere, radon D or worse
outside bot/text/, and inside it only under a comment naming a table of cases."""

from __future__ import annotations

from pathlib import Path

from tools.sizes import figures, offences

ROOT = Path(__file__).resolve().parents[2]


def _tangled(name: str) -> str:
    """A function of radon grade D (complexity 21): twenty independent branches."""
    body = "".join(f"    if x == {i}:\n        y += {i}\n" for i in range(20))
    return f"def {name}(x: int) -> int:\n    y = 0\n{body}    return y\n"


def _long(name: str, lines: int) -> str:
    body = "".join(f"    y += {i}\n" for i in range(lines - 3))
    return f"def {name}() -> int:\n    y = 0\n{body}    return y\n"


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (tmp_path / "cogs").mkdir(exist_ok=True)
    return tmp_path


def test_the_repository_passes() -> None:
    assert offences(ROOT) == []


def test_a_long_function_fails_anywhere(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {"bot/a.py": _long("fine", 60), "bot/text/b.py": _long("too_long", 61)},
    )
    assert offences(root) == ["bot/text/b.py:1 too_long: 61 lines (at most 60)"]


def test_grade_d_fails_outside_text_and_inside_it_without_its_reason(tmp_path: Path) -> None:
    explained = "# A table of cases: one branch a kind of line.\n" + _tangled("explained")
    root = _tree(
        tmp_path,
        {
            "cogs/c.py": _tangled("in_a_cog"),
            "bot/text/d.py": _tangled("unexplained") + "\n\n" + explained,
        },
    )
    found = offences(root)
    assert len(found) == 2, found
    assert found[0].startswith("bot/text/d.py:1 unexplained: radon grade D")
    assert found[1].startswith("cogs/c.py:1 in_a_cog: radon grade D")
    assert "explained:" not in " ".join(found).replace("unexplained", "")


def test_figures_name_the_largest_module(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"bot/a.py": _long("f", 10), "bot/b.py": _tangled("g")})
    shown = figures(root)
    assert "grade C or worse: 1 C 0 D 1 E 0 F 0" in shown
    assert "largest module: bot/b.py 43 lines" in shown
