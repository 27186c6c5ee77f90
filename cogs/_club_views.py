"""What a club posts (a release, the status board, a vote's result, a story's new chapters) and
its buttons: Read chapter, I've read it, and Start the club on the winner.

Every button keeps its state in its custom_id (discord.ui.DynamicItem), so a release keeps
working after a restart, as the reader's buttons do.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import discord

from bot.clubs import BoardLine, ClubStatus, Release, describe_schedule
from bot.models import Club, Story
from bot.runtime import tell
from cogs._context import Interaction, library_of, mature_ok, report
from cogs._limits import DESCRIPTION_LIMIT, FIELD_LIMIT, TITLE_LIMIT
from cogs._render import COLOUR, escape, fit
from cogs._views import open_reader

BOARD_LINES = 20  # members shown on the board; the rest are counted
MEDALS = ("🥇", "🥈", "🥉")


def stamp(when: datetime, style: str = "F") -> str:
    """A Discord timestamp: each reader sees it in their own time zone."""
    return f"<t:{int(when.timestamp())}:{style}>"


# ---- a release ----------------------------------------------------------------------------------


def release_embed(release: Release) -> discord.Embed:
    story, chapter = release.story, release.chapter
    embed = discord.Embed(
        title=fit(f"{story.title} · {chapter.label}", TITLE_LIMIT),
        description=fit(escape(release.opening), DESCRIPTION_LIMIT - 200),
        colour=COLOUR,
    )
    embed.set_author(name=f"Reading club · chapter {release.number} of {release.total}")
    if release.next_at is not None:
        upcoming = f"{stamp(release.next_at)} ({stamp(release.next_at, 'R')})"
        embed.add_field(name="Next chapter", value=upcoming, inline=False)
    else:
        embed.add_field(
            name="The last chapter",
            value="The club finishes the story with this one: pick the next with /club vote.",
            inline=False,
        )
    embed.set_footer(text="Read chapter opens it just for you · I've read it puts you on the board")
    return embed


def release_view(release: Release, thread: str | None = None) -> discord.ui.View:
    """Read chapter and I've read it; and, once the thread is open, a link to it (``thread``:
    its URL)."""
    view = discord.ui.View(timeout=None)
    club, chapter = release.club, release.chapter
    view.add_item(ClubButton("read", club.channel_id, chapter.story.id, chapter.number))
    view.add_item(ClubButton("done", club.channel_id, chapter.story.id, chapter.number))
    if thread is not None:
        view.add_item(discord.ui.Button(label="Talk about it", emoji="💬", url=thread))
    return view


CLUB_TEMPLATE = r"sb:cl:(?P<action>read|done):(?P<channel>\d+):(?P<story>\d+):(?P<chapter>-?\d+)"


class ClubButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=CLUB_TEMPLATE):
    """A release's buttons, for whoever clicks: Read chapter opens the chapter privately (and
    records their place, as /chapter does); I've read it marks it read. Either puts the
    clicker on the club's board."""

    def __init__(self, action: str, channel: int, story: int, chapter: int) -> None:
        read = action == "read"
        super().__init__(
            discord.ui.Button(
                label="Read chapter" if read else "I've read it",
                emoji="📖" if read else "✅",
                style=discord.ButtonStyle.primary if read else discord.ButtonStyle.success,
                custom_id=f"sb:cl:{action}:{channel}:{story}:{chapter}",
            )
        )
        self.action, self.channel, self.story, self.chapter = action, channel, story, chapter

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ClubButton:
        numbers = int(match["channel"]), int(match["story"]), int(match["chapter"])
        return cls(match["action"], *numbers)

    async def callback(self, interaction: Interaction) -> None:
        try:
            library = library_of(interaction)
            chapter = await library.chapter(
                self.story, self.chapter, mature_ok=mature_ok(interaction)
            )
            joined = await self._join(interaction)
            if self.action == "read":
                first = chapter.paragraphs[0].position if chapter.paragraphs else 0
                await open_reader(interaction, self.story, self.chapter, first)
                return
            if chapter.paragraphs:
                await library.record_place(
                    interaction.user.id, chapter.story, chapter.paragraphs[-1].position
                )
            where = escape(f"{chapter.story.title} · {chapter.label}")
            board = " You are on the club's board now (/club status)." if joined else ""
            await tell(interaction, f"Marked **{where}** as read.{board}")
        except Exception as exc:
            await report(interaction, exc, f"club {self.action}")

    async def _join(self, interaction: Interaction) -> bool:
        """Put the clicker on the board of the club this release belongs to (if it still
        reads this story; /club leave takes them off again)."""
        clubs = library_of(interaction).clubs
        club = await clubs.find(self.channel)
        if club is None or club.story_id != self.story:
            return False
        return await clubs.join(self.channel, interaction.user.id)


# ---- /club status -------------------------------------------------------------------------------


def board_text(lines: tuple[BoardLine, ...]) -> str:
    if not lines:
        return "Nobody yet: /club join, or press *I've read it* under a chapter."
    shown: list[str] = []
    for n, line in enumerate(lines[:BOARD_LINES]):
        mark = MEDALS[n] if n < len(MEDALS) and line.chapter is not None else f"{n + 1}."
        where = escape(line.label) if line.label else "not started"
        behind = " · *catching up*" if line.behind else ""
        shown.append(f"{mark} <@{line.user_id}> — {where}{behind}")
    if len(lines) > BOARD_LINES:
        shown.append(f"…and {len(lines) - BOARD_LINES} more")
    return fit("\n".join(shown), FIELD_LIMIT)


def status_embed(status: ClubStatus) -> discord.Embed:
    club, story = status.club, status.story
    embed = discord.Embed(title=fit(f"Reading club: {story.title}", TITLE_LIMIT), colour=COLOUR)
    embed.add_field(name="Schedule", value=describe_schedule(club), inline=False)
    embed.add_field(
        name="Released", value=f"{status.released} of {status.total} chapters", inline=True
    )
    embed.add_field(name="Next release", value=_next_text(status), inline=True)
    embed.add_field(name="Progress", value=board_text(status.board), inline=False)
    if club.blocked:
        embed.set_footer(text=f"Waiting: the bot needs {club.blocked} in this channel.")
    return embed


def _next_text(status: ClubStatus) -> str:
    club = status.club
    if club.state == "finished" or status.next_label is None:
        return "Finished: pick the next story with /club vote"
    if club.state == "paused":
        return f"Paused before {escape(status.next_label)} (/club resume)"
    assert club.next_due is not None
    return f"{escape(status.next_label)}, {stamp(club.next_due)} ({stamp(club.next_due, 'R')})"


# ---- the vote -----------------------------------------------------------------------------------


def result_text(winner: Story | None, votes: int, tie: bool, titles: list[str]) -> str:
    if winner is None:
        return "🗳️ The vote for the next story has closed with no votes."
    choice = f"**{escape(winner.title)}** with {votes} vote{'s' if votes != 1 else ''}"
    if tie:
        return f"🗳️ The vote has closed in a tie: {choice} was listed first, so it wins."
    return f"🗳️ The vote has closed: {choice}. A manager can start the club on it below."


# ---- new chapters -------------------------------------------------------------------------------


def growth_text(story: Story, labels: list[str], *, club: Club | None = None) -> str:
    names = ", ".join(escape(label) for label in labels[:10])
    more = f" and {len(labels) - 10} more" if len(labels) > 10 else ""
    count = f"{len(labels)} new chapter{'s' if len(labels) != 1 else ''}"
    text = f"✨ **{escape(story.title)}** has {count}: {names}{more}."
    if club is not None and club.state == "finished":
        text += " The club can read on: /club resume."
    return text
