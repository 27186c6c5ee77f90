"""`make bench`: every figure beside a baseline measured in the same run.

Builds (once) a library of at least 100 MB from the seeds and tests/fixtures/corpus under
bench-data/, then measures ingest, search and the running bot; ingest and search also on the
same library with no paragraph repeated.
"""

from __future__ import annotations

import os
import platform

from benchmarks import bot as running_bot
from benchmarks import formats, ingest, memory, postgres, readers, scene_vectors, scenes, search


def main() -> None:
    target = float(os.environ.get("BENCH_MB", "100"))
    print(
        f"storybot benchmarks on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )
    with scenes.timing() as times:  # the scene index's share of the ingests below
        rows, folder, db_path = ingest.run(target)
    ingest.print_table("Ingest", rows)
    ingest.print_table("Ingest by format, the same text", formats.run())
    ingest.print_table("Quote search", search.run(db_path, folder, ingest.bare_db()))
    ingest.print_table("Scene search", scenes.run(db_path, ingests=2, times=times))
    # The library above repeats every paragraph ~460 times, and storybot indexes each distinct
    # text once; the same library with no paragraph repeated shows what that is worth.
    with scenes.timing() as times:
        rows, folder, db_path = ingest.run(target, distinct=True)
    ingest.print_table("Ingest, no paragraph repeated", rows)
    search_rows = search.run(db_path, folder, ingest.bare_db(distinct=True))
    ingest.print_table("Quote search, no paragraph repeated", search_rows)
    scene_rows = scenes.run(db_path, ingests=1, times=times)
    ingest.print_table("Scene search, no paragraph repeated", scene_rows)
    # the same library in PostgreSQL beside a fresh SQLite, on a cluster started here
    # (BENCH_PG_MB: a smaller library for PostgreSQL, whose ingest is much slower)
    pg_mb = float(os.environ.get("BENCH_PG_MB", str(target)))
    ingest.print_table("SQLite and PostgreSQL, no paragraph repeated", postgres.run(pg_mb))
    # after the library with no paragraph repeated: its budgeted part gets vectors (a copy)
    ingest.print_table("Scene search by meaning", scene_vectors.run())
    running_bot.BIG_DB.unlink(missing_ok=True)  # take a copy of the database just ingested
    ingest.print_table("The running bot", running_bot.run())
    ingest.print_table("Memory, one huge story file (MAX_STORY_MB)", memory.run())
    ingest.print_table("Readers", readers.run())


if __name__ == "__main__":
    main()
