"""A large library for benchmarks: the seeds and tests/fixtures/corpus, copied under new titles."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
# The public-domain novel ships with the tests (tests/fixtures/corpus); BENCH_CORPUS may name
# another folder of .txt novels.
CORPUS_CANDIDATES = [
    Path(p) for p in (os.environ.get("BENCH_CORPUS"), ROOT / "tests" / "fixtures" / "corpus") if p
]
BENCH_DIR = ROOT / "bench-data"


def source_files() -> list[Path]:
    files = sorted(SEEDS.glob("*.txt"))
    for folder in CORPUS_CANDIDATES:
        if str(folder) and folder.is_dir():
            files += sorted(folder.glob("*.txt"))
            break
    return files


def build_library(
    target_mb: float = 100.0, folder: Path | None = None, *, distinct: bool = False
) -> Path:
    """Write copies of the sources, each under its own title line, until target_mb is reached.

    Each copy gets a distinct first line ("Copy N of <name>") so titles and hashes differ.
    With ``distinct``, every line of 40 characters or more also ends with a mark of
    punctuation that differs per copy, so no paragraph repeats in the library but every
    word is where it was: the search index is as large as the repeated library's before
    storybot stored each distinct text once. Reuses the folder when it already holds the
    library of that size.
    """
    name = f"library-{int(target_mb)}mb" + ("-distinct" if distinct else "")
    folder = folder or BENCH_DIR / name
    marker = folder / ".complete"
    if marker.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    sources = [(p.stem, p.read_bytes()) for p in source_files()]
    target = int(target_mb * 1024 * 1024)
    total = 0
    copy = 0
    while total < target:
        copy += 1
        for stem, data in sources:
            name = f"{copy:04d}_{stem}.txt"
            header = f"Copy {copy} of {stem}\n\n".encode()
            body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
            if distinct:
                body = _mark_lines(body, copy)
            (folder / name).write_bytes(header + body)
            total += len(header) + len(body)
    marker.write_text(str(total))
    return folder


def _mark_lines(body: bytes, copy: int) -> bytes:
    """End each long line with ``copy`` in base 4, written in punctuation (no word changes)."""
    digits = ""
    while copy:
        copy, digit = divmod(copy, 4)
        digits += "~^+="[digit]
    mark = f" {digits}".encode()
    return b"\n".join(
        line.rstrip(b"\r") + mark if len(line) >= 40 else line for line in body.split(b"\n")
    )


def library_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.glob("*.txt"))
