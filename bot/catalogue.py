"""The catalogue: the library's stories, a story or chapter named by what someone typed, and a
chapter's text as pages.

A service of the Library (bot/library.py), over the store. It keeps the list of stories in
memory (every command asks for it) until an ingest changes the library (``forget``).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from bot.errors import StoryBotError
from bot.models import Chapter, Story, mark_shared_titles
from bot.paging import paginate
from bot.store import Store
from bot.text.normalize import fold
from bot.text.structure import parse_number

AUTOCOMPLETE_LIMIT = 25
STORY_GONE = "That story is no longer in the library."


class NoSuchStory(StoryBotError):
    """No story has the name typed; ``near``: the nearest title, if one is near (a typo)."""

    def __init__(self, key: str, near: str | None) -> None:
        hint = f" Did you mean “{near}”?" if near else ""
        super().__init__(f"No story called “{one_line(key)}”.{hint} See the list with /stories.")
        self.near = near


class Catalogue:
    """The stories of one store, and the naming of stories and chapters."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._stories: list[Story] | None = None

    def forget(self) -> None:
        """Drop the stories kept in memory: the library changed (an ingest)."""
        self._stories = None

    async def stories(self, *, mature_ok: bool) -> list[Story]:
        if self._stories is None:
            self._stories = mark_shared_titles(await self._store.list_stories())
        return [s for s in self._stories if mature_ok or not s.mature]

    async def every(self, stories: Sequence[Story]) -> bool:
        """Whether ``stories`` (a selection of the library's) are all of them."""
        return len({s.id for s in stories}) == len(await self.stories(mature_ok=True))

    async def find_story(self, ref: str | int | Story, *, mature_ok: bool) -> Story:
        """A story by id, slug, exact title, or unique title/slug prefix (or a Story already
        found, checked again against ``mature_ok``)."""
        if isinstance(ref, Story):
            story = ref
        elif isinstance(ref, int):  # ids come from buttons on old messages
            story = next((s for s in await self.stories(mature_ok=True) if s.id == ref), None)
            if story is None:
                raise StoryBotError(STORY_GONE)
        else:
            story = match_story(await self.stories(mature_ok=True), ref, mature_ok=mature_ok)
        if story.mature and not mature_ok:
            raise StoryBotError(
                f"“{story.title}” is rated {story.rating}: it can be read only in "
                "age-restricted channels."
            )
        return story

    async def suggest(self, typed: str, *, mature_ok: bool) -> list[Story]:
        """Stories whose title or slug matches what was typed, for autocomplete (at most 25)."""
        wanted = fold(typed)
        stories = await self.stories(mature_ok=mature_ok)
        starts = [
            s for s in stories if fold(s.title).startswith(wanted) or s.slug.startswith(wanted)
        ]
        within = [s for s in stories if s not in starts and wanted in fold(s.title)]
        return (starts + within)[:AUTOCOMPLETE_LIMIT]

    async def chapter(
        self, story_ref: str | int | Story, chapter_ref: str | int, *, mature_ok: bool
    ) -> Chapter:
        story = await self.find_story(story_ref, mature_ok=mature_ok)
        number = chapter_number(story, chapter_ref)
        paragraphs = await self._store.chapter_paragraphs(story.id, number)
        label = story.chapter_info(number)
        note = await self._store.chapter_note(story.id, number)
        return Chapter(
            story, number, label.label if label else str(number), note, tuple(paragraphs)
        )

    async def pages(
        self, story_ref: str | int | Story, chapter_ref: str | int, *, mature_ok: bool
    ) -> tuple[Chapter, list[str]]:
        chapter = await self.chapter(story_ref, chapter_ref, mature_ok=mature_ok)
        return chapter, paginate(chapter.text)


def one_line(text: str, width: int = 60) -> str:
    """``text`` on one line, cut to ``width`` with "…": for echoing what someone typed."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def match_story(stories: Sequence[Story], ref: str, *, mature_ok: bool = True) -> Story:
    """A story named by what someone typed: its slug, exact title, file name, or a unique
    prefix of its slug or title. (Ids are not names: only buttons carry them, as ints.) A
    name that fits none is answered with the nearest title, if one is near ("finaly-home":
    Finally Home). A prefix and the nearest title are looked for only among the stories
    ``mature_ok`` may read, so that no other is named: a mature story named in full is found
    (and refused by ``find_story``), one named in part is not."""
    key = ref.strip()
    if not key:
        raise StoryBotError("Name a story: see the list with /stories.")
    folded = fold(key)
    for s in stories:
        if s.slug == key.lower() or fold(s.title) == folded or s.file == key:
            return s
    readable = [s for s in stories if mature_ok or not s.mature]
    prefixed = [
        s for s in readable if s.slug.startswith(key.lower()) or fold(s.title).startswith(folded)
    ]
    if len(prefixed) == 1:
        return prefixed[0]
    if len(prefixed) > 1:
        names = ", ".join(s.title for s in prefixed[:5])
        raise StoryBotError(f"“{one_line(key)}” could be several stories: {names}.")
    raise NoSuchStory(key, _nearest_title(readable, key))


def _nearest_title(stories: Sequence[Story], key: str) -> str | None:
    """The title whose slug or folded title is nearest ``key`` (difflib's ratio at least
    0.75), if any: a typo rather than another story."""
    names = {s.slug: s.title for s in stories} | {fold(s.title): s.title for s in stories}
    near = difflib.get_close_matches(fold(key).replace(" ", "-"), list(names), n=1, cutoff=0.75)
    near = near or difflib.get_close_matches(fold(key), list(names), n=1, cutoff=0.75)
    return names[near[0]] if near else None


def chapter_number(story: Story, ref: str | int) -> int:
    """A chapter by number ("2"), by its place in the story (1..N), by its label ("Chapter
    Six", "part 2"), or by the number its label gives ("6" for a lone "Chapter Six")."""
    key = str(ref).strip()
    if key.lstrip("-").isdigit() and len(key) < 10:
        number = int(key)
        if story.chapter_info(number) is not None:
            return number
        if 1 <= number <= len(story.chapters):
            return story.chapters[number - 1].number
        labelled = [c for c in story.chapters if parse_number(c.label.split()[-1]) == number]
        if len(labelled) == 1:
            return labelled[0].number
    else:
        folded = fold(key)
        for c in story.chapters:
            if fold(c.label) == folded or fold(c.label).rstrip(".") == folded.rstrip("."):
                return c.number
    numbers = ", ".join(c.label for c in story.chapters[:10])
    more = "…" if len(story.chapters) > 10 else ""
    raise StoryBotError(
        f"“{story.title}” has no chapter {one_line(key, 30)}: give its place, 1 to"
        f" {len(story.chapters)}, or its label ({numbers}{more})."
    )
