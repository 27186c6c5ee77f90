"""The Discord side of the bot: build it, start it, stop it, and answer its errors.

Only this module and bot/__main__.py in bot/ import discord. Features live in cogs/, one
extension per module, discovered by walking the package (modules starting with ``_`` are
helpers). Everything a cog needs from the core it reaches through ``bot.library``, the one
door (bot/library.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import math
import pkgutil
import signal
import sys
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import StoryBotError, log_failure
from bot.ingest_report import report_lines
from bot.library import Library
from bot.models import IngestReport
from bot.settings import Settings
from bot.terminal import terminal_progress

log = logging.getLogger(__name__)

EXTENSIONS_PACKAGE = "cogs"
CLOSE_GRACE = 10.0
PLAIN_LOG_FORMAT = "[{asctime}] [{levelname:<8}] {name}: {message}"
GENERIC_FAILURE = "Something went wrong on our side; it has been logged."
# the startup log lists this many files read, then counts the rest (a first start reads all)
REPORT_LOG_FILES = 200


def discover_extensions(package: str = EXTENSIONS_PACKAGE) -> list[str]:
    """Every extension module in ``package``; modules starting with ``_`` are helpers."""
    module = importlib.import_module(package)
    return sorted(
        f"{package}.{info.name}"
        for info in pkgutil.iter_modules(module.__path__)
        if not info.name.startswith("_") and not info.ispkg
    )


def bot_intents() -> discord.Intents:
    """The default intents with every privileged one off: the bot reads no messages."""
    intents = discord.Intents.default()
    intents.message_content = False
    intents.members = False
    intents.presences = False
    return intents


# What reaching Discord fails with: discord.py's own errors, and those of its transport that
# it lets through (aiohttp's: a connection dropped mid-request, ServerDisconnectedError, a
# payload cut short; the socket's OSError). Named here, where discord is, so that a cog
# needs no import of discord.py's transport.
DISCORD_FAILURES = (discord.DiscordException, aiohttp.ClientError, OSError)


def log_discord_failure(logger: logging.Logger, what: str, exc: BaseException) -> None:
    """``log_failure`` for work that reaches Discord outside an interaction (a loop): Discord's
    or the network's failure in one line at error, with its kind; the rest as log_failure
    says (the store's errors in one line, a fault of ours with its traceback)."""
    if isinstance(exc, DISCORD_FAILURES):
        logger.error("%s (%s: %s)", what, type(exc).__name__, exc)
    else:
        log_failure(logger, what, exc)


class ComponentError(app_commands.AppCommandError):
    """An error raised by a button, select or modal, routed to the tree's one error handler."""

    def __init__(self, original: BaseException, where: str) -> None:
        super().__init__(f"{where}: {original!r}")
        self.original = original
        self.where = where


class StoryTree(app_commands.CommandTree["StoryBot"]):
    """The command tree; its ``on_error`` is the one place interaction errors end up."""

    async def on_error(
        self, interaction: discord.Interaction[StoryBot], error: app_commands.AppCommandError, /
    ) -> None:
        message, unexpected = _explain(error)
        cause = _unwrap(error)
        context = _context(interaction, error)
        if unexpected:
            log.error("interaction failed: %s", context, exc_info=cause)
        else:  # a host's own message (one naming the database) is worth a warning
            for_host = isinstance(cause, StoryBotError) and cause.public != cause.message
            log.log(
                logging.WARNING if for_host else logging.INFO, "refused: %s: %s", context, cause
            )
        await tell(interaction, message)


def _unwrap(error: BaseException) -> BaseException:
    if isinstance(error, ComponentError):
        error = error.original
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    return error


def _explain(error: app_commands.AppCommandError) -> tuple[str, bool]:
    """What to tell the user, and whether this is our fault (logged with a traceback)."""
    cause = _unwrap(error)
    if isinstance(cause, app_commands.CommandOnCooldown):
        return f"Slow down a little: try again in {max(1, math.ceil(cause.retry_after))}s.", False
    if isinstance(cause, StoryBotError):
        return cause.public, False
    if isinstance(cause, app_commands.NoPrivateMessage):
        return "That works only in a server.", False
    if isinstance(cause, app_commands.TransformerError):
        return "That option value is not one I understand.", False
    if isinstance(cause, app_commands.CheckFailure):
        return "You can't use that here.", False
    return GENERIC_FAILURE, True


def _context(interaction: discord.Interaction[Any], error: app_commands.AppCommandError) -> str:
    if isinstance(error, ComponentError):
        what = error.where
    elif interaction.command is not None:
        what = f"/{interaction.command.qualified_name}"
    else:
        what = str((interaction.data or {}).get("custom_id", interaction.type.name))
    return (
        f"{what} user={interaction.user.id} guild={interaction.guild_id} "
        f"channel={interaction.channel_id} error={type(_unwrap(error)).__name__}"
    )


async def tell(
    interaction: discord.Interaction[Any],
    content: str | None = None,
    *,
    embed: discord.Embed | None = None,
) -> None:
    """Answer the user alone (ephemeral), whether or not the interaction was answered or
    deferred: the one private-reply helper of every cog and of the error handler."""
    kwargs: dict[str, Any] = {"ephemeral": True, "allowed_mentions": discord.AllowedMentions.none()}
    if content is not None:
        kwargs["content"] = content
    if embed is not None:
        kwargs["embed"] = embed
    try:
        if interaction.response.is_done():
            await interaction.followup.send(**kwargs)
        else:
            await interaction.response.send_message(**kwargs)
    except discord.HTTPException as exc:
        log.warning("could not answer user=%s: %s", interaction.user.id, exc.text or exc)


class StoryBot(commands.Bot):
    """The story bot: settings in, a library opened in setup_hook, cogs from cogs/."""

    def __init__(self, settings: Settings, **options: Any) -> None:
        # the bot never joins voice: no warnings about voice libraries it does not need
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=bot_intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=StoryTree,
            # user-installable too, so a reader can read in DMs; admin commands say guild only
            allowed_installs=app_commands.AppInstallationType(guild=True, user=True),
            allowed_contexts=app_commands.AppCommandContext(
                guild=True, dm_channel=True, private_channel=True
            ),
            **options,
        )
        self.settings = settings
        self._library: Library | None = None
        self._warming: asyncio.Task[None] | None = None
        self._ingesting: asyncio.Task[IngestReport] | None = None

    @property
    def library(self) -> Library:
        if self._library is None:
            raise StoryBotError("The library is not open yet; try again in a moment.", usage=False)
        return self._library

    async def open_library(self) -> Library:
        if self._library is None:
            self._library = await Library.open(self.settings, check=True)
        return self._library

    async def setup_hook(self) -> None:
        library = await self.open_library()
        if self.settings.read_only:
            log.info("read-only: serving %s without ingesting", self.settings.db_path)
        else:
            # a task, so that close() (SIGTERM during startup) can cancel and join it
            ingesting = library.ingest(on_progress=terminal_progress(sys.stderr))
            self._ingesting = asyncio.create_task(ingesting, name="storybot-ingest")
            report = await self._ingesting
            log.info(
                "library: %d added, %d changed, %d removed, %d unchanged, %d skipped",
                len(report.added),
                len(report.changed),
                len(report.removed),
                len(report.unchanged),
                len(report.skipped),
            )
            # each file read or not read, once (skipped files and warnings ingest has logged)
            lines = report_lines(report, limit=REPORT_LOG_FILES, skips=False, warnings=False)
            for line in lines:
                log.info("library: %s", line.strip())
        # search's in-memory word list loads in the background: the first /quote needn't wait
        self._warming = asyncio.create_task(library.warm(), name="storybot-warm-search")
        # scene search by meaning: passages are embedded in the background (bot/search/vectors.py)
        await library.start_scene_index()
        for extension in discover_extensions():
            await self.load_extension(extension)
        await self.sync_commands()

    async def sync_commands(self) -> None:
        guild_id = self.settings.dev_guild_id
        if guild_id is not None:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to development guild %d", len(synced), guild_id)
        else:
            synced = await self.tree.sync()
            log.info("synced %d global commands", len(synced))

    async def on_ready(self) -> None:
        user = self.user
        log.info("ready as %s (%s) in %d guilds", user, user.id if user else "?", len(self.guilds))

    async def close(self) -> None:
        if self._warming is not None:
            self._warming.cancel()
        ingesting = self._ingesting
        if ingesting is not None and not ingesting.done():
            log.info("stopping the library ingest")
            ingesting.cancel()
            # joined before the connection closes: its batch in flight commits or rolls back
            await asyncio.wait([ingesting])
        try:
            await super().close()
        finally:
            library, self._library = self._library, None
            if library is not None:
                await library.close()
                log.info("library closed")


class ShardedStoryBot(StoryBot, commands.AutoShardedBot):
    """The same bot over several gateway shards (SHARD_COUNT / SHARD_IDS)."""


def build_bot(settings: Settings | None = None) -> StoryBot:
    """The ready-to-start bot; with no settings, they are read from the environment."""
    settings = settings or Settings.from_env()
    if settings.shard_count is not None:
        ids = list(settings.shard_ids) if settings.shard_ids is not None else None
        return ShardedStoryBot(settings, shard_count=settings.shard_count, shard_ids=ids)
    return StoryBot(settings)


def _setup_logging(level: str) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):  # one handler, discord.py's, not two of everything
        root.removeHandler(handler)
    # discord.py colours its lines in Docker even when they go to a file or a log collector:
    # colour only a terminal
    chosen = getattr(logging, level, logging.INFO)
    if sys.stderr.isatty():
        discord.utils.setup_logging(level=chosen, root=True)
    else:
        plain = logging.Formatter(PLAIN_LOG_FORMAT, style="{")
        discord.utils.setup_logging(level=chosen, root=True, formatter=plain)


async def _serve(bot: StoryBot, token: str) -> None:
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()

    def on_signal(signum: int) -> None:
        log.info("%s received: closing", signal.Signals(signum).name)
        stopping.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        # not possible off the main thread or on a non-POSIX loop: Ctrl-C still stops the bot
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, on_signal, signum)
    try:
        async with bot:
            runner = asyncio.create_task(bot.start(token), name="storybot")
            stopper = asyncio.create_task(stopping.wait(), name="storybot-stop")
            done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if runner not in done:
                await bot.close()
                # start() returns once the gateway is closed; don't wait forever for it. It
                # ends cancelled when the stop came during the startup ingest: a clean stop.
                await asyncio.wait({runner}, timeout=CLOSE_GRACE)
                if not runner.done():
                    log.warning("the gateway did not close within %ss", CLOSE_GRACE)
                    runner.cancel()
                elif not runner.cancelled():
                    runner.result()
            else:
                runner.result()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signum)


def run(settings: Settings) -> None:
    """Start the bot and serve until SIGTERM/SIGINT; failures become one-line StoryBotErrors."""
    _setup_logging(settings.log_level)
    if settings.token is None:
        raise StoryBotError("DISCORD_TOKEN is not set", usage=False)
    bot = build_bot(settings)
    try:
        asyncio.run(_serve(bot, settings.token))
    except discord.LoginFailure:
        raise StoryBotError(
            "Discord refused the token (DISCORD_TOKEN): reset it in the developer portal "
            "and set the new one",
            usage=True,  # exit 2: a configuration error, which systemd must not retry
        ) from None
    except discord.PrivilegedIntentsRequired:
        raise StoryBotError(
            "Discord refused a privileged intent the bot asked for", usage=True
        ) from None
    except (OSError, discord.GatewayNotFound) as exc:
        raise StoryBotError(f"could not reach Discord: {exc}", usage=False) from None
