"""SQL for reading together: clubs, their releases and members, votes, follows, and the
chapter counts last seen of the stories someone watches (bot/clubs.py is the logic).

The claim: a release moves ``last_chapter`` on from the value the caller read, in one
conditional UPDATE (as the daily post's claim does), so of two callers racing for one release
(two processes, a restart, /club next and the clock) exactly one wins.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from bot.models import Club, ClubMember, ClubRelease, ClubVote, Follow, StoryGrowth
from bot.store.rows import CLUB_COLUMNS as _CLUB
from bot.store.rows import FOLLOW_COLUMNS as _FOLLOW
from bot.store.rows import RELEASE_COLUMNS as _RELEASE
from bot.store.rows import VOTE_COLUMNS as _VOTE
from bot.store.rows import club_row, club_values, follow_row, release_row, vote_row
from bot.store.sqlite.base import SQLBase


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value).astimezone(UTC) if value else None


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def _club(row: Any) -> Club:
    return club_row(row, _when)


def _vote(row: Any) -> ClubVote:
    return vote_row(row, json.loads(row[3]), _when)


class ClubSQL(SQLBase):
    # ---- clubs ---------------------------------------------------------------------------

    async def club(self, channel_id: int) -> Club | None:
        row = await self._one(f"SELECT {_CLUB} FROM clubs WHERE channel_id = ?", (channel_id,))
        return _club(row) if row else None

    async def clubs(self, guild_ids: Iterable[int] | None = None) -> list[Club]:
        """Every club (of these servers), in the order they are due."""
        rows = await self._all(f"SELECT {_CLUB} FROM clubs ORDER BY next_due, channel_id")
        wanted = None if guild_ids is None else set(guild_ids)
        return [_club(r) for r in rows if wanted is None or int(r[1]) in wanted]

    async def clubs_in_use(self) -> bool:
        row = await self._one(
            "SELECT EXISTS (SELECT 1 FROM clubs) OR EXISTS (SELECT 1 FROM club_votes)"
            " OR EXISTS (SELECT 1 FROM story_watch)"
        )
        return bool(row and row[0])

    async def clubs_of_story(self, story_id: int) -> list[Club]:
        rows = await self._all(f"SELECT {_CLUB} FROM clubs WHERE story_id = ?", (story_id,))
        return [_club(r) for r in rows]

    async def save_club(self, club: Club) -> None:
        """Create or replace a channel's club; a new club starts with no members."""
        async with self.transaction() as db:
            old = await db.execute_fetchall(
                "SELECT story_id FROM clubs WHERE channel_id = ?", (club.channel_id,)
            )
            if not old or int(next(iter(old))[0]) != club.story_id:
                for table in ("club_members", "club_releases"):
                    await db.execute(
                        f"DELETE FROM {table} WHERE channel_id = ?", (club.channel_id,)
                    )
            await db.execute(
                f"INSERT OR REPLACE INTO clubs ({_CLUB}) VALUES"
                " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                club_values(club, _iso),
            )

    async def delete_club(self, channel_id: int) -> bool:
        async with self.transaction() as db:
            cursor = await db.execute("DELETE FROM clubs WHERE channel_id = ?", (channel_id,))
            await db.execute("DELETE FROM club_members WHERE channel_id = ?", (channel_id,))
            await db.execute("DELETE FROM club_releases WHERE channel_id = ?", (channel_id,))
            return cursor.rowcount > 0

    async def set_club_state(
        self, channel_id: int, state: str, next_due: datetime | None, *, blocked: str | None = None
    ) -> bool:
        async with self.transaction() as db:
            cursor = await db.execute(
                "UPDATE clubs SET state = ?, next_due = ?, blocked = ? WHERE channel_id = ?",
                (state, _iso(next_due), blocked, channel_id),
            )
            return cursor.rowcount > 0

    async def set_club_blocked(self, channel_id: int, blocked: str | None) -> bool:
        """Record the permission a release lacked; True when that is news (so it is reported
        once, whichever process tries)."""
        async with self.transaction() as db:
            cursor = await db.execute(
                "UPDATE clubs SET blocked = ? WHERE channel_id = ? AND blocked IS NOT ?",
                (blocked, channel_id, blocked),
            )
            return cursor.rowcount == 1

    async def claim_club_release(
        self, club: Club, chapter: int, state: str, next_due: datetime | None
    ) -> bool:
        """Move the club on to ``chapter`` (released), if nobody has since ``club`` was read."""
        async with self.transaction() as db:
            cursor = await db.execute(
                "UPDATE clubs SET last_chapter = ?, released = released + 1, state = ?,"
                " next_due = ? WHERE channel_id = ? AND story_id = ? AND last_chapter IS ?"
                " AND state = 'active'",
                (
                    chapter,
                    state,
                    _iso(next_due),
                    club.channel_id,
                    club.story_id,
                    club.last_chapter,
                ),
            )
            return cursor.rowcount == 1

    async def unclaim_club_release(self, club: Club, chapter: int) -> bool:
        """Give back a claim whose release could not be made (``club`` as it was before)."""
        async with self.transaction() as db:
            cursor = await db.execute(
                "UPDATE clubs SET last_chapter = ?, released = ?, state = ?, next_due = ?"
                " WHERE channel_id = ? AND story_id = ? AND last_chapter = ?",
                (
                    club.last_chapter,
                    club.released,
                    club.state,
                    _iso(club.next_due),
                    club.channel_id,
                    club.story_id,
                    chapter,
                ),
            )
            return cursor.rowcount == 1

    async def record_club_release(self, release: ClubRelease) -> None:
        async with self.transaction() as db:
            await db.execute(
                f"INSERT OR REPLACE INTO club_releases ({_RELEASE}) VALUES (?, ?, ?, ?, ?)",
                (
                    release.channel_id,
                    release.chapter,
                    release.message_id,
                    release.thread_id,
                    _iso(release.released_at),
                ),
            )

    async def club_releases(self, channel_id: int) -> list[ClubRelease]:
        rows = await self._all(
            f"SELECT {_RELEASE} FROM club_releases WHERE channel_id = ?"
            " ORDER BY released_at, chapter",
            (channel_id,),
        )
        return [release_row(r, _when) for r in rows]

    # ---- managers and members ------------------------------------------------------------

    async def club_manager_role(self, guild_id: int) -> int | None:
        row = await self._one("SELECT role_id FROM club_managers WHERE guild_id = ?", (guild_id,))
        return int(row[0]) if row else None

    async def set_club_manager_role(self, guild_id: int, role_id: int | None) -> None:
        async with self.transaction() as db:
            if role_id is None:
                await db.execute("DELETE FROM club_managers WHERE guild_id = ?", (guild_id,))
            else:
                await db.execute(
                    "INSERT OR REPLACE INTO club_managers (guild_id, role_id) VALUES (?, ?)",
                    (guild_id, role_id),
                )

    async def join_club(self, channel_id: int, user_id: int) -> bool:
        """Put a member on the board; False when they were on it already."""
        async with self.transaction() as db:
            cursor = await db.execute(
                "INSERT OR IGNORE INTO club_members (channel_id, user_id) VALUES (?, ?)",
                (channel_id, user_id),
            )
            return cursor.rowcount == 1

    async def leave_club(self, channel_id: int, user_id: int) -> bool:
        async with self.transaction() as db:
            cursor = await db.execute(
                "DELETE FROM club_members WHERE channel_id = ? AND user_id = ?",
                (channel_id, user_id),
            )
            return cursor.rowcount > 0

    async def club_members(self, channel_id: int, story_id: int) -> list[ClubMember]:
        """The board: each member and the furthest paragraph they have read of the story."""
        rows = await self._all(
            "SELECT m.user_id, p.furthest FROM club_members m LEFT JOIN reading_positions p"
            " ON p.user_id = m.user_id AND p.story_id = ? WHERE m.channel_id = ?"
            " ORDER BY p.furthest DESC, m.user_id",
            (story_id, channel_id),
        )
        return [ClubMember(int(r[0]), None if r[1] is None else int(r[1])) for r in rows]

    async def forget_clubs_and_follows(self, user_id: int) -> tuple[int, int]:
        """Take a reader off every board and every follow list: (clubs, follows) removed."""
        async with self.transaction() as db:
            clubs = await db.execute("DELETE FROM club_members WHERE user_id = ?", (user_id,))
            follows = await db.execute("DELETE FROM follows WHERE user_id = ?", (user_id,))
            return clubs.rowcount, follows.rowcount

    async def clubs_and_follows(self, user_id: int) -> tuple[int, int]:
        row = await self._one(
            "SELECT (SELECT COUNT(*) FROM club_members WHERE user_id = ?1),"
            " (SELECT COUNT(*) FROM follows WHERE user_id = ?1)",
            (user_id,),
        )
        return (int(row[0]), int(row[1])) if row else (0, 0)

    # ---- votes ---------------------------------------------------------------------------

    async def add_club_vote(self, vote: ClubVote) -> None:
        async with self.transaction() as db:
            await db.execute(
                f"INSERT OR REPLACE INTO club_votes ({_VOTE}) VALUES (?, ?, ?, ?, ?)",
                (
                    vote.message_id,
                    vote.channel_id,
                    vote.guild_id,
                    json.dumps(list(vote.story_ids)),
                    _iso(vote.ends_at),
                ),
            )

    async def club_votes(self) -> list[ClubVote]:
        rows = await self._all(f"SELECT {_VOTE} FROM club_votes ORDER BY ends_at")
        return [_vote(r) for r in rows]

    async def claim_club_vote(self, message_id: int) -> bool:
        """Take a closed vote off the list to post its result; False when another did."""
        async with self.transaction() as db:
            cursor = await db.execute("DELETE FROM club_votes WHERE message_id = ?", (message_id,))
            return cursor.rowcount == 1

    # ---- follows and watched stories -----------------------------------------------------

    async def follow(self, follow: Follow) -> bool:
        """Follow a story (again: the channel is updated); watch its chapter count from now.
        False when it was followed already."""
        async with self.transaction() as db:
            known = await db.execute_fetchall(
                "SELECT 1 FROM follows WHERE user_id = ? AND story_id = ?",
                (follow.user_id, follow.story_id),
            )
            await db.execute(
                f"INSERT OR REPLACE INTO follows ({_FOLLOW}) VALUES (?, ?, ?)",
                (follow.user_id, follow.story_id, follow.channel_id),
            )
            await self._watch(db, follow.story_id)
            return not list(known)

    async def watch_story(self, story_id: int) -> None:
        async with self.transaction() as db:
            await self._watch(db, story_id)

    @staticmethod
    async def _watch(db: Any, story_id: int) -> None:
        await db.execute(
            "INSERT OR IGNORE INTO story_watch (story_id, chapters)"
            " SELECT ?1, COUNT(*) FROM chapters WHERE story_id = ?1",
            (story_id,),
        )

    async def unfollow(self, user_id: int, story_id: int) -> bool:
        async with self.transaction() as db:
            cursor = await db.execute(
                "DELETE FROM follows WHERE user_id = ? AND story_id = ?", (user_id, story_id)
            )
            return cursor.rowcount > 0

    async def follows(self, user_id: int) -> list[Follow]:
        rows = await self._all(f"SELECT {_FOLLOW} FROM follows WHERE user_id = ?", (user_id,))
        return [follow_row(r) for r in rows]

    async def followers(self, story_id: int) -> list[Follow]:
        rows = await self._all(
            f"SELECT {_FOLLOW} FROM follows WHERE story_id = ? ORDER BY user_id", (story_id,)
        )
        return [follow_row(r) for r in rows]

    async def grown_stories(self) -> list[StoryGrowth]:
        """Watched stories with more chapters now than when last seen (whoever ingested)."""
        rows = await self._all(
            "SELECT w.story_id, w.chapters, COUNT(c.number) FROM story_watch w"
            " JOIN chapters c ON c.story_id = w.story_id GROUP BY w.story_id"
            " HAVING COUNT(c.number) != w.chapters"
        )
        grown: list[StoryGrowth] = []
        for story_id, before, after in rows:
            labels = await self._all(
                "SELECT number, label FROM chapters WHERE story_id = ? ORDER BY number"
                " LIMIT -1 OFFSET ?",
                (story_id, before),
            )
            new = tuple((int(n), str(label)) for n, label in labels)
            grown.append(StoryGrowth(int(story_id), int(before), int(after), new))
        return grown

    async def claim_story_growth(self, growth: StoryGrowth) -> bool:
        """Record the new chapter count; True for the one caller that moved it (that caller
        tells the followers, once)."""
        async with self.transaction() as db:
            cursor = await db.execute(
                "UPDATE story_watch SET chapters = ? WHERE story_id = ? AND chapters = ?",
                (growth.after, growth.story_id, growth.before),
            )
            return cursor.rowcount == 1
