"""library.toml: each story's metadata, read failing closed, and the rule that a story's
rating is never lowered but by library.toml saying so."""

from __future__ import annotations

import dataclasses
import logging
import re
import tomllib
from pathlib import Path
from typing import Any

from bot.ingest.folder import REMOVED_DIR
from bot.models import RATINGS, Rating, StoryMeta
from bot.store import StoryWrite

log = logging.getLogger(__name__)

METADATA_FILE = "library.toml"
IN_DOUBT = "doubt:"  # marks the stored meta hash of a story rated explicit for want of metadata


def load_metadata(folder: Path) -> tuple[dict[str, StoryMeta] | None, list[str]]:
    """Read library.toml: (metadata by file name, warnings naming file and line). Never raises.

    Fails closed. Ratings are case-insensitive; an entry with an unknown key or rating
    value is rated explicit (it may be a misspelt ``rating``) until it is fixed. When the
    file exists but cannot be read or parsed, the metadata is None: ingest then keeps
    stored stories as they are and treats new ones as explicit (see ``ingest``).
    """
    path = folder / METADATA_FILE
    try:
        if not path.exists():
            return {}, []
        source = path.read_text(encoding="utf-8")
        data = tomllib.loads(source)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        reason = exc.strerror or exc if isinstance(exc, OSError) else exc
        return None, [
            f"{path} cannot be read ({reason}): stories already in the library keep their "
            "metadata and new ones are treated as explicit until it is fixed"
        ]
    lines = _toml_lines(source)
    metas: dict[str, StoryMeta] = {}
    problems: list[str] = []
    for name, fields in data.items():
        if not isinstance(fields, dict):
            where = f"{path} line {lines.get((name,), '?')}"
            problems.append(f"{where}: [{name}] is not a table; rated explicit until fixed")
            metas[name] = StoryMeta(rating="explicit")
            continue
        metas[name] = _story_meta(name, fields, path, lines, problems)
    return metas, problems


_META_KEYS = frozenset(f.name for f in dataclasses.fields(StoryMeta))


def _story_meta(
    name: str,
    fields: dict[str, Any],
    path: Path,
    lines: dict[tuple[str, ...], int],
    problems: list[str],
) -> StoryMeta:
    """One story's entry of library.toml; what is wrong in it is added to ``problems``."""
    doubtful = False
    for key in sorted(set(fields) - _META_KEYS):
        problems.append(
            f"{path} line {lines.get((name, key), '?')}: [{name}] unknown key {key!r}"
            f" (known: {', '.join(sorted(_META_KEYS))})"
        )
        doubtful = True
    rating = fields.get("rating")
    if rating is not None:
        folded = rating.strip().lower() if isinstance(rating, str) else None
        if folded in RATINGS:
            rating = folded
        else:
            problems.append(
                f"{path} line {lines.get((name, 'rating'), '?')}: [{name}] rating"
                f" {rating!r} is not one of {', '.join(RATINGS)}"
            )
            rating, doubtful = None, True
    if doubtful and rating is None:
        problems.append(
            f"{path} line {lines.get((name,), '?')}: [{name}] rated explicit until fixed"
        )
        rating = "explicit"

    def text(key: str) -> str | None:
        value = fields.get(key)
        return value.strip() or None if isinstance(value, str) else None

    def names(key: str) -> tuple[str, ...]:
        value = fields.get(key)
        items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        return tuple(v.strip() for v in items if isinstance(v, str) and v.strip())

    return StoryMeta(
        text("title"), text("author"), rating, text("url"),
        names("fandom"), names("relationships"), names("characters"), names("tags"),
        text("summary"), text("language"),
    )  # fmt: skip


_TABLE = re.compile(r"^\s*\[(?!\[)(.*)\]\s*(?:#.*)?$")
_KEY = re.compile(r"^\s*(\"[^\"]*\"|'[^']*'|[A-Za-z0-9_.-]+)\s*=")


def _toml_lines(source: str) -> dict[tuple[str, ...], int]:
    """Where each table header and key of library.toml is: (file,) or (file, key) -> line."""
    found: dict[tuple[str, ...], int] = {}
    table: str | None = None
    for number, line in enumerate(source.splitlines(), 1):
        if header := _TABLE.match(line):
            table = _key_name(header[1])
            if table is not None:
                found.setdefault((table,), number)
        elif key := _KEY.match(line):
            name = _key_name(key[1])
            if name is not None:
                found.setdefault((table, name) if table is not None else (name,), number)
    return found


def _key_name(text: str) -> str | None:
    """The first key of a TOML key path (``"a.txt"`` or ``rating``); None if not one."""
    try:
        parsed = tomllib.loads(f"{text.strip()} = 0")
    except tomllib.TOMLDecodeError:
        return None
    return next(iter(parsed), None)


def orphan_sections(metas: dict[str, StoryMeta], names: set[str], folder: Path) -> list[str]:
    """A library.toml section that names no story file in the folder (nor one /library remove
    moved aside): a typo, or a file renamed. The story it meant to describe may be any story
    without a section, so until it is fixed those are rated explicit (see ``ingest``)."""
    return [
        f"{folder / METADATA_FILE}: [{name!r}] names no story file in the folder (a typo, or a"
        " renamed file?): until it is fixed, new or changed stories with no section of their"
        " own are rated explicit"
        for name in sorted(metas.keys() - names)
        if not (folder / REMOVED_DIR / name).is_file()
    ]


_STRICTNESS = {rating: i for i, rating in enumerate(RATINGS)}


def keep_rating(
    item: StoryWrite,
    metas: dict[str, StoryMeta] | None,
    stored: dict[str, Rating],
    renamed: dict[str, Rating],
    warnings: list[str],
) -> StoryWrite:
    """Fail closed: a story's rating is never lowered but by library.toml saying so.

    A story the library holds as mature or explicit that comes back rated lower, without a
    ``rating`` of its own in library.toml (its entry lost to a typo, the file renamed, the
    file's own metadata changed), keeps the rating it had, and the operator is told.
    """
    own = (metas or {}).get(item.file)
    if own is not None and own.rating is not None:
        return item  # the operator's word
    before = stored.get(item.file) or renamed.get(item.state.hash)
    now = item.meta.rating or "general"
    if before is None or _STRICTNESS[now] >= _STRICTNESS[before]:
        return item
    warning = (
        f"{item.file}: was rated {before}, now nothing rates it (its library.toml entry gone?):"
        f' kept {before}; to change it, set rating = "{now}" in its library.toml section'
    )
    log.warning("%s", warning)
    warnings.append(warning)
    return dataclasses.replace(item, meta=dataclasses.replace(item.meta, rating=before))
