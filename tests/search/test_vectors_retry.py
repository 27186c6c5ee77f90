"""The background build of scene vectors meeting a database that fails goes on later.

The database refuses the vectors' writes (a trigger in the real database, tests/refusing.py,
SQLite or --engine postgresql): the build says so in one line at error, without a traceback,
waits, and goes on from what was committed once the database takes writes again. Before the
fix it logged a traceback and stopped until the next ingest or restart.

The model is a stand-in (vectors from each text's hash): what is tested is the build's
handling of the store, not meaning."""

from __future__ import annotations

import asyncio
import hashlib
import logging

import numpy as np
import pytest

from bot.library import Library
from bot.search.embedding import Floats
from bot.search.vectors import SceneVectors
from bot.settings import Settings
from tests.refusing import WORDS, allow, refuse

WAITED = 60.0  # seconds the build may take on a loaded machine, at most


class Hashed:
    """Vectors made from each text's hash: the same text, the same vector."""

    name = "test-hashed"
    dim = 8

    def passages(self, texts: list[str]) -> Floats:
        return np.stack([self.query(t) for t in texts])

    def query(self, text: str) -> Floats:
        seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest())
        vector = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
        return vector / np.linalg.norm(vector)


async def test_the_build_meeting_a_refusing_database_says_so_and_goes_on_later(
    library: Library, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    model = Hashed()
    vectors = SceneVectors(library.store, model=model)
    vectors.retry_first = 0.05
    stories = await library.stories(mature_ok=True)
    await refuse(settings, "scene_vectors", "INSERT")
    with caplog.at_level(logging.INFO):
        building = asyncio.ensure_future(vectors.build(stories))
        for _ in range(int(WAITED / 0.02)):
            if any(WORDS in r.getMessage() for r in caplog.records) or building.done():
                break
            await asyncio.sleep(0.02)
        await allow(settings, "scene_vectors")
        await asyncio.wait_for(building, WAITED)
    said = [r for r in caplog.records if r.name == "bot.search.vectors" and r.levelno >= 30]
    assert said, caplog.messages
    assert [(r.levelno, r.exc_info) for r in said] == [(logging.ERROR, None)] * len(said)
    assert WORDS in said[0].getMessage() and "goes on in" in said[0].getMessage()
    counts = await library.store.vector_counts(model.name)
    assert counts and all(done == total for total, done in counts.values()), counts
