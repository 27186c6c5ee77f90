"""The scene index by meaning: vectors of scene passages, built in the background, and the
passages nearest a description.

After the lexical ingest (the bot is ready as fast as without a model), ``build`` embeds the
passages of the stories within the budget, a batch at a time, in a thread of its own at a
lower priority and on one core: a passage of ~1,250 characters costs about a second of one
core. Each batch is committed, so a restart resumes where it stopped (texts with a vector
are not embedded again). A passage held by two stories is one scene text, embedded once.

Budget (SCENE_VECTORS_MB): stories get vectors in the order they were filed while their
passages fit in the budget (PASSAGES_PER_MB a megabyte); the others, and every story while
its vectors are being built, are ranked by words alone: ``nearest`` offers only stories all
of whose passages have vectors (``ready``), and says nothing of the others.

Ranking is brute force: the vectors of the ready stories (stored as int8, 384 bytes a
passage), read once per library generation into one float32 matrix in memory (1,536 bytes a
distinct passage text: 25 MB for SCENE_VECTORS_MB's 20), times the description's vector, in
numpy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.errors import StoryBotError, log_failure
from bot.models import SceneIndexStatus, Story
from bot.search import embedding
from bot.search.embedding import Embedder
from bot.search.vocabulary import Cached
from bot.store import Store, VectorRow

if TYPE_CHECKING:  # numpy is imported when a matrix is made: a bot without vectors never is
    import numpy as np
    import numpy.typing as npt

log = logging.getLogger(__name__)

BATCH = 8  # passages embedded and committed together (~8 s of one core)
PASSAGES_PER_MB = 800  # scene passages of ~1,250 characters in a megabyte of story text
LOG_EVERY = 60.0  # seconds between progress lines in the log
NICE = 10  # the worker thread's niceness: serving readers comes first
QUERY_CACHE = 256  # descriptions whose vectors are kept
RETRY_FIRST = 30.0  # seconds the build waits after the database failed, doubled each time
RETRY_MOST = 900.0  # up to a quarter of an hour


@dataclass(frozen=True, slots=True)
class Near:
    """A passage near the description: where it is, and the cosine."""

    scene_id: int
    story_id: int
    chapter: int
    first: int
    last: int
    text_id: int
    similarity: float


@dataclass(slots=True)
class _Matrix:
    """The ready stories' vectors: one row per distinct scene text (a text held by many
    passages is one row), and each passage as columns of numbers, in story order."""

    key: tuple[str, frozenset[int]]
    vectors: npt.NDArray[np.float32]  # unit rows (int8 rows / scale), one per text
    texts: npt.NDArray[np.int64]  # each row's text id
    places: npt.NDArray[np.int64]  # per passage: scene id, story id, chapter, first, last
    row: npt.NDArray[np.int64]  # per passage: its text's row
    first: npt.NDArray[np.int64]  # per row: its first passage (in story order)


StoriesOf = Callable[[], Awaitable[Sequence[Story]]]  # reads the library's stories


async def _read(stories: Sequence[Story] | StoriesOf) -> Sequence[Story]:
    return await stories() if callable(stories) else stories


_STORIES_A_READ = 64  # stories whose vector rows are read at a time (bounds the peak memory)


def _lower_priority() -> None:
    with contextlib.suppress(AttributeError, OSError):  # Linux: a thread's own niceness
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)


def worker_thread() -> ThreadPoolExecutor:
    """The background worker's one thread, at niceness NICE: beside it a search's embedding
    takes the core it needs (beside a worker at niceness 0, /scene's p50 went from 35 to
    56-60 ms; docs/internals.md)."""
    return ThreadPoolExecutor(1, "storybot-vectors", _lower_priority)


class SceneVectors:
    """Vectors of scene passages: the background build, its progress, and nearest passages."""

    def __init__(
        self,
        store: Store,
        choice: str = "e5",
        budget_mb: float = 20.0,
        cpu: float = 1.0,
        *,
        model: Embedder | None = None,
    ) -> None:
        """``model``: a model already loaded (tests and tools), instead of SCENE_MODEL's."""
        self.store = store
        self.choice = choice
        self.budget = int(budget_mb * PASSAGES_PER_MB)
        self.cpu = min(max(cpu, 0.05), 1.0)  # share of one core the worker may use
        self._model: Embedder | None = model
        self._executor: ThreadPoolExecutor | None = None
        # the stories all of whose passages have vectors: read again when the library changes
        # (vocabulary.Cached, as the searches' vocabularies) or when this build added some
        self._ready: Cached[frozenset[int]] = Cached(store, self._read_ready, self._signature)
        self._matrix: _Matrix | None = None
        self._queries: OrderedDict[tuple[str, str], embedding.Floats] = OrderedDict()
        self.query_cache = QUERY_CACHE  # benchmarks set 0: every description embedded anew
        self._building = False
        self._progress = (0, 0)  # (embedded, passages) of the budgeted stories, while building
        self._budgeted = 0
        self._task: asyncio.Task[None] | None = None
        self._loading: asyncio.Future[Embedder | None] | None = None  # the model, loading
        self.on_batch: Callable[[int, int], None] | None = None  # tests watch the build
        self.retry_first = RETRY_FIRST  # seconds before the build goes on after a failure
        self._written = 0  # batches of vectors this object committed (a stretch made progress)

    # ---- the model -------------------------------------------------------------------------

    async def model(self) -> Embedder | None:
        """The model given, or SCENE_MODEL's, loaded once (None if it could not be: a load
        that ended is not tried again, and awaiting it again does not wait)."""
        if self._model is None:
            if self._loading is None:  # one load, in a thread, which stop() waits for
                self._loading = asyncio.ensure_future(
                    asyncio.to_thread(embedding.load, self.choice)
                )
            self._model = await asyncio.shield(self._loading)
        return self._model

    # ---- the build -------------------------------------------------------------------------

    def invalidate(self) -> None:
        """The library changed (an ingest): look again at which stories are ready."""
        self._ready.invalidate()

    def start(self, stories: StoriesOf) -> None:
        """(Re)start the background build (a task of its own) over the stories ``stories()``
        reads, read again each time the build goes on after the database failed."""
        self._cancel()
        self._task = asyncio.create_task(
            self.build(stories, retry=True), name="storybot-scene-vectors"
        )

    @property
    def started(self) -> bool:
        return self._task is not None

    def _cancel(self) -> asyncio.Task[None] | None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            return task
        return None

    async def stop(self) -> None:
        """Stop the background build; what it committed stays, and the next build goes on
        from there."""
        task = self._cancel()
        if task is not None:
            await asyncio.wait([task])
        # a thread cannot be cancelled: a load under way ends (and says so) before the close
        if self._loading is not None and not self._loading.done():
            await asyncio.wait([self._loading])

    def budgeted(self, stories: Sequence[Story], counts: dict[int, tuple[int, int]]) -> list[Story]:
        """The stories that get vectors: in the order filed, each while it fits the budget."""
        chosen: list[Story] = []
        used = 0
        for story in sorted(stories, key=lambda s: s.id):
            size = counts.get(story.id, (0, 0))[0]
            if used + size <= self.budget:
                chosen.append(story)
                used += size
        return chosen

    async def build(self, stories: Sequence[Story] | StoriesOf, *, retry: bool = False) -> None:
        """Embed the passages of the budgeted stories that have no vector yet (cancellable:
        what is committed stays, and the next build goes on from there). Here and now (the
        `ingest --vectors` command): a failure is raised, for the caller to say. ``retry``
        (the background build, ``start``): a database busy or out of reach is waited for
        (_build_until_done); any other failure is logged and the build stops."""
        model = await self.model()
        if model is None or self._building:
            return
        self._building = True
        try:
            if not retry:
                await self._build(model, await _read(stories), background=False)
                return
            await self._build_until_done(model, stories)
        except Exception:  # our own fault: the bot serves on, by words; said with its traceback
            if not retry:
                raise
            log.exception("scene vectors: the background build stopped")
        finally:
            self._building = False
            if self._executor is not None:
                self._executor.shutdown(wait=False)
                self._executor = None

    async def _build_until_done(
        self, model: Embedder, stories: Sequence[Story] | StoriesOf
    ) -> None:
        """Build; when the database is busy or out of reach, say so in one line and go on
        from what was committed after a while (the stories read again), twice as long each
        time, or RETRY_FIRST again after a stretch that wrote vectors. A database damaged,
        too new or refusing is said once, at error, and the build stops (until the next
        ingest or restart): waiting does not mend it."""
        wait = self.retry_first
        while True:
            written = self._written
            try:
                await self._build(model, await _read(stories), background=True)
                return
            except StoryBotError as exc:
                if not exc.transient:
                    log_failure(log, "scene vectors: the background build stopped", exc)
                    return
                if self._written != written:
                    wait = self.retry_first
                log_failure(log, f"scene vectors: the build goes on in {wait:.0f} s", exc)
            await asyncio.sleep(wait)
            wait = min(wait * 2, RETRY_MOST)

    async def _build(self, model: Embedder, stories: Sequence[Story], *, background: bool) -> None:
        counts = await self.store.vector_counts(model.name)
        chosen = self.budgeted(stories, counts)
        self._budgeted = len(chosen)
        total = sum(counts.get(s.id, (0, 0))[0] for s in chosen)
        done = sum(counts.get(s.id, (0, 0))[1] for s in chosen)
        self._progress = (done, total)
        if done >= total:
            return
        log.info(
            "scene vectors: %d of %d passages of %d stories have them; building the rest%s"
            " (%d stories over SCENE_VECTORS_MB are ranked by words)",
            done,
            total,
            len(chosen),
            " in the background" if background else "",
            len(stories) - len(chosen),
        )
        started = last_log = time.monotonic()
        for story in chosen:
            done = await self._build_story(model, story, done, total)
            self._ready.invalidate()  # a story may be ready: look again at the next search
            if time.monotonic() - last_log >= LOG_EVERY:
                last_log = time.monotonic()
                log.info("scene vectors: %d of %d passages (%s)", done, total, story.title)
        log.info(
            "scene vectors: all %d passages embedded in %.0f s", total, time.monotonic() - started
        )

    async def _build_story(self, model: Embedder, story: Story, done: int, total: int) -> int:
        if self._executor is None:
            self._executor = worker_thread()
        loop = asyncio.get_running_loop()
        while batch := await self.store.vector_pending(model.name, story.id, BATCH):
            began = time.monotonic()
            texts = [text for _, text in batch]
            vectors = await loop.run_in_executor(self._executor, model.passages, texts)
            rows, scales = embedding.quantize(vectors)
            ids = [text_id for text_id, _ in batch]
            await self.store.write_vectors(
                model.name,
                [
                    (t, float(sc), row.tobytes())
                    for t, sc, row in zip(ids, scales, rows, strict=True)
                ],
            )
            done += len(batch)
            self._written += 1
            self._progress = (done, total)
            if self.on_batch is not None:
                self.on_batch(done, total)
            if self.cpu < 1.0:  # rest, so the worker uses at most SCENE_INDEX_CPU of a core
                await asyncio.sleep((time.monotonic() - began) * (1 - self.cpu) / self.cpu)
        return done

    async def status(self, stories: Sequence[Story]) -> SceneIndexStatus:
        model = await self.model() if self.choice != "off" else None
        if model is None:
            return SceneIndexStatus(None, 0, 0, 0, 0, len(stories), False)
        counts = await self.store.vector_counts(model.name)
        chosen = self.budgeted(stories, counts)
        total = sum(counts.get(s.id, (0, 0))[0] for s in chosen)
        done = sum(counts.get(s.id, (0, 0))[1] for s in chosen)
        ready = sum(1 for s in chosen if _complete(counts.get(s.id)))
        return SceneIndexStatus(
            model.name, total, done, ready, len(chosen), len(stories), self._building
        )

    # ---- the search ------------------------------------------------------------------------

    async def ready(self, stories: Sequence[Story]) -> set[int]:
        """The ids of ``stories`` whose every passage has a vector (none without a model); the
        library is asked again when it or its vectors changed (checked at most every
        SIGNATURE_TTL seconds, vocabulary.Cached) or after this build added vectors."""
        if self._name() is None:
            return set()
        ready = {s.id for s in stories} & await self._ready.get()
        if ready and await self.model() is None:  # vectors, but the model cannot load here
            return set()
        return ready

    def _name(self) -> str | None:
        return self._model.name if self._model else embedding.model_name(self.choice)

    async def _signature(self) -> tuple[int, ...]:
        """The library's signature and its vectors' (on PostgreSQL the library's does not
        change when another process or host writes vectors)."""
        name = self._name()
        vectors = await self.store.vector_signature(name) if name is not None else ()
        return (*await self.store.library_signature(), *vectors)

    async def _read_ready(self) -> frozenset[int]:
        name = self._name()
        if name is None:
            return frozenset()
        counts = await self.store.vector_counts(name)
        return frozenset(sid for sid, c in counts.items() if _complete(c))

    async def nearest(self, text: str, stories: Sequence[Story], limit: int) -> list[Near]:
        """The passages of the ready ones of ``stories`` nearest the description, best first,
        one per scene text (in the first of the stories holding it).

        The description is embedded in a thread while the caller goes on (a search runs this
        as a task beside its word ranking), and the ranking is one product of the ready
        stories' matrix, held in memory per library generation, with the description's vector.
        """
        model = self._model
        embedded = None
        if model is not None and self._ready.last:  # stories had vectors: start embedding now
            embedded = asyncio.ensure_future(self.query_vector(model, text))
        ready = await self.ready(stories)
        model = self._model
        if not ready or model is None:
            if embedded is not None:
                embedded.cancel()
            return []
        query = await (embedded or self.query_vector(model, text))
        matrix = await self._load(model.name, await self._ready.get())
        return await asyncio.to_thread(_rank, matrix, query, ready, limit)

    async def query_vector(self, model: Embedder, text: str) -> embedding.Floats:
        """The description's vector (the last QUERY_CACHE descriptions are kept: a reader who
        asks again, or pages on, waits for no model)."""
        key = (model.name, text)
        if (vector := self._queries.get(key)) is not None:
            self._queries.move_to_end(key)
            return vector
        vector = await asyncio.to_thread(model.query, text)
        self._queries[key] = vector
        while len(self._queries) > self.query_cache:
            self._queries.popitem(last=False)
        return vector

    async def _load(self, model: str, every: frozenset[int]) -> _Matrix:
        """The matrix of ``every`` ready story, read again when that set changes."""
        key = (model, every)
        if self._matrix is not None and self._matrix.key == key:
            return self._matrix
        self._matrix = None  # the old one goes before the new one is read
        building = _Building()
        ready = sorted(every)
        for at in range(0, len(ready), _STORIES_A_READ):
            rows = await self.store.scene_vector_rows(model, ready[at : at + _STORIES_A_READ])
            building.add(rows)
        self._matrix = await asyncio.to_thread(building.matrix, key)
        return self._matrix


class _Building:
    """The matrix, read a few stories at a time: each distinct text's vector once, and each
    passage's place as numbers (no row object is kept)."""

    def __init__(self) -> None:
        self.index: dict[int, int] = {}  # text id -> its row
        self.vectors: list[bytes] = []
        self.scales: list[float] = []
        self.places: list[tuple[int, int, int, int, int]] = []
        self.rows: list[int] = []

    def add(self, rows: Sequence[VectorRow]) -> None:
        for r in rows:
            at = self.index.get(r.text_id)
            if at is None:
                at = self.index[r.text_id] = len(self.vectors)
                self.vectors.append(r.vector)
                self.scales.append(r.scale)
            self.places.append((r.scene_id, r.story_id, r.chapter, r.first, r.last))
            self.rows.append(at)

    def matrix(self, key: tuple[str, frozenset[int]]) -> _Matrix:
        import numpy as np

        dim = len(self.vectors[0]) if self.vectors else embedding.DIM
        raw = np.frombuffer(b"".join(self.vectors), dtype=np.int8).reshape(-1, dim)
        unit = raw.astype(np.float32)
        unit /= np.array(self.scales, dtype=np.float32).reshape(-1, 1)
        row = np.array(self.rows, dtype=np.int64)
        first = np.zeros(len(self.vectors), dtype=np.int64)
        if len(row):
            _, at = np.unique(row, return_index=True)  # rows 0..n-1 all occur
            first = at.astype(np.int64)
        places = np.array(self.places, dtype=np.int64).reshape(-1, 5)
        texts = np.fromiter(self.index, dtype=np.int64, count=len(self.index))
        return _Matrix(key, unit, texts, places, row, first)


def _rank(matrix: _Matrix, query: embedding.Floats, ready: set[int], limit: int) -> list[Near]:
    """The texts nearest ``query``, each at its first passage in a story of ``ready``."""
    import numpy as np

    # einsum, not ``@``: numpy hands ``@`` to OpenBLAS, whose threads go on spinning for a
    # while after each product (30-40 ms of a second core per search, measured on the 100 MB
    # library's budget); einsum's own loop is as fast as one BLAS thread (3 ms for 16,000 rows)
    scores = np.einsum("ij,j->i", matrix.vectors, query)
    first = matrix.first
    if len(ready) < len(matrix.key[1]):  # a narrower scope than every ready story
        inside = np.nonzero(np.isin(matrix.places[:, 1], np.fromiter(ready, dtype=np.int64)))[0]
        rows, at = np.unique(matrix.row[inside], return_index=True)
        first = np.full(len(scores), -1, dtype=np.int64)
        first[rows] = inside[at]
        scores = np.where(first >= 0, scores, np.float32(-2.0))
    take = min(len(scores), limit)
    if take == 0:
        return []
    best = np.argpartition(-scores, take - 1)[:take]
    out: list[Near] = []
    for i in sorted(best.tolist(), key=lambda i: (-scores[i], matrix.places[first[i], 1])):
        if scores[i] < -1.5:
            continue
        scene, story, chapter, start, end = (int(v) for v in matrix.places[first[i]])
        out.append(Near(scene, story, chapter, start, end, int(matrix.texts[i]), float(scores[i])))
    return out


def _complete(count: tuple[int, int] | None) -> bool:
    return count is not None and count[0] > 0 and count[1] >= count[0]
