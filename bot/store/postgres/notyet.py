"""What the PostgreSQL engine does not hold yet: reading clubs and scene passages' vectors.
Each operation says so in one line (a StoreError) rather than failing on a missing table."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from bot.models import Club, ClubMember, ClubRelease, ClubVote, Follow, StoryGrowth
from bot.store.errors import StoreError
from bot.store.interface import VectorRow


def _not_yet() -> StoreError:
    return StoreError(
        "reading clubs and scene vectors are not kept in PostgreSQL yet: run this bot on SQLite"
        " to use them"
    )


class NotYet:
    """Clubs and vectors on PostgreSQL: not built yet."""

    async def club(self, channel_id: int) -> Club | None:
        raise _not_yet()

    async def clubs(self, guild_ids: Iterable[int] | None = None) -> list[Club]:
        raise _not_yet()

    async def clubs_in_use(self) -> bool:
        raise _not_yet()

    async def clubs_of_story(self, story_id: int) -> list[Club]:
        raise _not_yet()

    async def save_club(self, club: Club) -> None:
        raise _not_yet()

    async def delete_club(self, channel_id: int) -> bool:
        raise _not_yet()

    async def set_club_state(
        self, channel_id: int, state: str, next_due: datetime | None, *, blocked: str | None = None
    ) -> bool:
        raise _not_yet()

    async def set_club_blocked(self, channel_id: int, blocked: str | None) -> bool:
        raise _not_yet()

    async def claim_club_release(
        self, club: Club, chapter: int, state: str, next_due: datetime | None
    ) -> bool:
        raise _not_yet()

    async def unclaim_club_release(self, club: Club, chapter: int) -> bool:
        raise _not_yet()

    async def record_club_release(self, release: ClubRelease) -> None:
        raise _not_yet()

    async def club_releases(self, channel_id: int) -> list[ClubRelease]:
        raise _not_yet()

    async def club_manager_role(self, guild_id: int) -> int | None:
        raise _not_yet()

    async def set_club_manager_role(self, guild_id: int, role_id: int | None) -> None:
        raise _not_yet()

    async def join_club(self, channel_id: int, user_id: int) -> bool:
        raise _not_yet()

    async def leave_club(self, channel_id: int, user_id: int) -> bool:
        raise _not_yet()

    async def club_members(self, channel_id: int, story_id: int) -> list[ClubMember]:
        raise _not_yet()

    async def forget_clubs_and_follows(self, user_id: int) -> tuple[int, int]:
        raise _not_yet()

    async def clubs_and_follows(self, user_id: int) -> tuple[int, int]:
        raise _not_yet()

    async def add_club_vote(self, vote: ClubVote) -> None:
        raise _not_yet()

    async def club_votes(self) -> list[ClubVote]:
        raise _not_yet()

    async def claim_club_vote(self, message_id: int) -> bool:
        raise _not_yet()

    async def follow(self, follow: Follow) -> bool:
        raise _not_yet()

    async def watch_story(self, story_id: int) -> None:
        raise _not_yet()

    async def unfollow(self, user_id: int, story_id: int) -> bool:
        raise _not_yet()

    async def follows(self, user_id: int) -> list[Follow]:
        raise _not_yet()

    async def followers(self, story_id: int) -> list[Follow]:
        raise _not_yet()

    async def grown_stories(self) -> list[StoryGrowth]:
        raise _not_yet()

    async def claim_story_growth(self, growth: StoryGrowth) -> bool:
        raise _not_yet()

    async def vector_counts(self, model: str) -> dict[int, tuple[int, int]]:
        raise _not_yet()

    async def vector_pending(self, model: str, story_id: int, limit: int) -> list[tuple[int, str]]:
        raise _not_yet()

    async def write_vectors(self, model: str, rows: Sequence[tuple[int, float, bytes]]) -> int:
        raise _not_yet()

    async def scene_vector_rows(self, model: str, story_ids: Sequence[int]) -> list[VectorRow]:
        raise _not_yet()

    async def forget_vectors(self, model: str | None = None) -> None:
        raise _not_yet()
