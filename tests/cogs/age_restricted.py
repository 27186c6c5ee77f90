"""Age-restricted (NSFW) channels for simcord, which does not model the flag (3.2.1).

simcord's channel model has no ``nsfw`` field, so every channel the bot sees says
``is_nsfw() == False``. ``mark_age_restricted`` sets the flag on the simulated channel and
announces a CHANNEL_UPDATE whose payload carries ``"nsfw": true``, exactly what Discord sends
when a server admin ticks "Age-Restricted Channel"; the bot's cache then says is_nsfw().
Use it through the ``age_restricted`` fixture, which patches simcord's serializer for one test.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
import simcord
from simcord.backend import serializers

_original = serializers.channel_payload


def _channel_payload(backend: Any, channel: Any) -> Any:
    payload = _original(backend, channel)
    if getattr(channel, "nsfw", False):
        payload = dict(payload)
        payload["nsfw"] = True
    return payload


Mark = Callable[[simcord.Env, simcord.ChannelHandle], Awaitable[None]]


@pytest.fixture
def age_restricted(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mark]:
    monkeypatch.setattr(serializers, "channel_payload", _channel_payload)

    async def mark(env: simcord.Env, channel: simcord.ChannelHandle) -> None:
        model = env.backend.get_channel(channel.id)
        model.nsfw = True  # type: ignore[attr-defined]
        env.backend.announce_channel_update(channel.id)
        await env.settle()
        bot_channel = env.bot.get_channel(channel.id)
        assert bot_channel is not None and bot_channel.is_nsfw()  # type: ignore[union-attr]

    yield mark
