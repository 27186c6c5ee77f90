"""structure: titles, headings, notes, breaks, paragraphs, scenes; and process() on any bytes."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import StoryBotError
from bot.models import StoryMeta
from bot.text import ParsedStory, process
from bot.text.structure import (
    Section,
    parse,
    parse_number,
    parse_sections,
    split_long,
    title_from_file,
)
from bot.text.structure.headings import _is_break


def story(text: str, name: str = "story.txt", meta: StoryMeta | None = None) -> ParsedStory:
    return parse(text, name, meta)


def paras(parsed: ParsedStory) -> list[str]:
    return [t for c in parsed.chapters for _, t in c.paragraphs]


def heads(parsed: ParsedStory) -> list[tuple[int, str]]:
    return [(c.number, c.label) for c in parsed.chapters]


PROSE = "She walked to the door and looked out at the rain for a long while."


@pytest.mark.parametrize(
    ("heading", "label"),
    [
        ("Chapter 11", "Chapter 11"),
        ("/Chapter Six/", "Chapter Six"),
        ("CHAPTER XI.", "CHAPTER XI"),
        ("Chapter 1: The Storm", "Chapter 1: The Storm"),
        ("Chapter 3 - A New Hope", "Chapter 3 - A New Hope"),
        ("Part 2", "Part 2"),
        ("Part 5.", "Part 5"),
        ("Part Twenty-One", "Part Twenty-One"),
        ("**Chapter 4**", "Chapter 4"),
        ("~ Chapter 7 ~", "Chapter 7"),
        ("I. A SCANDAL IN BOHEMIA", "I. A SCANDAL IN BOHEMIA"),
        ("Part 2 of 5", "Part 2 of 5"),
    ],
)
def test_heading_styles(heading: str, label: str) -> None:
    """The label is the book's; the number is the chapter's place in the story (1..N)."""
    parsed = story(f"{heading}\n\n{PROSE}\n")
    assert heads(parsed) == [(1, label)]
    assert paras(parsed) == [PROSE]


@pytest.mark.parametrize(
    "line",
    [
        "Part of him damn near wanted to ask her to marry him.",
        "Chapter one of my life was the hardest, she said.",
        "Chapter 7 was the best one in the book",
        "I. think. so.",
        "Part 2 of the plan was simple enough to follow.",
    ],
)
def test_prose_is_not_a_heading(line: str) -> None:
    parsed = story(f"{PROSE}\n\n{line}\n\n{PROSE}\n")
    assert heads(parsed) == [(1, "Chapter 1")]
    assert line in paras(parsed)


def test_bare_numeral_with_title_on_next_line_and_epilogue() -> None:
    text = (
        f" I.\n Introduction\n\n\n{PROSE}\n\n II.\n The Machine\n\n{PROSE}\n\n Epilogue\n\n{PROSE}"
    )
    assert heads(story(text)) == [(1, "I. Introduction"), (2, "II. The Machine"), (3, "Epilogue")]


def test_no_headings_is_one_chapter() -> None:
    parsed = story(f"{PROSE}\n\n{PROSE} Again.\n")
    assert heads(parsed) == [(1, "Chapter 1")]
    assert len(paras(parsed)) == 2


def test_unheaded_first_part_gets_the_preceding_number() -> None:
    text = (
        f"My Title\n\n{PROSE}\n\nEnd Part 1.\n\nPart 2\n\n{PROSE}\n\nEnd Part2\n\nPart 3\n{PROSE}"
    )
    parsed = story(text)
    assert parsed.title == "My Title"
    assert heads(parsed) == [(1, "Part 1"), (2, "Part 2"), (3, "Part 3")]


def test_leading_note_before_a_later_chapter_is_a_note_not_a_chapter() -> None:
    parsed = story(f"A/N thanks for the reviews, I hope you like it.\n\nChapter 11\n\n{PROSE}\n")
    assert heads(parsed) == [(1, "Chapter 11")]
    assert parsed.chapters[0].note == "A/N thanks for the reviews, I hope you like it."
    assert not parsed.title.startswith("A/N")


def test_text_before_chapter_one_is_a_prologue() -> None:
    parsed = story(f"{PROSE}\n\nChapter 1\n\n{PROSE}\n")
    assert heads(parsed) == [(1, "Prologue"), (2, "Chapter 1")]


@pytest.mark.parametrize(
    "note",
    [
        "A/N: This is set after season six.",
        "Author's note: thanks to my beta.",
        "AN: Sorry for the wait!",
        "Disclaimer: I own nothing.",
        "(A/N: more notes here)",
    ],
)
def test_notes_go_to_the_chapter_note(note: str) -> None:
    parsed = story(f"Chapter 2\n\n{note}\n\n{PROSE}\n")
    assert paras(parsed) == [PROSE]
    assert parsed.chapters[0].note == note


def test_several_notes_are_joined() -> None:
    parsed = story(f"Chapter 2\n\nA/N: one\n\n{PROSE}\n\nA/N: two\n")
    assert parsed.chapters[0].note == "A/N: one\n\nA/N: two"


def test_trailing_apology_is_a_note() -> None:
    tail = (
        "No this isnt a fic that will get finished- Sorry but if you want to finish it- go ahead!"
    )
    parsed = story(f"{PROSE}\n\n{PROSE} More.\n\n{tail}\n")
    assert tail not in paras(parsed)
    assert parsed.chapters[0].note == tail


WILLOW = (
    "Willow turned the page and began the next chapter of the old book, the one with the silver "
    "clasp."
)
GILES = (
    "Giles said the chapter on demons was the one she needed, and he was rarely wrong about books."
)


def test_closing_prose_that_mentions_a_chapter_stays_story_text() -> None:
    parsed = story(f"Chapter 1\n\n{PROSE}\n\n{PROSE} More.\n\n{WILLOW}\n\n{GILES}\n")
    assert paras(parsed) == [PROSE, f"{PROSE} More.", WILLOW, GILES]
    assert parsed.chapters[0].note is None


def test_steamy_chapter_paragraphs_stay_story_text() -> None:
    texts = [
        f"Paragraph {n} of a steamy chapter, where the two of them finally stopped pretending."
        for n in range(1, 13)
    ]
    parsed = story("Chapter 3\n\n" + "\n\n".join(texts) + "\n")
    assert paras(parsed) == texts
    assert parsed.chapters[0].note is None


def test_steamy_chapter_paragraphs_stay_story_text_in_sections() -> None:
    """The EPUB/HTML path: a section per chapter, its closing paragraphs kept as text."""
    texts = [
        f"Paragraph {n} of a steamy chapter, where the two of them finally stopped pretending."
        for n in range(1, 13)
    ]
    sections = [
        Section("Chapter 1", PROSE),
        Section("Chapter 2", "\n\n".join(texts), note="Thanks to my beta."),
    ]
    parsed = parse_sections(sections, "story.epub")
    assert [t for _, t in parsed.chapters[-1].paragraphs] == texts
    assert parsed.chapters[-1].note == "Thanks to my beta."


@pytest.mark.parametrize(
    "prose",
    [
        "She was reading the paper when the update came through on the radio.",
        "The reviews of the play had been cruel, and Giles had kept every one of them.",
        "Her readers at the Sunnydale Press would never believe a word of it.",
        "He said the council would review the case before the next chapter of her training.",
        "The reviews are in, and the play was a flop from the first chapter of its run.",
        "She was sorry, in the end, that the chapter of her life in Sunnydale had closed.",
    ],
)
def test_closing_prose_with_a_note_word_stays_story_text(prose: str) -> None:
    parsed = story(f"Chapter 1\n\n{PROSE}\n\n{prose}\n")
    assert paras(parsed) == [PROSE, prose]
    assert parsed.chapters[0].note is None


@pytest.mark.parametrize(
    "tail",
    [
        "A/N: thanks for reading, next chapter soon!",
        "Thanks for reading, please review!",
        "Thank you all so much for the reviews, the next chapter will be up on Friday.",
        "Sorry for the long wait, I'll update soon.",
        "Please let me know what you think.",
    ],
)
def test_real_trailing_note_goes_to_the_note(tail: str) -> None:
    parsed = story(f"Chapter 1\n\n{PROSE}\n\n{GILES}\n\n{tail}\n")
    assert paras(parsed) == [PROSE, GILES]
    assert parsed.chapters[0].note == tail


def test_trailing_notes_keep_their_reading_order() -> None:
    first = "Thanks for reading, please review!"
    second = "The next chapter will be up soon, I promise."
    parsed = story(f"Chapter 1\n\n{PROSE}\n\n{GILES}\n\n{first}\n\n{second}\n")
    assert paras(parsed) == [PROSE, GILES]
    assert parsed.chapters[0].note == f"{first}\n\n{second}"


def test_trailing_notes_keep_their_place_among_other_notes() -> None:
    first = "Thanks for reading, please review!"
    parsed = story(f"A/N: one\n\nChapter 1\n\n{PROSE}\n\n{GILES}\n\n{first}\n\nA/N: two\n")
    assert paras(parsed) == [PROSE, GILES]
    assert parsed.chapters[0].note == f"A/N: one\n\n{first}\n\nA/N: two"


def test_text_after_an_end_marker_is_a_note() -> None:
    parsed = story(f"Chapter 1\n\n{PROSE}\n\nThe End.\n\nThanks for reading, please review!\n")
    assert paras(parsed) == [PROSE]
    assert parsed.chapters[0].note == "Thanks for reading, please review!"


@pytest.mark.parametrize(
    "marker",
    ["End Part 1.", "End Part2", "End part 9", "To Be Concluded in Chapter 7", "The End.", "TBC",
     "to be continued...", "~*~TBC~*~", "Fin"],
)  # fmt: skip
def test_end_markers_are_dropped(marker: str) -> None:
    parsed = story(f"Chapter 1\n\n{PROSE}\n\n{marker}\n")
    assert paras(parsed) == [PROSE]


@pytest.mark.parametrize(
    "brk",
    ["+++++", "++++++++++++++++", "* * *", "***", "~~~", "- - - - -", "- - - -", "#End Flashback#",
     "oOo", "xXx", "———", "-x-x-x-", "~*~*~", "#", "Willow's POV", "~Flashback~"],
)  # fmt: skip
def test_scene_breaks_start_new_scenes_and_are_dropped(brk: str) -> None:
    parsed = story(f"Chapter 1\n\n{PROSE}\n\n{brk}\n\n{PROSE} Two.\n")
    assert [s for s, _ in parsed.chapters[0].paragraphs] == [1, 2]
    assert brk not in paras(parsed)


def test_breaks_before_the_heading_or_the_end_make_no_empty_scene() -> None:
    text = f"++++++++\n/Chapter Six/\n\n{PROSE}\n\n++++++++\n\n{PROSE} B.\n\n++++++++\n\nTBC\n"
    parsed = story(text)
    assert heads(parsed) == [(1, "Chapter Six")]
    assert [s for s, _ in parsed.chapters[0].paragraphs] == [1, 2]


def test_asterisk_thoughts_are_prose() -> None:
    line = "*yeah* But she couldn’t contradict her pal."
    assert line in paras(story(f"{PROSE}\n\n{line}\n"))
    assert not _is_break(line)
    assert not _is_break("*sigh*")


def test_scenes_count_across_chapters() -> None:
    parsed = story(f"Chapter 1\n\n{PROSE}\n\n***\n\n{PROSE}\n\nChapter 2\n\n{PROSE}\n")
    assert [[s for s, _ in c.paragraphs] for c in parsed.chapters] == [[1, 2], [3]]


# ---- titles ------------------------------------------------------------------------------


def test_title_rules() -> None:
    assert story(f"Breaking alone.\n\n{PROSE}\n").title == "Breaking alone"
    assert story(f"Taking Steps\n\n{PROSE}\n").title == "Taking Steps"
    after_note = story(f"A/N - this explains chapter 10.\n\nA Tale of Two Sinners\n\n{PROSE}\n")
    assert after_note.title == "A Tale of Two Sinners"
    assert "A Tale of Two Sinners" not in paras(after_note)
    assert after_note.chapters[0].note == "A/N - this explains chapter 10."


@pytest.mark.parametrize(
    "first", ["It doesn't look good.", "She was tired.", "“Hello,” she said.", "Chapter 3"]
)
def test_prose_is_not_a_title(first: str) -> None:
    parsed = story(f"{first}\n\n{PROSE}\n", name="my_story.txt")
    assert parsed.title == "My story"


def test_metadata_title_wins_and_the_title_line_is_still_dropped() -> None:
    parsed = story(f"Taking Steps\n\n{PROSE}\n", meta=StoryMeta(title="Other"))
    assert parsed.title == "Other"
    assert paras(parsed) == [PROSE]


def test_title_from_file() -> None:
    assert title_from_file("my_story-v2.txt") == "My story v2"
    assert title_from_file("000_22ebb5e57e993cb7.txt") == "Untitled (000_22ebb5e57e993cb7)"
    assert title_from_file("012_the_long_night.txt") == "The long night"


def test_parse_number() -> None:
    assert [parse_number(x) for x in ("11", "XI", "xiv", "Six", "Twenty-One", "mix", "of")] == [
        11, 11, 14, 6, 21, None, None
    ]  # fmt: skip


# ---- paragraphs --------------------------------------------------------------------------


def test_one_paragraph_per_line_with_blank_lines_as_scene_breaks() -> None:
    lines = [f"Line {i} of the story goes on and on for quite some time, really." for i in range(6)]
    text = "\n".join(lines[:3]) + "\n\n" + "\n".join(lines[3:])
    parsed = story(text)
    assert paras(parsed) == lines
    assert [s for s, _ in parsed.chapters[0].paragraphs] == [1, 1, 1, 2, 2, 2]


def test_lyrics_keep_their_line_breaks() -> None:
    lyrics = "Everybody's free, everybody's free\nTo feel good, to feel good\nOh yeah"
    text = f"{PROSE}\n{PROSE}\n{lyrics}\n{PROSE} Then.\n{PROSE} Again."
    assert lyrics in paras(story(text))


def test_dialogue_lines_are_not_verse() -> None:
    text = (
        f"{PROSE}\n“Spike.” She looked at him with big blue eyes\n"
        f"“Talk to me?” he almost begged\n{PROSE} Then."
    )
    assert "“Talk to me?” he almost begged" in paras(story(text))


def test_short_lines_in_a_block_stay_together() -> None:
    poem = "Roses are red,\nViolets are blue,\nSugar is sweet,\nAnd so are you."
    assert poem in paras(story(f"{PROSE}\n\n{poem}\n\n{PROSE}\n"))


def test_hard_wrapped_prose_is_unwrapped() -> None:
    wrapped = (
        "The Time Traveller (for so it will be convenient to speak of him) was\n"
        "expounding a recondite matter to us. His pale grey eyes shone and\n"
        "twinkled, and his usually pale face was flushed and after-\n"
        "dinner animated.\n\n"
    )
    parsed = story(wrapped * 5)
    first = paras(parsed)[0]
    assert "\n" not in first
    assert first.startswith(
        "The Time Traveller (for so it will be convenient to speak of him) was ex"
    )
    assert "after-dinner animated." in first


def test_whitespace_is_tidied() -> None:
    parsed = story("Title\n\n   Some  text\twith   gaps, she said.   \n\n\tMore text here.\n")
    assert paras(parsed) == ["Some text with gaps, she said.", "More text here."]


def test_exact_repeat_right_after_itself_is_dropped_but_not_far_apart() -> None:
    block = [f"Paragraph {i}: " + "words " * 19 + "end." for i in range(3)]
    text = "\n\n".join(block + block + ["Something else entirely happens now."] + block)
    got = paras(story(text))
    assert got == [*block, "Something else entirely happens now.", *block]


def test_long_paragraphs_are_split_at_sentences() -> None:
    sentence = "This is a sentence of moderate length that ends here. "
    pieces = split_long(sentence * 1000)
    assert all(len(p) <= 10_000 for p in pieces)
    assert all(p.endswith("here.") for p in pieces)
    assert " ".join(pieces) == (sentence * 1000).strip()
    no_stops = split_long("word " * 5000)
    assert all(len(p) <= 10_000 for p in no_stops) and len(no_stops) == 3
    solid = split_long("x" * 25_000)
    assert [len(p) for p in solid] == [10_000, 10_000, 5_000]


def test_a_20_mb_single_line_is_fast() -> None:
    data = ("All work and no play makes Jack a dull boy. " * 460_000).encode()
    assert len(data) > 20_000_000
    # a guard against quadratic work, not a speed figure (that is `make bench`): CPU time, so
    # a loaded machine's waiting does not count; linear work takes a few seconds of it
    start = time.process_time()
    parsed = process(data, "huge.txt")
    assert time.process_time() - start < 30
    texts = paras(parsed)
    assert all(len(t) <= 10_000 for t in texts)
    assert sum(len(t) for t in texts) > 19_000_000


# ---- Gutenberg ---------------------------------------------------------------------------


def test_gutenberg_cp1252_crlf() -> None:
    text = (
        "The Project Gutenberg EBook of Tiny, by Someone\r\n\r\nTitle: Tiny\r\n\r\n"
        "*** START OF THIS PROJECT GUTENBERG EBOOK TINY ***\r\n\r\n"
        "CONTENTS\r\n\r\n CHAPTER I. One\r\n CHAPTER II. Two\r\n\r\n\r\n"
        "CHAPTER I. One\r\n\r\nIt’s the first chapter of the book, which goes on a\r\n"
        "while and is wrapped at seventy characters or so, as Gutenberg does\r\n"
        "it for every book.\r\n\r\n"
        "CHAPTER II. Two\r\n\r\nThe second chapter is shorter, but still wrapped at\r\n"
        "seventy characters or so, as Gutenberg does it every time, always.\r\n\r\n"
        "*** END OF THIS PROJECT GUTENBERG EBOOK TINY ***\r\n\r\nLicence text here.\r\n"
    )
    parsed = process(text.encode("cp1252"), "tiny.txt")
    assert parsed.title == "Tiny"
    assert heads(parsed) == [(1, "CHAPTER I. One"), (2, "CHAPTER II. Two")]
    assert paras(parsed)[0].startswith("It’s the first chapter of the book, which goes on a while")
    assert not any("PROJECT GUTENBERG" in p or "Licence" in p for p in paras(parsed))
    assert len(paras(parsed)) == 2


# ---- process() on anything -----------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_process_raises_only_storybot_errors_on_bytes(data: bytes) -> None:
    try:
        parsed = process(data, "x.txt")
    except StoryBotError as exc:
        assert exc.message and not exc.usage
        return
    _check_output(parsed)


_LINES = st.sampled_from(
    ["Chapter 3", "Part 2", "A/N: hi", "* * *", "+++++", "The End.", "TBC", "", "", "\ufffd",
     "oOo", " I.", " Introduction", "She didn\ufffdt go.", "\ufffdHi!\ufffd he said.", "CONTENTS",
     "Short line", "A much longer line of ordinary prose that goes on for a while, really.",
     "cafÃ©", "End Part 1.", "#End Flashback#", "*yeah* she said.", "Epilogue", "  "]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(_LINES, max_size=30), st.sampled_from(["\n", "\r\n", "\r"]))
def test_process_on_story_like_text(lines: list[str], newline: str) -> None:
    data = newline.join(lines).encode()
    try:
        parsed = process(data, "x.txt")
    except StoryBotError as exc:
        assert exc.message and not exc.usage
        return
    _check_output(parsed)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_process_on_any_text(text: str) -> None:
    try:
        parsed = process(text.encode("utf-8", "surrogatepass"), "x.txt")
    except StoryBotError as exc:
        assert exc.message and not exc.usage
        return
    _check_output(parsed)


def _check_output(parsed: ParsedStory) -> None:
    assert parsed.title
    assert parsed.chapters
    last_scene = 0
    for chapter in parsed.chapters:
        assert chapter.label
        for scene, text in chapter.paragraphs:
            assert text and text == text.strip()
            assert "\ufffd" not in text
            assert not _is_break(text)
            assert not text.startswith("A/N")
            assert len(text) <= 10_000
            assert scene >= last_scene >= 0
            last_scene = scene
