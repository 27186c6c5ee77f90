"""The console: the bot's slash commands in a terminal, no Discord token needed.

Commands take Discord-style options (`/excerpt story:taking-steps`) or plain words
(`/chapter breaking-alone 2`, `/quote soaked in sorry`, `/scene Spike teaches Dawn to
drive`). When stdin is not a terminal it reads one command per line and prints each answer,
so it can be scripted and timed.
"""

from __future__ import annotations

import contextlib
import re
import signal
import textwrap
from dataclasses import dataclass, field
from typing import TextIO

from bot.errors import StoryBotError
from bot.library import Library
from bot.models import Chapter, Excerpt, Story
from bot.terminal import (
    render_excerpt,
    render_page,
    render_quote,
    render_scene,
    render_stories,
)

PROMPT = "storybot> "
HELP = """\
Commands (the same as in Discord):
  /stories                                  the library
  /excerpt [story] [chapter:N] [character:NAME]
                                            a random passage
  /chapter STORY CHAPTER [page:N]           read a chapter, page by page
  /quote TEXT [story:S]                     find a line you half-remember
  /scene TEXT [story:S]                     find a scene you describe in your own words
Then:  /next /prev /first /last /page N   turn the chapter's pages
       /more       continue reading after an excerpt
       /another    another excerpt like the last
       /help  /quit
Discord-only: /club (a server reads a story together), /follow, /unfollow,
       /daily, /library, /continue, /bookmarks, /forget"""

CHAPTER_USAGE = "Usage: /chapter STORY CHAPTER   e.g. /chapter breaking-alone 2"
WIDTH = 80
# what only Discord has (a server, its channels, a reader's own account): why, in a word
DISCORD_ONLY = {
    "club": "a club reads a story together in a server's channel",
    "follow": "followers are told of new chapters by a Discord message",
    "unfollow": "followers are told of new chapters by a Discord message",
    "daily": "the daily excerpt is posted in a server's channel",
    "library": "it changes the library for a Discord server's admins",
    "continue": "it belongs to a Discord reader",
    "bookmarks": "it belongs to a Discord reader",
    "forget": "it belongs to a Discord reader",
}
_OPTION = re.compile(r"(?:^|\s)(story|chapter|character|text|page):", re.IGNORECASE)


def parse_options(rest: str) -> tuple[dict[str, str], str]:
    """Split `story:a b chapter:2` into options; returns (options, text before the first one).

    A value in quotes (`story:"Breaking Alone"`) is taken without them, as Discord would.
    """
    matches = list(_OPTION.finditer(rest))
    if not matches:
        return {}, _unquote(rest.strip())
    options: dict[str, str] = {}
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(rest)
        options[m.group(1).lower()] = _unquote(rest[m.end() : end].strip())
    return options, _unquote(rest[: matches[0].start()].strip())


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


@dataclass
class ConsoleSession:
    """One reader's state: the chapter being read and the last excerpt."""

    library: Library
    chapter: Chapter | None = None
    pages: list[str] = field(default_factory=list)
    page: int = 1
    excerpt: Excerpt | None = None
    excerpt_args: tuple[str | int | None, str | None, str | None] = (None, None, None)
    recent: list[tuple[int, int]] = field(default_factory=list)

    async def handle(self, line: str) -> str | None:
        """The answer to one command line; None means quit."""
        line = line.strip()
        if not line:
            return ""
        name, _, rest = line.partition(" ")
        name = name.lower().lstrip("/")
        try:
            return await self._dispatch(name, rest)
        except StoryBotError as exc:
            return textwrap.fill(exc.message, WIDTH)

    async def _dispatch(self, name: str, rest: str) -> str | None:
        options, plain = parse_options(rest)
        if name in ("quit", "exit", "q"):
            return None
        if name in ("help", "h", "?"):
            return HELP
        if name == "stories":
            return render_stories(
                await self.library.stories(mature_ok=True), self.library.stories_dir
            )
        if name == "excerpt":
            story: str | int | None = options.get("story")
            chapter = options.get("chapter")
            if story is None and chapter is None and plain:
                # plain words: `/excerpt breaking-alone 4` (a story, then maybe a chapter)
                found, rest = await self._story_then(plain)
                story, chapter = found.id, rest or None
            return await self._excerpt(story or plain or None, chapter, options.get("character"))
        if name == "another":
            return await self._excerpt(*self.excerpt_args)
        if name == "more":
            if self.excerpt is None:
                return "Ask for an /excerpt first."
            self.excerpt = await self.library.continue_after(
                self.excerpt.story.id, self.excerpt.end, mature_ok=True
            )
            return render_excerpt(self.excerpt)
        if name == "chapter":
            story, chapter = options.get("story"), options.get("chapter")
            if story is None and chapter is None:
                return await self._chapter_words(plain, options.get("page", "1"))
            story = story or plain
            if not story or not chapter:
                return CHAPTER_USAGE
            self.chapter, self.pages = await self.library.pages(
                story, _unquote(chapter), mature_ok=True
            )
            return self._show(_page_number(options.get("page", "1")))
        if name in ("next", "prev", "page", "first", "last"):
            if self.chapter is None:
                return "Open a chapter first: /chapter STORY CHAPTER"
            moves = {"next": self.page + 1, "prev": self.page - 1, "first": 1}
            if name == "page":
                if not plain:
                    return "Usage: /page N   e.g. /page 2"
                return self._show(_page_number(plain))
            return self._show(moves.get(name, len(self.pages)))
        if name == "quote":
            text = _unquote(options.get("text") or plain)
            if not text.strip():
                return "Usage: /quote TEXT   e.g. /quote soaked in sorry"
            return render_quote(
                await self.library.quote(text, options.get("story"), mature_ok=True)
            )
        if name == "scene":
            text = _unquote(options.get("text") or plain)
            if not text.strip():
                return "Usage: /scene TEXT [story:S]   e.g. /scene Spike teaches Dawn to drive"
            scope = await self.library.check_scene(text, options.get("story"), mature_ok=True)
            return render_scene(await self.library.scene(text, scope, mature_ok=True))
        if name in DISCORD_ONLY:
            return f"/{name} works only in Discord: {DISCORD_ONLY[name]}."
        return f"Unknown command /{name}. Type /help for the list."

    async def _chapter_words(self, words: str, page: str) -> str:
        """`/chapter breaking-alone Part 3`: a story, then its chapter."""
        if len(words.split()) < 2:
            return CHAPTER_USAGE
        found, chapter = await self._story_then(words)
        if not chapter:
            return CHAPTER_USAGE
        self.chapter, self.pages = await self.library.pages(found.id, chapter, mature_ok=True)
        return self._show(_page_number(page))

    async def _story_then(self, words: str) -> tuple[Story, str]:
        """A story named by plain words and what follows its name: the story is the longest
        start of the words that names one (`breaking alone 4` -> Breaking Alone, "4")."""
        if words[:1] in "\"'" and words[0] in words[1:]:  # `"Breaking Alone" 2`: the quotes say
            quote = words[0]
            named, rest = words[1:].split(quote, 1)
            found = await self.library.find_story(named, mature_ok=True)
            return found, _unquote(rest.strip())
        parts = words.split()
        for cut in range(len(parts), 0, -1):
            try:
                found = await self.library.find_story(" ".join(parts[:cut]), mature_ok=True)
            except StoryBotError:
                if cut > 1:
                    continue
                raise
            return found, _unquote(" ".join(parts[cut:]))
        raise StoryBotError("Name a story: see the list with /stories.")

    async def _excerpt(
        self, story: str | int | None, chapter: str | None, character: str | None
    ) -> str:
        self.excerpt_args = (story, chapter, character)
        self.excerpt = await self.library.excerpt(
            story, chapter, character, mature_ok=True, avoid=set(self.recent)
        )
        self.recent = [*self.recent[-9:], (self.excerpt.story.id, self.excerpt.start)]
        return render_excerpt(self.excerpt)

    def _show(self, page: int) -> str:
        assert self.chapter is not None
        if self.pages and page == 0 and self.page == 1:
            return "This is the first page."
        if self.pages and page == len(self.pages) + 1 and self.page == len(self.pages):
            return "This is the last page."
        if not 1 <= page <= len(self.pages):
            return f"{self.chapter.label} has pages 1 to {len(self.pages)}."
        self.page = page
        return render_page(self.chapter, self.pages, page) + "\n\n(/next, /prev, /page N)"


def hold_interrupts(stdin: TextIO) -> None:
    """On a terminal, block SIGINT in this (the main) thread before any other thread starts.

    A Ctrl-C goes to whichever thread of the process does not block it: to aiosqlite's or an
    executor's thread it only sets a flag, and the main thread, waiting in input(), never
    wakes (Ctrl-C "did nothing", then swallowed the next command). Threads inherit the mask
    of the thread that starts them, so every thread started after this blocks SIGINT too; the
    console unblocks it in the main thread only while it waits at the prompt.
    """
    if stdin.isatty():
        with contextlib.suppress(ValueError, OSError, AttributeError):  # not POSIX: as it was
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def _prompt() -> str:
    """input() with Ctrl-C able to interrupt it (see hold_interrupts).

    asyncio.run() replaces Python's SIGINT handler with one that only cancels the main task
    (raising at a second Ctrl-C); the default handler raises KeyboardInterrupt inside input(),
    which the console takes as "leave".
    """
    with contextlib.suppress(ValueError):  # not the main thread: nothing to change
        signal.signal(signal.SIGINT, signal.default_int_handler)
    with contextlib.suppress(ValueError, OSError, AttributeError):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    try:
        return input(PROMPT)  # on the loop's thread: nothing else runs meanwhile
    finally:
        with contextlib.suppress(ValueError, OSError, AttributeError):
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def _page_number(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise StoryBotError(f"“{text.strip()[:20]}” is not a page number.") from None


async def run_console(library: Library, stdin: TextIO, stdout: TextIO) -> int:
    """Read commands until EOF or /quit; interactive with a prompt on a terminal."""
    session = ConsoleSession(library)
    interactive = stdin.isatty()
    if interactive:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401 - line editing and history for input()
        stories = await library.stories(mature_ok=True)
        print(
            f"storybot console: {len(stories)} stories loaded. Type /help, or /quit to leave.",
            file=stdout,
        )
    while True:
        try:
            if interactive:
                line = _prompt()
            else:
                line = stdin.readline()
                if not line:
                    break
        except (EOFError, KeyboardInterrupt):
            if interactive:
                print(file=stdout)
            break
        answer = await session.handle(line)
        if answer is None:
            break
        if answer:
            print(answer, file=stdout, flush=True)
            if not interactive:
                print(file=stdout)
    return 0
