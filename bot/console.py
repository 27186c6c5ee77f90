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
import sys
import textwrap
from dataclasses import dataclass, field
from typing import Literal, TextIO

from bot.errors import StoryBotError
from bot.library import Library, NoSuchStory, one_line
from bot.models import Chapter, Excerpt, SceneResult, SearchResult, Story
from bot.terminal import (
    PLAIN,
    Marks,
    marks_for,
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
  /chapter STORY CHAPTER [page:N]           read a chapter (CHAPTER: 1..N or its label)
  /quote TEXT [story:S]                     find a line you half-remember
  /scene TEXT [story:S]                     find a scene you describe in your own words
Then:  /next /prev /first /last /page N   turn the pages (past a chapter's end: the next one)
       /open N     read from result N of the last /quote or /scene
       /more       more of what was shown last: the next passage, page or results
       /another    another excerpt like the last
       /help  /quit
Discord-only: /club (a server reads a story together), /follow, /unfollow,
       /daily, /library, /continue, /bookmarks, /forget"""

CHAPTER_USAGE = "Usage: /chapter STORY CHAPTER   e.g. /chapter breaking-alone 2"
WIDTH = 80
MORE_HITS = 5  # how many more results /more shows after a search
_OPTION = re.compile(r"(?:^|\s)(story|chapter|character|text|page):", re.IGNORECASE)
# what only Discord can do, and why, in one line each
DISCORD_ONLY = {
    "continue": "it opens a Discord reader's own place; here, /chapter STORY CHAPTER",
    "bookmarks": "bookmarks belong to a Discord reader; here, /chapter STORY CHAPTER",
    "forget": "it deletes what the bot keeps about a Discord reader; the console keeps nothing",
    "library": "it changes the library from a server; here, edit the stories folder and"
    " run `storybot ingest`",
    "daily": "it posts an excerpt in a server's channel every day",
    "club": "a club reads a story together in a server's channel",
    "follow": "followers are told of new chapters by a Discord message",
    "unfollow": "followers are told of new chapters by a Discord message",
}


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


Shown = Literal["excerpt", "page", "quote", "scene"]
# answers that say a command could not be done (a piped console then exits 1)
_FAILED = ("Usage:", "Unknown command")


@dataclass
class ConsoleSession:
    """One reader's state: the chapter being read, the last excerpt, the last search's hits,
    and what was shown last (what /more continues)."""

    library: Library
    marks: Marks = PLAIN  # how matched words are shown: bold on a terminal, else *…*
    chapter: Chapter | None = None
    pages: list[str] = field(default_factory=list)
    page: int = 1
    excerpt: Excerpt | None = None
    excerpt_args: tuple[str | int | None, str | None, str | None] = (None, None, None)
    recent: list[tuple[int, int]] = field(default_factory=list)
    hits: list[tuple[Story, int, int]] = field(default_factory=list)  # story, chapter, position
    search: tuple[str, str | None] | None = None  # the last /quote or /scene: text, story
    shown: Shown | None = None
    failures: int = 0  # commands answered with an error or a usage line (piped: exit status)

    async def handle(self, line: str) -> str | None:
        """The answer to one command line; None means quit."""
        line = line.strip()
        if not line:
            return ""
        name, _, rest = line.partition(" ")
        name = name.lower().lstrip("/")
        try:
            answer = await self._dispatch(name, rest)
        except StoryBotError as exc:
            self.failures += 1
            return textwrap.fill(exc.message, WIDTH)
        if answer is not None and (answer.startswith(_FAILED) or " is Discord-only: " in answer):
            self.failures += 1
        return answer

    async def _dispatch(self, name: str, rest: str) -> str | None:
        options, plain = parse_options(rest)
        if name in ("quit", "exit", "q"):
            return None
        if name in ("help", "h", "?"):
            return HELP
        if name in DISCORD_ONLY:
            return f"/{name} is Discord-only: {DISCORD_ONLY[name]}."
        handler = {
            "stories": self._stories,
            "excerpt": self._excerpt_command,
            "another": self._another,
            "more": self._more,
            "chapter": self._chapter_command,
            "open": self._open,
            "quote": self._quote,
            "scene": self._scene,
        }.get(name)
        if handler is not None:
            return await handler(options, plain)
        if name in ("next", "prev", "page", "first", "last"):
            return await self._turn(name, plain)
        return f"Unknown command /{name}. Type /help for the list."

    async def _stories(self, options: dict[str, str], plain: str) -> str:
        stories = await self.library.stories(mature_ok=True)
        return render_stories(stories, self.library.stories_dir)

    async def _excerpt_command(self, options: dict[str, str], plain: str) -> str:
        story: str | int | None = options.get("story")
        chapter = options.get("chapter")
        if story is None and chapter is None and plain:
            # plain words: `/excerpt breaking-alone 4` (a story, then maybe a chapter)
            found, rest = await self._story_then(plain)
            story, chapter = found.id, rest or None
        return await self._excerpt(story or plain or None, chapter, options.get("character"))

    async def _another(self, options: dict[str, str], plain: str) -> str:
        return await self._excerpt(*self.excerpt_args)

    async def _more(self, options: dict[str, str], plain: str) -> str:
        """More of what was shown last: the passage after an excerpt, the page after a page,
        the next results after a search."""
        if self.shown == "page":
            return await self._turn("next", "")
        if self.shown in ("quote", "scene") and self.search is not None:
            return await self._search(self.shown, *self.search, more=True)
        if self.excerpt is None:
            return "Usage: /more continues what was shown last: ask for an /excerpt first."
        story = self.excerpt.story
        if not story.chapters or self.excerpt.end >= story.chapters[-1].last:
            # the end of a story is an answer, not a failed command (a piped script goes on)
            return f"That was the end of “{story.title}”."
        self.excerpt = await self.library.continue_after(
            self.excerpt.story.id, self.excerpt.end, mature_ok=True
        )
        self.shown = "excerpt"
        return render_excerpt(self.excerpt)

    async def _chapter_command(self, options: dict[str, str], plain: str) -> str:
        story, chapter = options.get("story"), options.get("chapter")
        if story is None and chapter is None:
            if len(plain.split()) < 2:
                return CHAPTER_USAGE
            found, chapter = await self._story_then(plain)  # `/chapter breaking-alone Part 3`
            story = str(found.id)
            if not chapter:
                return CHAPTER_USAGE
        story = story or plain
        if not story or not chapter:
            return CHAPTER_USAGE
        ref: str | int = int(story) if story.isdigit() and options.get("story") is None else story
        self.chapter, self.pages = await self.library.pages(ref, _unquote(chapter), mature_ok=True)
        return self._show(_page_number(options.get("page", "1")))

    async def _open(self, options: dict[str, str], plain: str) -> str:
        """`/open N`: read from result N of the last search, at the page holding it."""
        if not self.hits:
            return "Usage: /open N opens result N of a /quote or /scene: search first."
        number = _page_number(plain) if plain else 1
        if not 1 <= number <= len(self.hits):
            return f"Usage: /open N, where N is 1 to {len(self.hits)} (the results shown)."
        story, chapter, position = self.hits[number - 1]
        turn = await self.library.turn_page(
            None, story.id, chapter, mature_ok=True, position=position
        )
        self.chapter, self.pages = turn.chapter, list(turn.pages)
        return self._show(turn.page + 1)

    async def _quote(self, options: dict[str, str], plain: str) -> str:
        text = _unquote(options.get("text") or plain)
        if not text.strip():
            return "Usage: /quote TEXT   e.g. /quote soaked in sorry"
        return await self._search("quote", text, options.get("story"))

    async def _scene(self, options: dict[str, str], plain: str) -> str:
        text = _unquote(options.get("text") or plain)
        if not text.strip():
            return "Usage: /scene TEXT [story:S]   e.g. /scene Spike teaches Dawn to drive"
        return await self._search("scene", text, options.get("story"))

    async def _search(
        self, kind: Literal["quote", "scene"], text: str, story: str | None, *, more: bool = False
    ) -> str:
        """A /quote or /scene, its results numbered for /open; ``more``: the next results."""
        first = len(self.hits) + 1 if more else 1
        limit = first - 1 + (MORE_HITS if more else 5 if kind == "quote" else 3)
        answer: SearchResult | SceneResult
        if kind == "quote":
            answer = await self.library.quote(text, story, mature_ok=True, limit=limit)
        else:
            scope = await self.library.check_scene(text, story, mature_ok=True)
            answer = await self.library.scene(text, scope, mature_ok=True, limit=limit)
        if more and len(answer.hits) < first:
            return f"No more results for “{one_line(text)}”."
        self.hits = [(h.story, h.chapter, h.position) for h in answer.hits]
        self.search, self.shown = (text, story), kind
        if isinstance(answer, SearchResult):
            return render_quote(answer, self.marks, first)
        return render_scene(answer, self.marks, first)

    async def _turn(self, name: str, plain: str) -> str:
        if self.chapter is None:
            return "Usage: open a chapter first: /chapter STORY CHAPTER"
        if name == "page":
            if not plain:
                return "Usage: /page N   e.g. /page 2"
            return self._show(_page_number(plain))
        if name == "next" and self.page == len(self.pages):
            return await self._neighbour(1)
        if name == "prev" and self.page == 1:
            return await self._neighbour(-1)
        moves = {"next": self.page + 1, "prev": self.page - 1, "first": 1}
        return self._show(moves.get(name, len(self.pages)))

    async def _neighbour(self, step: int) -> str:
        """Past a chapter's last page, the next chapter; before its first, the one before
        (at its last page), as Discord's Next and Prev do."""
        assert self.chapter is not None
        turn = await self.library.turn_page(
            None,
            self.chapter.story.id,
            self.chapter.number,
            self.page - 1 + step,
            mature_ok=True,
            step=step,
        )
        if turn.chapter.number == self.chapter.number:
            end = "last" if step > 0 else "first"
            return f"This is the {end} page of the story."
        self.chapter, self.pages = turn.chapter, list(turn.pages)
        return self._show(turn.page + 1)

    async def _story_then(self, words: str) -> tuple[Story, str]:
        """A story named by plain words and what follows its name: the story is the longest
        start of the words that names one (`breaking alone 4` -> Breaking Alone, "4")."""
        if words[:1] in "\"'" and words[0] in words[1:]:  # `"Breaking Alone" 2`: the quotes say
            quote = words[0]
            named, rest = words[1:].split(quote, 1)
            found = await self.library.find_story(named, mature_ok=True)
            return found, _unquote(rest.strip())
        parts = words.split()
        typo: NoSuchStory | None = None  # the longest start that is a typo of a title
        for cut in range(len(parts), 0, -1):
            try:
                found = await self.library.find_story(" ".join(parts[:cut]), mature_ok=True)
            except StoryBotError as exc:
                if typo is None and isinstance(exc, NoSuchStory) and exc.near:
                    typo = exc
                if cut > 1:
                    continue
                if typo is None:
                    raise
                raise typo from None
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
        self.shown = "excerpt"
        return render_excerpt(self.excerpt)

    def _show(self, page: int) -> str:
        assert self.chapter is not None
        if not 1 <= page <= len(self.pages):
            raise StoryBotError(f"{self.chapter.label} has pages 1 to {len(self.pages)}.")
        self.page, self.shown = page, "page"
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
    """Read commands until EOF or /quit; interactive with a prompt on a terminal.

    Piped, the exit status is 1 when any command failed (an unknown story, a usage line),
    with a line on stderr saying which, so a script notices; interactive, it is 0."""
    session = ConsoleSession(library, marks=marks_for(stdout))
    interactive = stdin.isatty()
    if interactive:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401 - line editing and history for input()
        stories = await library.stories(mature_ok=True)
        print(
            f"storybot console: {len(stories)} stories loaded. Type /help, or /quit to leave.",
            file=stdout,
        )
    failed: list[int] = []
    number = 0
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
        number += 1
        before = session.failures
        answer = await session.handle(line)
        if answer is None:
            break
        if session.failures > before:
            failed.append(number)
        if answer:
            print(answer, file=stdout, flush=True)
            if not interactive:
                print(file=stdout)
    if failed and not interactive:
        which = ", ".join(str(n) for n in failed[:10]) + (", …" if len(failed) > 10 else "")
        word = "line" if len(failed) == 1 else "lines"
        print(
            f"storybot: {len(failed)} of {number} commands failed ({word} {which})", file=sys.stderr
        )
        return 1
    return 0
