"""The README's Configuration table and .env.example, written from bot.settings.SETTINGS_HELP.

`python -m bot.settings_doc` (or `make settings-docs`) rewrites both; the test
tests/test_settings_doc.py fails when either differs from what this module renders.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from bot.settings import SETTINGS_HELP, SettingHelp

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
ENV_EXAMPLE = ROOT / ".env.example"
BEGIN = "<!-- settings: generated from bot/settings.py by `make settings-docs`; edit there -->"
END = "<!-- end of settings -->"

_ENV_HEAD = """\
# Copy to .env and fill in. Every setting is optional except DISCORD_TOKEN for Discord.
# Generated from bot/settings.py by `make settings-docs` (the README's Configuration lists
# the same settings). Leave a value empty for its default.
"""
_ENV_HOSTING = '\n# ---- running it for real servers (see "Hosting on a VPS" in README.md) ----\n'


def _comment(setting: SettingHelp) -> str:
    text = f"{setting.help} Default: {setting.default}"
    return "\n".join(textwrap.wrap(text, 92, initial_indent="# ", subsequent_indent="# "))


def env_example() -> str:
    """The whole .env.example."""
    parts = [_ENV_HEAD]
    hosting_started = False
    for setting in SETTINGS_HELP:
        if setting.hosting and not hosting_started:
            parts.append(_ENV_HOSTING)
            hosting_started = True
        parts.append(f"\n{_comment(setting)}\n{setting.name}=\n")
    return "".join(parts)


def readme_table() -> str:
    """The README's settings table, between the BEGIN and END markers."""
    rows = ["| setting | default | what it does |", "|---|---|---|"]
    for setting in SETTINGS_HELP:
        rows.append(f"| `{setting.name}` | {setting.default} | {setting.help} |")
    return "\n".join([BEGIN, *rows, END])


def readme_with_table(readme: str) -> str:
    """The README with its settings table replaced by the one rendered now."""
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        raise ValueError(f"README.md has no settings table between {BEGIN!r} and {END!r}")
    return readme[:start] + readme_table() + readme[end + len(END) :]


def main() -> int:
    ENV_EXAMPLE.write_text(env_example(), encoding="utf-8")
    README.write_text(readme_with_table(README.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {ENV_EXAMPLE.name} and the settings table of {README.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
