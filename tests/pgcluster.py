"""A throwaway PostgreSQL cluster for the tests and the benchmarks, made with Debian's
`postgresql` package (initdb/pg_ctl) in a temporary folder.

PostgreSQL refuses to run as root: as root the cluster runs as an unprivileged user
(``storybot-pg``, created when missing). Trust authentication over a socket in the cluster's
folder and 127.0.0.1 on a free port; nothing else can reach it, and it is stopped at exit.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

USER = "storybot-pg"
HOW_TO = (
    "install Debian's postgresql package (apt-get install postgresql) or put initdb/pg_ctl on"
    " PATH, or set STORYBOT_TEST_DATABASE_URL=postgresql://... to use a server of your own"
)


def binaries() -> Path | None:
    """The folder holding initdb and pg_ctl, or None when PostgreSQL is not installed."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(versions[0]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_user() -> list[str]:
    if os.getuid() != 0:
        return []
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER],
            check=True,
            capture_output=True,
        )
    return ["runuser", "-u", USER, "--"]


@dataclass(frozen=True, slots=True)
class Cluster:
    """A running throwaway cluster: its URL, and how to stop and start it again on the same
    port (a database restart, as a host's PostgreSQL may have one under a running bot)."""

    url: str
    folder: Path
    prefix: tuple[str, ...]  # run as the unprivileged user (as root)
    pg_ctl: Path
    options: str

    def start(self) -> None:
        subprocess.run(
            [
                *self.prefix,
                str(self.pg_ctl),
                "-D",
                str(self.folder / "data"),
                "-l",
                str(self.folder / "log"),
                "-w",
                "-o",
                self.options,
                "start",
            ],
            check=True,
            capture_output=True,
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server ("fast": clients are told and disconnected, as a service restart
        does; "immediate": no shutdown checkpoint, for the end of a run)."""
        subprocess.run(
            [
                *self.prefix,
                str(self.pg_ctl),
                "-D",
                str(self.folder / "data"),
                "-m",
                mode,
                "-w",
                "stop",
            ],
            check=mode != "immediate",
            capture_output=True,
        )


@contextlib.contextmanager
def cluster(folder: Path) -> Iterator[str]:
    """Start a cluster in ``folder`` (which must not exist yet); yield its URL; stop it."""
    with running(folder) as started:
        yield started.url


@contextlib.contextmanager
def throwaway() -> Iterator[Cluster]:
    """A cluster in a temporary folder of its own (outside pytest's temporary folders, which
    are private to root), removed once the cluster is stopped."""
    folder = Path(tempfile.mkdtemp(prefix="storybot-pg-"))
    try:
        with running(folder / "cluster") as started:
            yield started
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def running(folder: Path) -> Iterator[Cluster]:
    """Start a cluster in ``folder`` (which must not exist yet); yield it; stop it."""
    bin_dir = binaries()
    if bin_dir is None:
        raise RuntimeError(f"PostgreSQL is not installed: {HOW_TO}")
    prefix = _as_user()
    folder.mkdir(parents=True)
    data, sock = folder / "data", folder / "sock"
    sock.mkdir()
    if prefix:
        shutil.chown(folder, USER)
        shutil.chown(sock, USER)
        os.chmod(folder, 0o755)
        os.chmod(folder.parent, 0o755)
    subprocess.run(
        [
            *prefix,
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            "storybot",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
    )
    port = _free_port()
    options = (
        f"-c port={port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={sock}"
        " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        " -c shared_buffers=256MB"
    )
    started = Cluster(
        f"postgresql://storybot@127.0.0.1:{port}/postgres",
        folder,
        tuple(prefix),
        bin_dir / "pg_ctl",
        options,
    )
    started.start()
    try:
        yield started
    finally:
        started.stop("immediate")
