"""What a process serving searches loads: numpy belongs to the scene model, lxml and ftfy to
reading story files; a bot restarted over an unchanged library with no scene model pays for
none of them (their imports were about 20 MB of its memory; make bench's "RSS of the
searching process")."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from bot.library import Library
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent.parent

# A restart: the library unchanged since the test's ingest, then a quote and a scene search,
# as a bot serving readers with SCENE_MODEL=off. Prints the heavy packages it imported.
_SERVE = """
import asyncio, sys
from pathlib import Path
from bot.library import Library
from bot.settings import Settings

async def serve() -> None:
    settings = Settings(
        stories_dir=Path(sys.argv[1]), data_dir=Path(sys.argv[2]), scene_model="off"
    )
    lib = await Library.open(settings, check=True)
    try:
        report = await lib.ingest()
        assert not report.touched and report.unchanged, report
        quote = await lib.quote("Spike winced as Buffy entered the crypt", mature_ok=True)
        assert quote.match == "exact", quote
        scene = await lib.scene("Spike and Buffy in the crypt", mature_ok=True)
        assert scene.hits, scene
    finally:
        await lib.close()

asyncio.run(serve())
print(" ".join(sorted({"numpy", "lxml", "ftfy"} & {m.split(".")[0] for m in sys.modules})))
"""


async def test_serving_searches_loads_no_model_or_parser_packages(
    library: Library, settings: Settings
) -> None:
    served = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", _SERVE, str(settings.stories_dir), str(settings.data_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert served.returncode == 0, served.stderr
    assert served.stdout.strip() == ""
