"""What an ingest made of each file, said for the operator: the report's lines and parts.

For each new or changed story file: its title, author, rating and where the rating came from
(the file itself, library.toml, DEFAULT_RATING, or kept from before), chapters, words, and
what was left out of the chapters by kind (front matter, licence, notes, captions ...). For
each file of the stories folder that is not read: why (a format storybot does not read, a
folder). The CLI prints these lines, the bot logs them at startup, and /library reload shows
them shortened.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from bot.models import FileReport, IngestReport, ParsedStory, RatingSource
from bot.text import STORY_SUFFIXES

__all__ = [
    "default_rated",
    "describe_file",
    "file_report",
    "not_read",
    "report_lines",
    "words",
]

# what an ingest says of a file it does not read, by suffix; anything else is "not a story
# format" with the formats it does read
_WHY: dict[str, str] = {
    ".pdf": "a PDF: convert it to EPUB or .txt (calibre's ebook-convert does)",
    ".md": "Markdown is not read: convert it with pandoc (pandoc story.md -o story.epub)",
    ".markdown": "Markdown is not read: convert it with pandoc (pandoc story.md -o story.epub)",
    ".htmlz": "a calibre HTMLZ: unzip it and add its index.html, or convert it to EPUB",
    ".mobi": "a Kindle book: convert it to EPUB (calibre's ebook-convert does)",
    ".azw": "a Kindle book: convert it to EPUB (calibre's ebook-convert does)",
    ".azw3": "a Kindle book: convert it to EPUB (calibre's ebook-convert does)",
    ".docx": "a Word document: save it as .txt or convert it to EPUB",
    ".doc": "a Word document: save it as .txt or convert it to EPUB",
    ".odt": "an OpenDocument text: save it as .txt or convert it to EPUB",
    ".rtf": "RTF is not read: save it as .txt",
    ".zip": "a zip archive: unpack its stories into the folder",
}
_QUIET = frozenset({"library.toml"})  # the folder's own files, never stories


def words(text: str) -> int:
    """Words as the report counts what was left out: runs of non-space characters."""
    return len(text.split())


def not_read(folder: Path, read: Iterable[str]) -> list[tuple[str, str]]:
    """(file, why) for each visible entry of the folder that ingest does not read."""
    taken = set(read)
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return []  # the folder itself is ingest's error to report
    found: list[tuple[str, str]] = []
    for path in entries:
        name = path.name
        if name in taken or name in _QUIET or name.startswith(".") or name.endswith("~"):
            continue
        suffix = path.suffix.lower()
        if path.is_dir():
            found.append((name, "a folder: only the stories folder's own files are read"))
        elif suffix not in STORY_SUFFIXES:
            formats = ", ".join(STORY_SUFFIXES)
            found.append((name, _WHY.get(suffix, f"not a story format (storybot reads {formats})")))
    return found


def file_report(
    file: str, story: ParsedStory, rating_from: RatingSource, served: int
) -> FileReport:
    """What the pipeline made of one file (its rating already final); ``served``: the words
    of its chapters, as the store counts them (StoryCut.words), so the report and `stories`
    agree."""
    left: Counter[str] = Counter()
    for kind, text in story.left_out:
        left[kind] += words(text)
    notes = sum(words(c.note) for c in story.chapters if c.note)
    if notes:
        left["notes"] += notes
    return FileReport(
        file=file,
        title=story.title,
        author=story.meta.author,
        rating=story.meta.rating or "explicit",
        rating_from=rating_from,
        chapters=sum(1 for c in story.chapters if c.paragraphs),
        words=served,
        left_out=tuple(sorted(((k, n) for k, n in left.items() if n), key=lambda kn: -kn[1])),
    )


def describe_file(f: FileReport) -> str:
    """One line: "a.epub: “Title” by Author, teen (file), 12 chapters, 30,411 words; left
    out: licence 3,120, front matter 230"."""
    by = f" by {f.author}" if f.author else ""
    chapters = "1 chapter" if f.chapters == 1 else f"{f.chapters} chapters"
    line = f"{f.file}: “{f.title}”{by}, {f.rating} ({f.rating_from}), {chapters}, {f.words:,} words"
    if f.left_out:
        line += "; left out: " + ", ".join(f"{kind} {n:,}" for kind, n in f.left_out)
    return line


def default_rated(report: IngestReport) -> list[FileReport]:
    return [f for f in report.files if f.rating_from == "DEFAULT_RATING"]


def report_lines(
    report: IngestReport,
    *,
    limit: int | None = None,
    skips: bool = True,
    warnings: bool = True,
) -> list[str]:
    """The report's detail lines (after its one-line summary): each added or changed file,
    each file not read or skipped, the stories rated by DEFAULT_RATING, then warnings.
    ``limit`` shortens the file list (the rest counted in one line); ``skips`` and
    ``warnings`` False leave out what the log has said already, so each is said once."""
    lines: list[str] = []
    shown = report.files if limit is None else report.files[:limit]
    added = set(report.added)
    for f in shown:
        lines.append(f"  {'added' if f.file in added else 'changed'} {describe_file(f)}")
    if len(shown) < len(report.files):
        lines.append(f"  … and {len(report.files) - len(shown)} more files read")
    lines += [f"  removed {file}" for file in report.removed]
    if skips:
        lines += [f"  skipped {file}: {reason}" for file, reason in report.skipped]
    lines += [f"  not read {file}: {why}" for file, why in report.not_read]
    rated = default_rated(report)
    if rated:
        rating = rated[0].rating
        names = ", ".join(f.file for f in rated)
        lines.append(
            f"  rated {rating} by DEFAULT_RATING (neither the file nor library.toml rates"
            f" {'it' if len(rated) == 1 else 'them'}): {names}"
        )
    if warnings:
        lines += [f"  warning: {warning}" for warning in report.warnings]
    return lines
