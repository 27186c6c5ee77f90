"""Real read-only storage and a real full disk for a subprocess, without touching the host:
the command runs in a mount namespace of its own (``unshare -m`` as root, ``unshare -rm``, a
user namespace, otherwise), where a folder is bind-mounted read-only or a small tmpfs is
mounted over it. Root ignores a folder's mode bits and a tmpfs needs no disk of its own, so
these work the same as root and as a user, in CI too; where the host refuses namespaces the
test is skipped with a one-line reason."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

import pytest

READ_ONLY = 'mount --bind -o ro "$0" "$0" && exec "$@"'
TMPFS = 'mount -t tmpfs -o "size=$1" storybot-full "$0" && shift && exec "$@"'


@functools.cache
def _unshare() -> tuple[str, ...] | None:
    if shutil.which("unshare") is None:
        return None
    command = ("unshare", "-m") if os.geteuid() == 0 else ("unshare", "-rm")
    probe = subprocess.run(
        [*command, "sh", "-c", 'mount --bind -o ro "$0" "$0" && ! touch "$0/.probe"', "/tmp"],
        capture_output=True,
        check=False,
    )
    return command if probe.returncode == 0 else None


def _namespace() -> list[str]:
    command = _unshare()
    if command is None:
        pytest.skip("this host refuses a mount namespace (unshare -m / -rm): no mount to test on")
    return list(command)


def read_only(folder: Path) -> list[str]:
    """The prefix that runs a command with ``folder`` on a read-only mount."""
    return [*_namespace(), "sh", "-c", READ_ONLY, str(folder)]


def small_disk(folder: Path, size: str) -> list[str]:
    """The prefix that runs a command with an empty tmpfs of ``size`` (e.g. "2m") at
    ``folder``: a disk that fills up."""
    return [*_namespace(), "sh", "-c", TMPFS, str(folder), size]
