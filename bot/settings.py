"""Settings, read once from the environment (and .env) into one frozen object."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from bot.errors import StoryBotError
from bot.models import RATINGS, Rating

# A bot token is three base64url parts separated by dots; this catches the usual paste mistakes
# (quotes, "Bot " prefix, a client secret) without claiming to validate it.
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{20,}$")
_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STORIES_DIR = _ROOT / "seeds"
DEFAULT_DATA_DIR = _ROOT / "data"
DEFAULT_MAX_UPLOAD = 5 * 1024 * 1024
DEFAULT_MAX_STORY_MB = 20
DEFAULT_SCENE_VECTORS_MB = 20
SCENE_MODELS = ("e5", "off")
# the rating of a story that neither its file nor library.toml rates: fail closed, so a
# story nobody rated is served only in age-restricted channels until the host rates it
DEFAULT_RATING: Rating = "explicit"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True, slots=True)
class Settings:
    token: str | None = None
    stories_dir: Path = DEFAULT_STORIES_DIR
    data_dir: Path = DEFAULT_DATA_DIR
    database_path: Path | None = None  # default: data_dir / "stories.db"
    # postgresql://...: the library in PostgreSQL (several hosts); None: SQLite at db_path
    database_url: str | None = None
    database_pool_size: int = 5  # connections each process keeps to PostgreSQL, at most
    dev_guild_id: int | None = None
    log_level: str = "INFO"
    shard_count: int | None = None
    shard_ids: tuple[int, ...] | None = None
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD
    # story files above this are skipped by name at ingest (MAX_STORY_MB)
    max_story_bytes: int = DEFAULT_MAX_STORY_MB * 1024 * 1024
    read_only: bool = False  # a scaled-out shard process serving a copy of the library
    daily_check_seconds: float = 30.0  # how often the daily-excerpt loop looks for due posts
    # servers whose admins may change the (bot-wide) library; None: any server's admins
    library_guild_ids: tuple[int, ...] | None = None
    # scene search by meaning (bot/search/vectors.py): the model ("e5" or "off"), the largest
    # library, in MB of story text, whose stories get vectors, and the share of one core
    # (percent) that building them in the background may use
    scene_model: str = "e5"
    scene_vectors_mb: int = DEFAULT_SCENE_VECTORS_MB
    scene_index_cpu: int = 100
    default_rating: Rating = DEFAULT_RATING  # for stories nothing rates (DEFAULT_RATING)

    @property
    def db_path(self) -> Path:
        return self.database_path or self.data_dir / "stories.db"

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})  # type: ignore[arg-type]

    def token_problem(self) -> str | None:
        """Why the token cannot be used, or None when it looks like a bot token."""
        if not self.token:
            return "DISCORD_TOKEN is not set"
        if not _TOKEN_SHAPE.match(self.token):
            return "DISCORD_TOKEN does not look like a bot token (three dot-separated parts)"
        return None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        read = _Reader(os.environ if env is None else env)
        ids = read.numbers("SHARD_IDS", "numbers")
        upload = read.integer("MAX_UPLOAD_BYTES")
        daily_check = read.integer("DAILY_CHECK_SECONDS")
        max_story_mb = read.at_least("MAX_STORY_MB", 1)
        library_guild_ids = read.numbers("LIBRARY_GUILD_IDS", "server ids")
        shard_count = read.integer("SHARD_COUNT")
        vectors_mb = read.at_least("SCENE_VECTORS_MB", 0)
        index_cpu = read.integer("SCENE_INDEX_CPU")
        if index_cpu is not None and not 1 <= index_cpu <= 100:
            raise StoryBotError(f"SCENE_INDEX_CPU must be a percentage, 1 to 100, not {index_cpu}")
        default_rating = read.rating("DEFAULT_RATING")
        if ids is not None and (shard_count is None or any(not 0 <= i < shard_count for i in ids)):
            raise StoryBotError("SHARD_IDS needs SHARD_COUNT, and each id below it")
        return cls(
            token=read.get("DISCORD_TOKEN"),
            stories_dir=read.path("STORIES_DIR") or DEFAULT_STORIES_DIR,
            data_dir=read.path("DATA_DIR") or DEFAULT_DATA_DIR,
            database_path=read.path("DATABASE_PATH"),
            database_url=_database_url(read.get("DATABASE_URL")),
            database_pool_size=_pool_size(read.integer("DATABASE_POOL_SIZE")),
            dev_guild_id=read.integer("DEV_GUILD_ID"),
            log_level=read.choice("LOG_LEVEL", "INFO", LOG_LEVELS),
            shard_count=shard_count,
            shard_ids=ids,
            max_upload_bytes=upload if upload is not None else DEFAULT_MAX_UPLOAD,
            max_story_bytes=(max_story_mb or DEFAULT_MAX_STORY_MB) * 1024 * 1024,
            read_only=read.flag("READ_ONLY"),
            daily_check_seconds=float(daily_check) if daily_check and daily_check > 0 else 30.0,
            library_guild_ids=library_guild_ids,
            scene_model=read.choice(
                "SCENE_MODEL", "e5", tuple(m.upper() for m in SCENE_MODELS)
            ).lower(),
            scene_vectors_mb=DEFAULT_SCENE_VECTORS_MB if vectors_mb is None else vectors_mb,
            scene_index_cpu=100 if index_cpu is None else index_cpu,
            default_rating=default_rating,
        )


class _Reader:
    """The environment's settings, read one at a time: a bad value is a one-line StoryBotError
    that names the setting."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env

    def get(self, name: str) -> str | None:
        value = self.env.get(name, "").strip()
        return value or None

    def path(self, name: str) -> Path | None:
        value = self.get(name)
        return Path(value).expanduser() if value else None

    def integer(self, name: str) -> int | None:
        value = self.get(name)
        if value is None:
            return None
        try:
            return int(value)
        except ValueError:
            raise StoryBotError(f"{name} must be a whole number, not {value!r}") from None

    def at_least(self, name: str, low: int) -> int | None:
        value = self.integer(name)
        if value is not None and value < low:
            raise StoryBotError(f"{name} must be {low} or more, not {value}")
        return value

    def numbers(self, name: str, what: str) -> tuple[int, ...] | None:
        """A comma-separated list of whole numbers, or None when unset."""
        value = self.get(name)
        try:
            return tuple(int(s) for s in value.split(",") if s.strip()) if value else None
        except ValueError:
            raise StoryBotError(f"{name} must be {what} separated by commas: {value!r}") from None

    def choice(self, name: str, default: str, allowed: tuple[str, ...]) -> str:
        value = (self.get(name) or default).upper()
        if value not in allowed:
            raise StoryBotError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
        return value

    def flag(self, name: str) -> bool:
        value = (self.get(name) or "0").lower()
        if value not in _TRUE | _FALSE:
            raise StoryBotError(f"{name} must be 1 or 0 (true/false, yes/no), not {value!r}")
        return value in _TRUE

    def rating(self, name: str) -> Rating:
        value = (self.get(name) or DEFAULT_RATING).lower()
        for rating in RATINGS:
            if rating == value:
                return rating
        raise StoryBotError(f"{name} must be one of {', '.join(RATINGS)}, not {value!r}")


def _database_url(url: str | None) -> str | None:
    if url is not None and not url.startswith(("postgresql://", "postgres://")):
        raise StoryBotError("DATABASE_URL must start with postgresql:// (or leave it unset)")
    return url


def _pool_size(pool_size: int | None) -> int:
    if pool_size is not None and pool_size < 1:
        raise StoryBotError(f"DATABASE_POOL_SIZE must be 1 or more, not {pool_size}")
    return pool_size or 5


@dataclass(frozen=True, slots=True)
class SettingHelp:
    """One environment setting as the README and .env.example describe it (bot/settings_doc.py)."""

    name: str  # the environment variable
    field: str  # the Settings attribute it sets
    default: str  # what an empty value means, in words
    help: str  # one or two sentences for a host
    example: str  # a valid value that differs from the default (the test sets it)
    hosting: bool = False  # listed under "running it for real servers"


# The one list of settings: the README's Configuration table and .env.example are generated
# from it (`make settings-docs`), and tests/test_settings_doc.py checks all three agree.
SETTINGS_HELP: tuple[SettingHelp, ...] = (
    SettingHelp(
        "DISCORD_TOKEN",
        "token",
        "none: the bot explains how to get one and exits",
        "The bot token from https://discord.com/developers/applications (Bot -> Reset Token).",
        "MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789AB",
    ),
    SettingHelp(
        "DEV_GUILD_ID",
        "dev_guild_id",
        "none: commands sync globally",
        "A server (guild) id to sync slash commands to instantly while you try things.",
        "123456789012345678",
    ),
    SettingHelp(
        "STORIES_DIR",
        "stories_dir",
        "./seeds",
        "Where the stories are (.txt, .epub, .html, .htm files, plus an optional "
        "library.toml). `~` means your home folder.",
        "~/stories",
    ),
    SettingHelp(
        "DATA_DIR",
        "data_dir",
        "./data",
        "Where the database lives: DATA_DIR/stories.db. `~` means your home folder.",
        "/var/lib/storybot",
    ),
    SettingHelp(
        "DATABASE_PATH",
        "database_path",
        "DATA_DIR/stories.db",
        "The database file itself, instead of DATA_DIR/stories.db.",
        "/var/lib/storybot/library.db",
    ),
    SettingHelp(
        "DATABASE_URL",
        "database_url",
        "none: SQLite at DATABASE_PATH",
        "postgresql://user:password@host/db: keep the library in PostgreSQL, shared by bots "
        "on several hosts (see Several hosts). `storybot migrate --to URL --stories DIR` copies "
        "a SQLite library there.",
        "postgresql://storybot@db.example/storybot",
        hosting=True,
    ),
    SettingHelp(
        "DATABASE_POOL_SIZE",
        "database_pool_size",
        "5",
        "With DATABASE_URL: connections each process keeps, at most. Keep processes x pool "
        "below the server's max_connections (100 by default).",
        "10",
        hosting=True,
    ),
    SettingHelp(
        "LOG_LEVEL",
        "log_level",
        "INFO",
        "DEBUG, INFO, WARNING or ERROR (anything else is refused).",
        "DEBUG",
    ),
    SettingHelp(
        "MAX_STORY_MB",
        "max_story_bytes",
        "20",
        "Story files larger than this many MB are skipped by name at ingest (parsing one "
        "takes about 14 times its size in memory: 20 MB fits a 512 MB VPS).",
        "50",
    ),
    SettingHelp(
        "DEFAULT_RATING",
        "default_rating",
        "explicit",
        "The rating of a story that neither its file nor library.toml rates: general, teen, "
        "mature or explicit. Mature and explicit stories are served only in age-restricted "
        "channels; `ingest` names every story this rates.",
        "teen",
    ),
    SettingHelp(
        "MAX_UPLOAD_BYTES",
        "max_upload_bytes",
        "5242880 (5 MB)",
        "The largest story file `/library add` accepts, in bytes.",
        "1000000",
        hosting=True,
    ),
    SettingHelp(
        "LIBRARY_GUILD_IDS",
        "library_guild_ids",
        "none: the admins (Manage Server) of any server may",
        "Only these servers (ids, comma-separated) may change the library, which every "
        "server the bot is in shares.",
        "123456789012345678",
        hosting=True,
    ),
    SettingHelp(
        "DAILY_CHECK_SECONDS",
        "daily_check_seconds",
        "30",
        "How often, in seconds, the daily-excerpt loop looks for posts that are due.",
        "60",
        hosting=True,
    ),
    SettingHelp(
        "SHARD_COUNT",
        "shard_count",
        "none: not sharded",
        "Sharding, for bots in thousands of servers: the total number of shards.",
        "4",
        hosting=True,
    ),
    SettingHelp(
        "SHARD_IDS",
        "shard_ids",
        "none: every shard",
        "The shards this process serves (needs SHARD_COUNT), e.g. 0,1 here and 2,3 in "
        "another process.",
        "0,1",
        hosting=True,
    ),
    SettingHelp(
        "READ_ONLY",
        "read_only",
        "0",
        "1: serve a copy of the database without ingesting or writing (extra processes). "
        "1/0, true/false, yes/no; anything else is refused.",
        "1",
        hosting=True,
    ),
    SettingHelp(
        "SCENE_MODEL",
        "scene_model",
        "e5",
        "/scene ranks passages by meaning as well as by words, with a small model that "
        "comes with the bot (multilingual-e5-small, x86-64 Linux); off: by words alone.",
        "off",
        hosting=True,
    ),
    SettingHelp(
        "SCENE_VECTORS_MB",
        "scene_vectors_mb",
        "20",
        "The stories (in the order filed) that get scene vectors, in MB of story text: "
        "about 20 minutes of one core per MB, in the background. The rest are searched "
        "by words alone. 0: none.",
        "5",
        hosting=True,
    ),
    SettingHelp(
        "SCENE_INDEX_CPU",
        "scene_index_cpu",
        "100",
        "The share of one core, in percent, that building scene vectors may use.",
        "50",
        hosting=True,
    ),
)
