"""Another process holding the database's write lock (an ingest elsewhere, say): it takes
``BEGIN IMMEDIATE`` and keeps it until told to let go (or until ``longest`` seconds pass)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import TracebackType

_HOLD = """
import select, sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("held", flush=True)
select.select([sys.stdin], [], [], float(sys.argv[2]))
db.execute("ROLLBACK")
db.close()
"""


class LockHolder:
    def __init__(self, db: Path, *, longest: float = 60.0) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _HOLD, str(db), str(longest)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "held"

    @property
    def holding(self) -> bool:
        return self.process.poll() is None

    def release(self) -> None:
        """Let go of the lock and wait until it is gone."""
        if self.holding:
            assert self.process.stdin is not None
            self.process.stdin.write("\n")
            self.process.stdin.flush()
        self.process.wait(timeout=60)
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()

    def __enter__(self) -> LockHolder:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
