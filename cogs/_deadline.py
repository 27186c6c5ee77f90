"""Discord's 3 seconds: an interaction whose work writes to the store (which may wait while
another process holds the database's write lock) is deferred when the work is slow, then
answered by a followup or an edit of the original response; quick work is answered at once,
as before. The answer is sent from one place, after the choice, so a defer never races it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from cogs._context import Interaction

# Work not done by then is deferred: Discord drops an interaction unanswered after 3 s, and
# the defer itself must travel there in time.
DEFER_AFTER = 1.0

T = TypeVar("T")


async def in_time(
    interaction: Interaction, work: Awaitable[T], *, update: bool = False, ephemeral: bool = False
) -> T:
    """The result of ``work``; if it takes longer than DEFER_AFTER, the interaction is
    deferred meanwhile: a message update (``update``, a button that edits its message) or a
    "thinking" answer (``ephemeral`` or public)."""
    task = asyncio.ensure_future(work)
    try:
        done, _ = await asyncio.wait({task}, timeout=DEFER_AFTER)
        if not done and not interaction.response.is_done():
            if update:
                await interaction.response.defer()
            else:
                await interaction.response.defer(thinking=True, ephemeral=ephemeral)
        return await task
    except BaseException:
        task.cancel()
        raise


async def send(interaction: Interaction, **message: Any) -> None:
    """Answer with ``message``: the response, or after a defer its followup."""
    if interaction.response.is_done():
        await interaction.followup.send(**message)
    else:
        await interaction.response.send_message(**message)


async def edit(interaction: Interaction, **message: Any) -> None:
    """Edit the message whose button was clicked, deferred or not."""
    if interaction.response.is_done():
        await interaction.edit_original_response(**message)
    else:
        await interaction.response.edit_message(**message)
