"""Passages cut smaller for meaning (issue 21), tried offline on the records of
tests/scene_study.py (``python -m tests.scene_study capture`` first, with the same TMPDIR and
SCENE_VECTOR_CACHE: the capture leaves the descriptions' vectors in that cache). Run on the
twelve sets' capture (2,192 records); docs/internals.md has the figures.

``python -m tests.scene_pieces embed`` (about 15 minutes of one core the first time): the
blind library's passages (tests/scene_labels.py ``study_library``), each cut at paragraph
boundaries into pieces of about PIECE_CHARS and into overlapping halves, the pieces embedded
through the test vector cache (tests/vector_cache.py: SCENE_VECTOR_CACHE).

``python -m tests.scene_pieces study`` (about a quarter of an hour): each passage's meaning scored
from its own cosine and its pieces' (VARIANTS), meaning's ranking rebuilt over every passage
from those scores, and the search's own rules replayed on it (tests/scene_study.py
``answer``): each variant with the bot's numbers, then with the fusion's numbers chosen again
for it (GRID), each chosen leaving one set out as tests/scene_study.py does (a scene words
alone had in the top 3 and lost counting three times against); and the close-match labels'
thresholds chosen again on the variant chosen on all the sets (tests/scene_labels.py).
``python -m tests.scene_pieces order`` (two minutes): the bot's three answers as they are,
ordered by each variant's cosines (``_reranked``).
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import pickle
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from bot.models import ScenePassage
from bot.search import embedding, scene
from bot.search.scene import _score, _Scored, stem
from bot.search.vectors import Near
from bot.store.passages import SEPARATOR
from bot.text.normalize import words
from tests import scene_labels, scene_study
from tests.scene_study import Figures, Record
from tests.vector_cache import CachedEmbedder, _key, cache_path

LIBRARY = Path(tempfile.gettempdir()) / "scene-pieces-library.pickle"
PIECE_CHARS = 550  # a piece: about this many characters of whole paragraphs


def cut(text: str, size: int = PIECE_CHARS) -> list[str]:
    """The passage's paragraphs in ``n = round(total / size)`` runs, each paragraph in the
    run its middle falls in (much as bot/store/passages.py cuts a scene into passages); none
    when that is the passage itself."""
    paras = text.split(SEPARATOR)
    lengths = [len(p) + len(SEPARATOR) for p in paras]
    total = sum(lengths)
    n = max(1, (total + size // 2) // size)
    runs: dict[int, list[str]] = {}
    start = 0
    for p, length in zip(paras, lengths, strict=True):
        runs.setdefault((2 * start + length) * n // (2 * total), []).append(p)
        start += length
    return [SEPARATOR.join(r) for r in runs.values()] if len(runs) > 1 else []


def halves(text: str) -> list[str]:
    """Overlapping halves: the paragraphs whose middles fall in the passage's first half, its
    middle half and its second half (none that is the whole passage, each once)."""
    paras = text.split(SEPARATOR)
    middles, at = [], 0
    for p in paras:
        middles.append(at + (len(p) + len(SEPARATOR)) / 2)
        at += len(p) + len(SEPARATOR)
    out: list[str] = []
    for lo, hi in ((0.0, 0.5), (0.25, 0.75), (0.5, 1.0)):
        chosen = [p for p, m in zip(paras, middles, strict=True) if lo * at <= m < hi * at]
        if chosen and len(chosen) < len(paras):
            out.append(SEPARATOR.join(chosen))
    return list(dict.fromkeys(out))


# ---- the library and its pieces' vectors --------------------------------------------------


async def dump() -> dict:
    """Every passage of the blind library (in story order), each text and its vector as the
    bot holds it (int8 over a scale)."""
    async with scene_labels.study_library() as (lib, _vectors, cached):
        stories = await lib.stories(mature_ok=True)
        rows = await lib.store.scene_vector_rows(cached.name, [s.id for s in stories])
        texts = await lib.store.scene_texts([r.scene_id for r in rows])
        return {
            "model": cached.name,
            "places": [
                (r.scene_id, r.story_id, r.chapter, r.first, r.last, r.text_id) for r in rows
            ],
            "texts": {r.text_id: texts[r.scene_id] for r in rows},
            "vectors": {
                r.text_id: np.frombuffer(r.vector, dtype=np.int8).astype(np.float32) / r.scale
                for r in rows
            },
        }


def library() -> dict:
    if not LIBRARY.exists():
        lib = asyncio.run(dump())
        with LIBRARY.open("wb") as f:
            pickle.dump(lib, f)
    with LIBRARY.open("rb") as f:
        return pickle.load(f)


def embed(lib: dict) -> None:
    model = embedding.load("e5")
    if model is None:
        raise SystemExit("no scene model on this platform")
    cached = CachedEmbedder.around(model)
    every: list[str] = []
    for text in lib["texts"].values():
        every += cut(text) + halves(text)
    every = list(dict.fromkeys(every))
    print(f"{len(lib['texts'])} texts, {len(every)} pieces", flush=True)
    for at in range(0, len(every), 48):
        cached.passages(every[at : at + 48])
        print(f"{min(at + 48, len(every))} of {len(every)}", flush=True)


# ---- meaning from the pieces --------------------------------------------------------------

# each passage's meaning: its own cosine ("full", the bot's), its best piece's (the passage's
# own when it is one piece), the better of the two, or their mean; the pieces cut by ``cut``,
# by ``halves`` or both
VARIANTS = (
    "full",
    "cut",
    "max-cut",
    "mean-cut",
    "halves",
    "max-halves",
    "mean-halves",
    "max-all",
    "mean-all",
)


class Meaning:
    """Each distinct passage text's cosine with a description, by each variant."""

    def __init__(self, lib: dict, vectors: dict[str, np.ndarray]) -> None:
        self.places = np.array(lib["places"], dtype=np.int64)  # in story order
        ids = list(dict.fromkeys(int(t) for t in self.places[:, 5]))
        row = {t: i for i, t in enumerate(ids)}
        texts = self.places[:, 5]
        self.first = np.array([int(np.flatnonzero(texts == t)[0]) for t in ids], dtype=np.int64)
        self.full = np.stack([lib["vectors"][t] for t in ids])
        self.pieces: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for kind, split in (("cut", cut), ("halves", halves)):
            owner, rows = [], []
            for t in ids:
                for piece in split(lib["texts"][t]):
                    q, sc = embedding.quantize(vectors[_key("passage", piece)].reshape(1, -1))
                    rows.append(q[0].astype(np.float32) / sc[0])  # as the bot would hold it
                    owner.append(row[t])
            self.pieces[kind] = (np.array(owner, dtype=np.int64), np.stack(rows))
        self.vectors = vectors

    def scores(self, text: str) -> dict[str, np.ndarray]:
        q = self.vectors[_key("query", text)].astype(np.float32)
        full = np.einsum("ij,j->i", self.full, q)  # as the bot ranks (the same rounding)
        best: dict[str, np.ndarray] = {}
        for kind, (owner, rows) in self.pieces.items():
            b = np.full(len(full), -2.0, dtype=np.float32)
            np.maximum.at(b, owner, np.einsum("ij,j->i", rows, q))
            best[kind] = np.where(b > -1.5, b, full)
        best["all"] = np.maximum(best["cut"], best["halves"])
        out = {"full": full}
        for kind in ("cut", "halves", "all"):
            if kind != "all":
                out[kind] = best[kind]
            out[f"max-{kind}"] = np.maximum(full, best[kind])
            out[f"mean-{kind}"] = (full + best[kind]) / 2
        return out

    def near(self, scores: np.ndarray, limit: int) -> list[Near]:
        """As bot/search/vectors.py ``_rank`` over every story (the records' scope)."""
        story = self.places[self.first, 1]
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], story[i], i))
        out = []
        for i in order[:limit]:
            sid, st, chapter, first, last, tid = (int(v) for v in self.places[self.first[i]])
            out.append(Near(sid, st, chapter, first, last, tid, float(scores[i])))
        return out


def _extra(rec: Record, near: list[Near], texts: dict[int, str]) -> list[_Scored]:
    """SceneSearch._nearest_by_words on a record: meaning's first NEAREST_BY_WORDS passages
    FTS5 did not offer, scored by words."""
    offered = {c.passage.id for c in rec.ranked}
    whole = sum(rec.weights.values())
    out = []
    for n in near[: scene.NEAREST_BY_WORDS]:
        if n.scene_id in offered:
            continue
        text = texts[n.text_id]
        passage = ScenePassage(n.scene_id, n.story_id, n.chapter, n.first, n.last, text, 0.0)
        c = _Scored(passage, [stem(w) for w in words(text)])
        _score(c, rec.weights, whole)
        if c.score > 0:
            c.lexical_rank = 1 + sum(1 for r in rec.ranked if r.score > c.score)
            out.append(c)
    return out


def variant_records(records: list[Record], meaning: Meaning, lib: dict) -> dict[str, list]:
    """The records with meaning's ranking as each variant gives it."""
    out: dict[str, list[Record]] = {v: [] for v in VARIANTS}
    for rec in records:
        by = meaning.scores(rec.text)
        for v in VARIANTS:
            again = copy.copy(rec)
            again.near = meaning.near(by[v], scene.DENSE_CANDIDATES)
            again.extra = _extra(rec, again.near, lib["texts"])
            out[v].append(again)
    return out


# ---- the replays --------------------------------------------------------------------------

# the fusion's numbers chosen again with each variant: FUSION_K, LEXICAL_WEIGHT, KEPT_COSINE,
# RERANK_COSINE (the study of 2026-12-03 ran on the rule before KEPT_COSINE: MEANING_FIRST
# 4, 8 or 12 with KEPT_NEAR 0.4 or none; docs/internals.md)
GRID = ((8, 12, 20, 30), (0.3, 0.4, 0.5), (0.025, 0.0275, 0.03), (0.025, 0.033))
GRID_VARIANTS = ("full", "mean-cut", "mean-halves", "mean-all")
Numbers = tuple[int, float, float, float]


@contextmanager
def numbers(chosen: Numbers) -> Iterator[None]:
    names = ("FUSION_K", "LEXICAL_WEIGHT", "KEPT_COSINE", "RERANK_COSINE")
    saved = [getattr(scene, n) for n in names]
    try:
        for n, v in zip(names, chosen, strict=True):
            setattr(scene, n, v)
        yield
    finally:
        for n, v in zip(names, saved, strict=True):
            setattr(scene, n, v)


def now() -> Numbers:
    return (
        scene.FUSION_K,
        scene.LEXICAL_WEIGHT,
        scene.KEPT_COSINE,
        scene.RERANK_COSINE,
    )


def _total(table: dict, key: object) -> str:
    return str(scene_study._sum(table[key], sorted(table[key])))


def study(by_variant: dict[str, list[Record]]) -> tuple[list[str], tuple[str, Numbers]]:
    """The figures, and the variant and numbers chosen on all the sets."""
    table = {v: scene_study.figures(by_variant[v], label=False) for v in VARIANTS}
    lines = [f"  {v}, the bot's numbers: {_total(table, v)}" for v in VARIANTS]
    lines += scene_study.leave_one_out(table, "meaning by", "full", scene_study.LOST_KEPT)
    grid: dict[tuple[str, Numbers], dict[str, Figures]] = {}
    for v in GRID_VARIANTS:
        for chosen in itertools.product(*GRID):
            with numbers(chosen):
                grid[(v, chosen)] = scene_study.figures(by_variant[v], label=False)
    today = ("full", now())
    for v in GRID_VARIANTS:
        part = {k: f for k, f in grid.items() if k[0] == v}
        title = f"{v}, the fusion's numbers (k, weight, first, kept near, rerank) chosen again"
        lines += scene_study.leave_one_out(
            part, title, today if v == "full" else next(iter(part)), scene_study.LOST_KEPT
        )
    lines += scene_study.leave_one_out(
        grid, "any variant, the fusion's numbers chosen again", today, scene_study.LOST_KEPT
    )
    return lines, scene_study._best(grid, sorted(table["full"]), today, scene_study.LOST_KEPT)


def ordered(records: list[Record], by_variant: dict[str, list[Record]]) -> list[str]:
    """The three answers meaning as the bot has it gives, ordered (``_reranked``) by each
    variant's cosines, RERANK_COSINE chosen with it, leaving one set out."""
    table: dict[tuple[str, float], dict[str, Figures]] = {}
    rerank, saved = scene._reranked, scene.RERANK_COSINE
    try:
        for v, unit in itertools.product(GRID_VARIANTS, (0.025, 0.033, 0.04)):
            scene.RERANK_COSINE = unit
            per: dict[str, Figures] = {}
            for rec, again in zip(records, by_variant[v], strict=True):
                scene._reranked = lambda chosen, by_words, _near, ready, n=again.near: rerank(
                    chosen, by_words, n, ready
                )
                per.setdefault(rec.set, Figures()).add(_scored(rec, scene_study.answer(rec)[0]))
            table[(v, unit)] = per
    finally:
        scene._reranked, scene.RERANK_COSINE = rerank, saved
    title = "the bot's three answers ordered by (variant, RERANK_COSINE)"
    lines = scene_study.leave_one_out(table, title, ("full", saved), scene_study.LOST_KEPT)
    return [*lines, *(f"  {k}: {_total(table, k)}" for k in table)]


def _scored(rec: Record, places: list[tuple[int, int]]) -> Figures:
    f = Figures()
    if rec.wanted is None:
        f.absent = 1
        return f
    f.asked, f.top1, f.top3 = 1, places[:1] == [rec.wanted], rec.wanted in places
    f.lost = rec.wanted in rec.words_alone[:3] and rec.wanted not in places
    return f


def alone(records: list[Record], by_variant: dict[str, list[Record]]) -> list[str]:
    """Meaning alone, by each variant: the right chapter first, and among its first three."""
    lines = []
    for v in VARIANTS:
        first = three = 0
        for rec, again in zip(records, by_variant[v], strict=True):
            chapters = list(dict.fromkeys((n.story_id, n.chapter) for n in again.near))[:3]
            first += chapters[:1] == [rec.wanted]
            three += rec.wanted in chapters
        lines.append(f"  meaning alone, {v}: top1 {first} top3 {three}")
    return lines


def label_cases(records: list[Record]) -> list[scene_labels.Case]:
    """tests/scene_labels.py's cases: which answers are right and the evidence about each
    first answer (the search's steps as tests/scene_study.py ``answer`` takes them)."""
    out = []
    for rec in records:
        ranked = [copy.copy(c) for c in rec.ranked]
        chosen = scene._spread(ranked, 3)
        evidence = None
        if rec.near:
            first = {n.scene_id for n in rec.near[: scene.NEAREST_BY_WORDS]}
            extra = [copy.copy(c) for c in rec.extra if c.passage.id in first]
            chosen, fused = scene._hybrid(
                ranked, extra, chosen, near=rec.near, ready=rec.ready, limit=3, lengths=rec.length
            )
            if chosen:
                evidence = scene._evidence(
                    chosen[0],
                    ranked,
                    fused,
                    near=rec.near,
                    weights=dict(rec.weights),
                    names=rec.names,
                )
        right = tuple(scene._place(c) == rec.wanted for c in chosen)
        out.append(scene_labels.Case(rec.set, rec.wanted is None, right, evidence))
    return out


def labels(records: list[Record], title: str) -> list[str]:
    return [title, *scene_labels.report(scene_labels.Table(label_cases(records)))]


def main(argv: list[str]) -> int:
    lib = library()
    if argv[:1] == ["embed"]:
        embed(lib)
        return 0
    if argv[:1] not in (["study"], ["order"]):
        print("python -m tests.scene_pieces embed|study|order")
        return 2
    with np.load(cache_path(lib["model"])) as data:
        vectors = {k: data[k] for k in data.files}
    records = scene_study.load()
    by_variant = variant_records(records, Meaning(lib, vectors), lib)
    same = sum(
        scene_study.answer(a) == scene_study.answer(b)
        for a, b in zip(records, by_variant["full"], strict=True)
    )
    print(f"'full' rebuilt gives the records' own answers for {same} of {len(records)}")
    if argv[:1] == ["order"]:
        print("\n".join(ordered(records, by_variant)))
        return 0
    print("\n".join(alone(records, by_variant)), flush=True)
    lines, (variant, chosen) = study(by_variant)
    print("\n".join(lines), flush=True)
    print("\n".join(labels(by_variant["full"], "labels, meaning as the bot has it:")))
    with numbers(chosen):
        print("\n".join(labels(by_variant[variant], f"labels, {variant} with {chosen}:")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
