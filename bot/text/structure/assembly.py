"""Paragraphs and markers into chapters: scenes, notes, repeats, numbering in reading order."""

from __future__ import annotations

from collections import Counter

from bot.models import ParsedChapter
from bot.text.structure.draft import _Draft
from bot.text.structure.front_matter import (
    _drop_colophon,
    _drop_epigraph,
    _drop_front_matter,
    _front_matter_line,
)
from bot.text.structure.headings import _BLANK, _BREAK, _END, _NOTE_ITEM, _Heading
from bot.text.structure.left_out import leave_out
from bot.text.structure.paragraphs import MAX_PARAGRAPH, Item, split_long
from bot.text.structure.patterns import _BYLINE, _META, _NOTE


def _is_note(text: str) -> bool:
    return _NOTE.match(text) is not None


def _is_meta(text: str) -> bool:
    """A short paragraph about the fic itself (reviews, updates, 'this fic won't be finished')."""
    return len(text) <= 600 and not any(q in text for q in '"“”') and _META.search(text) is not None


def _drop_repeats(paragraphs: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Drop a run of paragraphs (200+ characters) that repeats the run just before it."""
    if len(paragraphs) < 2:
        return paragraphs
    texts = [t for _, t in paragraphs]
    if len(set(texts)) == len(texts):
        return paragraphs  # (cheap) no paragraph comes twice, so no run does
    seen: dict[str, int] = {}
    keep = [True] * len(texts)
    i = 0
    while i < len(texts):
        text = texts[i]
        j = seen.get(text)
        seen[text] = i
        if j is not None and 0 < i - j <= 50:
            k = i - j
            if texts[j:i] == texts[i : i + k] and sum(map(len, texts[j:i])) >= 200:
                for m in range(i, i + k):
                    keep[m] = False
                for m in range(i, i + k):
                    seen[texts[m]] = j + (m - i)
                i += k
                continue
        i += 1
    if all(keep):
        return paragraphs
    return [p for p, kept in zip(paragraphs, keep, strict=True) if kept]


# A table of cases (radon E): each kind of item the walk yields (heading, break, end marker,
# blank line, note, paragraph) is one branch of the loop, each setting the scene and note state.
def _assemble(items: list[Item], front_matter: bool) -> list[ParsedChapter]:
    drafts: list[_Draft] = [_Draft(None, [], [])]
    scene = 0
    new_scene = True
    after_end = False
    pending_blank = False
    last_text = ""
    leading = True  # still before any story paragraph of the first draft
    for kind, value in items:
        draft = drafts[-1]
        if kind == "heading":
            assert isinstance(value, _Heading)
            if not value.given:
                leave_out("headings", value.label)
            drafts.append(_Draft(value, [], []))
            new_scene = True
            after_end = False
            pending_blank = False
            leading = False
            continue
        if kind == _BREAK:
            leave_out("markers", str(value))
            new_scene = True
            pending_blank = False
            continue
        if kind == _END:
            leave_out("markers", str(value))
            new_scene = True
            after_end = True
            continue
        if kind == _BLANK:
            pending_blank = True
            continue
        if kind == _NOTE_ITEM:
            draft.notes.append(str(value))
            continue
        text = str(value)
        if after_end or _is_note(text):
            draft.notes.append(text)
            continue
        if leading and _title_page(draft, text, front_matter):
            leave_out("front matter", text)
            continue  # a byline or the title page
        leading = False
        if pending_blank and draft.paragraphs and "\n" not in text and "\n" not in last_text:
            new_scene = True
        pending_blank = False
        if new_scene:
            scene += 1
            new_scene = False
        draft.paragraphs.append((scene, text))
        draft.marks.append(len(draft.notes))
        last_text = text
    _notes_about_the_fic(drafts)
    if front_matter:
        _drop_epigraph(drafts)
        _drop_colophon(drafts)
    return _by_position(_number(drafts))


def _title_page(draft: _Draft, text: str, front_matter: bool) -> bool:
    """A byline, or a line of a book's title page, before any heading or story paragraph."""
    return (
        draft.heading is None
        and not draft.paragraphs
        and bool(_BYLINE.fullmatch(text) or (front_matter and _front_matter_line(text)))
    )


def _notes_about_the_fic(drafts: list[_Draft]) -> None:
    """Paragraphs that talk about the fic rather than tell it, at its end or before its first
    heading, moved to the notes (in place)."""
    # a closing paragraph about the fic (or an apology that it stops here) is a note
    last = next((d for d in reversed(drafts) if d.paragraphs), None)
    for _ in range(3):
        if last is None or len(last.paragraphs) < 2 or not _is_meta(last.paragraphs[-1][1]):
            break
        last.note_paragraph(-1)  # the last first: each lands before the notes that followed it
    first_heading = next((d for d in drafts if d.heading is not None and d.paragraphs), None)
    lead = drafts[0]
    if first_heading is not None:
        # leading short paragraphs about the fic are notes too (000: "A/N thanks for ...")
        while lead.paragraphs and _is_meta(lead.paragraphs[0][1]) and len(lead.paragraphs) == 1:
            lead.note_paragraph(0)


def _by_position(chapters: list[ParsedChapter]) -> list[ParsedChapter]:
    """Chapters numbered 1..N in reading order: a reader's "chapter 5" is the fifth chapter,
    whatever the book prints (its label keeps that: "Chapter 11", "Letter 2", "Prologue")."""
    return [ParsedChapter(i, c.label, c.note, c.paragraphs) for i, c in enumerate(chapters, 1)]


# A table of cases (radon D): how a chapter is numbered depends on what its heading is (a
# letter or stave, a number, a prologue, a title alone) and on the chapters before it.
def _number(drafts: list[_Draft]) -> list[ParsedChapter]:
    drafts = _drop_front_matter(drafts)
    lead, rest = drafts[0], drafts[1:]
    firsts = [d for d in rest if d.paragraphs]
    if lead.paragraphs and not firsts:
        return [_chapter(1, "Chapter 1", lead.notes, lead.paragraphs)]
    chapters: list[ParsedChapter] = []
    carried: list[str] = []  # notes of empty drafts, handed to the next chapter
    numbering = _Numbering()
    if lead.paragraphs:
        chapters.append(_lead_chapter(lead, firsts[0], numbering))
    else:
        carried.extend(lead.notes)
    for draft in rest:
        heading = draft.heading
        assert heading is not None
        if not draft.paragraphs:
            carried.extend(draft.notes)
            continue
        number = numbering.next(heading, first=not chapters)
        chapters.append(_chapter(number, heading.label, carried + draft.notes, draft.paragraphs))
        carried = []
    return _with_end_notes(chapters, carried)


class _Numbering:
    """The numbers of a story's chapters, given in the order of their headings."""

    def __init__(self) -> None:
        self.highest = 0
        self.letters = 0  # the highest number of a "Letter" heading before the chapters
        self.offset = 0

    def next(self, heading: _Heading, *, first: bool) -> int:
        """The number of the chapter under ``heading`` (``first``: no chapter before it)."""
        letter = heading.keyword.lower() in ("letter", "stave")
        if heading.number is not None and letter:
            number = heading.number  # counted on by the chapters after them (see below)
        elif heading.number is not None:
            # "Letter 1-4" then "Chapter 1-24" (Frankenstein): the chapters follow the letters
            number = heading.number + self.offset
            if self.offset == 0 and number <= self.highest and self.letters:
                self.offset = self.letters
                number += self.offset
        elif heading.special == "prologue" and first:
            number = 0
        else:
            number = self.highest + 1
        self.highest = max(self.highest, number)
        if letter:
            self.letters = self.highest
        return number


def _lead_chapter(lead: _Draft, first: _Draft, numbering: _Numbering) -> ParsedChapter:
    """The text before the first heading: the chapter before the first one when that one's
    number is higher than 1 (a "Part 1" with no heading), else a prologue."""
    heading = first.heading
    assert heading is not None
    if heading.number is not None and heading.number > 1:
        number = heading.number - 1
        numbering.highest = number
        keyword = heading.keyword or "Chapter"
        return _chapter(number, f"{keyword} {number}", lead.notes, lead.paragraphs)
    return _chapter(0, "Prologue", lead.notes, lead.paragraphs)


def _with_end_notes(chapters: list[ParsedChapter], carried: list[str]) -> list[ParsedChapter]:
    """The notes of empty drafts after the last chapter's text join that chapter's note."""
    if carried and chapters:
        last = chapters[-1]
        notes = [last.note] if last.note else []
        chapters[-1] = ParsedChapter(
            last.number, last.label, "\n\n".join(notes + carried), last.paragraphs
        )
    return chapters


def _chapter(
    number: int, label: str, notes: list[str], paragraphs: list[tuple[int, str]]
) -> ParsedChapter:
    note = "\n\n".join(notes) if notes else None
    kept = _drop_repeats(paragraphs)
    if len(kept) < len(paragraphs):
        dropped = Counter(t for _, t in paragraphs) - Counter(t for _, t in kept)
        for text, times in dropped.items():
            for _ in range(times):
                leave_out("repeats", text)
    if any(len(text) > MAX_PARAGRAPH for _, text in kept):
        kept = [(scene, piece) for scene, text in kept for piece in split_long(text)]
    return ParsedChapter(number, label, note, tuple(kept))
