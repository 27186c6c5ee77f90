"""Novels' front matter in plain-text Gutenberg books (issue 12, item 6): the 1894 illustrated
Pride and Prejudice, whose chapter I heading is an illustration's caption, and a
Frankenstein-shaped book of 4 letters and 24 chapters."""

from __future__ import annotations

from pathlib import Path

from bot.text import process

FIXTURES = Path(__file__).parent / "fixtures"


def test_pride_and_prejudice_1894_chapter_one_heading_in_a_caption() -> None:
    story = process((FIXTURES / "pride_1894_mini.txt").read_bytes(), "pride.txt")
    assert story.title == "Pride and Prejudice"
    assert [(c.number, c.label) for c in story.chapters] == [
        (1, "Chapter I"),
        (2, "CHAPTER II"),
        (3, "CHAPTER III"),
    ]
    first = [text for _, text in story.chapters[0].paragraphs]
    assert first[0].startswith("It is a truth universally acknowledged, that a single man")
    assert first[-1] == "Mr. Bennet made no answer."
    served = "\n".join(
        text for chapter in story.chapters for _, text in chapter.paragraphs
    ) + "".join(c.note or "" for c in story.chapters)
    for gone in (
        "Illustration",  # captions, bare markers, imprints
        "He came down to see the place",  # a caption, also in the list of illustrations
        "Copyright 1894",
        "GEORGE ALLEN",
        "PREJUDICE\n",  # the title page
        "Walt Whitman",  # the preface
        "Heading to",  # the list of illustrations
        "THE\nEND",
        "Gutenberg",
        "CHISWICK PRESS",  # the printer's colophon, after the title page and at the end
        "Comyns Carr",  # the dedication, drawn as an illustration
    ):
        assert gone not in served, gone
    back = [text for kind, text in story.left_out if kind == "back matter"]
    assert back == [
        "CHISWICK PRESS:--CHARLES WHITTINGHAM AND CO.\nTOOKS COURT, CHANCERY LANE, LONDON."
    ]
    last = [text for _, text in story.chapters[-1].paragraphs]
    assert last[-1].startswith("“If I can but see one of my daughters happily settled")


def test_a_colophon_is_left_out_of_a_book_only() -> None:
    """A printer's colophon closes a Gutenberg book, not a story: a fan fiction's last line in
    capitals stays, and so do a book's last line that someone says and an ordinary last
    paragraph that begins "Printed by ..." (was left out as back matter)."""
    book = (
        "*** START OF THE PROJECT GUTENBERG EBOOK A BOOK ***\n\nChapter 1\n\n"
        "The keeper climbed the stairs.\n\n{last}\n\n"
        "*** END OF THE PROJECT GUTENBERG EBOOK A BOOK ***\n"
    )
    imprint = "Printed in Great Britain by Butler & Tanner Ltd., Frome and London"
    for last, kept in [
        (imprint, False),
        ("THE RIVERSIDE PRESS, CAMBRIDGE, MASSACHUSETTS, U.S.A.", False),
        ("“STOP THE PRESSES!” HE SHOUTED.", True),
        ("Printed by hand, the letter was slipped under the door at midnight.", True),
        ("printed in haste, the note said only that she had gone north", True),
    ]:
        story = process(book.format(last=last).encode(), "book.txt")
        assert (story.chapters[-1].paragraphs[-1][1] == last) is kept, last
    fic = "Chapter 1\n\nThe keeper climbed the stairs.\n\nTHE PRESS WAS WAITING OUTSIDE.\n"
    story = process(fic.encode(), "fic.txt")
    assert story.chapters[-1].paragraphs[-1][1] == "THE PRESS WAS WAITING OUTSIDE."


def test_a_books_epigraph_before_chapter_one_is_front_matter() -> None:
    """Verse and its attribution before a Gutenberg book's first heading are its epigraph, not
    a "Prologue"; an epigraph under a chapter's heading is the chapter's."""
    book = (
        "*** START OF THE PROJECT GUTENBERG EBOOK A BOOK ***\n\nA BOOK\n\n"
        "    Did I request thee, Maker, from my clay\n    To mould me man? Did I solicit thee\n"
        "    From darkness to promote me?\n\n        Paradise Lost.\n\n"
        "CHAPTER I.\n\n    Time is the fire in which we burn,\n    said the old man.\n\n"
        "It was a dark and stormy night; the rain fell in torrents.\n\n"
        "CHAPTER II.\n\nThe next day was fine.\n\n"
        "*** END OF THE PROJECT GUTENBERG EBOOK A BOOK ***\n"
    )
    story = process(book.encode(), "book.txt")
    assert [c.label for c in story.chapters] == ["CHAPTER I", "CHAPTER II"]
    first = [text for _, text in story.chapters[0].paragraphs]
    assert first[0] == "Time is the fire in which we burn,\nsaid the old man."
    front = [text for kind, text in story.left_out if kind == "front matter"]
    assert "Paradise Lost." in front


def _frankenstein_like() -> str:
    contents = "\n".join(
        [f" Letter {n}" for n in range(1, 5)] + [f" Chapter {n}" for n in range(1, 25)]
    )
    letters = "\n\n\n".join(
        f"Letter {n}\n\n_To Mrs. Saville, England._\n\nSt. Petersburgh, Dec. {n}th, 17—.\n\n"
        f"You will rejoice to hear that no disaster has accompanied letter {n}, which you\n"
        "have regarded with such evil forebodings.\n\nYour affectionate brother,\n\nR. Walton"
        for n in range(1, 5)
    )
    chapters = "\n\n\n".join(
        f"Chapter {n}\n\n\nI am by birth a Genevese, and this is chapter {n} of my tale; my\n"
        "family is one of the most distinguished of that republic.\n\n"
        f"It was on a dreary night of November, the {n}th, that I beheld the accomplishment\n"
        "of my toils."
        for n in range(1, 25)
    )
    return (
        "The Project Gutenberg eBook of Frankenstein, by Mary Wollstonecraft (Godwin) Shelley\n\n"
        "Title: Frankenstein\n       or, The Modern Prometheus\n\nAuthor: Mary Shelley\n\n"
        "*** START OF THE PROJECT GUTENBERG EBOOK FRANKENSTEIN ***\n\n\n\n\n"
        "Frankenstein;\n\nor, the Modern Prometheus\n\nby Mary Wollstonecraft (Godwin) Shelley"
        f"\n\n\n CONTENTS\n\n{contents}\n\n\n\n\n{letters}\n\n\n\n\n{chapters}\n\n\n\n\n"
        "*** END OF THE PROJECT GUTENBERG EBOOK FRANKENSTEIN ***\n"
    )


def test_frankenstein_is_four_letters_and_twenty_four_chapters() -> None:
    story = process(_frankenstein_like().encode(), "frankenstein.txt")
    assert story.title == "Frankenstein"
    labels = [c.label for c in story.chapters]
    assert labels == [f"Letter {n}" for n in range(1, 5)] + [f"Chapter {n}" for n in range(1, 25)]
    assert [c.number for c in story.chapters] == list(range(1, 29))
    assert len(story.chapters) == 28
    letter = [text for _, text in story.chapters[0].paragraphs]
    assert "To Mrs. Saville, England." in letter[0]
    chapter = [text for _, text in story.chapters[4].paragraphs]
    assert chapter[0].startswith("I am by birth a Genevese, and this is chapter 1 of my tale")
    served = "\n".join(t for c in story.chapters for _, t in c.paragraphs)
    assert "CONTENTS" not in served and "Gutenberg" not in served
    assert "Modern Prometheus" not in served
