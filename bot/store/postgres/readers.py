"""SQL for what the bot keeps per reader (reading positions, bookmarks) and per channel (the
excerpt shuffle). Every write is one statement whose result does not depend on a read made
before it, so writes from several processes never lose one another's updates."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from bot.models import Bookmark, ReaderData, ReadingPosition
from bot.store.postgres.base import PGBase, count, number
from bot.store.rows import BOOKMARK_COLUMNS as _BOOKMARK
from bot.store.rows import POSITION_COLUMNS as _POSITION
from bot.store.rows import bookmark_row as _bookmark
from bot.store.rows import position_row as _position


class ReaderSQL(PGBase):
    async def record_positions(self, places: Iterable[tuple[int, int, int, int]]) -> None:
        """(user, story, chapter, position) each. The turn that orders a reader's stories is
        a sequence (increasing across every process); the furthest place only grows. A place
        in a story removed meanwhile is dropped (the story's rows went with it)."""
        rows = [tuple(p) for p in places]
        if not rows:
            return
        await self._execute_many(
            "INSERT INTO reading_positions (user_id, story_id, chapter, position, furthest, turn)"
            " SELECT $1, $2, $3, $4, $4, nextval('reading_turns')"
            " WHERE EXISTS (SELECT 1 FROM stories WHERE id = $2)"
            " ON CONFLICT (user_id, story_id) DO UPDATE SET chapter = excluded.chapter,"
            " position = excluded.position,"
            " furthest = greatest(reading_positions.furthest, excluded.position),"
            " turn = excluded.turn",
            rows,
        )

    async def reading_positions(self, user_id: int) -> list[ReadingPosition]:
        rows = await self._all(
            f"SELECT {_POSITION} FROM reading_positions WHERE user_id = $1 ORDER BY turn DESC",
            user_id,
        )
        return [_position(row) for row in rows]

    async def add_bookmark(
        self, user_id: int, story_id: int, chapter: int, position: int, words: str
    ) -> int:
        async with self.transaction() as conn:
            await conn.execute(
                "DELETE FROM bookmarks WHERE user_id = $1 AND story_id = $2 AND position = $3",
                user_id,
                story_id,
                position,
            )
            bookmark_id = await conn.fetchval(
                "INSERT INTO bookmarks (user_id, story_id, chapter, position, words)"
                " VALUES ($1, $2, $3, $4, $5) RETURNING id",
                user_id,
                story_id,
                chapter,
                position,
                words,
            )
            return number(bookmark_id)

    async def bookmarks(self, user_id: int) -> list[Bookmark]:
        rows = await self._all(
            f"SELECT {_BOOKMARK} FROM bookmarks WHERE user_id = $1 ORDER BY id DESC", user_id
        )
        return [_bookmark(row) for row in rows]

    async def bookmark(self, user_id: int, bookmark_id: int) -> Bookmark | None:
        row = await self._one(
            f"SELECT {_BOOKMARK} FROM bookmarks WHERE user_id = $1 AND id = $2",
            user_id,
            bookmark_id,
        )
        return _bookmark(row) if row else None

    async def remove_bookmark(self, user_id: int, bookmark_id: int) -> bool:
        return (
            await self._execute(
                "DELETE FROM bookmarks WHERE user_id = $1 AND id = $2", user_id, bookmark_id
            )
            > 0
        )

    async def reader_data(self, user_id: int) -> ReaderData:
        row = await self._one(
            "SELECT (SELECT count(*) FROM reading_positions WHERE user_id = $1),"
            " (SELECT count(*) FROM bookmarks WHERE user_id = $1)",
            user_id,
        )
        return ReaderData(int(row[0]), int(row[1])) if row else ReaderData(0, 0)

    async def forget_reader(
        self, user_id: int, dm_channel: int | None = None, unwritten: Collection[int] = ()
    ) -> ReaderData:
        async with self.transaction() as conn:
            positions = await conn.fetch(
                "DELETE FROM reading_positions WHERE user_id = $1 RETURNING story_id", user_id
            )
            bookmarks = await conn.execute("DELETE FROM bookmarks WHERE user_id = $1", user_id)
            if dm_channel is not None:
                await conn.execute("DELETE FROM excerpt_shuffles WHERE channel_id = $1", dm_channel)
            stories = {int(r[0]) for r in positions} | set(unwritten)
            return ReaderData(len(stories), count(bookmarks))

    async def next_in_shuffle(
        self, channel_id: int, story_id: int, scope: str, size: int, new_seed: int
    ) -> tuple[int, int]:
        """Take the next place in a channel's shuffle: one statement, so two processes
        serving the same channel never take the same place."""
        row = await self._one(
            "INSERT INTO excerpt_shuffles AS e (channel_id, story_id, scope, seed, size, used)"
            " VALUES ($1, $2, $3, $5, $4, 1)"
            " ON CONFLICT (channel_id, story_id, scope) DO UPDATE SET"
            " seed = CASE WHEN e.size = excluded.size AND e.used < e.size"
            " THEN e.seed ELSE excluded.seed END,"
            " used = CASE WHEN e.size = excluded.size AND e.used < e.size"
            " THEN e.used + 1 ELSE 1 END,"
            " size = excluded.size"
            " RETURNING seed, used - 1",
            channel_id,
            story_id,
            scope,
            size,
            new_seed,
        )
        assert row is not None
        return int(row[0]), int(row[1])
