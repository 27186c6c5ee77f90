"""The fault suite prints the figures its cases measured (peak memory, time) at its end."""

from __future__ import annotations

import pytest

from tests.faults.helpers import FIGURES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("fault suite figures")
        for line in FIGURES:
            terminalreporter.write_line(line)


# the simcord fixtures of the story cogs, for the faults that need Discord
from tests.cogs.conftest import closing_bots, simcord_bot  # noqa: E402

__all__ = ["closing_bots", "simcord_bot"]
