"""The CLI's JSON output: the shapes scripts rely on (listed in the README).

Keys are kept from release to release; new ones may be added. A quote or scene hit's
``snippet`` is plain text, and ``marks`` holds the [start, end) character ranges of it that
matched.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.models import (
    Chapter,
    Excerpt,
    Hit,
    IngestReport,
    Migration,
    SceneHit,
    SceneResult,
    SearchResult,
    Story,
)


def story_json(s: Story) -> dict[str, Any]:
    return {
        "slug": s.slug,
        "title": s.title,
        "file": s.file,
        "words": s.words,
        "author": s.author,
        "rating": s.rating,
        "url": s.url,
        "fandom": list(s.fandom),
        "characters": list(s.characters),
        "tags": list(s.tags),
        "summary": s.summary,
        "chapters": [{"number": c.number, "label": c.label, "words": c.words} for c in s.chapters],
    }


def excerpt_json(e: Excerpt) -> dict[str, Any]:
    return {
        "slug": e.story.slug,
        "title": e.story.title,
        "chapter": e.chapter,
        "chapter_label": e.chapter_label,
        "text": e.text,
        "start": e.start,
        "end": e.end,
    }


def chapter_json(c: Chapter, pages: Sequence[str]) -> dict[str, Any]:
    return {
        "slug": c.story.slug,
        "title": c.story.title,
        "chapter": c.number,
        "chapter_label": c.label,
        "note": c.note,
        "pages": list(pages),
    }


def _hit_json(h: Hit | SceneHit) -> dict[str, Any]:
    """The keys every search hit has (a quote's paragraph, a scene's passage)."""
    return {
        "slug": h.story.slug,
        "title": h.story.title,
        "chapter": h.chapter,
        "chapter_label": h.chapter_label,
        "text": h.text,
        "snippet": h.snippet,
        "marks": [list(m) for m in h.marks],
        "position": h.position,
        "score": round(h.score, 4),
    }


def quote_json(r: SearchResult, *, context: bool = False) -> dict[str, Any]:
    return {
        "query": r.query,
        "match": r.match,
        "hits": [
            {**_hit_json(h), **({"before": h.before, "after": h.after} if context else {})}
            for h in r.hits
        ],
    }


def scene_json(r: SceneResult) -> dict[str, Any]:
    """A scene search: ``match`` is the best hit's confidence ("close match", "possible",
    "long shot"), or "none" when there is no hit (no passage shares a word with the
    description, and no story in scope is ranked by meaning); each hit is
    a scene passage, with quote's keys (``text`` the whole passage, ``position`` and ``end``
    its first and last paragraph) and its ``confidence``."""
    return {
        "query": r.query,
        "match": r.hits[0].confidence if r.hits else "none",
        "hits": [{**_hit_json(h), "end": h.end, "confidence": h.confidence} for h in r.hits],
    }


def ingest_json(r: IngestReport) -> dict[str, Any]:
    """``ingest --json``: the file lists of the summary, and each file read in detail."""
    return {
        "added": list(r.added),
        "changed": list(r.changed),
        "removed": list(r.removed),
        "unchanged": list(r.unchanged),
        "skipped": [{"file": f, "reason": why} for f, why in r.skipped],
        "not_read": [{"file": f, "reason": why} for f, why in r.not_read],
        "warnings": list(r.warnings),
        "files": [
            {
                "file": f.file,
                "status": "added" if f.file in r.added else "changed",
                "title": f.title,
                "author": f.author,
                "rating": f.rating,
                "rating_from": f.rating_from,
                "chapters": f.chapters,
                "words": f.words,
                "left_out": [{"kind": kind, "words": n} for kind, n in f.left_out],
            }
            for f in r.files
        ],
        "default_rated": [f.file for f in r.files if f.rating_from == "DEFAULT_RATING"],
    }


def migrate_json(source: Path, moved: Migration) -> dict[str, Any]:
    """`migrate --json`: the source, each table's rows in the source, copied, skipped, and
    the host key the stories were given (host:folder)."""
    return {
        "source": str(source),
        "tables": [
            {"table": c.table, "source": c.source, "copied": c.copied, "skipped": c.skipped}
            for c in moved.tables
        ],
        "host": moved.host,
    }
