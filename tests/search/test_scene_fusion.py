"""The fusion of the word ranking and the meaning ranking keeps what words find.

A model whose meaning ranking disagrees with the words on purpose (the passage holding the
description's rare name is the one furthest from it in meaning) stands in for the real one
here: the rule under test is the fusion's, whatever a model says. Real SQLite file, real
ingest, the bot's own background build path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.library import Library
from bot.search import SceneSearch
from bot.search.embedding import Floats
from bot.search.vectors import SceneVectors
from bot.settings import Settings

DIM = 8
NAME = "Zebulon"


def _chapter(n: int, body: str) -> str:
    return f"Chapter {n}\n\n" + "\n\n".join(body.format(i=i) for i in range(1, 4))


# chapter 1 holds the rare name; chapters 2-5 hold the lantern more often than it does
STORY = (
    "\n\n".join(
        [
            _chapter(
                1,
                f"{NAME} hung the lantern by the barn door, night {{i}}, and counted the"
                " sheep twice before he slept in the hayloft above the horses.",
            ),
            *(
                _chapter(
                    n,
                    "The lantern swung, lantern light on the lantern hook, a lantern left"
                    f" burning in room {n}{{i}} while the kettle ticked on the stove.",
                )
                for n in range(2, 6)
            ),
        ]
    )
    + "\n"
)
# passages of another story, near the description in meaning but holding none of its words:
# they put the passage with the name far down the meaning ranking
WEATHER = (
    "\n\n".join(
        _chapter(n, f"Rain came over the hills in week {n}{{i}}, and the river rose to the mill.")
        for n in range(1, 21)
    )
    + "\n"
)


@dataclass
class Contrary:
    """A model that puts the lantern passages nearest the description, the weather next,
    and the passage with the name furthest."""

    name: str = "contrary-test-model"
    dim: int = DIM

    def passages(self, texts: list[str]) -> Floats:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, text in enumerate(texts):
            if NAME in text:
                out[i, 1] = 1.0
            elif "lantern" in text:
                out[i, 0] = 1.0
            else:
                out[i, 0], out[i, 2] = 0.9, np.sqrt(1 - 0.81)
        return out

    def query(self, text: str) -> Floats:
        q = np.zeros(DIM, dtype=np.float32)
        q[0] = 1.0
        return q


async def test_the_first_two_chapters_by_words_keep_a_place_in_three(tmp_path: Path) -> None:
    folder = tmp_path / "stories"
    folder.mkdir()
    (folder / "barn.txt").write_text(STORY, encoding="utf-8")
    (folder / "weather.txt").write_text(WEATHER, encoding="utf-8")
    lib = await Library.open(
        Settings(stories_dir=folder, data_dir=tmp_path / "data", scene_model="off")
    )
    try:
        await lib.ingest()
        stories = await lib.stories(mature_ok=True)
        barn = next(s for s in stories if s.file == "barn.txt")
        assert len(barn.chapters) == 5
        vectors = SceneVectors(lib.store, model=Contrary())
        await vectors.build(stories)
        asked = f"{NAME} with the lantern"
        words = await SceneSearch(lib.store).find(asked, stories)
        assert words.hits[0].chapter == 1  # the name decides it, by words
        both = await SceneSearch(lib.store, vectors).find(asked, stories)
        assert {h.story.file for h in words.hits + both.hits} == {"barn.txt"}
        places = [h.chapter for h in both.hits]
        assert len(places) == 3
        assert {h.chapter for h in words.hits[:2]} <= set(places), places
        # meaning still has its say: its nearest passage is among the three
        assert places[0] != 1
    finally:
        await lib.close()
