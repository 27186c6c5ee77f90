"""SQL for stories, chapters and paragraphs."""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiosqlite

from bot.models import ChapterInfo, Paragraph, Rating, Story, StoryMeta
from bot.text import ParsedStory

if TYPE_CHECKING:
    from pathlib import Path


@dataclass(frozen=True, slots=True)
class FileState:
    """What the store remembers of a story file, to tell whether it changed."""

    size: int
    mtime_ns: int
    hash: str
    meta_hash: str


_STORY_COLUMNS = "id, slug, title, file, author, rating, url, words"
_PARAGRAPH_COLUMNS = "id, story_id, chapter, position, scene, text"


def _paragraph(row: Any) -> Paragraph:
    return Paragraph(row[0], row[1], row[2], row[3], row[4], row[5])


class LibrarySQL:
    db: aiosqlite.Connection
    path: Path
    _write_lock: asyncio.Lock

    def transaction(self) -> AbstractAsyncContextManager[aiosqlite.Connection]:
        raise NotImplementedError

    async def _all(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        async with self.db.execute(sql, tuple(params)) as cursor:
            return list(await cursor.fetchall())

    async def _one(self, sql: str, params: Iterable[Any] = ()) -> Any | None:
        async with self.db.execute(sql, tuple(params)) as cursor:
            return await cursor.fetchone()

    # ---- files ---------------------------------------------------------------------------

    async def file_states(self) -> dict[str, FileState]:
        rows = await self._all("SELECT file, size, mtime_ns, hash, meta_hash FROM stories")
        return {r[0]: FileState(r[1], r[2], r[3], r[4]) for r in rows}

    async def touch_file(self, file: str, size: int, mtime_ns: int) -> None:
        async with self.transaction() as db:
            await db.execute(
                "UPDATE stories SET size = ?, mtime_ns = ? WHERE file = ?", (size, mtime_ns, file)
            )

    # ---- writing a story -----------------------------------------------------------------

    async def replace_story(
        self, file: str, parsed: ParsedStory, meta: StoryMeta, state: FileState
    ) -> None:
        """Put a story in place of the file's previous version, all or nothing."""
        rows: list[tuple[int, int, int, str]] = []
        chapters: list[tuple[int, str, int, str | None, int, int]] = []
        position = 0
        used: set[int] = set()
        for chapter in parsed.chapters:
            # a story may repeat a heading; numbers must stay unique for lookup
            number = chapter.number if chapter.number not in used else max(used) + 1
            used.add(number)
            first = position
            words = 0
            for scene, text in chapter.paragraphs:
                rows.append((number, position, scene, text))
                words += len(text.split())
                position += 1
            if position == first:
                continue  # a heading with no text under it is not a chapter
            chapters.append((number, chapter.label, words, chapter.note, first, position - 1))
        total_words = sum(c[2] for c in chapters)
        async with self.transaction() as db:
            existing = await self._one("SELECT id, slug FROM stories WHERE file = ?", (file,))
            slug = await self._free_slug(_slugify(parsed.title), file)
            values = (
                slug, parsed.title, meta.author, meta.rating or "general", meta.url,
                total_words, len(rows), state.size, state.mtime_ns, state.hash, state.meta_hash,
            )  # fmt: skip
            if existing is None:
                cursor = await db.execute(
                    "INSERT INTO stories (slug, title, author, rating, url, words, paragraph_count,"
                    " size, mtime_ns, hash, meta_hash, file) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (*values, file),
                )
                story_id = cursor.lastrowid
            else:
                story_id = existing[0]
                await self._delete_story_rows(story_id)
                await db.execute(
                    "UPDATE stories SET slug=?, title=?, author=?, rating=?, url=?, words=?,"
                    " paragraph_count=?, size=?, mtime_ns=?, hash=?, meta_hash=? WHERE id=?",
                    (*values, story_id),
                )
            await db.executemany(
                "INSERT INTO chapters (story_id, number, label, words, note, first_position,"
                " last_position) VALUES (?,?,?,?,?,?,?)",
                [(story_id, *c) for c in chapters],
            )
            first_id = await self._one("SELECT coalesce(max(id), 0) + 1 FROM paragraphs")
            start = int(first_id[0]) if first_id else 1
            await db.executemany(
                "INSERT INTO paragraphs (id, story_id, chapter, position, scene, text)"
                " VALUES (?,?,?,?,?,?)",
                [(start + i, story_id, *r) for i, r in enumerate(rows)],
            )
            await db.executemany(
                "INSERT INTO paragraphs_fts (rowid, text) VALUES (?, ?)",
                [(start + i, r[3]) for i, r in enumerate(rows)],
            )

    async def remove_story(self, file: str) -> bool:
        async with self.transaction() as db:
            row = await self._one("SELECT id FROM stories WHERE file = ?", (file,))
            if row is None:
                return False
            await self._delete_story_rows(row[0])
            await db.execute("DELETE FROM stories WHERE id = ?", (row[0],))
            return True

    async def _delete_story_rows(self, story_id: int) -> None:
        # external-content FTS5 must be told the old text of each row it forgets
        await self.db.execute(
            "INSERT INTO paragraphs_fts (paragraphs_fts, rowid, text)"
            " SELECT 'delete', id, text FROM paragraphs WHERE story_id = ?",
            (story_id,),
        )
        await self.db.execute("DELETE FROM paragraphs WHERE story_id = ?", (story_id,))
        await self.db.execute("DELETE FROM chapters WHERE story_id = ?", (story_id,))

    async def _free_slug(self, base: str, file: str) -> str:
        taken = {
            r[0]
            for r in await self._all(
                "SELECT slug FROM stories WHERE (slug = ? OR slug LIKE ?) AND file <> ?",
                (base, base + "-%", file),
            )
        }
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        return slug

    # ---- reading -------------------------------------------------------------------------

    async def list_stories(self) -> list[Story]:
        chapters: dict[int, list[ChapterInfo]] = {}
        for r in await self._all(
            "SELECT story_id, number, label, words FROM chapters ORDER BY story_id, first_position"
        ):
            chapters.setdefault(r[0], []).append(ChapterInfo(r[1], r[2], r[3]))
        rows = await self._all(f"SELECT {_STORY_COLUMNS} FROM stories ORDER BY title COLLATE NOCASE")
        return [
            Story(
                id=r[0], slug=r[1], title=r[2], file=r[3], author=r[4],
                rating=_rating(r[5]), url=r[6], words=r[7],
                chapters=tuple(chapters.get(r[0], ())),
            )  # fmt: skip
            for r in rows
        ]

    async def chapter_note(self, story_id: int, number: int) -> str | None:
        row = await self._one(
            "SELECT note FROM chapters WHERE story_id = ? AND number = ?", (story_id, number)
        )
        return row[0] if row else None

    async def chapter_paragraphs(self, story_id: int, number: int) -> list[Paragraph]:
        rows = await self._all(
            f"SELECT {_PARAGRAPH_COLUMNS} FROM paragraphs WHERE story_id = ? AND chapter = ?"
            " ORDER BY position",
            (story_id, number),
        )
        return [_paragraph(r) for r in rows]

    async def paragraphs_between(self, story_id: int, first: int, last: int) -> list[Paragraph]:
        """Paragraphs with first <= position <= last, in order."""
        rows = await self._all(
            f"SELECT {_PARAGRAPH_COLUMNS} FROM paragraphs WHERE story_id = ?"
            " AND position BETWEEN ? AND ? ORDER BY position",
            (story_id, first, last),
        )
        return [_paragraph(r) for r in rows]

    async def paragraph_count(self, story_id: int) -> int:
        row = await self._one("SELECT paragraph_count FROM stories WHERE id = ?", (story_id,))
        return int(row[0]) if row else 0

    async def chapter_bounds(self, story_id: int, number: int) -> tuple[int, int] | None:
        row = await self._one(
            "SELECT first_position, last_position FROM chapters WHERE story_id = ? AND number = ?",
            (story_id, number),
        )
        return (int(row[0]), int(row[1])) if row else None

    async def paragraphs_matching(
        self, fts_query: str, story_ids: Iterable[int] | None, limit: int
    ) -> list[Paragraph]:
        """Paragraphs whose text matches an FTS5 query (already escaped by the caller)."""
        ids = list(story_ids) if story_ids is not None else None
        where = ""
        if ids is not None:
            where = f" AND p.story_id IN ({','.join('?' * len(ids))})" if ids else " AND 0"
        rows = await self._all(
            f"SELECT p.id, p.story_id, p.chapter, p.position, p.scene, p.text"
            f" FROM paragraphs_fts JOIN paragraphs p ON p.id = paragraphs_fts.rowid"
            f" WHERE paragraphs_fts MATCH ?{where} ORDER BY paragraphs_fts.rank LIMIT ?",
            (fts_query, *(ids or ()), limit),
        )
        return [_paragraph(r) for r in rows]

    async def iter_all_paragraphs(self) -> AsyncIterator[Paragraph]:
        async with self.db.execute(f"SELECT {_PARAGRAPH_COLUMNS} FROM paragraphs") as cursor:
            async for row in cursor:
                yield _paragraph(row)


def _rating(value: str) -> Rating:
    return value if value in ("general", "teen", "mature", "explicit") else "general"  # type: ignore[return-value]


def _slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:60].rstrip("-") or "story"
