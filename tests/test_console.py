"""The console as a newcomer meets it: quoted options, plain words, paging at the edges,
and Ctrl-C at the prompt."""

from __future__ import annotations

import io
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from bot.console import ConsoleSession
from bot.library import Library
from bot.terminal import BOLD, PLAIN, marks_for

ROOT = Path(__file__).resolve().parents[1]


async def test_quoted_option_values_are_unquoted(library: Library) -> None:
    session = ConsoleSession(library)
    answer = await session.handle('/excerpt story:"Breaking Alone"')
    assert answer is not None and "— Breaking alone, " in answer


async def test_excerpt_in_plain_words_takes_a_story_then_a_chapter(library: Library) -> None:
    session = ConsoleSession(library)
    answer = await session.handle("/excerpt breaking-alone 4")
    assert answer is not None and "— Breaking alone, Part 4" in answer
    answer = await session.handle("/excerpt Breaking Alone 2")
    assert answer is not None and "— Breaking alone, Part 2" in answer
    answer = await session.handle("/excerpt breaking-alone")
    assert answer is not None and "— Breaking alone, " in answer


async def test_prev_and_next_cross_chapters_as_discord_does(library: Library) -> None:
    """Next on a chapter's last page opens the next chapter; Prev on a first page, the last
    page of the one before; at the story's ends they say so."""
    session = ConsoleSession(library)
    first = await session.handle("/chapter breaking-alone 1")
    assert first is not None and "(page 1 of" in first
    assert await session.handle("/prev") == "This is the first page of the story."
    last = await session.handle("/last")
    assert last is not None and "Breaking alone — Part 1  (page" in last
    after = await session.handle("/next")
    assert after is not None and after.startswith("Breaking alone — Part 2  (page 1 of")
    back = await session.handle("/prev")
    assert back is not None and back.startswith("Breaking alone — Part 1  (page ")
    assert "(page 1 of" not in back.splitlines()[0] or session.pages == [session.pages[0]]
    end = await session.handle("/chapter breaking-alone 10")
    assert end is not None
    await session.handle("/last")
    assert await session.handle("/next") == "This is the last page of the story."
    assert "is not a page number" in (await session.handle("/page two") or "")


def test_ctrl_c_at_the_prompt_leaves_at_once(tmp_path: Path, stories_dir: Path) -> None:
    """Interactive console on a terminal: one Ctrl-C (SIGINT) at the prompt exits 0."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "STORIES_DIR")}
    env |= {"DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT), "PYTHONUTF8": "1"}
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "--stories", str(stories_dir), "console"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=tmp_path,
        env=env,
    )
    os.close(follower)
    try:
        seen = _read_until(leader, b"storybot> ", 120)
        assert b"storybot> " in seen, seen
        # a person's pause: readline draws the prompt before it waits for keys, and a
        # signal in between is seen only at the next key (microseconds, for a person)
        _read_until(leader, b"\x00", 1)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=120) == 0  # a hang guard, not a timing: it never left before
        rest = _read_until(leader, b"\x00", 2)
        assert b"Traceback" not in seen + rest
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(leader)


def _read_until(fd: int, wanted: bytes, seconds: float) -> bytes:
    out = b""
    deadline = time.monotonic() + seconds
    while wanted not in out and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the other side closed
                break
            if not chunk:
                break
            out += chunk
    return out


async def test_a_quoted_story_in_plain_words_and_page_without_a_number(library: Library) -> None:
    session = ConsoleSession(library)
    page = await session.handle('/chapter "Breaking Alone" 2')
    assert page is not None and "Breaking alone — Part 2" in page
    assert await session.handle("/page") == "Usage: /page N   e.g. /page 2"


async def test_search_hits_are_numbered_and_open_reads_from_there(library: Library) -> None:
    session = ConsoleSession(library)
    found = await session.handle("/scene Spike cheats at Scrabble")
    assert found is not None and "\n1. " in found and "\n3. " in found
    opened = await session.handle("/open 1")
    assert opened is not None and opened.startswith("Breaking alone — Part 10  (page ")
    assert "Scrabble" in opened
    # /more follows what was shown last: now a page, so the page after it
    more = await session.handle("/more")
    assert more is not None and "(page " in more.splitlines()[0]
    assert await session.handle("/open 9") == (
        "Usage: /open N, where N is 1 to 3 (the results shown)."
    )


async def test_more_after_a_search_shows_the_next_results(library: Library) -> None:
    session = ConsoleSession(library)
    await session.handle("/excerpt breaking-alone")
    await session.handle("/scene Willow in the kitchen")
    more = await session.handle("/more")
    # not the excerpt's next passage: the next scene results, numbered on
    assert more is not None and more.startswith("Passages 4 to ")
    assert "\n4. " in more and "\n1. " not in more
    opened = await session.handle("/open 4")
    assert opened is not None and "(page " in opened.splitlines()[0]


async def test_more_after_an_excerpt_continues_it(library: Library) -> None:
    session = ConsoleSession(library)
    first = await session.handle("/excerpt breaking-alone 2")
    assert first is not None and session.excerpt is not None
    end = session.excerpt.end
    more = await session.handle("/more")
    assert more is not None and session.excerpt.start > end


async def test_discord_only_commands_say_so_in_one_line(library: Library) -> None:
    session = ConsoleSession(library)
    commands = ("/continue", "/bookmarks", "/forget", "/library reload", "/daily show")
    commands += ("/club start story:breaking-alone every:monday at:19:00", "/follow breaking-alone")
    for command in commands:
        answer = await session.handle(command)
        assert answer is not None and "\n" not in answer
        assert answer.startswith(f"{command.split()[0]} is Discord-only: "), answer
    assert session.failures == len(commands)
    assert "Discord-only: /club" in (await session.handle("/help") or "")


async def test_no_match_names_the_story_searched(library: Library) -> None:
    session = ConsoleSession(library)
    answer = await session.handle("/quote qwfp zxcv story:breaking-alone")
    assert answer == "No line close to “qwfp zxcv” in “Breaking alone”."
    anywhere = await session.handle("/quote qwfp zxcv")
    assert anywhere == "No line close to “qwfp zxcv” in the library."


async def test_matches_are_bold_on_a_terminal_and_starred_when_piped(library: Library) -> None:
    """The author's *italics* stay as the text has them; a match is bold (an escape code),
    so the two cannot be confused; piped or NO_COLOR, matches are *…* as before."""
    bold = ConsoleSession(library, marks=BOLD)
    answer = await bold.handle("/quote soaked in sorry")
    assert answer is not None and "\x1b[1msoaked in sorry\x1b[22m" in answer
    plain = ConsoleSession(library)
    answer = await plain.handle("/quote soaked in sorry")
    assert answer is not None and "*soaked in sorry*" in answer and "\x1b" not in answer


def test_marks_follow_the_terminal_and_no_color() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert marks_for(Tty(), {}) == BOLD
    assert marks_for(Tty(), {"NO_COLOR": "1"}) == PLAIN
    assert marks_for(Tty(), {"TERM": "dumb"}) == PLAIN
    assert marks_for(io.StringIO(), {}) == PLAIN


def test_a_reader_in_a_real_terminal(tmp_path: Path, stories_dir: Path) -> None:
    """The console on a pseudo-terminal, as a person uses it: matches in bold (an escape
    code, not the author's *italics*), a numbered hit opened, /next past a chapter's last
    page into the next chapter, and Ctrl-C at the prompt leaving with status 0."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "STORIES_DIR")}
    env |= {"DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT), "PYTHONUTF8": "1"}
    env.pop("NO_COLOR", None)
    env["TERM"] = "xterm"
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "--stories", str(stories_dir), "console"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=tmp_path,
        env=env,
    )
    os.close(follower)
    prompt = b"storybot> "

    def say(line: str) -> bytes:
        os.write(leader, line.encode() + b"\r")
        return _read_until(leader, prompt, 120)  # the echo of the line, the answer, a prompt

    try:
        assert prompt in _read_until(leader, prompt, 120)
        found = say("/quote soaked in sorry")
        assert b"\x1b[1msoaked in sorry\x1b[22m" in found.replace(b"\r\n", b" "), found
        opened = say("/open 1")
        assert b"Chapter Six  (page " in opened and b"soaked in sorry" in opened
        say("/chapter breaking-alone 1")
        say("/last")
        crossed = say("/next")
        assert b"Breaking alone \xe2\x80\x94 Part 2  (page 1 of" in crossed, crossed[:300]
        _read_until(leader, b"\x00", 1)  # a person's pause before the key (see above)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=120) == 0
        assert b"Traceback" not in found + opened + crossed
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(leader)


async def test_a_story_name_with_a_typo_in_plain_words_is_answered_with_the_nearest_title(
    library: Library,
) -> None:
    """`/excerpt finaly home` tries "finaly home", then "finaly" (the longest start of the
    words that names a story); the answer is about the whole name, with its hint."""
    session = ConsoleSession(library)
    for command in ("/excerpt finaly home", "/excerpt finaly home 2", "/chapter finaly home 1"):
        answer = await session.handle(command)
        assert answer is not None and answer.startswith("No story called “finaly home"), answer
        assert "Did you mean “Finally Home”?" in answer, answer
