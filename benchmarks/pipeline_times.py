"""CPU seconds of the text pipeline on each file of a folder, for benchmarks/formats.py.

Run with PYTHONPATH naming the code to time (this checkout, or an older commit's ``bot/``
unpacked under bench-data), from that folder, so both are timed alike in fresh processes:

    cd CODE && PYTHONPATH=CODE python -c "$(cat benchmarks/pipeline_times.py)" FOLDER ROUNDS

Prints {file name: the least CPU seconds of ROUNDS runs of bot.text.process, or null when that
code cannot read the file} as JSON. CPU time of this process, not wall time: on a machine
shared with other work, what another process takes does not count against the code timed.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main() -> None:
    from bot.text import process  # the code PYTHONPATH names

    assert Path(sys.modules["bot"].__file__ or "").is_relative_to(Path.cwd().resolve())

    folder, rounds = Path(sys.argv[1]), int(sys.argv[2])
    times: dict[str, float | None] = {}
    for path in sorted(folder.iterdir()):
        data = path.read_bytes()
        try:
            process(data, path.name)  # warm: imports, caches, compiled expressions
        except Exception:  # the older code may refuse a file the newer reads
            times[path.name] = None
            continue
        spent = []
        for _ in range(rounds):
            start = time.process_time()
            process(data, path.name)
            spent.append(time.process_time() - start)
        times[path.name] = min(spent)
    print(json.dumps(times))


if __name__ == "__main__":
    main()
