"""SQL for stories, chapters and paragraphs, and the writer that puts stories in place.

Writing works as in the SQLite engine (bot/store/sqlite/library.py): a chapter whose text is
already stored takes the same texts; a story's passages share scene texts the same way; a
story written again keeps its id. The text work (cutting documents) is done in a thread,
ahead of the writing (``_Cuts``). A batch is one transaction, under an advisory lock (one
writer at a time, whichever host it runs on), with a savepoint per story: a story that fails
is rolled back alone and keeps its previous version; a story that cannot be cut is not
written and keeps it too.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from bot.models import Paragraph, Rating, Story
from bot.store.cut import ChapterRow, Row
from bot.store.errors import REFUSED, StoreDamaged, StoreError
from bot.store.interface import FileState, StoryWrite
from bot.store.passages import SEPARATOR
from bot.store.postgres.base import (
    NAMESPACE,
    WRITE_LOCK,
    Connection,
    PGBase,
    number,
    pg_errors,
    store_error,
)
from bot.store.postgres.tokens import Document, Tokenizer
from bot.store.rows import (
    CHAPTER_COLUMNS,
    STORY_COLUMNS,
    names_json,
    slugify,
    stored_rating,
    stories_from_rows,
)

log = logging.getLogger(__name__)

_PARAGRAPH_COLUMNS = "p.id, p.story_id, p.chapter, p.position, p.scene, t.text"
_PARAGRAPH_TABLES = "paragraphs p JOIN texts t ON t.id = p.text_id"
_MERGE_PENDING = (
    "SELECT gin_clean_pending_list('texts_tsv'::regclass)"
    " + gin_clean_pending_list('texts_banded'::regclass)"
    " + gin_clean_pending_list('scene_texts_tsv'::regclass)"
)
ANALYZE_SHARE = 0.25  # texts written since the last ANALYZE, as a share of all, that call one


def _paragraph(row: Any) -> Paragraph:
    return Paragraph(row[0], row[1], row[2], row[3], row[4], row[5])


@dataclass(slots=True)
class _Prepared:
    """A story's rows (cut where it was parsed: bot/store/cut.py) with its documents, before
    the transaction."""

    item: StoryWrite
    rows: Sequence[Row]  # (chapter, position, scene, text)
    chapters: Sequence[ChapterRow]
    hashes: Sequence[bytes]
    documents: list[Document]  # one per row
    cuts: Sequence[tuple[int, int, int]]  # passages: (chapter, first, last)
    scene_documents: list[Document] = field(default_factory=list)


def _prepare(tokenizer: Tokenizer, item: StoryWrite) -> _Prepared:
    cut = item.cut
    rows = cut.rows
    prepared = _Prepared(
        item,
        rows,
        cut.chapters,
        cut.hashes,
        tokenizer.documents("words", [r[3] for r in rows]),
        cut.passages,
    )
    prepared.scene_documents = tokenizer.documents(
        "stems",
        [SEPARATOR.join(r[3] for r in rows[c[1] : c[2] + 1]) for c in cut.passages],
    )
    return prepared


class LibrarySQL(PGBase):
    tokenizer: Tokenizer
    _written_since_analyze: int = 0

    async def file_ratings(self) -> dict[str, Rating]:
        rows = await self._all("SELECT file, rating FROM stories")
        return {r[0]: stored_rating(r[1]) for r in rows}

    async def file_states(self) -> dict[str, FileState]:
        rows = await self._all("SELECT file, size, mtime_ns, hash, meta_hash FROM stories")
        return {r[0]: FileState(r[1], r[2], r[3], r[4]) for r in rows}

    async def touch_file(self, file: str, size: int, mtime_ns: int) -> None:
        await self._execute(
            "UPDATE stories SET size = $2, mtime_ns = $3 WHERE file = $1", file, size, mtime_ns
        )

    async def write_stories(self, items: Sequence[StoryWrite]) -> list[str | None]:
        """Put each story in place of its file's previous version; an error or None each.

        The stories are cut (their documents, in a thread: ``_Cuts``) one ahead of the
        writing; the lock is asked for once the first is cut. A story whose cut fails is
        refused by name, the others written; the database's own failure rolls the batch
        back whole. Whatever ends the batch, the cutting is let end before this returns or
        raises."""
        if not items:
            return []
        cuts = _Cuts(self.tokenizer, items)
        try:
            await cuts.ready(0)  # a slow first cut keeps no other writer waiting
            with pg_errors(self.where):
                async with self.pool.acquire() as conn, conn.transaction():
                    await conn.execute(
                        "SELECT pg_advisory_xact_lock($1, $2)", NAMESPACE, WRITE_LOCK
                    )
                    results = await _write_batch(conn, items, cuts)
        finally:
            await cuts.close()
        written = sum(len(i.cut.rows) for i, r in zip(items, results, strict=True) if r is None)
        await self._after_write("merging the search indexes' pending lists", self._merge_pending())
        await self._after_write("ANALYZE", self._analyze_after(written))
        return results

    async def _after_write(self, what: str, step: Coroutine[Any, Any, None]) -> None:
        """Upkeep after a batch was committed: its stories are written whatever happens here.
        A failure (a lock not granted in time, a statement cancelled, the server gone) is the
        host's to know, at warning; VACUUM (autovacuum) does the same work later. Damage is
        not upkeep: it is raised (StoreDamaged), for the host to be told."""
        try:
            await step
        except StoreDamaged:
            raise
        except StoreError as exc:
            log.warning("the stories were written, but %s failed (left to VACUUM): %s", what, exc)

    async def _merge_pending(self) -> None:
        """Move what was just written into the search indexes proper. GIN keeps new entries
        in a pending list that every search reads through, entry by entry, until VACUUM or
        4 MB more of them merge it: after an ingest, searches ran 3-7 times slower (30 MB
        library: a rare pair of words 0.76 -> 0.11 ms, six common pairs 36 -> 9.4 ms) until
        autovacuum came by. It takes the index's owner; another user leaves it to VACUUM."""
        try:
            await self._value(_MERGE_PENDING)
        except StoreError as exc:
            if not isinstance(exc.__cause__, asyncpg.InsufficientPrivilegeError):
                raise
            log.debug("search index pending lists left to VACUUM: %s", exc)

    async def _analyze_after(self, written: int) -> None:
        """ANALYZE once much of the library is new, so the planner knows the indexes' sizes."""
        self._written_since_analyze += written
        total = int(await self._value("SELECT docs FROM index_stats WHERE name = 'texts'") or 0)
        if self._written_since_analyze >= max(1000, ANALYZE_SHARE * total):
            await self._execute("ANALYZE texts, paragraphs, scene_texts, scenes, chapters, terms")
            self._written_since_analyze = 0

    async def tidy_indexes(self) -> None:
        """After much of the library was rewritten: VACUUM and ANALYZE the search tables."""
        await self._execute(
            "VACUUM (ANALYZE) texts, paragraphs, scene_texts, scenes, terms, scene_terms"
        )

    async def rename_story(self, old: str, new: str) -> None:
        """A story file renamed (the same bytes): its id and readers stay."""
        await self._execute("UPDATE stories SET file = $2 WHERE file = $1", old, new)

    async def remove_story(self, file: str) -> bool:
        async with self.transaction() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock($1, $2)", NAMESPACE, WRITE_LOCK)
            story_id = await conn.fetchval("SELECT id FROM stories WHERE file = $1", file)
            if story_id is None:
                return False
            await delete_story_rows(conn, story_id)
            await conn.execute("DELETE FROM stories WHERE id = $1", story_id)
            await conn.execute("UPDATE library_version SET version = version + 1")
            return True

    async def list_stories(self) -> list[Story]:
        chapters = await self._all(
            f"SELECT {CHAPTER_COLUMNS} FROM chapters ORDER BY story_id, first_position"
        )
        return stories_from_rows(
            chapters,
            await self._all(f"SELECT {STORY_COLUMNS} FROM stories ORDER BY lower(title), id"),
        )

    async def chapter_note(self, story_id: int, number: int) -> str | None:
        return await self._value(
            "SELECT note FROM chapters WHERE story_id = $1 AND number = $2", story_id, number
        )

    async def chapter_paragraphs(self, story_id: int, number: int) -> list[Paragraph]:
        rows = await self._all(
            f"SELECT {_PARAGRAPH_COLUMNS} FROM {_PARAGRAPH_TABLES}"
            " WHERE p.story_id = $1 AND p.chapter = $2 ORDER BY p.position",
            story_id,
            number,
        )
        return [_paragraph(r) for r in rows]

    async def paragraphs_between(self, story_id: int, first: int, last: int) -> list[Paragraph]:
        rows = await self._all(
            f"SELECT {_PARAGRAPH_COLUMNS} FROM {_PARAGRAPH_TABLES} WHERE p.story_id = $1"
            " AND p.position BETWEEN $2 AND $3 ORDER BY p.position",
            story_id,
            first,
            last,
        )
        return [_paragraph(r) for r in rows]


# ---- deleting a story's rows ---------------------------------------------------------------

# the documents of a story no other story holds: (table, holders, its terms table)
_UNSHARED = (
    ("scene_texts", "scenes", "scene_terms"),
    ("texts", "paragraphs", "terms"),
)


async def delete_story_rows(conn: Connection, story_id: int) -> None:
    """A story's paragraphs, passages, chapters, and the documents no other story holds, with
    their share of the index statistics."""
    for table, holders, terms in _UNSHARED:
        ids = [
            r[0]
            for r in await conn.fetch(
                f"SELECT DISTINCT h.text_id FROM {holders} h WHERE h.story_id = $1 AND NOT EXISTS"
                f" (SELECT 1 FROM {holders} o WHERE o.text_id = h.text_id AND o.story_id <> $1)",
                story_id,
            )
        ]
        if not ids:
            continue
        await conn.execute(
            f"UPDATE {terms} SET docs = {terms}.docs - d.n FROM (SELECT u.lexeme, count(*) AS n"
            f" FROM {table} t, unnest(t.tsv) u WHERE t.id = ANY($1) GROUP BY u.lexeme) d"
            f" WHERE {terms}.term = d.lexeme",
            ids,
        )
        await conn.execute(
            "UPDATE index_stats SET docs = index_stats.docs - d.n,"
            " tokens = index_stats.tokens - d.tokens"
            f" FROM (SELECT count(*) AS n, coalesce(sum(tokens), 0) AS tokens FROM {table}"
            f" WHERE id = ANY($1)) d WHERE name = '{table}'",
            ids,
        )
        await conn.execute(f"DELETE FROM {table} WHERE id = ANY($1)", ids)
    await conn.execute("DELETE FROM scenes WHERE story_id = $1", story_id)
    await conn.execute("DELETE FROM paragraphs WHERE story_id = $1", story_id)
    await conn.execute("DELETE FROM chapters WHERE story_id = $1", story_id)


# ---- writing a batch -------------------------------------------------------------------------


CUT_FAILED = (
    "its text could not be indexed for search (the host's log says why); its previous version"
    " is kept"
)


def _cut(tokenizer: Tokenizer, item: StoryWrite) -> _Prepared | Exception:
    """A story's documents (in a thread), or what cutting it raised: a value either way, so
    no failure is left unread in a thread or taken for the database's (an OSError is not
    the server out of reach)."""
    try:
        return _prepare(tokenizer, item)
    except Exception as exc:  # the story's own: refused by name, the batch goes on
        return exc


# stories cut ahead of the one the writer asked for last. Cutting the whole batch ahead (no
# bound) took the writer's transaction 0.9 s of waiting for cuts where one ahead took 6.5-8.4,
# but the 21 MB ingest took longer in both pairs measured (61.2 and 82.4 s against 52.9 and
# 57.3, load 3-6): the cutting thread competing for the interpreter with the writer's round
# trips, and a batch's documents all held at once
AHEAD = 1


class _Cuts:
    """A batch's stories with their documents, each cut in a thread while the story before
    it is written (the cutting is Python's work, the writing mostly the server's: they
    overlap), AHEAD stories ahead of the writer. ``close`` stops it after the story being
    cut and waits for that one: no thread goes on cutting after its batch ended, cancelled
    or failed."""

    def __init__(self, tokenizer: Tokenizer, items: Sequence[StoryWrite]) -> None:
        loop = asyncio.get_running_loop()
        # story i's cut until the writer takes it: a story written is held here no more
        self._cut: dict[int, asyncio.Future[_Prepared | Exception]] = {
            i: loop.create_future() for i in range(len(items))
        }
        self._asked = -1  # the last story asked for
        self._moved = asyncio.Event()  # asked for more, or stopped
        self._stopped = False
        self._task = asyncio.ensure_future(self._run(tokenizer, items))

    async def _run(self, tokenizer: Tokenizer, items: Sequence[StoryWrite]) -> None:
        try:
            for i, item in enumerate(items):
                while i > self._asked + AHEAD and not self._stopped:
                    await self._moved.wait()
                    self._moved.clear()
                if self._stopped:
                    return
                # no local keeps the story once its future has it: the writer's take drops it
                self._cut[i].set_result(await _cut_in_thread(tokenizer, item))
        finally:  # stopped: the stories not cut are never asked for
            for cut in self._cut.values():
                cut.cancel()

    def _ask(self, i: int) -> asyncio.Future[_Prepared | Exception]:
        if i > self._asked:
            self._asked = i
            self._moved.set()
        return self._cut[i]

    async def ready(self, i: int) -> None:
        """Wait until story ``i`` is cut (or has failed), leaving it for ``take``."""
        await asyncio.shield(self._ask(i))

    async def take(self, i: int) -> _Prepared | Exception:
        """Story ``i`` once cut: its documents, or why it could not be cut. It is handed over:
        held here no more, so a batch holds the story being written and those cut ahead,
        never all its documents at once."""
        story = await asyncio.shield(self._ask(i))
        del self._cut[i]
        return story

    async def close(self) -> None:
        """Cut no more, and wait for the story being cut (a thread cannot be stopped)."""
        self._stopped = True
        self._moved.set()
        await asyncio.wait([self._task])


async def _cut_in_thread(tokenizer: Tokenizer, item: StoryWrite) -> _Prepared | Exception:
    try:
        story = await asyncio.to_thread(_cut, tokenizer, item)
    except Exception as exc:  # no thread to cut it in (the loop is ending)
        story = exc
    if isinstance(story, Exception):  # said now: the batch may end before it
        log.error("%s cannot be written: cutting it failed", item.file, exc_info=story)
    return story


async def _write_batch(
    conn: Connection, items: Sequence[StoryWrite], cuts: _Cuts
) -> list[str | None]:
    """Each story under a savepoint of its own, in order; the batch's index statistics."""
    results: list[str | None] = []
    taken = {r[0]: r[1] for r in await conn.fetch("SELECT slug, file FROM stories")}
    batch = IndexCounts()
    for i, item in enumerate(items):
        # taken and written in a call of its own: no local here keeps it once written
        results.append(await _write_taken(conn, item, await cuts.take(i), taken, batch))
    await batch.write(conn)
    await conn.execute("UPDATE library_version SET version = version + 1")
    return results


async def _write_taken(
    conn: Connection,
    item: StoryWrite,
    story: _Prepared | Exception,
    taken: dict[str, str],
    batch: IndexCounts,
) -> str | None:
    """One story under a savepoint of its own: None once written, or why it was not."""
    if isinstance(story, Exception):  # never the database's: this story alone (logged)
        return CUT_FAILED
    counts = IndexCounts()
    try:
        async with conn.transaction():  # a savepoint: this story alone
            await _write_one(conn, story, taken, counts)
    except asyncpg.PostgresError as exc:  # its words to the host's log
        if type(store_error(exc, "")) is not StoreError:
            # busy, out of reach, stopping, damaged or unable to write (no privilege, a
            # full disk): the database's doing, not the story's, said once as what it
            # is; the whole batch is rolled back
            raise
        log.warning("the database refused %s: %s", item.file, exc)
        return REFUSED
    batch.add(counts)
    return None


# ---- writing one story -----------------------------------------------------------------------


async def _write_one(
    conn: Connection, story: _Prepared, taken: dict[str, str], counts: IndexCounts
) -> None:
    item = story.item
    existing = await conn.fetchrow("SELECT id, slug FROM stories WHERE file = $1", item.file)
    if existing is not None:
        taken.pop(existing[1], None)
    base = slugify(item.parsed.title)
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    if existing is None:
        story_id = number(await conn.fetchval("SELECT nextval('story_ids')"))
        await conn.execute(
            "INSERT INTO stories (id, file, slug, title, words, paragraph_count, size,"
            " mtime_ns, hash, meta_hash) VALUES ($1, $2, $3, '', 0, 0, 0, 0, '', '')",
            story_id,
            item.file,
            slug,
        )
    else:
        story_id = int(existing[0])
        await delete_story_rows(conn, story_id)
    await _update_story(conn, story_id, slug, story)
    text_ids, fresh_from = await _write_texts(conn, story, counts)
    await conn.executemany(
        "INSERT INTO chapters (story_id, number, label, words, note, first_position,"
        " last_position, text_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        [(story_id, *c, h) for c, h in zip(story.chapters, story.hashes, strict=True)],
    )
    await conn.execute(
        "INSERT INTO paragraphs (id, story_id, chapter, position, scene, text_id)"
        " SELECT nextval('paragraph_ids'), $1, u.c, u.p, u.s, u.t"
        " FROM unnest($2::int[], $3::int[], $4::int[], $5::bigint[]) AS u(c, p, s, t)",
        story_id,
        [r[0] for r in story.rows],
        [r[1] for r in story.rows],
        [r[2] for r in story.rows],
        text_ids,
    )
    await _write_scenes(conn, story_id, story, text_ids, fresh_from, counts=counts)
    taken[slug] = item.file


async def _update_story(conn: Connection, story_id: int, slug: str, story: _Prepared) -> None:
    parsed, meta, state = story.item.parsed, story.item.meta, story.item.state
    await conn.execute(
        "UPDATE stories SET slug = $2, title = $3, author = $4, rating = $5, url = $6,"
        " words = $7, paragraph_count = $8, size = $9, mtime_ns = $10, hash = $11,"
        " meta_hash = $12, fandom = $13, relationships = $14, characters = $15, tags = $16,"
        " summary = $17, language = $18 WHERE id = $1",
        story_id,
        slug,
        parsed.title,
        meta.author,
        meta.rating or "general",
        meta.url,
        sum(c[2] for c in story.chapters),
        len(story.rows),
        state.size,
        state.mtime_ns,
        state.hash,
        state.meta_hash,
        names_json(meta.fandom),
        names_json(meta.relationships),
        names_json(meta.characters),
        names_json(meta.tags),
        meta.summary,
        meta.language,
    )


async def _stored_chapters(conn: Connection, story: _Prepared) -> dict[bytes, list[int]]:
    """The text ids of each chapter of ``story`` already stored (by the hash of its text, in
    a chapter of the same length), in one query for the story and one per chapter found."""
    hashes = list(dict.fromkeys(story.hashes))
    found = await conn.fetch(
        "SELECT w.h, c.story_id, c.first_position, c.last_position FROM unnest($1::bytea[]) AS"
        " w(h), LATERAL (SELECT story_id, first_position, last_position FROM chapters"
        " WHERE text_hash = w.h LIMIT 1) AS c",
        hashes,
    )
    lengths = {h: c[5] - c[4] + 1 for c, h in zip(story.chapters, story.hashes, strict=True)}
    out: dict[bytes, list[int]] = {}
    for text_hash, story_id, first, last in found:
        length = lengths[bytes(text_hash)]
        if last - first + 1 != length:
            continue
        ids = [
            int(r[0])
            for r in await conn.fetch(
                "SELECT text_id FROM paragraphs WHERE story_id = $1"
                " AND position BETWEEN $2 AND $3 ORDER BY position",
                story_id,
                first,
                last,
            )
        ]
        if len(ids) == length:
            out[bytes(text_hash)] = ids
    return out


async def _write_texts(
    conn: Connection, story: _Prepared, counts: IndexCounts
) -> tuple[list[int], int]:
    """The text id of every paragraph (a chapter already stored shares its texts), writing the
    new texts; and the first id given to this story's new texts."""
    new = sum(c[5] - c[4] + 1 for c in story.chapters)
    fresh = [
        int(r[0])
        for r in await conn.fetch("SELECT nextval('text_ids') FROM generate_series(1, $1)", new)
    ]
    fresh_from = fresh[0] if fresh else 0
    out: list[int] = []
    added: list[int] = []  # row indices of new texts
    mine = await _stored_chapters(conn, story)
    at = 0
    for c, text_hash in zip(story.chapters, story.hashes, strict=True):
        length = c[5] - c[4] + 1
        shared = mine.get(text_hash)
        if shared is None:
            shared = fresh[at : at + length]
            at += length
            added += range(c[4], c[5] + 1)
        mine[text_hash] = shared
        out += shared
    docs = [story.documents[i] for i in added]
    await insert_documents(
        conn,
        "texts",
        [out[i] for i in added],
        docs,
        counts,
        texts=[story.rows[i][3] for i in added],
    )
    return out, fresh_from


_TERMS = {"texts": "terms", "scene_texts": "scene_terms"}


@dataclass(slots=True)
class IndexCounts:
    """What documents written add to the index statistics (``terms`` and ``scene_terms``: the
    documents holding each lexeme; ``index_stats``: documents and tokens), summed over a
    batch and written once at its end: one upsert of each lexeme a batch, not one per story
    (each story's would update thousands of the same rows again)."""

    lexemes: dict[str, Counter[str]] = field(default_factory=dict)  # by table
    docs: Counter[str] = field(default_factory=Counter)
    tokens: Counter[str] = field(default_factory=Counter)

    def count(self, table: str, docs: Sequence[Document]) -> None:
        self.lexemes.setdefault(table, Counter()).update(
            lexeme for d in docs for lexeme in d.lexemes
        )
        self.docs[table] += len(docs)
        self.tokens[table] += sum(d.tokens for d in docs)

    def add(self, other: IndexCounts) -> None:
        for table, lexemes in other.lexemes.items():
            self.lexemes.setdefault(table, Counter()).update(lexemes)
        self.docs.update(other.docs)
        self.tokens.update(other.tokens)

    async def write(self, conn: Connection) -> None:
        for table, lexemes in self.lexemes.items():
            terms = _TERMS[table]
            ordered = sorted(lexemes)
            await conn.execute(
                f"INSERT INTO {terms} (term, docs) SELECT * FROM unnest($1::text[], $2::int[])"
                f" ON CONFLICT (term) DO UPDATE SET docs = {terms}.docs + excluded.docs",
                ordered,
                [lexemes[t] for t in ordered],
            )
        for table, docs in self.docs.items():
            await conn.execute(
                "UPDATE index_stats SET docs = docs + $2, tokens = tokens + $3 WHERE name = $1",
                table,
                docs,
                self.tokens[table],
            )
        self.lexemes.clear()
        self.docs.clear()
        self.tokens.clear()


async def insert_documents(
    conn: Connection,
    table: str,
    ids: Sequence[int],
    docs: Sequence[Document],
    counts: IndexCounts,
    *,
    texts: Sequence[str] | None = None,
    keys: Sequence[tuple[int, int]] | None = None,
) -> None:
    """Insert documents into ``texts`` (with their text) or ``scene_texts`` (with their keys),
    and count them into ``counts`` (written to the index statistics by the caller)."""
    if not ids:
        return
    vectors = [d.vector for d in docs]
    tokens = [d.tokens for d in docs]
    if texts is not None:
        await conn.execute(
            "INSERT INTO texts (id, text, tokens, tsv) SELECT u.i, u.x, u.n, u.v::tsvector"
            " FROM unnest($1::bigint[], $2::text[], $3::int[], $4::text[]) AS u(i, x, n, v)",
            ids,
            texts,
            tokens,
            vectors,
        )
    else:
        assert keys is not None
        await conn.execute(
            "INSERT INTO scene_texts (id, first_text, paragraphs, tokens, tsv)"
            " SELECT u.i, u.f, u.p, u.n, u.v::tsvector FROM unnest($1::bigint[], $2::bigint[],"
            " $3::int[], $4::int[], $5::text[]) AS u(i, f, p, n, v)",
            ids,
            [k[0] for k in keys],
            [k[1] for k in keys],
            tokens,
            vectors,
        )
    counts.count(table, docs)


async def _write_scenes(
    conn: Connection,
    story_id: int,
    story: _Prepared,
    text_ids: list[int],
    fresh_from: int,
    *,
    counts: IndexCounts,
) -> None:
    """The story's passages; a passage whose run of texts is stored already shares its scene
    text (see bot/store/sqlite/scenes.py for the key)."""
    mine: dict[tuple[int, int], int] = {}
    new_keys: list[tuple[int, int]] = []
    new_docs: list[Document] = []
    places: list[tuple[int, int, int, tuple[int, int]]] = []
    for (chapter, first, last), doc in zip(story.cuts, story.scene_documents, strict=True):
        key = (text_ids[first], last - first + 1)
        if key not in mine and (fresh_from == 0 or key[0] < fresh_from):
            found = await conn.fetchval(
                "SELECT id FROM scene_texts WHERE first_text = $1 AND paragraphs = $2", *key
            )
            if found is not None:
                mine[key] = int(found)
        if key not in mine:
            mine[key] = 0  # given an id below
            new_keys.append(key)
            new_docs.append(doc)
        places.append((chapter, first, last, key))
    ids = [
        int(r[0])
        for r in await conn.fetch(
            "SELECT nextval('scene_text_ids') FROM generate_series(1, $1)", len(new_keys)
        )
    ]
    mine.update(zip(new_keys, ids, strict=True))
    await insert_documents(conn, "scene_texts", ids, new_docs, counts, keys=new_keys)
    await conn.execute(
        "INSERT INTO scenes (id, story_id, chapter, first_position, last_position, text_id)"
        " SELECT nextval('scene_ids'), $1, u.c, u.f, u.l, u.t"
        " FROM unnest($2::int[], $3::int[], $4::int[], $5::bigint[]) AS u(c, f, l, t)",
        story_id,
        [p[0] for p in places],
        [p[1] for p in places],
        [p[2] for p in places],
        [mine[p[3]] for p in places],
    )
