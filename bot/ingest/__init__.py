"""Ingest: bring the store in line with the stories folder.

A file whose size and modification time are unchanged is not read at all; one whose
bytes hash the same is not parsed. Stories are written in batches, each batch one
transaction, so a failure (bad file, crash, full disk) leaves every story whose new
version did not commit at its previous version.

Reading and parsing run in worker threads, or in worker processes when there is much to
parse and more than one CPU, so parsing overlaps the database writes (which SQLite does
on one thread whatever we do).

The steps, a module each:

- ``folder``: finding the story files (links out of the folder, files too big);
- ``metadata``: library.toml, and ratings that are never lowered but by it;
- ``renames``: a new file with a gone story's bytes is that story renamed;
- ``reading``: reading and parsing one file, in a worker;
- ``workers``: the worker pool, kept fed ahead of the writer;
- ``writing``: the writer task, batch by batch;
- ``run``: one pass, from what the store held to the report (``ingest``).
"""

from bot.ingest.folder import (
    DEFAULT_MAX_STORY_BYTES,
    REMOVED_DIR,
    STORY_SUFFIX,
    content_hash,
    story_files,
    too_big,
)
from bot.ingest.metadata import METADATA_FILE, load_metadata
from bot.ingest.reading import MAX_PARAGRAPHS, too_many_paragraphs
from bot.ingest.run import ingest

__all__ = [
    "DEFAULT_MAX_STORY_BYTES",
    "MAX_PARAGRAPHS",
    "METADATA_FILE",
    "REMOVED_DIR",
    "STORY_SUFFIX",
    "content_hash",
    "ingest",
    "load_metadata",
    "story_files",
    "too_big",
    "too_many_paragraphs",
]
