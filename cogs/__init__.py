"""discord.py extensions, one per feature; modules starting with ``_`` are shared helpers."""
