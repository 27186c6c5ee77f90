"""`storybot migrate --to postgresql://...` on a real SQLite library and a real PostgreSQL
database (a throwaway cluster): everything a bot keeps comes across under the same ids, the
counts are checked and printed, and a database that holds a library is refused unless
--force."""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg

from bot.ingest import ingest
from bot.models import Club, ClubRelease, ClubVote, DailySchedule, Follow
from bot.store import Store, open_store
from tests.test_cli import no_traceback, run

DUE = datetime(2026, 5, 1, 17, 0, tzinfo=UTC)


async def _sqlite_library(tmp_path: Path, stories_dir: Path) -> Path:
    """A SQLite library with something in every table: readers, shuffles, schedules, clubs,
    follows, vectors; one story removed (its id is never given again)."""
    path = tmp_path / "data" / "stories.db"
    store = await open_store(path)
    try:
        await ingest(store, stories_dir)
        gone = sorted(s.file for s in await store.list_stories())[-1]
        await asyncio.to_thread((stories_dir / gone).unlink)
        await ingest(store, stories_dir)
        a, b = [s.id for s in (await store.list_stories())[:2]]
        await store.record_positions([(1, a, 1, 5), (1, b, 1, 2), (2, a, 1, 9)])
        await store.add_bookmark(1, a, 1, 5, "five")
        await store.add_bookmark(2, b, 1, 2, "two")
        await store.next_in_shuffle(300, a, "all", 20, 77)
        await store.set_daily_schedule(DailySchedule(10, 11, "09:00", "Europe/Paris", None, None))
        await store.claim_daily_post(10, date(2026, 4, 30))
        club = Club(400, 10, a, "week", 2, "19:00", "UTC", 1, None, 0, DUE, "active", 1)
        await store.save_club(club)
        await store.claim_club_release(club, 1, "active", DUE + timedelta(days=7))
        await store.record_club_release(ClubRelease(400, 1, 4001, 4002, DUE))
        await store.join_club(400, 1)
        await store.set_club_manager_role(10, 2**61)
        await store.add_club_vote(ClubVote(2**62, 401, 10, (b, a), DUE))
        await store.follow(Follow(1, b, None))
        for story in (a, b):
            pending = await store.vector_pending("e5", story, 10**6)
            await store.write_vectors("e5", [(i, 0.5, bytes([i % 256]) * 4) for i, _ in pending])
    finally:
        await store.close()
    return path


def _leftover(path: Path) -> None:
    """A reader's place left by an older storybot in a story that is gone."""
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO reading_positions VALUES (3, 99999, 1, 1, 1, 1)")
    db.close()


async def _everything(store: Store) -> dict[str, object]:
    """What a bot reads back from a store, for comparing two."""
    stories = await store.list_stories()
    ids = [s.id for s in stories]
    paragraphs = [
        await store.chapter_paragraphs(s.id, c.number) for s in stories for c in s.chapters
    ]
    found, _ = await store.texts_with_all(["willow", "tara"], None, 20, rank_cap=10_000)
    scenes = await store.scene_candidates(["kiss", "rain"], None, 10)
    return {
        "stories": stories,
        "paragraphs": paragraphs,
        "quote": [(t.id, round(rank, 6)) for t, rank in found],
        "scenes": [
            (p.id, p.story_id, p.chapter, p.first, p.last, round(p.rank, 6)) for p in scenes
        ],
        "passages": [await store.story_passages(i) for i in ids],
        "places": [await store.reading_positions(u) for u in (1, 2, 3)],
        "bookmarks": [await store.bookmarks(u) for u in (1, 2)],
        "schedules": await store.daily_schedules(),
        "clubs": await store.clubs(),
        "releases": await store.club_releases(400),
        "members": await store.club_members(400, ids[0]),
        "manager": await store.club_manager_role(10),
        "votes": await store.club_votes(),
        "follows": await store.follows(1),
        "vectors": await store.scene_vector_rows("e5", ids),
        "vocabulary": await store.vocabulary(1, 32),
        "scene vocabulary": await store.scene_vocabulary(),
    }


async def test_migrate_copies_every_table_under_the_same_ids(
    tmp_path: Path, stories_dir: Path, pg_url: str
) -> None:
    path = await _sqlite_library(tmp_path, stories_dir)
    source = await open_store(path)
    try:
        before = await _everything(source)
        high = max(s.id for s in await source.list_stories()) + 1  # the removed story's
    finally:
        await source.close()
    _leftover(path)
    result = await asyncio.to_thread(
        run, tmp_path, "migrate", "--to", pg_url, "--json", stories=stories_dir
    )
    assert result.returncode == 0, result.stderr
    tables = {t["table"]: t for t in json.loads(result.stdout)["tables"]}
    assert tables["reading_positions"] == {
        "table": "reading_positions",
        "source": 4,
        "copied": 3,
        "skipped": 1,
    }
    for name in ("stories", "texts", "scene_texts", "clubs", "club_votes", "scene_vectors"):
        assert tables[name]["copied"] == tables[name]["source"] > 0, name
    target = await open_store(tmp_path / "unused.db", url=pg_url)
    try:
        assert await _everything(target) == before
        # it goes on where the source stopped: the next shuffle place, the next claim, new ids
        a = before["stories"][0].id  # type: ignore[index]
        assert (await target.next_in_shuffle(300, a, "all", 20, 5))[1] == 1
        assert not await target.claim_daily_post(10, date(2026, 4, 30))
        new_mark = await target.add_bookmark(1, a, 1, 7, "seven")
        assert new_mark > max(m.id for m in before["bookmarks"][0])  # type: ignore[index]
        (stories_dir / "new.txt").write_text("A story added after the move.\n\nIts words.\n")
        await ingest(target, stories_dir)
        added = next(s for s in await target.list_stories() if s.file == "new.txt")
        assert added.id > high
        assert not (await ingest(target, stories_dir)).changed  # the files read as unchanged
    finally:
        await target.close()


async def test_migrated_stories_belong_to_the_migrating_hosts_folder(
    tmp_path: Path, stories_dir: Path, pg_url: str
) -> None:
    """Every story of a SQLite library came from its stories folder: once moved, that host's
    ingest removes a story whose file has gone (as on SQLite), and another host's ingest
    (a folder of its own) leaves the stories alone."""
    await _sqlite_library(tmp_path, stories_dir)
    moved = await asyncio.to_thread(run, tmp_path, "migrate", "--to", pg_url, stories=stories_dir)
    assert moved.returncode == 0, moved.stderr
    target = await open_store(tmp_path / "unused.db", url=pg_url)
    try:
        files = sorted(s.file for s in await target.list_stories())
        elsewhere = tmp_path / "another-host"
        elsewhere.mkdir()
        assert (await ingest(target, elsewhere, allow_empty=True)).removed == ()
        (stories_dir / files[0]).unlink()
        assert (await ingest(target, stories_dir)).removed == (files[0],)
        assert sorted(s.file for s in await target.list_stories()) == files[1:]
    finally:
        await target.close()


async def test_migrate_prints_the_counts_and_refuses_a_library_unless_forced(
    tmp_path: Path, stories_dir: Path, pg_url: str
) -> None:
    _leftover(await _sqlite_library(tmp_path, stories_dir))
    first = await asyncio.to_thread(run, tmp_path, "migrate", "--to", pg_url, stories=stories_dir)
    assert first.returncode == 0, first.stderr
    assert "stories" in first.stdout and "Counts checked" in first.stdout
    assert "(1 skipped: their story or passage is gone)" in first.stdout
    again = await asyncio.to_thread(run, tmp_path, "migrate", "--to", pg_url, stories=stories_dir)
    assert again.returncode == 2 and again.stdout == ""
    assert again.stderr.count("\n") == 1 and "already holds a library" in again.stderr
    assert "--force" in again.stderr
    no_traceback(again)
    conn = await asyncpg.connect(pg_url)
    try:
        await conn.execute(
            "INSERT INTO daily_schedules VALUES (77, 78, '10:00', 'UTC', NULL, NULL)"
        )
        forced = await asyncio.to_thread(
            run, tmp_path, "migrate", "--to", pg_url, "--force", stories=stories_dir
        )
        assert forced.returncode == 0, forced.stderr
        assert await conn.fetchval("SELECT count(*) FROM daily_schedules WHERE guild_id = 77") == 0
    finally:
        await conn.close()


async def test_migrate_failures_are_one_line(
    tmp_path: Path, stories_dir: Path, pg_url: str
) -> None:
    nothing = await asyncio.to_thread(run, tmp_path, "migrate", "--to", pg_url, stories=stories_dir)
    assert nothing.returncode == 2 and "no SQLite library" in nothing.stderr
    assert not (tmp_path / "data" / "stories.db").exists()  # not created by asking
    await _sqlite_library(tmp_path, stories_dir)
    for url, words in (
        ("sqlite:///x.db", "must be a PostgreSQL URL"),
        (pg_url.rsplit("/", 1)[0] + "/no_such_db", "does not exist"),
    ):
        bad = await asyncio.to_thread(run, tmp_path, "migrate", "--to", url, stories=stories_dir)
        assert bad.returncode == 2 and words in bad.stderr, bad.stderr
        assert bad.stderr.count("\n") == 1
        no_traceback(bad)
    missing = await asyncio.to_thread(run, tmp_path, "migrate")
    assert missing.returncode == 2 and "--to" in missing.stderr


async def test_migrate_needs_the_stories_folder_and_prints_the_key_it_wrote(
    tmp_path: Path, stories_dir: Path, pg_url: str
) -> None:
    """The host key of the copied stories is the folder the bot's host ingests, given on the
    command line: this process's STORIES_DIR (here set, and right) is not taken for it.
    Before the fix, `migrate --to URL` copied with STORIES_DIR (or ./seeds) and this
    machine's name, and printed no key (exit 0 where 2 is due)."""
    await _sqlite_library(tmp_path, stories_dir)
    env = {"STORIES_DIR": str(stories_dir)}
    bare = await asyncio.to_thread(run, tmp_path, "migrate", "--to", pg_url, env=env)
    assert bare.returncode == 2, bare.stdout
    assert bare.stderr.count("\n") == 1 and "migrate needs --stories DIR" in bare.stderr
    no_traceback(bare)
    conn = await asyncpg.connect(pg_url)
    try:
        assert not await conn.fetchval("SELECT to_regclass('stories') IS NOT NULL")
        for args, words in (
            (("--stories", str(tmp_path / "nowhere")), "is not on this machine"),
            (("--stories", "stories", "--host", "bothost"), "absolute path on bothost"),
        ):
            refused = await asyncio.to_thread(run, tmp_path, "migrate", "--to", pg_url, *args)
            assert refused.returncode == 2 and words in refused.stderr, refused.stderr
            assert refused.stderr.count("\n") == 1
            no_traceback(refused)

        moved = await asyncio.to_thread(
            run, tmp_path, "migrate", "--to", pg_url, "--json", stories=stories_dir
        )
        assert moved.returncode == 0, moved.stderr
        key = f"{socket.gethostname()}:{await asyncio.to_thread(stories_dir.resolve)}"
        result = json.loads(moved.stdout)
        assert result["host"] == key and {"source", "tables"} <= result.keys()
        assert await conn.fetchval("SELECT array_agg(DISTINCT host) FROM stories") == [key]

        elsewhere = "/srv/storybot/stories"  # the bot host's folder, given from another machine
        again = await asyncio.to_thread(
            run, tmp_path, "migrate", "--to", pg_url, "--force", "--stories", elsewhere,
            "--host", "bothost",
        )  # fmt: skip
        assert again.returncode == 0, again.stderr
        assert f"stories folder bothost:{elsewhere}'s" in again.stdout
        hosts = await conn.fetchval("SELECT array_agg(DISTINCT host) FROM stories")
        assert hosts == [f"bothost:{elsewhere}"]
    finally:
        await conn.close()
