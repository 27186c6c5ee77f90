"""Finding the story files: which files of the stories folder are stories, which are not
followed (a link out of the folder) or too big, and what a file's bytes are known by."""

from __future__ import annotations

import hashlib
from pathlib import Path

from bot.errors import StoryBotError
from bot.text import STORY_SUFFIXES

REMOVED_DIR = "removed"  # where /library remove moves a story file (never read)
STORY_SUFFIX = ".txt"  # what /library add saves an upload with no story suffix as

# Story files above this size are skipped by name (MAX_STORY_MB): parsing takes several
# times a file's size in memory, and one huge file must not take the whole ingest down.
DEFAULT_MAX_STORY_BYTES = 20 * 1024 * 1024


def shown(folder: Path) -> Path:
    """The folder as a message names it: resolved, so `~/x` or `../x` says where it looked."""
    return folder.expanduser().resolve()


def story_files(folder: Path) -> list[Path]:
    """The story files of a folder: visible .txt, .epub, .html and .htm files, sorted by name.

    A missing or unreadable folder is a StoryBotError (a configuration error: a typo in
    STORIES_DIR, an unmounted disk), never an empty library.
    """
    try:
        entries = list(folder.iterdir())
    except FileNotFoundError:
        raise StoryBotError(f"the stories folder {shown(folder)} does not exist") from None
    except NotADirectoryError:
        raise StoryBotError(f"the stories folder {shown(folder)} is not a folder") from None
    except OSError as exc:
        raise StoryBotError(
            f"cannot read the stories folder {shown(folder)}: {exc.strerror or exc}"
        ) from None
    return sorted(
        p
        for p in entries
        if p.suffix.lower() in STORY_SUFFIXES and not p.name.startswith(".") and p.is_file()
    )


def outside(path: Path, folder: Path) -> bool:
    """Whether a story path is a symlink leading out of the stories folder (not followed)."""
    if not path.is_symlink():
        return False
    return not path.resolve().is_relative_to(folder.resolve())


def too_big(size: int, limit: int) -> str:
    """ "too big: 80 KB, the limit is 64 KB", in bytes when the rounded sizes read alike."""
    shown, allowed = _size(size), _size(limit)
    if shown == allowed:  # "5.0 MB, the limit is 5.0 MB" says nothing: say the bytes
        shown, allowed = f"{size:,} bytes", f"{limit:,} bytes"
    return f"too big: {shown}, the limit is {allowed}"


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} bytes"


def content_hash(data: bytes) -> str:
    """What a story file's bytes are known by (its stored ``hash``)."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()
