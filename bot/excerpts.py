"""Excerpts: whole consecutive paragraphs of one scene, about 400-1,500 characters.

The functions choose a passage around a paragraph (pure); ``Excerpts``, a service of the
Library, picks which paragraph: an evenly chosen story, a channel's stored shuffle of its
passages, or the passages naming a character.
"""

from __future__ import annotations

import random
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from bot.catalogue import Catalogue, chapter_number, one_line
from bot.errors import StoryBotError
from bot.models import Excerpt, Paragraph, Story
from bot.paging import SENTENCE_END
from bot.store import Store
from bot.text.normalize import query_tokens

MIN_CHARS = 400
MAX_CHARS = 1500
SEPARATOR = "\n\n"
# How far around the anchor paragraph the store is asked for neighbours.
LOOK_BEHIND = 10
LOOK_AHEAD = 20
CHARACTER_PASSAGES = 5000  # passages naming a character that /excerpt character: picks from
TRIES = 8  # picks tried to miss the recent excerpts a caller wants to avoid

_SENTENCE = re.compile(r".+?(?:[.!?…]+[\"'”’)\]*_]*(?=\s)|$)", re.DOTALL)


def _size(parts: Sequence[str]) -> int:
    return sum(len(p) for p in parts) + len(SEPARATOR) * max(0, len(parts) - 1)


def trim_to_sentences(text: str, limit: int = MAX_CHARS) -> str:
    """The longest run of whole sentences from the start of ``text`` within ``limit``."""
    if len(text) <= limit:
        return text
    out = ""
    for match in _SENTENCE.finditer(text):
        candidate = text[: match.end()].rstrip()
        if len(candidate) > limit:
            break
        out = candidate
    if out:
        return out
    cut = text[:limit].rsplit(" ", 1)[0].rstrip()
    return cut + "…"


def _sentence_start(text: str, offset: int) -> int:
    """The start of the sentence holding ``offset``."""
    starts = [0] + [m.end() for m in SENTENCE_END.finditer(text, 0, offset)]
    return starts[-1]


def window(
    scene: Sequence[Paragraph], anchor: int, focus: str | None = None
) -> tuple[int, int, str]:
    """Pick paragraphs around ``scene[anchor]`` (all of one scene) for an excerpt.

    Returns (first index, last index, text). Grows forward from the anchor, then back,
    never past MAX_CHARS unless a single paragraph is longer, which is trimmed to whole
    sentences, starting at the sentence that names ``focus`` when one is given.
    """
    first = last = anchor
    parts = [scene[anchor].text]
    while _size(parts) < MIN_CHARS and last + 1 < len(scene):
        nxt = scene[last + 1].text
        if _size([*parts, nxt]) > MAX_CHARS:
            break
        parts.append(nxt)
        last += 1
    while _size(parts) < MIN_CHARS and first > 0:
        prev = scene[first - 1].text
        if _size([prev, *parts]) > MAX_CHARS:
            break
        parts.insert(0, prev)
        first -= 1
    text = SEPARATOR.join(parts)
    if len(text) > MAX_CHARS:  # one long paragraph
        found = text.casefold().find(focus.casefold()) if focus else -1
        if found > 0:
            text = text[_sentence_start(text, found) :]
        text = trim_to_sentences(text)
    return first, last, text


def same_scene(paragraphs: Sequence[Paragraph], anchor: Paragraph) -> list[Paragraph]:
    """The contiguous run of ``paragraphs`` in the anchor's chapter and scene."""
    return [p for p in paragraphs if p.scene == anchor.scene and p.chapter == anchor.chapter]


def passage(
    around: Sequence[Paragraph], anchor: Paragraph, focus: str | None = None
) -> tuple[Paragraph, Paragraph, str]:
    """The excerpt grown from ``anchor`` among its neighbours ``around`` (the paragraphs
    LOOK_BEHIND before it to LOOK_AHEAD after): its first and last paragraphs, and its text."""
    scene = same_scene(around, anchor)
    first, last, text = window(scene, scene.index(anchor), focus)
    return scene[first], scene[last], text


def passage_anchors(paragraphs: Sequence[Paragraph]) -> list[int]:
    """The passages a story is cut into for excerpts that must not repeat: the positions of
    their first paragraphs, in order, none overlapping another.

    Each is the excerpt ``passage`` grows from that paragraph, so showing the passage at an
    anchor shows exactly that excerpt; the next anchor is the paragraph after it. A paragraph
    whose excerpt would reach back into the one before is not an anchor. ``paragraphs`` are
    a whole story's, in order of position, with no gaps."""
    anchors: list[int] = []
    i = 0
    while i < len(paragraphs):
        anchor = paragraphs[i]
        around = paragraphs[max(0, i - LOOK_BEHIND) : i + LOOK_AHEAD + 1]
        first, last, _ = passage(around, anchor)
        if first.position == anchor.position:
            anchors.append(anchor.position)
            i += last.position - anchor.position + 1
        else:
            i += 1
    return anchors


# ---- the service ------------------------------------------------------------------------------

Bounds = dict[int, tuple[int, int]]  # story id -> (first, last) position excerpts come from


@dataclass(frozen=True, slots=True)
class _Pick:
    """What an excerpt may come from: the stories, their bounds, and (with a character) the
    positions naming them in each story (an empty list: any passage of a story tagged so)."""

    stories: list[Story]
    bounds: Bounds
    named: dict[int, list[int]] | None


class Excerpts:
    """Random passages of the library, and the passage after one (Continue reading)."""

    def __init__(
        self, store: Store, catalogue: Catalogue, rng: random.Random, *, read_only: bool
    ) -> None:
        self._store = store
        self._catalogue = catalogue
        self.rng = rng
        self._read_only = read_only  # no shuffles stored
        self._passages: dict[int, list[int]] = {}  # story id -> its excerpt anchors

    def forget(self) -> None:
        """Drop the passages kept in memory: the library changed (an ingest)."""
        self._passages.clear()

    async def excerpt(
        self,
        story: str | int | None = None,
        chapter: str | int | None = None,
        character: str | None = None,
        *,
        mature_ok: bool,
        rng: random.Random | None = None,
        avoid: Collection[tuple[int, int]] = (),
        channel: int | None = None,
    ) -> Excerpt:
        """A random passage from an evenly chosen story.

        With a ``channel`` (and no ``character``), the passage is the next of that channel's
        shuffle of the story's passages (or the chapter's), stored, so a channel sees every
        passage once before any comes back, across restarts. Otherwise ``avoid`` holds
        (story id, first position) of recent excerpts, tried eight times to miss."""
        rng = rng or self.rng
        pick = await self._pick(story, chapter, character, mature_ok=mature_ok)
        if channel is not None and pick.named is None and not self._read_only:
            chosen = rng.choice(pick.stories)
            found = await self._shuffled(chosen, chapter, pick.bounds[chosen.id], channel, rng)
            if found is not None:
                return found
        result: Excerpt | None = None
        for _ in range(TRIES):
            result = await self._random(pick, character, rng)
            if (result.story.id, result.start) not in avoid:
                break
        assert result is not None
        return result

    async def _pick(
        self,
        story: str | int | None,
        chapter: str | int | None,
        character: str | None,
        *,
        mature_ok: bool,
    ) -> _Pick:
        if story is not None:
            candidates = [await self._catalogue.find_story(story, mature_ok=mature_ok)]
        else:
            candidates = await self._catalogue.stories(mature_ok=mature_ok)
            if chapter is not None:
                raise StoryBotError("Name a story to pick a chapter from.")
        if not candidates:
            raise StoryBotError(
                "The library is empty: add story files (.txt, .epub, .html) to the stories folder."
            )
        bounds = _bounds(candidates, chapter)
        named = None
        if character:
            named = await self._naming(character, candidates, bounds)
        usable = [s for s in candidates if s.id in (named if named is not None else bounds)]
        if not usable:
            raise StoryBotError("That chapter has no text to quote.")
        return _Pick(usable, bounds, named)

    async def _naming(
        self, character: str, stories: Sequence[Story], bounds: Bounds
    ) -> dict[int, list[int]]:
        named = await self._character_positions(character, stories, bounds)
        # a story whose character tags list the name is the character's story even where
        # no passage names them as typed (tag "Rupert Giles", text "Giles" or "the G-man"):
        # any passage of it will do, the naming ones being preferred where there are some
        named |= {
            s.id: []
            for s in stories
            if s.id not in named and s.id in bounds and tags_name(s, character)
        }
        if not named:
            raise StoryBotError(f"No passage names “{one_line(character)}”.")
        return named

    async def _shuffled(
        self,
        story: Story,
        chapter: str | int | None,
        bounds: tuple[int, int],
        channel: int,
        rng: random.Random,
    ) -> Excerpt | None:
        """The next passage of the channel's shuffle (None: the story has no passages)."""
        scope = "" if chapter is None else str(chapter_number(story, chapter))
        pool = await self._passage_pool(story, bounds)
        if not pool:
            return None
        seed, index = await self._store.next_in_shuffle(
            channel, story.id, scope, len(pool), rng.getrandbits(62)
        )
        return await self._excerpt_at(story, pool[shuffled(seed, len(pool), index)])

    async def _random(self, pick: _Pick, character: str | None, rng: random.Random) -> Excerpt:
        chosen = rng.choice(pick.stories)
        named = pick.named.get(chosen.id) if pick.named is not None else None
        if named:
            position = rng.choice(named)
        else:
            first, last = pick.bounds[chosen.id]
            position = rng.randint(first, last)
        return await self._excerpt_at(chosen, position, focus=character if named else None)

    async def excerpt_pool(self, story_ref: str | int, *, mature_ok: bool) -> list[int]:
        """The first positions of the passages a channel's shuffle of a story goes through."""
        story = await self._catalogue.find_story(story_ref, mature_ok=mature_ok)
        if not story.chapters:
            return []
        return await self._passage_pool(story, (story.chapters[0].first, story.chapters[-1].last))

    async def _passage_pool(self, story: Story, bounds: tuple[int, int]) -> list[int]:
        anchors = self._passages.get(story.id)
        if anchors is None and story.chapters:
            paragraphs = await self._store.paragraphs_between(
                story.id, story.chapters[0].first, story.chapters[-1].last
            )
            anchors = self._passages[story.id] = passage_anchors(paragraphs)
        first, last = bounds
        return [a for a in anchors or () if first <= a <= last]

    async def continue_after(
        self, story_ref: str | int, position: int, *, mature_ok: bool
    ) -> Excerpt:
        """The passage that follows the paragraph at ``position``."""
        story = await self._catalogue.find_story(story_ref, mature_ok=mature_ok)
        if not story.chapters or position >= story.chapters[-1].last:
            raise StoryBotError(f"That was the end of “{story.title}”.")
        return await self._excerpt_at(story, position + 1, forward_only=True)

    async def _excerpt_at(
        self, story: Story, position: int, *, forward_only: bool = False, focus: str | None = None
    ) -> Excerpt:
        lo = position if forward_only else max(0, position - LOOK_BEHIND)
        around = await self._store.paragraphs_between(story.id, lo, position + LOOK_AHEAD)
        anchor = next(p for p in around if p.position == position)
        first, last, text = passage(around, anchor, focus)
        info = story.chapter_info(anchor.chapter)
        return Excerpt(
            story=story,
            chapter=anchor.chapter,
            chapter_label=info.label if info else str(anchor.chapter),
            start=first.position,
            end=last.position,
            text=text,
        )

    async def _character_positions(
        self, name: str, stories: Sequence[Story], bounds: Bounds
    ) -> dict[int, list[int]]:
        """Where passages name ``name`` word for word, by story, within each story's bounds."""
        wanted = query_tokens(name)
        if not wanted:
            return {}
        every = await self._catalogue.every(stories) and len(bounds) == len(stories)
        ids = None if every else list(bounds)
        rows = await self._store.paragraphs_with_phrase(wanted, ids, CHARACTER_PASSAGES)
        found: dict[int, list[int]] = {}
        for p in rows:
            first, last = bounds[p.story_id]
            if first <= p.position <= last:
                found.setdefault(p.story_id, []).append(p.position)
        return found


def _bounds(stories: Sequence[Story], chapter: str | int | None) -> Bounds:
    """Where excerpts of each story come from: the chapter named, or the whole story (the
    store's chapter positions travel with each Story: no query per story here)."""
    bounds: Bounds = {}
    for s in stories:
        if chapter is not None:
            info = s.chapter_info(chapter_number(s, chapter))
            bounds[s.id] = (info.first, info.last) if info else (0, -1)
        elif s.chapters:
            bounds[s.id] = (s.chapters[0].first, s.chapters[-1].last)
    return bounds


def tags_name(story: Story, name: str) -> bool:
    """Whether one of the story's character tags names ``name``: the whole tag or words of it
    in order ("Giles", "Rupert Giles" for "Rupert Giles"), folded as search folds them."""
    wanted = query_tokens(name)
    if not wanted:
        return False
    for tag in story.characters:
        words = query_tokens(tag)
        if any(words[i : i + len(wanted)] == wanted for i in range(len(words) - len(wanted) + 1)):
            return True
    return False


def shuffled(seed: int, size: int, index: int) -> int:
    """The ``index``-th passage of the shuffle of ``size`` passages made from ``seed``.

    The order is a function of the seed, so a channel's shuffle is stored as two numbers
    (seed, how many used), not as a list."""
    order = list(range(size))
    random.Random(seed).shuffle(order)
    return order[index]
