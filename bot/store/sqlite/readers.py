"""SQL for what the bot keeps per reader (reading positions, bookmarks) and per channel
(the excerpt shuffle). Keyed by Discord ids; a removed story's rows go with it (schema)."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from bot.models import Bookmark, ReaderData, ReadingPosition
from bot.store.rows import BOOKMARK_COLUMNS as _BOOKMARK
from bot.store.rows import POSITION_COLUMNS as _POSITION
from bot.store.rows import bookmark_row as _bookmark
from bot.store.rows import position_row as _position
from bot.store.sqlite.base import SQLBase


class ReaderSQL(SQLBase):
    # ---- reading positions ---------------------------------------------------------------

    async def record_positions(self, places: Iterable[tuple[int, int, int, int]]) -> None:
        """(user, story, chapter, position) each: one statement per place sets the reader's
        place in the story, their furthest, and the turn count that orders their stories by
        most recent (a counter: clocks tie, counters do not). One trip for them all."""
        await self._write_each(
            "INSERT INTO reading_positions (user_id, story_id, chapter, position, furthest,"
            " turn) VALUES (?1, ?2, ?3, ?4, ?4, (SELECT COALESCE(MAX(turn), 0) + 1"
            " FROM reading_positions WHERE user_id = ?1))"
            " ON CONFLICT (user_id, story_id) DO UPDATE SET chapter = excluded.chapter,"
            " position = excluded.position, furthest = MAX(furthest, excluded.position),"
            " turn = excluded.turn",
            places,
        )

    async def reading_positions(self, user_id: int) -> list[ReadingPosition]:
        """The reader's places, the most recently read story first."""
        rows = await self._all(
            f"SELECT {_POSITION} FROM reading_positions WHERE user_id = ? ORDER BY turn DESC",
            (user_id,),
        )
        return [_position(row) for row in rows]

    # ---- bookmarks -----------------------------------------------------------------------

    async def add_bookmark(
        self, user_id: int, story_id: int, chapter: int, position: int, words: str
    ) -> int:
        """Save a place (a place saved again moves to the top); returns the bookmark's id."""
        async with self.transaction() as db:
            await db.execute(
                "DELETE FROM bookmarks WHERE user_id = ? AND story_id = ? AND position = ?",
                (user_id, story_id, position),
            )
            cursor = await db.execute(
                "INSERT INTO bookmarks (user_id, story_id, chapter, position, words)"
                " VALUES (?, ?, ?, ?, ?)",
                (user_id, story_id, chapter, position, words),
            )
            return int(cursor.lastrowid or 0)

    async def bookmarks(self, user_id: int) -> list[Bookmark]:
        """The reader's bookmarks, newest first."""
        rows = await self._all(
            f"SELECT {_BOOKMARK} FROM bookmarks WHERE user_id = ? ORDER BY id DESC", (user_id,)
        )
        return [_bookmark(row) for row in rows]

    async def bookmark(self, user_id: int, bookmark_id: int) -> Bookmark | None:
        row = await self._one(
            f"SELECT {_BOOKMARK} FROM bookmarks WHERE user_id = ? AND id = ?",
            (user_id, bookmark_id),
        )
        return _bookmark(row) if row else None

    async def remove_bookmark(self, user_id: int, bookmark_id: int) -> bool:
        async with self.transaction() as db:
            cursor = await db.execute(
                "DELETE FROM bookmarks WHERE user_id = ? AND id = ?", (user_id, bookmark_id)
            )
            return cursor.rowcount > 0

    # ---- the reader as a whole -----------------------------------------------------------

    async def reader_data(self, user_id: int) -> ReaderData:
        row = await self._one(
            "SELECT (SELECT COUNT(*) FROM reading_positions WHERE user_id = ?1),"
            " (SELECT COUNT(*) FROM bookmarks WHERE user_id = ?1)",
            (user_id,),
        )
        return ReaderData(int(row[0]), int(row[1])) if row else ReaderData(0, 0)

    async def forget_reader(
        self, user_id: int, dm_channel: int | None = None, unwritten: Collection[int] = ()
    ) -> ReaderData:
        """Delete everything kept about a reader, and the excerpt shuffles of their DM channel
        with the bot (which passages they were shown there); returns what there was."""
        async with self.transaction() as db:
            positions = await db.execute_fetchall(
                "DELETE FROM reading_positions WHERE user_id = ? RETURNING story_id", (user_id,)
            )
            bookmarks = await db.execute("DELETE FROM bookmarks WHERE user_id = ?", (user_id,))
            if dm_channel is not None:
                await db.execute("DELETE FROM excerpt_shuffles WHERE channel_id = ?", (dm_channel,))
            stories = {int(r[0]) for r in positions} | set(unwritten)
            return ReaderData(len(stories), bookmarks.rowcount)

    # ---- excerpt shuffles ----------------------------------------------------------------

    async def next_in_shuffle(
        self, channel_id: int, story_id: int, scope: str, size: int, new_seed: int
    ) -> tuple[int, int]:
        """Take the next place in a channel's shuffle of ``size`` passages: (seed, index).

        A shuffle that is used up, or was made for another number of passages (the story
        changed), starts again with ``new_seed``. Read and advance in one transaction, so two
        excerpts at once in a channel never take the same place."""
        async with self.transaction() as db:
            cursor = await db.execute(
                "UPDATE excerpt_shuffles SET used = used + 1 WHERE channel_id = ?"
                " AND story_id = ? AND scope = ? AND size = ? AND used < size"
                " RETURNING seed, used - 1",
                (channel_id, story_id, scope, size),
            )
            row = await cursor.fetchone()
            await cursor.close()
            if row is not None:
                return int(row[0]), int(row[1])
            await db.execute(
                "INSERT OR REPLACE INTO excerpt_shuffles (channel_id, story_id, scope, seed,"
                " size, used) VALUES (?, ?, ?, ?, ?, 1)",
                (channel_id, story_id, scope, new_seed, size),
            )
            return new_seed, 0
