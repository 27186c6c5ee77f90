"""How the numbers of "close match" were chosen, and checked by leaving one set out:
``python -m tests.scene_labels`` (about a minute once the vectors are cached).

Every description of the development sets (tests/blind_eval.py DEVELOPMENT) goes through the
real search over the blind library (the seeds and The Time Machine, vectors from the cache of
tests/vector_cache.py), and for each first answer the evidence the rule weighs is recorded
(bot/search/scene.py ``_evidence``: words and meaning agree on its chapter, the fused lead,
the words' lead without names, the names' share, meaning's lead), with whether each answer
is the right chapter. Then, for each set left out, the thresholds are chosen on the other
sets (CHOICE) and the labels counted on the set left out; and once on all of them.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from itertools import product
from pathlib import Path

import numpy as np

from bot.library import Library
from bot.search import SceneSearch, embedding, scene
from bot.search.scene import (
    CLOSE_LEAD,
    CLOSE_MEANING_LEAD,
    CLOSE_NAME_SHARE,
    CLOSE_WORDS_LEAD,
    Evidence,
)
from bot.search.vectors import SceneVectors
from bot.settings import Settings
from tests import blind_eval
from tests.vector_cache import CachedEmbedder

# the thresholds tried: fused lead, words' lead without names, names' share (at most),
# meaning's lead (cosine)
# (to 0.3 and 0.012 until the sixth set: a scene in no story there at a fused lead of 0.011 and
# a words' lead of 0.218 left no thresholds within those a margin from it)
LEADS = np.round(np.arange(0.0, 0.025, 0.0005), 4)
WORDS_LEADS = np.round(np.arange(-0.05, 0.6, 0.01), 2)
# names: none. Until the eighth set, 0 to 0.7 by 0.05 with a step of 0.3: that margin from the
# scenes in no story that name the stories' people (their names' shares run 0.05 to 0.72) left
# the label to 6 of 1105 scenes, 6 of 6 right with each set left out. A description naming no
# one keeps clear of those scenes by itself (the step here is 0); those naming no one are kept
# out by the margins of the other numbers: 70 given, 67 right, none in no story, left out
# (docs/internals.md; also with meaning's lead, below: without it 49, 46, none).
NAME_SHARES = np.array([0.0])
MEANING_LEADS = np.round(np.arange(0.0, 0.05, 0.002), 3)
# CHOICE: the most right labels, with at least PRECISION of them right and no scene in no
# story labelled even with each threshold moved towards it by its STEP (a clear margin).
# The steps were (0.01, 0.03, 0.1) with k = 5 (the lead's 0.01 is 0.001 with k = 20): chosen
# on three sets, that margin called 3 of the fourth set's 30 scenes in no story close matches
# (real scenes with the outcome changed, nearer the rule than any of the other sets' 64).
# Three times those steps is the least of 1, 1.5, 2 and 3 times with which no set left out
# had one (this choice of margin saw all four folds; docs/internals.md says so). On six sets
# it still is (1, 1.5, 2 and 2.5 times each let the sixth set, left out, have one), and on
# seven (1 time lets the fourth set have one, 1.5 to 2.5 times the sixth). Meaning's lead
# takes three times its grid's step too (0.006; 0.002 and 0.004 also let no set left out
# have one, and give more labels: 90 and 82 given, 85 and 79 right, left out; the widest
# kept, as for the others). On nine sets those margins let the ninth set, left out, have one
# (the one its held-out run had: "the doctor secretly tries to ride the machine and vanishes
# into the future"); 4/3 of them is the least of 4/3, 5/3 and 2 times with which no set left out
# has one (5/3 and 2 times each let the fifth set have one): left out 42 given, 42 right, where
# the margins before gave 54, 54 and one in no story (docs/internals.md). On ten sets, 1 time
# lets no set left out have one (54 given, 53 right) and 4/3 none (36, 36); 4/3 is kept: a
# margin that a held-out set has already shown too narrow is not narrowed again because the
# next set did not show it (5/3 and 2 times still let the fifth set have one). On eleven, the
# same: 1 time 46 given, 43 right, none in no story, left out; 4/3 36, 35.
PRECISION = 0.95
STEPS = (0.004, 0.12, 0.0, 0.008)


@dataclass(frozen=True, slots=True)
class Case:
    """One description: its set, whether it is in no story, which answers are the right
    chapter, and the evidence about its first answer (None: words and meaning disagree)."""

    set: str
    absent: bool
    right: tuple[bool, ...]
    evidence: Evidence | None


@asynccontextmanager
async def study_library() -> AsyncIterator[tuple[Library, SceneVectors, CachedEmbedder]]:
    """The seeds and The Time Machine ingested in a temporary folder, every story's scene
    vectors built (through the test vector cache, saved once built)."""
    model = embedding.load("e5")
    if model is None:
        raise SystemExit("no scene model on this platform")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "stories"
        shutil.copytree(blind_eval.ROOT / "seeds", folder)
        shutil.copy(blind_eval.NOVEL, folder / blind_eval.NOVEL.name)
        settings = Settings(stories_dir=folder, data_dir=Path(tmp) / "data", scene_model="off")
        lib = await Library.open(settings)
        try:
            await lib.ingest()
            cached = CachedEmbedder.around(model)
            vectors = SceneVectors(lib.store, model=cached, budget_mb=100)
            await vectors.build(await lib.stories(mature_ok=True))
            cached.save()
            yield lib, vectors, cached
        finally:
            await lib.close()


async def cases() -> list[Case]:
    async with study_library() as (lib, vectors, _cached):
        return await run(lib, SceneSearch(lib.store, vectors))


async def run(lib: Library, search: SceneSearch) -> list[Case]:
    """Every description of the development sets through ``search`` (over ``lib``, whose
    stories have vectors), with the evidence about each first answer."""
    stories = await lib.stories(mature_ok=True)
    seen: list[Evidence | None] = []
    close = scene._close

    def spy(evidence: Evidence | None) -> bool:
        seen.append(evidence)
        return close(evidence)

    scene._close = spy
    out: list[Case] = []
    try:
        for path in blind_eval.DEVELOPMENT:
            scenes, absent = blind_eval.read(path)
            asked = [
                (s.description, (s.file, s.chapter))
                for s in await blind_eval.relocated(lib, scenes)
            ]
            asked += [(a.description, None) for a in absent]
            for text, wanted in asked:
                seen.clear()
                result = await search.find(text, stories, limit=3, every=True)
                right = tuple((h.story.file, h.chapter) == wanted for h in result.hits)
                out.append(Case(set_name(path), wanted is None, right, seen[-1] if seen else None))
    finally:
        scene._close = close
    return out


def set_name(path: Path) -> str:
    """The set a file of descriptions belongs to: the first set's two halves are one set
    (written by one writer at one time), each later file is a set of its own."""
    if path in (blind_eval.DEV, blind_eval.HELDOUT):
        return "set 1 (blind_dev, blind_heldout)"
    return path.stem


Rule = tuple[float, float, float, float]  # fused lead, words' lead, names' share, meaning's lead


class Table:
    """The cases as arrays, and the labels a choice of thresholds gives them."""

    def __init__(self, cases: Sequence[Case]) -> None:
        ev = [c.evidence for c in cases]
        self.sets = np.array([c.set for c in cases])
        self.absent = np.array([c.absent for c in cases])
        self.right = np.array([bool(c.right[:1]) and c.right[0] for c in cases])
        self.agree = np.array([e is not None for e in ev])
        self.lead = np.array([e.lead if e else 0.0 for e in ev])
        self.words = np.array([e.words_lead if e else 0.0 for e in ev])
        self.names = np.array([e.name_share if e else 1.0 for e in ev])
        self.meaning = np.array([e.meaning_lead if e else 0.0 for e in ev])
        self.cases = list(cases)

    def labelled(self, lead: float, words: float, names: float, meaning: float) -> np.ndarray:
        return (
            self.agree
            & (self.lead >= lead)
            & (self.words >= words)
            & (self.names <= names)
            & (self.meaning >= meaning)
        )

    def choose(self, among: np.ndarray) -> Rule | None:
        """CHOICE on the cases ``among``: the thresholds, or None when none qualifies."""
        best: tuple[tuple[int, int], Rule] | None = None
        absent, described = among & self.absent, among & ~self.absent
        for lead, words, names, meaning in product(LEADS, WORDS_LEADS, NAME_SHARES, MEANING_LEADS):
            step_lead, step_words, step_names, step_meaning = STEPS
            loose = self.labelled(
                lead - step_lead, words - step_words, names + step_names, meaning - step_meaning
            )
            if (loose & absent).any():
                continue
            said = self.labelled(lead, words, names, meaning) & described
            given, right = int(said.sum()), int((said & self.right).sum())
            if not given or right < PRECISION * given:
                continue
            if best is None or (right, -given) > best[0]:
                rule = (float(lead), float(words), float(names), float(meaning))
                best = ((right, -given), rule)
        return best[1] if best else None

    def labels(self, among: np.ndarray, rule: Rule) -> dict[str, list[int]]:
        """Per label: given to described scenes, right, given to scenes in no story."""
        close = self.labelled(*rule)
        out = {"close match": [0, 0, 0], "possible": [0, 0, 0], "long shot": [0, 0, 0]}
        for i in np.flatnonzero(among):
            case = self.cases[i]
            for rank, right in enumerate(case.right):
                label = "long shot" if rank else ("close match" if close[i] else "possible")
                out[label][2 if case.absent else 0] += 1
                out[label][1] += right
        return out


def report(table: Table) -> list[str]:
    lines = [
        "close match thresholds (fused lead, words' lead without names, names' share, "
        "meaning's lead)"
    ]
    total = {"close match": [0, 0, 0], "possible": [0, 0, 0], "long shot": [0, 0, 0]}
    for left in dict.fromkeys(table.sets):
        rule = table.choose(table.sets != left)
        if rule is None:
            lines.append(f"  {left} left out: no thresholds qualify on the others")
            continue
        counts = table.labels(table.sets == left, rule)
        for label, figures in counts.items():
            total[label] = [a + b for a, b in zip(total[label], figures, strict=True)]
        lines.append(f"  {left} left out: chosen on the others {rule}: {_line(counts)}")
    lines.append(f"  leave one set out, in all: {_line(total)}")
    every = np.ones(len(table.sets), dtype=bool)
    rule = table.choose(every)
    lines.append(f"  chosen on all the sets: {rule}")
    now = (CLOSE_LEAD, CLOSE_WORDS_LEAD, CLOSE_NAME_SHARE, CLOSE_MEANING_LEAD)
    lines.append(f"  the bot's {now} on all the sets: {_line(table.labels(every, now))}")
    return lines


def _line(counts: dict[str, list[int]]) -> str:
    return "; ".join(
        f"{label} {given} given, {right} right, {absent} absent"
        for label, (given, right, absent) in counts.items()
    )


def main(argv: list[str]) -> int:
    print("\n".join(report(Table(asyncio.run(cases())))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
