"""Reading together (issue 23) end to end through simcord's virtual clock: a club's releases
and their threads, restarts, /club next, the board, the vote's poll, and missing permissions.

simcord's clock starts on Thursday 2026-01-01 00:00 UTC; these tests start it on Monday
2026-01-05 at 17:00 UTC (``monday_env``), an hour before 19:00 in Paris (UTC+1 in winter):
advancing four days of the daily excerpt's 30-second loop would take longer than simcord
allows one advance.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import AsyncIterator

import discord
import pytest
import simcord

from bot.library import Library
from bot.models import Club
from bot.runtime import StoryBot
from bot.settings import Settings
from tests.cogs.age_restricted import Mark, age_restricted
from tests.cogs.closing import BuildBot
from tests.cogs.helpers import Server, admin, answer, restart, server, started
from tests.refusing import WORDS, refuse

__all__ = ["age_restricted"]

MINUTE = 60.0
HOUR = 60 * MINUTE
DAY = 24 * HOUR
MONDAY_1900_PARIS = 1767636000  # 2026-01-05 18:00 UTC
START = 4 * DAY + 17 * HOUR  # Monday 2026-01-05 17:00 UTC


@pytest.fixture
def club_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, daily_check_seconds=30)


@pytest.fixture
def simcord_bot(club_settings: Settings, closing_bots: BuildBot) -> StoryBot:
    return closing_bots(club_settings)


@pytest.fixture
async def monday_env(simcord_bot: StoryBot) -> AsyncIterator[simcord.Env]:
    """simcord's environment with its clock on Monday 2026-01-05 17:00 UTC from the start."""
    async with started(simcord_bot, at=START) as env:
        yield env


def releases(channel: simcord.ChannelHandle) -> list[discord.Message]:
    return [
        m
        for m in channel.history()
        if m.embeds and "Reading club" in (m.embeds[0].author.name or "")
    ]


def said(result: simcord.InteractionResult) -> str:
    message = answer(result)
    assert message.ephemeral, message
    return message.content


async def start_monday_club(
    env: simcord.Env, **options: object
) -> tuple[Server, simcord.MemberActor]:
    s = server(env)
    ada = admin(env, s.guild)
    text = said(
        await ada.slash(
            s.channel,
            "club start",
            story="breaking-alone",
            every="monday",
            at="19:00",
            timezone="Europe/Paris",
            **options,
        )
    )
    assert "Breaking alone" in text and f"<t:{MONDAY_1900_PARIS}:F>" in text, text
    return s, ada


async def test_a_release_comes_at_its_time_with_its_thread_and_the_next_date(
    monday_env: simcord.Env,
) -> None:
    env = monday_env
    s, _ = await start_monday_club(env)
    await env.advance_time(HOUR - 2 * MINUTE)
    assert releases(s.channel) == []
    await env.advance_time(2 * MINUTE)
    posted = releases(s.channel)
    assert len(posted) == 1
    embed = posted[0].embeds[0]
    assert embed.title == "Breaking alone · Part 1"
    part1 = await s.library.chapter("breaking-alone", "1", mature_ok=False)
    assert embed.description and part1.paragraphs[0].text[:40] in embed.description
    assert len(embed.description) <= 400
    fields = {f.name: f.value for f in embed.fields}
    next_monday = MONDAY_1900_PARIS + 7 * 86400
    assert f"<t:{next_monday}:F>" in fields["Next chapter"]
    threads = s.channel.threads
    assert [t.name for t in threads] == ["Breaking alone · Part 1"]
    children = [c for row in posted[0].components for c in row.children]  # type: ignore[attr-defined]
    assert [c.label for c in children] == ["Read chapter", "I've read it", "Talk about it"]
    assert children[2].url.endswith(f"/{threads[0].id}")


async def test_buttons_put_members_on_the_board_with_the_chapter_they_reached(
    monday_env: simcord.Env,
) -> None:
    env = monday_env
    s, ada = await start_monday_club(env)
    await env.advance_time(HOUR + MINUTE)
    release = releases(s.channel)[0]
    done = said(await s.alice.click(release, label="I've read it"))
    assert "Part 1" in done and "board" in done
    opened = answer(await s.bob.click(release, label="Read chapter"))
    assert opened.ephemeral  # the chapter opens privately
    forward = said(await ada.slash(s.channel, "club next"))
    assert "Part 2" in forward
    second = releases(s.channel)[-1]
    assert second.embeds[0].title == "Breaking alone · Part 2"
    answer(await s.bob.click(second, label="Read chapter"))

    status = answer(await s.alice.slash(s.channel, "club status"))
    assert status.ephemeral
    fields = {f.name: f.value for f in status.embeds[0].fields}
    assert "every Monday at 19:00 (Europe/Paris)" in fields["Schedule"]
    assert fields["Released"] == "2 of 10 chapters"
    assert f"<t:{MONDAY_1900_PARIS + 7 * 86400}:F>" in fields["Next release"]
    assert "Part 3" in fields["Next release"]
    board = fields["Progress"].splitlines()
    assert board[0].endswith(f"<@{s.bob.id}> — Part 2")
    assert f"<@{s.alice.id}> — Part 1 · *catching up*" in board[1]

    said(await s.alice.slash(s.channel, "club leave"))
    status = answer(await s.bob.slash(s.channel, "club status"))
    assert f"<@{s.alice.id}>" not in status.embeds[0].fields[-1].value


async def advance(env: simcord.Env, seconds: float, step: float = 3 * HOUR) -> None:
    """Advance in steps: simcord gives one advance a few seconds of real time, and the daily
    excerpt's loop ticks every 30 s."""
    while seconds > 0:
        await env.advance_time(min(step, seconds))
        seconds -= step


async def test_a_restart_between_two_releases_still_posts_the_second_once(
    monday_env: simcord.Env, closing_bots: BuildBot
) -> None:
    env = monday_env
    s = server(env)
    ada = admin(env, s.guild)
    said(
        await ada.slash(
            s.channel,
            "club start",
            story="breaking-alone",
            every="day",
            at="19:00",
            timezone="Europe/Paris",
        )
    )
    await env.advance_time(HOUR + MINUTE)
    assert [m.embeds[0].title for m in releases(s.channel)] == ["Breaking alone · Part 1"]
    await restart(env, closing_bots)
    await advance(env, DAY - 2 * MINUTE)
    assert len(releases(s.channel)) == 1
    await env.advance_time(2 * MINUTE)
    titles = [m.embeds[0].title for m in releases(s.channel)]
    assert titles == ["Breaking alone · Part 1", "Breaking alone · Part 2"]
    await restart(env, closing_bots)
    await env.advance_time(HOUR)
    assert len(releases(s.channel)) == 2, "a restart after a release must not post it again"
    assert [t.name for t in s.channel.threads] == [
        "Breaking alone · Part 1",
        "Breaking alone · Part 2",
    ]


async def test_a_release_missed_while_down_goes_out_once_when_back(
    monday_env: simcord.Env, club_settings: Settings, closing_bots: BuildBot
) -> None:
    """The club was started four days ago for every day at 19:00 in Paris and the bot was
    down since: back, it releases one chapter, not four, and the next at the next time."""
    env = monday_env
    s = server(env)
    library = await Library.open(club_settings)
    try:
        schedule = Club(
            s.channel.id,
            s.guild.id,
            0,
            "day",
            0,
            "19:00",
            "Europe/Paris",
            0,
            None,
            0,
            None,
            "active",
            s.alice.id,
        )
        four_days_ago = env.now() - dt.timedelta(days=4)
        await library.clubs.start(
            schedule, "breaking-alone", None, mature_ok=False, now=four_days_ago
        )
    finally:
        await library.close()
    await restart(env, closing_bots)
    await env.advance_time(MINUTE)
    posted = releases(s.channel)
    assert [m.embeds[0].title for m in posted] == ["Breaking alone · Part 1"]
    next_at = {f.name: f.value for f in posted[0].embeds[0].fields}["Next chapter"]
    assert f"<t:{MONDAY_1900_PARIS}:F>" in next_at  # today's 19:00, not one of the missed
    await env.advance_time(HOUR - 2 * MINUTE)
    assert len(releases(s.channel)) == 1
    await env.advance_time(2 * MINUTE)
    assert len(releases(s.channel)) == 2


async def test_the_vote_is_a_poll_and_its_close_offers_the_winner_to_managers(
    monday_env: simcord.Env,
) -> None:
    env = monday_env
    s, ada = await start_monday_club(env, starting="10")  # one chapter left: it finishes
    await env.advance_time(HOUR + MINUTE)
    last = releases(s.channel)[-1]
    assert "/club vote" in {f.name: f.value for f in last.embeds[0].fields}["The last chapter"]
    status = answer(await s.alice.slash(s.channel, "club status"))
    assert "Finished" in {f.name: f.value for f in status.embeds[0].fields}["Next release"]

    stories = "a tale of two sinners, soaked-in-sorry, Breaking alone"
    await s.alice.slash(s.channel, "club vote", stories=stories, hours=2)
    poll_message = s.channel.last_message
    assert poll_message is not None and poll_message.poll is not None
    answers = [a.text for a in poll_message.poll.answers]
    assert answers == ["A Tale of Two Sinners", "Soaked in Sorry", "Breaking alone"]
    await s.alice.vote(poll_message, answer=2)
    await s.bob.vote(poll_message, answer=2)
    await ada.vote(poll_message, answer=1)
    await env.advance_time(2 * HOUR + MINUTE)
    result = s.channel.last_message
    assert result is not None and "Soaked in Sorry" in result.content
    assert "2 votes" in result.content

    refused = said(await s.bob.click(result, label="Start the club"))
    assert "Only club managers" in refused
    started = said(await ada.click(result, label="Start the club"))
    assert "Soaked in Sorry" in started and "every Monday at 19:00" in started
    status = answer(await s.bob.slash(s.channel, "club status"))
    assert status.embeds[0].title == "Reading club: Soaked in Sorry"


async def test_missing_permissions_are_told_once_to_the_starter_and_the_club_waits(
    monday_env: simcord.Env,
) -> None:
    env = monday_env
    s = server(env)
    ada_user = env.create_user("ada")
    role = s.guild.create_role("mods", permissions=discord.Permissions(manage_guild=True))
    ada = s.guild.add_member(ada_user, roles=[role])
    bot_role = s.guild.roles["TestBot"]
    deny = discord.PermissionOverwrite(create_public_threads=False)
    room = s.guild.create_text_channel("club-room", overwrites={bot_role: deny})
    started = said(
        await ada.slash(
            room,
            "club start",
            story="breaking-alone",
            every="day",
            at="19:00",
            timezone="Europe/Paris",
        )
    )
    assert "Create Public Threads" in started  # said at once, too
    await env.advance_time(HOUR + MINUTE)
    await env.advance_time(HOUR)
    assert releases(room) == []
    dms = ada_user.dm_channel.history()
    assert len(dms) == 1 and "Create Public Threads" in dms[0].content
    status = answer(await ada.slash(room, "club status"))
    assert "Create Public Threads" in (status.embeds[0].footer.text or "")

    env.backend.delete_overwrite(room.id, bot_role.id)  # the admin gives the permission
    await env.settle()
    await env.advance_time(MINUTE)
    assert [m.embeds[0].title for m in releases(room)] == ["Breaking alone · Part 1"]
    assert len(ada_user.dm_channel.history()) == 1


async def test_a_forum_club_releases_a_post(monday_env: simcord.Env) -> None:
    env = monday_env
    s = server(env)
    ada = admin(env, s.guild)
    forum = s.guild.create_forum_channel("book-club")
    said(
        await ada.slash(
            s.channel,
            "club start",
            story="breaking-alone",
            every="monday",
            at="19:00",
            timezone="Europe/Paris",
            channel=forum,
        )
    )
    await env.advance_time(HOUR + MINUTE)
    posts = forum.threads
    assert [p.name for p in posts] == ["Breaking alone · Part 1"]
    opening = posts[0].history()[0]
    assert opening.embeds[0].title == "Breaking alone · Part 1"
    said(await s.alice.click(opening, label="I've read it"))
    status = answer(await s.alice.slash(posts[0], "club status"))  # from inside the post
    assert (
        f"<@{s.alice.id}> — Part 1"
        in {f.name: f.value for f in status.embeds[0].fields}["Progress"]
    )


async def test_forget_takes_a_member_off_every_board(monday_env: simcord.Env) -> None:
    env = monday_env
    s, _ = await start_monday_club(env)
    said(await s.alice.slash(s.channel, "club join"))
    question = answer(await s.alice.slash(s.channel, "forget"))
    assert "1 club board" in question.content
    done = answer(await s.alice.click(question, label="Forget me"))
    assert "club board" in done.content
    status = answer(await s.bob.slash(s.channel, "club status"))
    assert "Nobody yet" in status.embeds[0].fields[-1].value


async def test_a_mature_club_waits_when_its_channel_stops_being_age_restricted(
    monday_env: simcord.Env, age_restricted: Mark
) -> None:
    env = monday_env
    s = server(env)
    ada_user = env.create_user("ada")
    role = s.guild.create_role("mods", permissions=discord.Permissions(manage_guild=True))
    ada = s.guild.add_member(ada_user, roles=[role])
    after_dark = s.guild.create_text_channel("after-dark")
    await age_restricted(env, after_dark)
    said(
        await ada.slash(
            after_dark,
            "club start",
            story="taking-steps",
            every="day",
            at="19:00",
            timezone="Europe/Paris",
        )
    )
    env.backend.get_channel(after_dark.id).nsfw = False  # type: ignore[attr-defined]
    env.backend.announce_channel_update(after_dark.id)  # the admin unticks Age-Restricted
    await env.settle()
    await env.advance_time(HOUR + MINUTE)
    assert releases(after_dark) == []
    dms = [m.content for m in ada_user.dm_channel.history()]
    assert len(dms) == 1 and "Age-Restricted Channel" in dms[0]
    assert "Taking Steps" not in dms[0]  # a mature story is never named in a DM


async def test_a_release_whose_record_the_database_refuses_still_counts_as_posted(
    monday_env: simcord.Env, club_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """The chapter went out and was claimed, then saving its message was refused: /club next
    says it was released (and that its link was not saved), so that nobody retries and
    releases the next chapter early. Before the fix it said the database was busy: try again."""
    env = monday_env
    s, ada = await start_monday_club(env)
    await refuse(club_settings, "club_releases", "INSERT")
    with caplog.at_level(logging.WARNING):
        text = said(await ada.slash(s.channel, "club next"))
    assert text == f"Released **Part 1** in {s.channel.mention} (its link could not be saved)."
    assert [m.embeds[0].title for m in releases(s.channel)] == ["Breaking alone · Part 1"]
    warned = [r.getMessage() for r in caplog.records if r.name == "cogs._club_post"]
    assert len(warned) == 1 and "Part 1" in warned[0] and WORDS in warned[0], warned
    # the database failed (not busy): the host must act, so it is said at error
    assert [r.levelno for r in caplog.records if r.name == "cogs._club_post"] == [logging.ERROR]
    club = await s.library.clubs.club(s.channel.id)
    assert club.state == "active" and club.last_chapter == 1, club


async def test_a_release_whose_claim_the_database_refuses_is_one_line_at_error(
    monday_env: simcord.Env, club_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """/club next, and the database refuses the release's claim (a trigger: it failed, it is
    not busy): nothing is posted, and the log says it once at error, with no traceback, through
    bot.errors.log_failure. Before: a warning, as for a busy database."""
    env = monday_env
    s, ada = await start_monday_club(env)
    await refuse(club_settings, "clubs", "UPDATE")
    with caplog.at_level(logging.INFO):
        await ada.slash(s.channel, "club next")
    assert releases(s.channel) == []
    said = [r for r in caplog.records if r.name == "cogs._club_post"]
    assert [(r.levelno, r.exc_info) for r in said] == [(logging.ERROR, None)], said
    assert "the release failed" in said[0].getMessage() and WORDS in said[0].getMessage()


def loop_lines(caplog: pytest.LogCaptureFixture, words: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "cogs.club" and words in r.getMessage()]


async def test_the_loop_meeting_a_failing_database_says_so_at_error_in_one_line(
    monday_env: simcord.Env, club_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """The loop looks for news of a followed story that grew, and the database refuses the
    news's claim (a trigger: the database failed, it is not busy): one line at error naming
    the failure, no traceback. Before the fix: a warning, as for a busy database."""
    env = monday_env
    s, _ = await start_monday_club(env)
    story = await s.library.find_story("breaking-alone", mature_ok=False)
    assert await s.library.clubs.follow(s.alice.id, story, None)
    path = club_settings.stories_dir / story.file
    path.write_text(path.read_text(encoding="utf-8") + "\n\nPart 11\n\nMore.\n", encoding="utf-8")
    await refuse(club_settings, "story_watch", "UPDATE")
    with caplog.at_level(logging.INFO):
        await s.library.ingest()  # the loop looks for news within a second
        await env.advance_time(5)
    said_ = loop_lines(caplog, WORDS)
    assert said_, caplog.messages
    assert [(r.levelno, r.exc_info) for r in said_] == [(logging.ERROR, None)] * len(said_)
    assert "the loop looks again" in said_[0].getMessage()


async def test_a_vote_whose_close_the_database_refuses_is_one_line_at_error(
    monday_env: simcord.Env, club_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """A vote ended, and the database refuses to take it off the list (a trigger): one line at
    error, no traceback, and it is tried again a minute later. Before the fix: a traceback."""
    env = monday_env
    s, _ = await start_monday_club(env, starting="10")
    await env.advance_time(HOUR + MINUTE)
    await s.alice.slash(s.channel, "club vote", stories="soaked-in-sorry, breaking-alone", hours=1)
    await refuse(club_settings, "club_votes", "DELETE")
    with caplog.at_level(logging.INFO):
        await env.advance_time(HOUR + 2 * MINUTE)
    said_ = loop_lines(caplog, "closing failed")
    assert len(said_) >= 2, caplog.messages  # tried again
    assert [(r.levelno, r.exc_info) for r in said_] == [(logging.ERROR, None)] * len(said_)
    assert WORDS in said_[0].getMessage()
