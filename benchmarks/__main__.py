"""`make bench`: every figure beside a baseline measured in the same run.

Builds (once) a library of at least 100 MB from the seeds and ../shared/corpus under
bench-data/, then measures ingest, search and the running bot; ingest and search also on the
same library with no paragraph repeated.
"""

from __future__ import annotations

import os
import platform

from benchmarks import bot as running_bot
from benchmarks import ingest, readers, search


def main() -> None:
    target = float(os.environ.get("BENCH_MB", "100"))
    print(
        f"storybot benchmarks on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )
    rows, folder, db_path = ingest.run(target)
    ingest.print_table("Ingest", rows)
    ingest.print_table("Quote search", search.run(db_path, folder, ingest.bare_db()))
    # The library above repeats every paragraph ~460 times, and storybot indexes each distinct
    # text once; the same library with no paragraph repeated shows what that is worth.
    rows, folder, db_path = ingest.run(target, distinct=True)
    ingest.print_table("Ingest, no paragraph repeated", rows)
    search_rows = search.run(db_path, folder, ingest.bare_db(distinct=True))
    ingest.print_table("Quote search, no paragraph repeated", search_rows)
    running_bot.BIG_DB.unlink(missing_ok=True)  # take a copy of the database just ingested
    ingest.print_table("The running bot", running_bot.run())
    ingest.print_table("Readers", readers.run())


if __name__ == "__main__":
    main()
