"""Discord's limits on what a message may hold, in one place for every cog."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

DESCRIPTION_LIMIT = 4096  # an embed's description
FIELD_LIMIT = 1024  # an embed field's value
TITLE_LIMIT = 256  # an embed's title, author name, field name
FOOTER_LIMIT = 2048  # an embed's footer
EMBED_LIMIT = 6000  # everything an embed holds
CHOICES_LIMIT = 25  # autocomplete choices
CHOICE_NAME_LIMIT = 100  # one choice's name (and value)
TEXT_DISPLAYS_LIMIT = 4000  # all the text displays of a Components V2 message together
COMPONENTS_LIMIT = 40  # every component of a Components V2 message, nested ones included
COMMAND_RATE, COMMAND_PER = 4, 10.0  # uses per user per seconds, for every command


class SharedCooldown:
    """One per-user cooldown shared by a command and the buttons that post like it (Another,
    Continue reading), so a flood of clicks is slowed as a flood of commands is. Raises
    CommandOnCooldown, which the tree's one error handler answers privately."""

    PRUNE_AT = 5000  # users tracked before the idle ones are dropped

    def __init__(self, rate: int = COMMAND_RATE, per: float = COMMAND_PER) -> None:
        self.rate, self.per = rate, per
        self._buckets: dict[int, app_commands.Cooldown] = {}

    def check(self, interaction: discord.Interaction[Any]) -> bool:
        now = interaction.created_at.timestamp()  # Discord's clock, as app_commands' own cooldown
        if len(self._buckets) > self.PRUNE_AT:
            self._buckets = {
                user: bucket
                for user, bucket in self._buckets.items()
                if bucket.get_tokens(now) < bucket.rate
            }
        bucket = self._buckets.setdefault(
            interaction.user.id, app_commands.Cooldown(self.rate, self.per)
        )
        retry_after = bucket.update_rate_limit(now)
        if retry_after is not None:
            raise app_commands.CommandOnCooldown(bucket, retry_after)
        return True
