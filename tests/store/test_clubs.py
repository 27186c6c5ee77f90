"""Reading clubs, votes and follows (bot/store/interface.py, ClubStore) on each engine: what
bot/clubs.py relies on, and the claims that two processes on one database race for."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from bot.ingest import ingest
from bot.models import Club, ClubRelease, ClubVote, Follow, StoryGrowth
from bot.store import Store
from tests.store.test_contract import _seeded

DUE = datetime(2026, 3, 1, 18, 30, tzinfo=UTC)


def _club(channel_id: int, story_id: int, **changes: object) -> Club:
    club = Club(
        channel_id=channel_id,
        guild_id=900 + channel_id % 2,
        story_id=story_id,
        every="week",
        weekday=4,
        at="19:30",
        timezone="Europe/Paris",
        starting=1,
        last_chapter=None,
        released=0,
        next_due=DUE,
        state="active",
        starter_id=42,
    )
    return dataclasses.replace(club, **changes)  # type: ignore[arg-type]


async def _story_ids(store: Store, tmp_path: Path) -> list[int]:
    await _seeded(store, tmp_path)
    return [s.id for s in await store.list_stories()]


async def test_a_club_reads_back_as_saved(store: Store, tmp_path: Path) -> None:
    a, b = (await _story_ids(store, tmp_path))[:2]
    assert not await store.clubs_in_use() and await store.club(1) is None
    paris = timezone(timedelta(hours=1))
    await store.save_club(_club(11, a, next_due=DUE.astimezone(paris), blocked="embed_links"))
    await store.save_club(_club(12, b, next_due=None, state="paused", last_chapter=3))
    await store.save_club(_club(13, a, next_due=DUE - timedelta(days=1)))
    got = await store.club(11)
    assert got == _club(11, a, blocked="embed_links")
    assert got is not None and got.next_due is not None and got.next_due.utcoffset() == timedelta(0)
    # in the order they are due, a paused club (no time) first
    assert [c.channel_id for c in await store.clubs()] == [12, 13, 11]
    assert [c.channel_id for c in await store.clubs([901])] == [13, 11]
    assert sorted(c.channel_id for c in await store.clubs_of_story(a)) == [11, 13]
    assert await store.clubs_in_use()
    assert await store.delete_club(12) and not await store.delete_club(12)


async def test_a_club_on_another_story_starts_afresh(store: Store, tmp_path: Path) -> None:
    a, b = (await _story_ids(store, tmp_path))[:2]
    await store.save_club(_club(11, a))
    assert await store.join_club(11, 7) and not await store.join_club(11, 7)
    await store.record_club_release(ClubRelease(11, 1, 555, None, DUE))
    await store.save_club(_club(11, a, at="20:00"))  # the same story: members stay
    assert [m.user_id for m in await store.club_members(11, a)] == [7]
    await store.save_club(_club(11, b))
    assert await store.club_members(11, b) == [] and await store.club_releases(11) == []


async def test_two_processes_racing_for_a_release_one_wins(
    store: Store, other_store: Store, tmp_path: Path
) -> None:
    a = (await _story_ids(store, tmp_path))[0]
    club = _club(11, a)
    await store.save_club(club)
    later = DUE + timedelta(days=7)
    first = await asyncio.gather(
        *(s.claim_club_release(club, 1, "active", later) for s in [store, other_store] * 4)
    )
    assert first.count(True) == 1  # from "no chapter yet" (NULL) to chapter 1: once
    moved = await other_store.club(11)
    assert moved == dataclasses.replace(club, last_chapter=1, released=1, next_due=later)
    assert moved is not None
    second = await asyncio.gather(
        *(s.claim_club_release(moved, 2, "finished", None) for s in [other_store, store] * 4)
    )
    assert second.count(True) == 1
    assert not await store.claim_club_release(club, 1, "active", later)  # a stale read loses
    done = await store.club(11)
    assert done is not None and (done.last_chapter, done.state, done.next_due) == (
        2,
        "finished",
        None,
    )
    # giving a claim back restores the club as it was read, once
    assert await store.unclaim_club_release(moved, 2)
    assert not await other_store.unclaim_club_release(moved, 2)
    assert await store.club(11) == moved


async def test_a_paused_club_is_not_released(store: Store, tmp_path: Path) -> None:
    a = (await _story_ids(store, tmp_path))[0]
    club = _club(11, a)
    await store.save_club(club)
    assert await store.set_club_state(11, "paused", None)
    assert not await store.claim_club_release(club, 1, "active", DUE)
    assert await store.set_club_state(11, "active", DUE, blocked="send_messages")
    assert (await store.club(11)).blocked == "send_messages"  # type: ignore[union-attr]
    assert not await store.set_club_state(99, "paused", None)


async def test_a_missing_permission_is_news_once(
    store: Store, other_store: Store, tmp_path: Path
) -> None:
    a = (await _story_ids(store, tmp_path))[0]
    await store.save_club(_club(11, a))
    told = await asyncio.gather(
        *(s.set_club_blocked(11, "embed_links") for s in [store, other_store] * 3)
    )
    assert told.count(True) == 1
    assert await store.set_club_blocked(11, None) and not await store.set_club_blocked(11, None)


async def test_releases_and_managers(store: Store, tmp_path: Path) -> None:
    a = (await _story_ids(store, tmp_path))[0]
    await store.save_club(_club(11, a))
    await store.record_club_release(ClubRelease(11, 2, 7002, 8002, DUE + timedelta(days=7)))
    await store.record_club_release(ClubRelease(11, 1, None, None, DUE))
    await store.record_club_release(ClubRelease(11, 1, 7001, 8001, DUE))  # replaced
    assert await store.club_releases(11) == [
        ClubRelease(11, 1, 7001, 8001, DUE),
        ClubRelease(11, 2, 7002, 8002, DUE + timedelta(days=7)),
    ]
    assert await store.club_manager_role(900) is None
    await store.set_club_manager_role(900, 2**62)
    await store.set_club_manager_role(900, 2**62 + 1)
    assert await store.club_manager_role(900) == 2**62 + 1
    await store.set_club_manager_role(900, None)
    assert await store.club_manager_role(900) is None


async def test_the_board_and_forgetting_a_member(store: Store, tmp_path: Path) -> None:
    a, b = (await _story_ids(store, tmp_path))[:2]
    await store.save_club(_club(11, a))
    await store.save_club(_club(12, b))
    for user in (3, 1, 2):
        await store.join_club(11, user)
    await store.join_club(12, 2)
    await store.record_positions([(1, a, 1, 4), (2, a, 1, 9), (2, b, 1, 1)])
    board = await store.club_members(11, a)
    assert [(m.user_id, m.furthest) for m in board] == [(2, 9), (1, 4), (3, None)]
    assert await store.leave_club(11, 3) and not await store.leave_club(11, 3)
    await store.follow(Follow(2, a, None))
    assert await store.clubs_and_follows(2) == (2, 1)
    assert await store.forget_clubs_and_follows(2) == (2, 1)
    assert await store.clubs_and_follows(2) == (0, 0)
    assert [m.user_id for m in await store.club_members(11, a)] == [1]


async def test_a_closed_vote_is_claimed_once(
    store: Store, other_store: Store, tmp_path: Path
) -> None:
    a, b, c = (await _story_ids(store, tmp_path))[:3]
    late = ClubVote(2**60, 11, 900, (c, a, b), DUE + timedelta(hours=1))
    early = ClubVote(2**60 + 1, 12, 900, (b,), DUE)
    await store.add_club_vote(late)
    await other_store.add_club_vote(early)
    assert await store.club_votes() == [early, late]
    claims = await asyncio.gather(
        *(s.claim_club_vote(late.message_id) for s in [store, other_store] * 3)
    )
    assert claims.count(True) == 1
    assert await other_store.club_votes() == [early]


async def test_follows_and_a_story_that_grows(
    store: Store, other_store: Store, tmp_path: Path
) -> None:
    folder = await _seeded(store, tmp_path)
    story = (await store.list_stories())[0]
    assert await store.follow(Follow(5, story.id, None))
    assert not await store.follow(Follow(5, story.id, 77))  # again: the channel is updated
    assert await store.follows(5) == [Follow(5, story.id, 77)]
    await store.follow(Follow(4, story.id, None))
    assert [f.user_id for f in await store.followers(story.id)] == [4, 5]
    assert await store.grown_stories() == []
    path = folder / story.file
    path.write_bytes(path.read_bytes() + b"\n\nChapter 999\n\nA new chapter at the end.\n")
    await ingest(store, folder)
    grown = await other_store.grown_stories()
    before = len(story.chapters)
    now = next(s for s in await store.list_stories() if s.id == story.id)
    new = tuple((c.number, c.label) for c in now.chapters[before:])
    assert [label for _, label in new] == ["Chapter 999"]
    assert grown == [StoryGrowth(story.id, before, before + 1, new)]
    claims = await asyncio.gather(
        *(s.claim_story_growth(grown[0]) for s in [store, other_store] * 3)
    )
    assert claims.count(True) == 1 and await store.grown_stories() == []
    assert await store.unfollow(4, story.id) and not await store.unfollow(4, story.id)


async def test_a_removed_story_takes_its_follows_and_watch(store: Store, tmp_path: Path) -> None:
    folder = await _seeded(store, tmp_path)
    story = (await store.list_stories())[0]
    await store.follow(Follow(5, story.id, None))
    await store.watch_story(story.id)
    (folder / story.file).unlink()
    await ingest(store, folder)
    assert await store.follows(5) == [] and await store.followers(story.id) == []
    assert not await store.clubs_in_use()  # its watch went too
