"""A chapter while it is being assembled: its heading, notes and paragraphs in reading order
(shared by the assembly and the front-matter steps, so neither imports the other)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.text.structure.headings import _Heading


@dataclass(slots=True)
class _Draft:
    heading: _Heading | None
    notes: list[str]
    paragraphs: list[tuple[int, str]]
    # how many notes came before each paragraph, so one turned into a note takes its place
    # among them in reading order
    marks: list[int] = field(default_factory=list)

    def note_paragraph(self, index: int) -> None:
        """Move paragraph ``index`` (the first or the last) to the notes, where it was read."""
        _, text = self.paragraphs.pop(index)
        self.notes.insert(self.marks.pop(index), text)
