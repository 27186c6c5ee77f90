"""The scene model with a file of vectors already computed, for evaluation reruns.

Embedding the seeds and The Time Machine takes minutes of CPU; the vectors of a passage
never change for one model, so they are kept in a file outside the repository
(SCENE_VECTOR_CACHE, default ~/.cache/storybot/) keyed by the model and the passage text's
hash. The first run computes them with the real model; later runs read them. The bot's own
build path (bot/search/vectors.py) is used either way: only the model call is cached.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot.search.embedding import Embedder, Floats


def cache_path(model: str) -> Path:
    folder = Path(os.environ.get("SCENE_VECTOR_CACHE", Path.home() / ".cache" / "storybot"))
    safe = "".join(ch if ch.isalnum() else "-" for ch in model)
    return folder / f"scene-vectors-{safe}.npz"


def _key(kind: str, text: str) -> str:
    return hashlib.sha1(f"{kind}\0{text}".encode()).hexdigest()


@dataclass
class CachedEmbedder:
    inner: Embedder
    path: Path
    vectors: dict[str, Floats] = field(default_factory=dict)
    computed: int = 0

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    @classmethod
    def around(cls, inner: Embedder) -> CachedEmbedder:
        path = cache_path(inner.name)
        cached = cls(inner, path)
        if path.exists():
            with np.load(path) as data:
                cached.vectors = {k: data[k] for k in data.files}
        return cached

    def passages(self, texts: list[str]) -> Floats:
        keys = [_key("passage", t) for t in texts]
        missing = [(k, t) for k, t in zip(keys, texts, strict=True) if k not in self.vectors]
        if missing:
            made = self.inner.passages([t for _, t in missing])
            for (k, _), v in zip(missing, made, strict=True):
                self.vectors[k] = v
            self.computed += len(missing)
            self.save()
        return np.stack([self.vectors[k] for k in keys]).astype(np.float32)

    def query(self, text: str) -> Floats:
        key = _key("query", text)
        if key not in self.vectors:
            self.vectors[key] = self.inner.query(text)
            self.computed += 1
        return self.vectors[key]

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".partial.npz")
        np.savez(partial, **self.vectors)
        os.replace(partial, self.path)
