"""SQL for scene search: scene passages, their FTS5 index, and the FTS5 grammar of a scene query.

Passages are cut by the rule of bot/store/passages.py (``passages``, the write path, where the
story is parsed: bot/store/cut.py); the
migration that backfilled existing libraries writes the same rule in SQL
(bot/store/sqlite/schema.py), and a test holds them equal.

Table ``scenes`` holds each passage's place (story, chapter, first and last paragraph
position) and its text (``text_id``). Passage texts are stored once, as paragraph texts are.
Paragraph texts are shared by whole chapter (bot/store/sqlite/library.py): a text id belongs to one
chapter text, however many chapters hold it, so a run of paragraphs is named by its first
text id and its length, and a scene text (table ``scene_texts``) is keyed by
(``first_text``, ``paragraphs``). The passages of a chapter stored twice (the same story
filed twice, a chapter posted in two stories) then point at the same scene texts, indexed
once. (Were paragraph texts ever shared one by one, this key would have to become the whole
run of text ids; tests/search/test_scene.py checks that equal keys mean equal runs.)
``scenes_fts`` indexes scene texts with the ``porter`` stemmer (so "drives" and "driving"
meet "drive"; "drove" does not). The index keeps no copy of the text: its content is the
view ``scene_bodies``, which rebuilds a text from the paragraphs of a passage holding it,
and FTS5 reads it only to forget a text (the 'delete' command needs the old text) or to
rebuild. Passages are written in the transaction that writes their story and deleted with
it (``DELETE_SCENE_ROWS`` runs before the paragraphs go), and a scene text goes with the
last passage pointing at it, so the index always holds the library's current passages,
each distinct text once.

A search ranks scene texts; each is then placed in the first story in scope that holds it
(lowest story id, the one filed first; its first place there): one hit per text, not one
per copy, so three guesses are three different passages even when the library holds a
story twice. A search limited to one story places the text in that story.

The store takes words, never the user's text: ``any_words_query`` quotes each word, so
quotes, ``*``, NEAR, AND/OR/NOT and column filters are only words.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from bot.models import ScenePassage
from bot.store.cut import StoryCut
from bot.store.passages import SEPARATOR
from bot.store.sqlite.base import SQLBase, sql_errors
from bot.store.sqlite.bulk import insert_rows

MAX_TERMS = 32

# ?1 is the story id. The story's passages go, and the scene texts no other story's passage
# points at; the FTS5 'delete' must see the text it indexed, so this runs while the
# paragraphs and texts are still there.
_UNSHARED = (
    " WHERE {t}.id IN (SELECT text_id FROM scenes WHERE story_id = ?1) AND NOT EXISTS"
    " (SELECT 1 FROM scenes o WHERE o.text_id = {t}.id AND o.story_id != ?1)"
)
DELETE_SCENE_ROWS = (
    "INSERT INTO scenes_fts (scenes_fts, rowid, text) SELECT 'delete', b.id, b.text"
    " FROM scene_bodies b" + _UNSHARED.format(t="b"),
    "DELETE FROM scene_vectors WHERE text_id IN (SELECT st.id FROM scene_texts st"
    + _UNSHARED.format(t="st")
    + ")",
    "DELETE FROM scene_texts AS st" + _UNSHARED.format(t="st"),
    "DELETE FROM scenes WHERE story_id = ?1",
)


def write_scenes(
    db: sqlite3.Connection,
    story_id: int,
    cut: StoryCut,
    text_ids: Sequence[int],
    *,
    fresh_from: int,
    next_id: int,
    to_index: list[tuple[int, str]],
) -> int:
    """Write a story's passages, inside the caller's transaction (after DELETE_SCENE_ROWS).

    ``text_ids`` are the text ids of the story's paragraphs (``cut.rows``), in order; text
    ids from ``fresh_from`` on were created for this story. A passage whose texts were all
    created for it cannot be stored yet (outside this story), so only the passages of shared
    chapters are looked up: a library without repeats pays no lookup. New scene texts take
    ids from ``next_id`` on (given, so they are inserted several a statement); returns the
    next free one. Each new scene text and its text go to ``to_index``, for ``index_scenes``
    once the batch's other rows are written (bot/store/sqlite/bulk.py says why).
    """
    mine: dict[tuple[int, int], int] = {}  # this story's scene texts by key
    keys: list[tuple[int, int, int]] = []
    added: list[tuple[int, str]] = []
    places: list[tuple[int, int, int, int, int]] = []
    for chapter, first, last in cut.passages:
        key = (text_ids[first], last - first + 1)  # (first text id, paragraphs): see the doc above
        text_id = mine.get(key)
        if text_id is None and key[0] < fresh_from:
            found = db.execute(
                "SELECT id FROM scene_texts WHERE first_text = ? AND paragraphs = ?", key
            ).fetchone()
            text_id = found[0] if found else None
        if text_id is None:
            text_id, next_id = next_id, next_id + 1
            keys.append((text_id, *key))
            added.append((text_id, SEPARATOR.join(r[3] for r in cut.rows[first : last + 1])))
        mine[key] = text_id
        places.append((story_id, chapter, first, last, text_id))
    insert_rows(db, "scene_texts (id, first_text, paragraphs)", keys)
    insert_rows(db, "scenes (story_id, chapter, first_position, last_position, text_id)", places)
    to_index += added
    return next_id


def index_scenes(db: sqlite3.Connection, rows: Sequence[tuple[int, str]]) -> None:
    """Add new scene texts (id, text) to the scene index: one row a statement (bulk.py)."""
    db.executemany("INSERT INTO scenes_fts (rowid, text) VALUES (?, ?)", rows)


def quoted(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def any_words_query(words: Iterable[str]) -> str:
    """An FTS5 query for passages holding any of the words (each quoted, so only a word)."""
    return " OR ".join(quoted(w) for w in dict.fromkeys(words) if w)


# Per connection, in the temp schema (so a read-only file works too): the scene index's
# vocabulary, and a one-row FTS5 table with the index's tokenizer, which stems words exactly
# as the index does (its instance vocabulary lists each token's stem by offset).
_TEMP_TABLES = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.scenes_vocab USING fts5vocab(main, scenes_fts, row)",
    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.scene_stemmer USING fts5"
    " (text, tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.scene_stems"
    " USING fts5vocab(temp, scene_stemmer, instance)",
)
_VOCAB_BATCH = 4096


class SceneSQL(SQLBase):
    _scene_temp_ready: bool = False
    _stem_row: int = 0

    async def _scene_temp(self) -> None:
        if not self._scene_temp_ready:
            with sql_errors(self.path):
                for sql in _TEMP_TABLES:
                    await (await self.reads.execute(sql)).close()
            self._scene_temp_ready = True

    async def scene_stems(self, words: Sequence[str]) -> list[str]:
        """Each word as the scene index stores it (porter-stemmed, folded)."""
        if not words:
            return []
        await self._scene_temp()
        # a row of its own, so searches running side by side never read each other's
        self._stem_row += 1
        row = self._stem_row
        with sql_errors(self.path):
            await self.reads.execute(
                "INSERT INTO temp.scene_stemmer (rowid, text) VALUES (?, ?)",
                (row, " ".join(words)),
            )
        try:
            found = await self._all(
                "SELECT offset, term FROM temp.scene_stems WHERE doc = ? ORDER BY offset", (row,)
            )
        finally:
            with sql_errors(self.path):
                await self.reads.execute("DELETE FROM temp.scene_stemmer WHERE rowid = ?", (row,))
        stems = [r[1] for r in found]
        return stems if len(stems) == len(words) else list(words)

    async def scene_vocabulary(self) -> tuple[dict[str, int], int]:
        """Every stem of the scene index with the number of scene texts holding it, and the
        number of scene texts (a passage stored twice counts once, as in the index). Reads
        the whole index (under a second at 100 MB): cache it."""
        await self._scene_temp()
        out: dict[str, int] = {}
        with sql_errors(self.path):
            async with self.reads.execute("SELECT term, doc FROM temp.scenes_vocab") as cursor:
                while batch := await cursor.fetchmany(_VOCAB_BATCH):
                    out.update((r[0], int(r[1])) for r in batch)
        total = await self._all("SELECT count(*) FROM scene_texts")
        return out, int(total[0][0])

    async def scene_candidates(
        self,
        words: Sequence[str],
        story_ids: Sequence[int] | None,
        limit: int,
    ) -> list[ScenePassage]:
        """The scene texts holding any of ``words`` and held in ``story_ids`` (None: all
        stories), best BM25 first, at most ``limit``; each as a passage of the first story in
        scope that holds it (lowest story id, then first position), with its text."""
        query = any_words_query(list(words)[:MAX_TERMS])
        if not query or limit < 1 or (story_ids is not None and not story_ids):
            return []
        scope, params = "", ()
        if story_ids is not None:
            ids = tuple(dict.fromkeys(story_ids))
            # unary +: walk the text's holders in (story, position) order and test each,
            # rather than probe the index once per story id of a long list
            scope = f" AND +o.story_id IN ({','.join('?' * len(ids))})"
            params = ids
        held = f"SELECT o.id FROM scenes o WHERE o.text_id = m.rowid{scope}"
        in_scope = f" AND EXISTS ({held.replace('m.rowid', 'f.rowid')})" if scope else ""
        # the best texts first (in scope), then the first place of each: FTS5 ranks alone,
        # and only the texts kept are looked up
        found = await self._all(
            "SELECT s.id, s.story_id, s.chapter, s.first_position, s.last_position, m.rank"
            " FROM (SELECT f.rowid, f.rank FROM scenes_fts f"
            f" WHERE f.scenes_fts MATCH ?{in_scope} ORDER BY f.rank LIMIT ?) m"
            f" JOIN scenes s ON s.id = ({held} ORDER BY o.story_id, o.first_position LIMIT 1)"
            " ORDER BY m.rank",
            (query, *params, limit, *params),
        )
        if not found:
            return []
        texts = await self.scene_texts([r[0] for r in found])
        return [
            ScenePassage(r[0], r[1], r[2], r[3], r[4], texts.get(r[0], ""), float(r[5]))
            for r in found
        ]

    async def scene_texts(self, scene_ids: Sequence[int]) -> dict[int, str]:
        """The text of each passage: its paragraphs joined by blank lines."""
        if not scene_ids:
            return {}
        parts: dict[int, list[str]] = {}
        for r in await self._all(
            "SELECT s.id, t.text FROM scenes s"
            " JOIN paragraphs p ON p.story_id = s.story_id"
            " AND p.position BETWEEN s.first_position AND s.last_position"
            f" JOIN texts t ON t.id = p.text_id WHERE s.id IN ({','.join('?' * len(scene_ids))})"
            " ORDER BY s.id, p.position",
            scene_ids,
        ):
            parts.setdefault(r[0], []).append(r[1])
        return {k: SEPARATOR.join(v) for k, v in parts.items()}

    async def story_passages(self, story_id: int) -> list[tuple[int, int, int]]:
        """(chapter, first position, last position) of a story's passages, in order."""
        rows = await self._all(
            "SELECT chapter, first_position, last_position FROM scenes WHERE story_id = ?"
            " ORDER BY first_position",
            (story_id,),
        )
        return [(r[0], r[1], r[2]) for r in rows]
