"""Discord's limits on what a message may hold, in one place for every cog."""

from __future__ import annotations

DESCRIPTION_LIMIT = 4096  # an embed's description
FIELD_LIMIT = 1024  # an embed field's value
TITLE_LIMIT = 256  # an embed's title, author name, field name
FOOTER_LIMIT = 2048  # an embed's footer
EMBED_LIMIT = 6000  # everything an embed holds
CHOICES_LIMIT = 25  # autocomplete choices
CHOICE_NAME_LIMIT = 100  # one choice's name (and value)
