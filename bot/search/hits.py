"""What quote and scene hits share: where a hit stands (its chapter's label), and a search
that fails in the index answering with no hits rather than an error."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TypeVar

from bot.models import Story
from bot.store import StoreDamaged, StoreError, StoreLocked, StoreUnreachable

log = logging.getLogger(__name__)

R = TypeVar("R")


def chapter_label(story: Story, number: int) -> str:
    """The story's own label of chapter ``number`` ("Part 2"), else the number."""
    info = story.chapter_info(number)
    return info.label if info else str(number)


async def or_none(search: Awaitable[R], none: R, what: str, query: str) -> R:
    """``search``'s answer, or ``none`` when the index refuses the query: never the asker's
    fault (every word reaches the index quoted), so it is logged and answered as no match.
    A database that is damaged, busy or out of reach is said so: "no match" would be untrue."""
    try:
        return await search
    except (StoreDamaged, StoreLocked, StoreUnreachable):
        raise
    except StoreError as exc:
        log.warning("%s search failed for %r: %s", what, query[:80], exc)
        return none
