"""Structure: title, chapters, scenes, author notes and paragraphs of a decoded, repaired text.

How a text is read (pure functions, no I/O):

* **Project Gutenberg** licence header (up to and including the ``*** START OF ... ***``
  line) and footer (from ``*** END OF ...`` on) are dropped; the book's ``Title:`` is used
  when the file has no title line of its own; the title page and a CONTENTS list are dropped.
* **Title**: library metadata wins; else a title line at the top (after any author notes): a
  short line that is not prose, a heading or a note, followed by a blank line ("Breaking
  alone." -> "Breaking alone"); else the Gutenberg title; else the file name. The title line
  never appears as a paragraph.
* **Paragraphs**: the file's layout is measured first.

  - *wrapped* (Gutenberg-style: lines of ~70 characters, paragraphs between blank lines):
    each block is unwrapped to one line; a block of short lines (verse) keeps its breaks.
  - *lines* (most lines run straight into the next: one paragraph per line, as in seed 002):
    each line is a paragraph, a blank line starts a new scene, and a run of two or more
    short unpunctuated lines (lyrics, verse) stays one paragraph with "\\n" inside.
  - *blocks* (paragraphs between blank lines, each on one line): a block of several short
    lines stays one paragraph with its breaks; a block of long lines is one paragraph per line.

  Leading and trailing whitespace is stripped and runs of spaces and tabs inside a line are
  collapsed to one space; nothing else of the author's text is changed. A paragraph longer
  than 10,000 characters (a whole book on one line) is split at sentence ends, else at
  spaces, else hard, into paragraphs of at most 10,000 characters.
* **Headings** ("Chapter 11", "/Chapter Six/", "CHAPTER XI.", "Chapter 1: The Storm",
  "Part 5.", "I. A SCANDAL IN BOHEMIA", a bare " I." with its title on the next line,
  "Prologue", "Epilogue") start chapters; the label is the author's (decoration and a
  trailing period removed). A heading with no text under it (a table of contents) is not a
  chapter. Text before the first heading is its own chapter, labelled one before it when
  that heading is a later number ("Part 1" before "Part 2"), a "Prologue" before a first
  chapter, and merely a note when it is only author notes. Chapters are **numbered 1..N in
  reading order** whatever their labels say ("Chapter 11" alone is chapter 1, labelled
  "Chapter 11"), so "chapter 5" is always the fifth.
* **Notes** ("A/N", "Author's note", "Disclaimer:" ... paragraphs, text after an end
  marker, and a closing paragraph that talks about the fic rather than telling it) go to
  ``ParsedChapter.note``. **End markers** ("End Part 1.", "The End.", "TBC", "To Be
  Concluded in Chapter 7") and **scene breaks** ("* * *", "+++++", "~~~", "oOo", "xXx",
  "#End Flashback#") are dropped; a break starts a new scene, but never an empty one.
* **Repeats**: a run of paragraphs repeated immediately after itself (a copy-paste slip, at
  least 200 characters) is dropped; repeats that are further apart are the author's
  (seed 002 retells a scene line by line from the other side) and stay.

Scene numbers count across the whole story from 1: each chapter starts a new scene.
"""

from bot.models import ParsedChapter, ParsedStory
from bot.text.structure.headings import title_from_file
from bot.text.structure.numbers import parse_number
from bot.text.structure.paragraphs import MAX_PARAGRAPH, split_long
from bot.text.structure.parsing import (
    Section,
    looks_wrapped,
    parse,
    parse_sections,
    reads_as_heading,
)

__all__ = [
    "MAX_PARAGRAPH",
    "ParsedChapter",
    "ParsedStory",
    "Section",
    "looks_wrapped",
    "parse",
    "parse_number",
    "parse_sections",
    "reads_as_heading",
    "split_long",
    "title_from_file",
]
