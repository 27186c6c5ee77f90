"""Sizes and tangles of bot/ and cogs/, from radon: `python -m tools.sizes [--check]`.

Without --check it prints the figures: functions of radon grade C or worse, functions over
60 lines, the largest module. With --check (`make lint`) it fails, one line per offence, on
a function over 60 lines anywhere, or of grade D or worse outside bot/text/. Inside bot/text/
a D or worse passes when the comment just above its `def` says why its shape is a "table of
cases" (a parser's branches, one a case).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from radon.complexity import cc_rank, cc_visit
from radon.visitors import Class, Function

ROOTS = ("bot", "cogs")
MAX_LINES = 60
ALLOWED_IN_TEXT = "table of cases"


@dataclass(frozen=True, slots=True)
class Block:
    path: str
    name: str
    line: int
    lines: int
    complexity: int

    @property
    def grade(self) -> str:
        return cc_rank(self.complexity)

    def where(self) -> str:
        return f"{self.path}:{self.line} {self.name}"


def _blocks(path: Path) -> list[Block]:
    out: list[Block] = []
    # radon lists methods beside functions (a class's own entry only sums them); closures
    # are listed under the function that holds them
    for item in cc_visit(path.read_text(encoding="utf-8")):
        if isinstance(item, Class):
            continue
        assert isinstance(item, Function)
        name = f"{item.classname}.{item.name}" if item.classname else item.name
        out.append(
            Block(str(path), name, item.lineno, item.endline - item.lineno + 1, item.complexity)
        )
        out.extend(_closures(path, item, name))
    return out


def _closures(path: Path, function: Function, outer: str) -> list[Block]:
    out: list[Block] = []
    for inner in function.closures:
        name = f"{outer}.{inner.name}"
        out.append(
            Block(str(path), name, inner.lineno, inner.endline - inner.lineno + 1, inner.complexity)
        )
        out.extend(_closures(path, inner, name))
    return out


def _files(root: Path) -> list[Path]:
    return sorted(p for r in ROOTS for p in (root / r).rglob("*.py"))


def _explained(path: Path, line: int) -> bool:
    """Whether the comment lines just above the def (and its decorators) name a table of cases."""
    lines = path.read_text(encoding="utf-8").splitlines()
    i = line - 2
    while i >= 0 and lines[i].lstrip().startswith("@"):
        i -= 1
    while i >= 0 and lines[i].lstrip().startswith("#"):
        if ALLOWED_IN_TEXT in lines[i].lower():
            return True
        i -= 1
    return False


def offences(root: Path) -> list[str]:
    out: list[str] = []
    for path in _files(root):
        rel = path.relative_to(root)
        for b in _blocks(path):
            shown = Block(str(rel), b.name, b.line, b.lines, b.complexity)
            if b.lines > MAX_LINES:
                out.append(f"{shown.where()}: {b.lines} lines (at most {MAX_LINES})")
            if b.grade in "DEF":
                in_text = rel.parts[:2] == ("bot", "text")
                if not in_text:
                    out.append(
                        f"{shown.where()}: radon grade {b.grade} ({b.complexity}); "
                        "D or worse only in bot/text/"
                    )
                elif not _explained(path, b.line):
                    out.append(
                        f"{shown.where()}: radon grade {b.grade} ({b.complexity}) in bot/text/ "
                        f"without a comment above it saying why it is a {ALLOWED_IN_TEXT}"
                    )
    return out


def figures(root: Path) -> str:
    blocks = [b for p in _files(root) for b in _blocks(p)]
    modules = sorted(((_line_count(p), p.relative_to(root)) for p in _files(root)), reverse=True)
    worse = [b for b in blocks if b.grade not in "AB"]
    by_grade = {g: sum(1 for b in worse if b.grade == g) for g in "CDEF"}
    long_ = [b for b in blocks if b.lines > MAX_LINES]
    lines = [
        f"functions: {len(blocks)} in {len(modules)} modules under {', '.join(ROOTS)}/",
        f"grade C or worse: {len(worse)} " + " ".join(f"{g} {n}" for g, n in by_grade.items()),
        f"over {MAX_LINES} lines: {len(long_)}",
        f"largest module: {modules[0][1]} {modules[0][0]} lines",
    ]
    for b in sorted(worse, key=lambda b: -b.complexity):
        if b.grade != "C":
            lines.append(f"  {b.grade} {b.complexity:3} {_short(b, root)}")
    for b in sorted(long_, key=lambda b: -b.lines):
        lines.append(f"  {b.lines:3} lines {_short(b, root)}")
    return "\n".join(lines)


def _short(block: Block, root: Path) -> str:
    return f"{block.path.removeprefix(str(root) + '/')}:{block.line} {block.name}"


def _line_count(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail on an offence")
    args = parser.parse_args(argv)
    root = Path(__file__).resolve().parent.parent
    if not args.check:
        print(figures(root))
        return 0
    found = offences(root)
    for line in found:
        print(line, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
