"""Quote search: exact phrase, then all words (BM25), then fuzzy; "none" when nothing is close.

The user's text never reaches FTS5 syntax: it is folded and cut into word tokens, each
quoted, so quotes, `*`, NEAR, AND/OR/NOT, parentheses and column filters are just words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.models import Hit, MatchKind, Paragraph, SearchResult, Story
from bot.store import Store
from bot.text.normalize import fold

MARK_OPEN = "[["
MARK_CLOSE = "]]"
MAX_QUERY_CHARS = 500
MAX_TOKENS = 32
SNIPPET_CHARS = 300
_WORD = re.compile(r"\w+")


def tokens(query: str) -> list[str]:
    """The query's words, folded, as FTS5's unicode61 tokenizer would see them."""
    return _WORD.findall(fold(query[:MAX_QUERY_CHARS]))[:MAX_TOKENS]


def phrase_query(words: Sequence[str]) -> str:
    return '"' + " ".join(words) + '"'


def all_words_query(words: Sequence[str]) -> str:
    return " AND ".join(f'"{w}"' for w in dict.fromkeys(words))


def mark(text: str, words: Sequence[str]) -> tuple[str, int | None]:
    """Wrap each word of ``text`` whose folded form is in ``words``; return (text, first offset)."""
    wanted = set(words)
    out: list[str] = []
    last = 0
    first: int | None = None
    for m in _WORD.finditer(text):
        if fold(m.group()) in wanted:
            if first is None:
                first = m.start()
            out.append(text[last : m.start()])
            out.append(MARK_OPEN + m.group() + MARK_CLOSE)
            last = m.end()
    out.append(text[last:])
    return "".join(out), first


def snippet(text: str, words: Sequence[str], width: int = SNIPPET_CHARS) -> str:
    """A window of ``text`` around the first matched word, matched words marked."""
    _, first = mark(text, words)
    if len(text) <= width:
        return mark(text, words)[0]
    start = max(0, (first or 0) - width // 3)
    start = text.rfind(" ", 0, start) + 1 if start > 0 else 0
    end = min(len(text), start + width)
    if end < len(text):
        end = max(text.rfind(" ", start, end), start + 1)
    piece = text[start:end].strip()
    marked = mark(piece, words)[0]
    return ("…" if start > 0 else "") + marked + ("…" if end < len(text) else "")


async def search(
    store: Store, query: str, stories: Sequence[Story], *, limit: int = 5
) -> SearchResult:
    """Find the paragraphs that best match ``query`` among ``stories``."""
    words = tokens(query)
    if not words or not stories:
        return SearchResult(query, "none", ())
    by_id = {s.id: s for s in stories}
    attempts: list[tuple[MatchKind, str]] = [("exact", phrase_query(words))]
    if len(words) > 1:
        attempts.append(("words", all_words_query(words)))
    for kind, fts in attempts:
        rows = await store.paragraphs_matching(fts, list(by_id), limit)
        if rows:
            return SearchResult(query, kind, tuple(_hit(p, by_id, words) for p in rows))
    return SearchResult(query, "none", ())


def _hit(p: Paragraph, by_id: dict[int, Story], words: Sequence[str], score: float = 0.0) -> Hit:
    story = by_id[p.story_id]
    info = story.chapter_info(p.chapter)
    return Hit(
        story=story, chapter=p.chapter, chapter_label=info.label if info else str(p.chapter),
        position=p.position, text=p.text, snippet=snippet(p.text, words), score=score,
    )  # fmt: skip
