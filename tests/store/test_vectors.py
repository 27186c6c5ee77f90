"""Scene vectors (bot/store/interface.py, VectorStore) on each engine: stored per scene text,
read back as the passages holding them, gone with their passages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.ingest import ingest
from bot.search import vocabulary
from bot.search.embedding import Floats
from bot.search.vectors import SceneVectors
from bot.store import Store
from tests.store.test_contract import _seeded


def _vector(text_id: int) -> bytes:
    return bytes((text_id + i) % 256 for i in range(8))


async def test_vectors_are_written_read_and_replaced(store: Store, tmp_path: Path) -> None:
    await _seeded(store, tmp_path)
    stories = await store.list_stories()
    story = stories[0].id
    counts = await store.vector_counts("m1")
    assert set(counts) == {s.id for s in stories} and all(v == 0 for _, v in counts.values())
    pending = await store.vector_pending("m1", story, 3)
    assert len(pending) == 3 and all(text for _, text in pending)
    passages = await store.story_passages(story)
    first = passages[0]
    texts = await store.paragraphs_between(story, first[1], first[2])
    assert pending[0][1] == "\n\n".join(p.text for p in texts)
    ids = [i for i, _ in pending]
    written = await store.write_vectors("m1", [(i, 2.5, _vector(i)) for i in ids])
    assert written == 3
    assert await store.write_vectors("m1", [(10**12, 1.0, b"\x01")]) == 0  # no such text
    assert (await store.vector_counts("m1"))[story][1] == 3
    assert [i for i, _ in await store.vector_pending("m1", story, 2)] == [
        i for i, _ in (await store.vector_pending("m1", story, 5))[:2]
    ]
    assert ids[0] not in {i for i, _ in await store.vector_pending("m1", story, 10**6)}
    rows = await store.scene_vector_rows("m1", [story, story])
    assert sorted({r.text_id for r in rows}) == sorted(ids)
    assert [r.first for r in rows] == sorted(r.first for r in rows)
    row = next(r for r in rows if r.text_id == ids[0])
    assert (row.story_id, row.chapter, row.first, row.last) == (story, *first)
    assert (row.scale, row.vector) == (2.5, _vector(ids[0]))
    # another model's vector replaces it; forgetting keeps only the model asked for
    await store.write_vectors("m2", [(ids[0], 0.5, b"\x07" * 8)])
    assert len(await store.scene_vector_rows("m1", [story])) == len(rows) - 1
    await store.forget_vectors("m2")
    assert await store.scene_vector_rows("m1", [story]) == []
    assert [r.vector for r in await store.scene_vector_rows("m2", [story])] == [b"\x07" * 8]
    await store.forget_vectors()
    assert await store.scene_vector_rows("m2", [story]) == []


async def test_vectors_go_with_their_passages(store: Store, tmp_path: Path) -> None:
    folder = await _seeded(store, tmp_path)
    stories = await store.list_stories()
    for story in stories:
        pending = await store.vector_pending("m", story.id, 10**6)
        await store.write_vectors("m", [(i, 1.0, _vector(i)) for i, _ in pending])
    gone = stories[0]
    kept = [s.id for s in stories[1:]]
    before = await store.scene_vector_rows("m", kept)
    (folder / gone.file).unlink()
    await ingest(store, folder)
    assert await store.scene_vector_rows("m", [gone.id]) == []
    assert await store.scene_vector_rows("m", kept) == before
    counts = await store.vector_counts("m")
    assert gone.id not in counts and all(n == v for n, v in counts.values())


class _Named:
    """A model known by its name only: which stories are ready needs no embedding."""

    name = "m"
    dim = 8

    def passages(self, texts: list[str]) -> Floats:
        return np.zeros((len(texts), self.dim), dtype=np.float32)

    def query(self, text: str) -> Floats:
        return np.zeros(self.dim, dtype=np.float32)


async def test_vectors_another_process_wrote_are_seen_by_a_serving_one(
    store: Store, other_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another host (or the CLI's ingest) builds the vectors: the serving bot's searches use
    them once it looks again, on both engines. On PostgreSQL the library's signature does
    not change when vectors are written, so the ready stories were never read again there."""
    await _seeded(store, tmp_path)
    stories = await store.list_stories()
    serving = SceneVectors(store, model=_Named())
    monkeypatch.setattr(vocabulary, "SIGNATURE_TTL", 0.0)
    assert await serving.ready(stories) == set()
    for story in stories:
        pending = await other_store.vector_pending("m", story.id, 10**6)
        await other_store.write_vectors("m", [(i, 1.0, _vector(i)) for i, _ in pending])
    assert await serving.ready(stories) == {s.id for s in stories}
    await other_store.forget_vectors()
    assert await serving.ready(stories) == set()
