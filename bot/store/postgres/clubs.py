"""SQL for reading together in PostgreSQL: clubs, their releases and members, votes, follows,
and the chapter counts last seen of watched stories. The same contract as the SQLite engine
(bot/store/sqlite/clubs.py); bot/clubs.py is the logic.

Every claim is one conditional UPDATE or DELETE whose row count says who won: PostgreSQL
re-checks its WHERE under the row's lock, so of several hosts racing for one release, one
vote's result or one story's news, exactly one gets a row. Times are TIMESTAMPTZ (asyncpg
gives them back in UTC); ``IS NOT DISTINCT FROM`` is SQLite's ``IS`` (NULL equals NULL).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from bot.models import Club, ClubMember, ClubRelease, ClubVote, Follow, StoryGrowth
from bot.store.postgres.base import Connection, PGBase, count
from bot.store.rows import CLUB_COLUMNS as _CLUB
from bot.store.rows import FOLLOW_COLUMNS as _FOLLOW
from bot.store.rows import RELEASE_COLUMNS as _RELEASE
from bot.store.rows import VOTE_COLUMNS as _VOTE
from bot.store.rows import club_row, club_values, follow_row, release_row, vote_row


def _when(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value else None


def _club(row: object) -> Club:
    return club_row(row, _when)


_CLUB_VALUES = ", ".join(f"${i}" for i in range(1, 15))
_CLUB_UPDATE = ", ".join(f"{c} = excluded.{c}" for c in _CLUB.replace(" ", "").split(",")[1:])


class ClubSQL(PGBase):
    # ---- clubs ---------------------------------------------------------------------------

    async def club(self, channel_id: int) -> Club | None:
        row = await self._one(f"SELECT {_CLUB} FROM clubs WHERE channel_id = $1", channel_id)
        return _club(row) if row else None

    async def clubs(self, guild_ids: Iterable[int] | None = None) -> list[Club]:
        """Every club (of these servers), in the order they are due (unscheduled first, as
        SQLite sorts NULL)."""
        rows = await self._all(
            f"SELECT {_CLUB} FROM clubs ORDER BY next_due NULLS FIRST, channel_id"
        )
        wanted = None if guild_ids is None else set(guild_ids)
        return [_club(r) for r in rows if wanted is None or int(r[1]) in wanted]

    async def clubs_in_use(self) -> bool:
        return bool(
            await self._value(
                "SELECT EXISTS (SELECT 1 FROM clubs) OR EXISTS (SELECT 1 FROM club_votes)"
                " OR EXISTS (SELECT 1 FROM story_watch)"
            )
        )

    async def clubs_of_story(self, story_id: int) -> list[Club]:
        rows = await self._all(f"SELECT {_CLUB} FROM clubs WHERE story_id = $1", story_id)
        return [_club(r) for r in rows]

    async def save_club(self, club: Club) -> None:
        """Create or replace a channel's club; a new club (another story) starts with no
        members and no releases."""
        async with self.transaction() as conn:
            old = await conn.fetchval(
                "SELECT story_id FROM clubs WHERE channel_id = $1 FOR UPDATE", club.channel_id
            )
            if old is None or int(old) != club.story_id:
                for table in ("club_members", "club_releases"):
                    await conn.execute(
                        f"DELETE FROM {table} WHERE channel_id = $1", club.channel_id
                    )
            await conn.execute(
                f"INSERT INTO clubs ({_CLUB}) VALUES ({_CLUB_VALUES})"
                f" ON CONFLICT (channel_id) DO UPDATE SET {_CLUB_UPDATE}",
                *club_values(club, _when),
            )

    async def delete_club(self, channel_id: int) -> bool:
        async with self.transaction() as conn:
            status = await conn.execute("DELETE FROM clubs WHERE channel_id = $1", channel_id)
            await conn.execute("DELETE FROM club_members WHERE channel_id = $1", channel_id)
            await conn.execute("DELETE FROM club_releases WHERE channel_id = $1", channel_id)
            return count(status) > 0

    async def set_club_state(
        self, channel_id: int, state: str, next_due: datetime | None, *, blocked: str | None = None
    ) -> bool:
        changed = await self._execute(
            "UPDATE clubs SET state = $2, next_due = $3, blocked = $4 WHERE channel_id = $1",
            channel_id,
            state,
            _when(next_due),
            blocked,
        )
        return changed > 0

    async def set_club_blocked(self, channel_id: int, blocked: str | None) -> bool:
        """Record the permission a release lacked; True when that is news (so it is reported
        once, whichever process tries)."""
        changed = await self._execute(
            "UPDATE clubs SET blocked = $2 WHERE channel_id = $1 AND blocked IS DISTINCT FROM $2",
            channel_id,
            blocked,
        )
        return changed == 1

    async def claim_club_release(
        self, club: Club, chapter: int, state: str, next_due: datetime | None
    ) -> bool:
        """Move the club on to ``chapter`` (released), if nobody has since ``club`` was read."""
        changed = await self._execute(
            "UPDATE clubs SET last_chapter = $1, released = released + 1, state = $2,"
            " next_due = $3 WHERE channel_id = $4 AND story_id = $5"
            " AND last_chapter IS NOT DISTINCT FROM $6::integer AND state = 'active'",
            chapter,
            state,
            _when(next_due),
            club.channel_id,
            club.story_id,
            club.last_chapter,
        )
        return changed == 1

    async def unclaim_club_release(self, club: Club, chapter: int) -> bool:
        """Give back a claim whose release could not be made (``club`` as it was before)."""
        changed = await self._execute(
            "UPDATE clubs SET last_chapter = $1, released = $2, state = $3, next_due = $4"
            " WHERE channel_id = $5 AND story_id = $6 AND last_chapter = $7",
            club.last_chapter,
            club.released,
            club.state,
            _when(club.next_due),
            club.channel_id,
            club.story_id,
            chapter,
        )
        return changed == 1

    async def record_club_release(self, release: ClubRelease) -> None:
        await self._execute(
            f"INSERT INTO club_releases ({_RELEASE}) VALUES ($1, $2, $3, $4, $5)"
            " ON CONFLICT (channel_id, chapter) DO UPDATE SET message_id = excluded.message_id,"
            " thread_id = excluded.thread_id, released_at = excluded.released_at",
            release.channel_id,
            release.chapter,
            release.message_id,
            release.thread_id,
            _when(release.released_at),
        )

    async def club_releases(self, channel_id: int) -> list[ClubRelease]:
        rows = await self._all(
            f"SELECT {_RELEASE} FROM club_releases WHERE channel_id = $1"
            " ORDER BY released_at, chapter",
            channel_id,
        )
        return [release_row(r, _when) for r in rows]

    # ---- managers and members ------------------------------------------------------------

    async def club_manager_role(self, guild_id: int) -> int | None:
        role = await self._value("SELECT role_id FROM club_managers WHERE guild_id = $1", guild_id)
        return None if role is None else int(role)

    async def set_club_manager_role(self, guild_id: int, role_id: int | None) -> None:
        if role_id is None:
            await self._execute("DELETE FROM club_managers WHERE guild_id = $1", guild_id)
            return
        await self._execute(
            "INSERT INTO club_managers (guild_id, role_id) VALUES ($1, $2)"
            " ON CONFLICT (guild_id) DO UPDATE SET role_id = excluded.role_id",
            guild_id,
            role_id,
        )

    async def join_club(self, channel_id: int, user_id: int) -> bool:
        """Put a member on the board; False when they were on it already."""
        added = await self._execute(
            "INSERT INTO club_members (channel_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            channel_id,
            user_id,
        )
        return added == 1

    async def leave_club(self, channel_id: int, user_id: int) -> bool:
        left = await self._execute(
            "DELETE FROM club_members WHERE channel_id = $1 AND user_id = $2", channel_id, user_id
        )
        return left > 0

    async def club_members(self, channel_id: int, story_id: int) -> list[ClubMember]:
        """The board: each member and the furthest paragraph they have read of the story
        (those who have not opened it last, as SQLite sorts NULL)."""
        rows = await self._all(
            "SELECT m.user_id, p.furthest FROM club_members m LEFT JOIN reading_positions p"
            " ON p.user_id = m.user_id AND p.story_id = $1 WHERE m.channel_id = $2"
            " ORDER BY p.furthest DESC NULLS LAST, m.user_id",
            story_id,
            channel_id,
        )
        return [ClubMember(int(r[0]), None if r[1] is None else int(r[1])) for r in rows]

    async def forget_clubs_and_follows(self, user_id: int) -> tuple[int, int]:
        """Take a reader off every board and every follow list: (clubs, follows) removed."""
        async with self.transaction() as conn:
            clubs = await conn.execute("DELETE FROM club_members WHERE user_id = $1", user_id)
            follows = await conn.execute("DELETE FROM follows WHERE user_id = $1", user_id)
            return count(clubs), count(follows)

    async def clubs_and_follows(self, user_id: int) -> tuple[int, int]:
        row = await self._one(
            "SELECT (SELECT count(*) FROM club_members WHERE user_id = $1),"
            " (SELECT count(*) FROM follows WHERE user_id = $1)",
            user_id,
        )
        return (int(row[0]), int(row[1])) if row else (0, 0)

    # ---- votes ---------------------------------------------------------------------------

    async def add_club_vote(self, vote: ClubVote) -> None:
        await self._execute(
            f"INSERT INTO club_votes ({_VOTE}) VALUES ($1, $2, $3, $4, $5)"
            " ON CONFLICT (message_id) DO UPDATE SET channel_id = excluded.channel_id,"
            " guild_id = excluded.guild_id, story_ids = excluded.story_ids,"
            " ends_at = excluded.ends_at",
            vote.message_id,
            vote.channel_id,
            vote.guild_id,
            list(vote.story_ids),
            _when(vote.ends_at),
        )

    async def club_votes(self) -> list[ClubVote]:
        rows = await self._all(f"SELECT {_VOTE} FROM club_votes ORDER BY ends_at, message_id")
        return [vote_row(r, r[3], _when) for r in rows]

    async def claim_club_vote(self, message_id: int) -> bool:
        """Take a closed vote off the list to post its result; False when another did."""
        return await self._execute("DELETE FROM club_votes WHERE message_id = $1", message_id) == 1

    # ---- follows and watched stories -----------------------------------------------------

    async def follow(self, follow: Follow) -> bool:
        """Follow a story (again: the channel is updated); watch its chapter count from now.
        False when it was followed already (or the story is gone)."""
        async with self.transaction() as conn:
            inserted = await conn.fetchval(
                f"INSERT INTO follows ({_FOLLOW}) SELECT $1, $2, $3"
                " WHERE EXISTS (SELECT 1 FROM stories WHERE id = $2)"
                " ON CONFLICT (user_id, story_id) DO UPDATE SET channel_id = excluded.channel_id"
                " RETURNING xmax = 0",  # a row inserted, not updated, has no xmax
                follow.user_id,
                follow.story_id,
                follow.channel_id,
            )
            await _watch(conn, follow.story_id)
            return bool(inserted)

    async def watch_story(self, story_id: int) -> None:
        async with self.transaction() as conn:
            await _watch(conn, story_id)

    async def unfollow(self, user_id: int, story_id: int) -> bool:
        gone = await self._execute(
            "DELETE FROM follows WHERE user_id = $1 AND story_id = $2", user_id, story_id
        )
        return gone > 0

    async def follows(self, user_id: int) -> list[Follow]:
        rows = await self._all(f"SELECT {_FOLLOW} FROM follows WHERE user_id = $1", user_id)
        return [follow_row(r) for r in rows]

    async def followers(self, story_id: int) -> list[Follow]:
        rows = await self._all(
            f"SELECT {_FOLLOW} FROM follows WHERE story_id = $1 ORDER BY user_id", story_id
        )
        return [follow_row(r) for r in rows]

    async def grown_stories(self) -> list[StoryGrowth]:
        """Watched stories with more chapters now than when last seen (whoever ingested)."""
        rows = await self._all(
            "SELECT w.story_id, w.chapters, count(c.number) FROM story_watch w"
            " JOIN chapters c ON c.story_id = w.story_id GROUP BY w.story_id"
            " HAVING count(c.number) <> w.chapters ORDER BY w.story_id"
        )
        grown: list[StoryGrowth] = []
        for story_id, before, after in rows:
            labels = await self._all(
                "SELECT number, label FROM chapters WHERE story_id = $1 ORDER BY number OFFSET $2",
                story_id,
                before,
            )
            new = tuple((int(n), str(label)) for n, label in labels)
            grown.append(StoryGrowth(int(story_id), int(before), int(after), new))
        return grown

    async def claim_story_growth(self, growth: StoryGrowth) -> bool:
        """Record the new chapter count; True for the one caller that moved it (that caller
        tells the followers, once)."""
        moved = await self._execute(
            "UPDATE story_watch SET chapters = $1 WHERE story_id = $2 AND chapters = $3",
            growth.after,
            growth.story_id,
            growth.before,
        )
        return moved == 1


async def _watch(conn: Connection, story_id: int) -> None:
    """Start watching a story's chapter count (a story already watched keeps its count)."""
    await conn.execute(
        "INSERT INTO story_watch (story_id, chapters) SELECT s.id, (SELECT count(*) FROM"
        " chapters c WHERE c.story_id = s.id) FROM stories s WHERE s.id = $1"
        " ON CONFLICT (story_id) DO NOTHING",
        story_id,
    )
