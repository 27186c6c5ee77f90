"""/library reload | add | remove: the host's changes to the bot's story library.

The library is the bot's one stories folder, shared by every server the bot is in; these
commands need Manage Server (and, when LIBRARY_GUILD_IDS is set, one of those servers).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import StoryBotError
from bot.ingest_report import default_rated, describe_file
from bot.library_admin import AddResult
from bot.models import IngestReport, SceneIndexStatus, Story
from bot.runtime import StoryBot, tell
from cogs._admin import SERVER_ONLY, require_manage_guild
from cogs._choices import story_choices
from cogs._limits import DESCRIPTION_LIMIT, FIELD_LIMIT, TITLE_LIMIT
from cogs._render import fit, plain

if TYPE_CHECKING:
    from bot.library import Library
    from bot.settings import Settings

log = logging.getLogger(__name__)

# a summary in the story embed: a field, with room left for its escapes (each may double a
# character, and escape_markdown runs after the cut)
SUMMARY_CHARS = FIELD_LIMIT // 2
SHARED_LIBRARY = (
    "The story library is shared by every server this bot is in, and its host lets it be "
    "changed only from their own server."
)


REPORT_FILES = 10  # files read that /library reload describes one by one


def report_embed(report: IngestReport, title: str = "Library reloaded") -> discord.Embed:
    lines: list[str] = [] if report.touched else ["Nothing changed."]
    for label, files in (
        ("Added", report.added),
        ("Changed", report.changed),
        ("Removed", report.removed),
    ):
        if files:
            lines.append(f"**{label}** ({len(files)}): " + ", ".join(f"`{f}`" for f in files))
    for warning in report.warnings:  # library.toml's problems: ratings fail closed meanwhile
        lines.insert(0, f"⚠️ **Warning**: {warning}")
    for file, reason in report.skipped:
        lines.append(f"**Skipped** `{file}`: {reason}")
    for f in report.files[:REPORT_FILES]:  # what was made of each file read, shortened
        lines.append("• " + discord.utils.escape_markdown(fit(describe_file(f), 200)))
    if len(report.files) > REPORT_FILES:
        lines.append(f"… and {len(report.files) - REPORT_FILES} more (`storybot ingest` lists all)")
    for file, why in report.not_read:
        lines.append(f"**Not read** `{file}`: {why}")
    rated = default_rated(report)
    if rated:
        names = ", ".join(f"`{f.file}`" for f in rated[:REPORT_FILES])
        lines.insert(
            0, f"⚠️ Rated **{rated[0].rating}** by DEFAULT_RATING (nothing rates them): {names}"
        )
    lines.append(f"Unchanged: {len(report.unchanged)}")
    return discord.Embed(title=title, description=fit("\n".join(lines), DESCRIPTION_LIMIT))


def scene_index_line(status: SceneIndexStatus) -> str:
    """/library status: the scene index by meaning, in one line."""
    if status.model is None:
        return (
            f"{status.stories} stories. Scene search ranks by words alone "
            "(SCENE_MODEL=off, or the scene model cannot run on this machine)."
        )
    share = f"{status.embedded / status.passages:.0%}" if status.passages else "100%"
    state = "building in the background" if status.building else "idle"
    over = status.stories - status.stories_budgeted
    return (
        f"{status.stories} stories. Scene search by meaning: {status.embedded} of "
        f"{status.passages} passages have vectors ({share}, {state}); "
        f"{status.stories_ready} of {status.stories_budgeted} stories are ranked by meaning"
        + (f", {over} over SCENE_VECTORS_MB by words alone." if over else ".")
    )


def story_embed(story: Story, title: str) -> discord.Embed:
    """What an added story is: title, file, author, rating, size, and the fandom and summary
    its file (or library.toml) gives; its metadata is shown as written, never as markdown."""
    name = discord.utils.escape_markdown(fit(story.title, TITLE_LIMIT))
    embed = discord.Embed(title=title, description=f"**{name}** (`{story.file}`)")
    if story.url:
        embed.url = story.url
    if story.author:
        embed.add_field(name="Author", value=plain(story.author, TITLE_LIMIT))
    embed.add_field(name="Rating", value=story.rating)
    embed.add_field(name="Chapters", value=str(len(story.chapters)))
    embed.add_field(name="Words", value=f"{story.words:,}")
    if story.fandom:
        embed.add_field(
            name="Fandom", value=plain(", ".join(story.fandom), TITLE_LIMIT), inline=False
        )
    if story.summary:
        embed.add_field(name="Summary", value=plain(story.summary, SUMMARY_CHARS), inline=False)
    return embed


def _add_embed(result: AddResult) -> discord.Embed:
    if result.story is None:
        reason = next((r for f, r in result.report.skipped if f == result.file), "unknown")
        return discord.Embed(
            title="Not added", description=f"`{result.file}` was saved but skipped: {reason}"
        )
    if result.unchanged:
        title = "Already in the library (unchanged)"
    elif result.replaced:
        title = "Story replaced"
    else:
        title = "Story added"
    return story_embed(result.story, title)


class LibraryAdminCog(commands.Cog):
    library = app_commands.Group(
        name="library",
        description="Change the bot's story library (needs Manage Server).",
        guild_only=True,
        allowed_contexts=SERVER_ONLY,
        allowed_installs=app_commands.AppInstallationType(guild=True, user=False),
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, bot: commands.Bot, library: Library, settings: Settings) -> None:
        self.bot = bot
        self.settings = settings
        self.admin = library.admin
        self.door = library

    async def _allowed(self, interaction: discord.Interaction) -> bool:
        if not await require_manage_guild(interaction):
            return False
        allowed = self.settings.library_guild_ids
        if allowed is not None and interaction.guild_id not in allowed:
            await tell(interaction, SHARED_LIBRARY)
            return False
        return True

    @library.command(name="status")
    async def status(self, interaction: discord.Interaction) -> None:
        """How far scene search by meaning has come (vectors built in the background)."""
        if not await self._allowed(interaction):
            return
        status = await self.door.scene_index_status()
        await tell(interaction, scene_index_line(status))

    @library.command(name="reload")
    async def reload(self, interaction: discord.Interaction) -> None:
        """Rescan the stories folder: report what was added, changed, removed or skipped."""
        if not await self._allowed(interaction):
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        report = await self.admin.reload()
        log.info(
            "library reload in guild %s: added %d, changed %d, removed %d, skipped %d",
            interaction.guild_id,
            len(report.added),
            len(report.changed),
            len(report.removed),
            len(report.skipped),
        )
        await tell(interaction, embed=report_embed(report))

    @library.command(name="add")
    @app_commands.describe(
        file="A story file: .txt (UTF-8 or Windows-1252), .epub, or .html/.htm",
        replace="Replace a different story already saved under the same file name",
    )
    async def add(
        self, interaction: discord.Interaction, file: discord.Attachment, replace: bool = False
    ) -> None:
        """Add a story (.txt, .epub or .html) to the library."""
        if not await self._allowed(interaction):
            return
        self.admin.check_declared(file.filename, file.size)
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            data = await file.read()
        except discord.HTTPException as exc:
            log.warning("library add: cannot download %s: %s", file.filename, exc)
            raise StoryBotError("Discord did not hand over the file; try again.") from exc
        result = await self.admin.add(file.filename, data, replace=replace)
        log.info(
            "library add %s in guild %s by user %s",
            result.file,
            interaction.guild_id,
            interaction.user.id,
        )
        await tell(interaction, embed=_add_embed(result))

    @library.command(name="remove")
    @app_commands.autocomplete(story=story_choices)
    @app_commands.describe(story="The story to take out of the library")
    async def remove(self, interaction: discord.Interaction, story: str) -> None:
        """Take a story out of the library (its file moves to the removed/ folder)."""
        if not await self._allowed(interaction):
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await self.admin.remove(story)
        log.info(
            "library remove %s in guild %s by user %s",
            result.story.file,
            interaction.guild_id,
            interaction.user.id,
        )
        await tell(interaction, f"Removed **{result.story.title}**. {result.kept}")


async def setup(bot: commands.Bot) -> None:
    assert isinstance(bot, StoryBot)
    await bot.add_cog(LibraryAdminCog(bot, bot.library, bot.settings))
