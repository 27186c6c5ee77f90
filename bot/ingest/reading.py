"""Reading one file: read, hash and parse it, in a worker thread or process (no shared
state), and what decides whether a stored parse still holds (the metadata hash)."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import bot.text
from bot.errors import StoryBotError
from bot.hosts import REMOVED_AGAIN
from bot.ingest.folder import content_hash
from bot.ingest_report import file_report
from bot.models import FileReport, Rating, RatingSource, StoryMeta
from bot.store import FileState, StoryWrite, cut_story
from bot.text import process

TEXT_PIPELINE = Path(bot.text.__file__).parent


def pipeline_fingerprint(folder: Path = TEXT_PIPELINE) -> bytes:
    """Changes with the text pipeline's code or ftfy, so an upgrade re-reads every story.

    Every module under bot/text/, its packages' too (bot/text/structure/: headings, front
    matter...), each with its path, so a module moved or renamed counts as a change."""
    # ftfy's version from its package metadata: importing ftfy costs a serving process ~3 MB
    digest = hashlib.blake2b(metadata.version("ftfy").encode(), digest_size=8)
    for source in sorted(folder.rglob("*.py")):
        digest.update(source.relative_to(folder).as_posix().encode() + b"\x00")
        digest.update(source.read_bytes())
    return digest.digest()


_PIPELINE = pipeline_fingerprint()


def meta_hash_of(meta: StoryMeta, default_rating: Rating) -> str:
    """What besides the file's bytes decides its parse: metadata, DEFAULT_RATING and the
    pipeline itself."""
    key = _PIPELINE + repr(meta).encode() + default_rating.encode()
    return hashlib.blake2b(key, digest_size=8).hexdigest()


@dataclass(frozen=True, slots=True)
class Loaded:
    """What a worker made of one file: a story to write, "unchanged", or why it was skipped."""

    name: str
    write: StoryWrite | None = None
    state: FileState | None = None  # set when the bytes are unchanged: only the stat moved
    problem: str | None = None
    report: FileReport | None = None  # with ``write``: what the operator is told of it


@dataclass(frozen=True, slots=True)
class Job:
    """A file the scan found new or changed, with what the worker needs to judge it."""

    path: Path
    size: int  # at the scan: what the worker pool is fed by
    meta: StoryMeta
    meta_hash: str
    old_hash: str | None  # the stored version's hash, when its metadata still matches
    max_text: int  # MAX_STORY_MB, for the text an EPUB or HTML file yields
    default_rating: Rating = "explicit"  # DEFAULT_RATING: for a story nothing rates
    upload_ns: int | None = None  # an upload kept in the store (bot/hosts.py): when it came
    data: bytes | None = None  # an upload's bytes, fetched just before it is parsed
    refused: str | None = None  # the hash of bytes removed with /library remove (not re-added)


def load_file(job: Job) -> Loaded:
    """Read, hash and parse one file. Runs in a worker thread or process: no shared state."""
    path, meta, meta_hash = job.path, job.meta, job.meta_hash
    name = path.name
    if job.data is not None and job.upload_ns is not None:
        data, size, mtime_ns = job.data, len(job.data), job.upload_ns
    else:
        try:
            stat = path.stat()
            data = path.read_bytes()
        except OSError as exc:
            return Loaded(name, problem=f"cannot read: {exc.strerror or exc}")
        size, mtime_ns = stat.st_size, stat.st_mtime_ns
    digest = content_hash(data)
    if digest == job.refused:
        return Loaded(name, problem=REMOVED_AGAIN)
    state = FileState(size, mtime_ns, digest, meta_hash)
    if digest == job.old_hash:
        return Loaded(name, state=state)
    lines = data.count(b"\n") if name.lower().endswith(".txt") else 0
    if lines > 2 * MAX_PARAGRAPHS:  # before parsing: parsing them is what takes the memory
        return Loaded(name, problem=too_many_paragraphs(lines, "lines"))
    try:
        parsed = process(data, name, meta, max_text=job.max_text)
    except StoryBotError as exc:
        return Loaded(name, problem=exc.message)
    paragraphs = sum(len(chapter.paragraphs) for chapter in parsed.chapters)
    if paragraphs > MAX_PARAGRAPHS:
        return Loaded(name, problem=too_many_paragraphs(paragraphs))
    # parsed.meta: library.toml's fields over what an EPUB or HTML file says of itself
    source: RatingSource = "library.toml" if meta.rating else "file"
    if parsed.meta.rating is None:  # nothing rates it: DEFAULT_RATING, failing closed
        source = "DEFAULT_RATING"
        rated = dataclasses.replace(parsed.meta, rating=job.default_rating)
        parsed = dataclasses.replace(parsed, meta=rated)
    cut = cut_story(parsed)  # here, not in the writer: the writer holds up the whole ingest
    return Loaded(
        name,
        write=StoryWrite(name, parsed, parsed.meta, state, cut),
        report=file_report(name, parsed, source, cut.words),
    )


# A story of more paragraphs than this is refused by name: storing one costs memory per
# paragraph whatever its length, and 3 million one-word paragraphs (a 15 MB file) took the
# store past 1 GiB. A long novel has about 20,000; MAX_STORY_MB (20) of prose, about 150,000.
MAX_PARAGRAPHS = 200_000


def too_many_paragraphs(count: int, what: str = "paragraphs") -> str:
    """Why a story of ``count`` paragraphs (or, in a .txt, lines: twice as many allowed) is
    refused."""
    limit = MAX_PARAGRAPHS * (2 if what == "lines" else 1)
    return (
        f"too many {what}: {count:,}, the limit is {limit:,} (each paragraph costs memory to"
        " read and store, however short)"
    )
