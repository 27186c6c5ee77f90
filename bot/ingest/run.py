"""One ingest pass: what the store held when it began, what to parse, what became of each
file, and the report."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import StoryBotError
from bot.hosts import REMOVED_AGAIN, SHADOWED, Hosts
from bot.ingest.folder import DEFAULT_MAX_STORY_BYTES, outside, shown, story_files, too_big
from bot.ingest.metadata import (
    IN_DOUBT,
    METADATA_FILE,
    keep_rating,
    load_metadata,
    orphan_sections,
)
from bot.ingest.reading import Job, meta_hash_of
from bot.ingest.renames import follow_renames
from bot.ingest.writing import load_and_write
from bot.ingest_report import not_read
from bot.models import FileReport, IngestReport, Progress, Rating, RatingSource, StoryMeta
from bot.store import FileState, Store, StoryWrite, Upload

log = logging.getLogger(__name__)
files_log = logging.getLogger("bot.ingest.files")  # a file skipped (the CLI's report says it)

# rewriting this many stories (or a quarter of the library) merges the search indexes after
TIDY_AFTER = 50


async def ingest(
    store: Store,
    folder: Path,
    *,
    on_skip: Callable[[str, str], None] | None = None,
    workers: int | None = None,
    max_bytes: int = DEFAULT_MAX_STORY_BYTES,
    allow_empty: bool = False,
    on_progress: Callable[[Progress], None] | None = None,
    default_rating: Rating = "explicit",
) -> IngestReport:
    """Bring the store in line with the folder; report what was added, changed, removed, skipped.

    ``workers``: parse in this many processes when there is much to parse (default: the
    usable CPUs; 1 or 0 keeps everything in this process). A folder with no story files
    does not empty a library that has stories unless ``allow_empty`` (StoryBotError).
    ``default_rating`` (DEFAULT_RATING) rates a story that neither its file nor library.toml
    rates; the report names each such story.

    The steps: read the folder and what the store holds (``_Run.start``); decide, file by
    file, what must be parsed (``_Run.job``); parse and write (``load_and_write``, in
    writing.py); remove the stories whose files are gone, and merge the indexes after many
    changes (``_Run.finish``).
    """
    paths = story_files(folder)  # raises when the folder is missing or unreadable
    run = await _Run.start(store, folder, paths, on_skip)
    run.default_rating = default_rating
    own = [f for f in run.known if run.removable(f)]
    if not paths and own and not allow_empty:
        raise StoryBotError(
            f"the stories folder {shown(folder)} has no story files, and the library has"
            f" {len(own)}: not emptying it (ingest --allow-empty does)"
        )
    todo = [job for path in paths if (job := run.job(path, folder, max_bytes)) is not None]
    uploads = run.hosts.uploads.values() if run.hosts is not None else ()
    todo += [job for up in uploads if (job := run.upload_job(up, max_bytes)) is not None]
    if todo:
        done = Progress(0, len(todo), 0, sum(job.size for job in todo), time.monotonic())

        def advance(files: int, size: int) -> None:
            nonlocal done
            done = dataclasses.replace(done, files=done.files + files, bytes=done.bytes + size)
            if on_progress is not None:
                on_progress(done)

        await load_and_write(
            todo,
            workers=workers,
            write=run.write,
            skip=run.skip,
            store=store,
            unchanged=run.unchanged,
            reports=run.reports,
            progress=advance,
            fetch=run.hosts.shared.upload_data if run.hosts is not None else None,
        )
        log.info("ingest: read %s", done.describe())
    return await run.finish()


@dataclass(slots=True)
class _Run:
    """One ingest pass: what the store held when it began, and what became of each file."""

    store: Store
    known: dict[str, FileState]
    metas: dict[str, StoryMeta] | None  # None: library.toml unreadable (fail closed)
    warnings: list[str]
    # ratings a story keeps (see keep_rating), but not those given in doubt (library.toml
    # was unreadable when the story came in): fixing library.toml may lower those
    stored_ratings: dict[str, Rating]
    # a file whose bytes are those of a story whose file is gone is that story renamed: it
    # keeps at least the rating it had (a renamed file loses its library.toml entry)
    renamed: dict[str, Rating]
    on_skip: Callable[[str, str], None] | None
    # with a library.toml section naming no file, a story with no section may be the one it
    # meant: rated in doubt (explicit) until library.toml is fixed
    doubtful: set[str]
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    present: set[str] = field(default_factory=set)
    default_rating: Rating = "explicit"
    folder: Path | None = None
    reports: dict[str, FileReport] = field(default_factory=dict)  # parsed, by file
    read: list[FileReport] = field(default_factory=list)  # written: what the report says
    hosts: Hosts | None = None  # a store several hosts share (bot/hosts.py)
    refused: set[str] = field(default_factory=set)  # files removed with /library remove
    shadowed: set[str] = field(default_factory=set)  # folder files an upload's name hides

    @classmethod
    async def start(
        cls,
        store: Store,
        folder: Path,
        paths: list[Path],
        on_skip: Callable[[str, str], None] | None,
    ) -> _Run:
        metas, warnings = load_metadata(folder)
        for warning in warnings:
            log.warning("%s", warning)
        known = await store.file_states()
        hosts = await Hosts.load(store, folder)
        names = {p.name for p in paths}
        uploaded = set(hosts.uploads) if hosts is not None else set()
        orphans = orphan_sections(metas or {}, names | uploaded, folder)
        for warning in orphans:
            log.warning("%s", warning)
            warnings.append(warning)
        doubtful = {n for n in names if n not in metas} if orphans and metas is not None else set()
        await follow_renames(store, paths, known, warnings, hosts)
        stored_ratings: dict[str, Rating] = {
            f: rating
            for f, rating in (await store.file_ratings()).items()
            if not known[f].meta_hash.startswith(IN_DOUBT)
        }
        renamed: dict[str, Rating] = {
            known[f].hash: stored_ratings[f] for f in set(known) - names if f in stored_ratings
        }
        run = cls(store, known, metas, warnings, stored_ratings, renamed, on_skip, doubtful)
        run.folder = folder
        run.hosts = hosts
        return run

    def removable(self, file: str) -> bool:
        """Whether this ingest may remove a stored story whose file it does not find."""
        return self.hosts is None or self.hosts.removable(file, self.known[file])

    def skip(self, name: str, reason: str) -> None:
        self.skipped.append((name, reason))
        if reason == REMOVED_AGAIN:
            self.refused.add(name)
        kept = " (previous version kept)" if name in self.known and reason != SHADOWED else ""
        files_log.warning("skipped story file %s: %s%s", name, reason, kept)
        if self.on_skip is not None:
            self.on_skip(name, reason)

    def job(self, path: Path, folder: Path, max_bytes: int) -> Job | None:
        """What to do with one story file: a job to parse it, or None (skipped, unchanged)."""
        name = path.name
        try:
            if outside(path, folder):  # and no longer served, if it ever was
                self.skip(name, "a link to a file outside the stories folder: not followed")
                return None
        except OSError as exc:
            self.skip(name, f"cannot read: {exc.strerror or exc}")
            return None
        self.present.add(name)
        if self.hosts is not None and name in self.hosts.uploads:
            self.shadowed.add(name)
            self.skip(name, SHADOWED)
            return None
        try:
            stat = path.stat()
        except OSError as exc:
            self.skip(name, f"cannot read: {exc.strerror or exc}")
            return None
        if stat.st_size > max_bytes:
            self.skip(name, f"{too_big(stat.st_size, max_bytes)} (MAX_STORY_MB)")
            return None
        refused = self.hosts.removals.get(name) if self.hosts is not None else None
        job = self._job_by_meta(path, stat.st_size, stat.st_mtime_ns, max_bytes, refused)
        return job if job is None or refused is None else dataclasses.replace(job, refused=refused)

    def upload_job(self, upload: Upload, max_bytes: int) -> Job | None:
        """What to do with a story uploaded to a shared store: a job, or None (unchanged)."""
        self.present.add(upload.file)
        if upload.size > max_bytes:
            self.skip(upload.file, f"{too_big(upload.size, max_bytes)} (MAX_STORY_MB)")
            return None
        job = self._job_by_meta(Path(upload.file), upload.size, upload.added_ns, max_bytes)
        return None if job is None else dataclasses.replace(job, upload_ns=upload.added_ns)

    def _job_by_meta(
        self, path: Path, size: int, mtime_ns: int, max_bytes: int, refused: str | None = None
    ) -> Job | None:
        """``refused``: the file was removed from Discord; it is read (and hashed) again."""
        name = path.name
        before = self.known.get(name) if refused is None else None
        same_file = before is not None and before.size == size and before.mtime_ns == mtime_ns
        if self.metas is None:  # library.toml unreadable: fail closed (see load_metadata)
            if before is not None:
                if same_file:
                    self.unchanged.append(name)
                else:
                    self.skip(name, f"not re-read while {METADATA_FILE} cannot be read")
                return None
            meta = StoryMeta(rating="explicit")
        elif name in self.doubtful:
            if same_file:
                self.unchanged.append(name)
                return None
            meta = StoryMeta(rating="explicit")
        else:
            meta = self.metas.get(name, StoryMeta())
        meta_hash = meta_hash_of(meta, self.default_rating)
        if self.metas is None or name in self.doubtful:
            meta_hash = IN_DOUBT + meta_hash  # rated in doubt: the fix of library.toml may lower it
        old_hash = None
        if before is not None and before.meta_hash == meta_hash:
            if same_file:
                self.unchanged.append(name)
                return None
            old_hash = before.hash
        return Job(path, size, meta, meta_hash, old_hash, max_bytes, self.default_rating)

    async def write(self, items: list[StoryWrite]) -> None:
        items = [
            keep_rating(item, self.metas, self.stored_ratings, self.renamed, self.warnings)
            for item in items
        ]
        # a story that fails is rolled back and keeps its old version (its error is returned)
        errors = await self.store.write_stories(items)
        for item, error in zip(items, errors, strict=True):
            if error is None:
                (self.changed if item.file in self.known else self.added).append(item.file)
                self._reported(item)
            else:
                self.skip(item.file, f"database error: {error}")

    def _reported(self, item: StoryWrite) -> None:
        """What the report says of a file written: its final rating, and where it came from
        ("kept" when keep_rating held a higher rating it had before)."""
        report = self.reports.get(item.file)
        if report is None:
            return
        rating = item.meta.rating or report.rating
        source: RatingSource = "kept" if rating != report.rating else report.rating_from
        self.read.append(dataclasses.replace(report, rating=rating, rating_from=source))

    async def finish(self) -> IngestReport:
        """Remove the stories whose files are gone, merge the search indexes after many
        changes, and say what was done."""
        gone = (set(self.known) - self.present) | (self.refused & set(self.known))
        removed = sorted(name for name in gone if self.removable(name))
        for name in removed:
            await self.store.remove_story(name)
        if self.hosts is not None:
            folder = self.present - self.refused - self.shadowed
            await self.hosts.settle(folder, [*self.added, *self.changed])
        rewritten = len(self.changed) + len(removed)
        if rewritten and rewritten >= min(TIDY_AFTER, max(1, len(self.known) // 4)):
            started = time.monotonic()
            await self.store.tidy_indexes()
            log.info(
                "search indexes merged after %d stories changed or removed (%.1f s)",
                rewritten,
                time.monotonic() - started,
            )
        order = {name: i for i, name in enumerate(sorted(self.present))}
        return IngestReport(
            added=tuple(sorted(self.added, key=order.__getitem__)),
            changed=tuple(sorted(self.changed, key=order.__getitem__)),
            removed=tuple(removed),
            unchanged=tuple(sorted(self.unchanged, key=order.__getitem__)),
            skipped=tuple(sorted(self.skipped, key=lambda s: order.get(s[0], 0))),
            warnings=tuple(self.warnings),
            files=tuple(sorted(self.read, key=lambda f: order[f.file])),
            not_read=tuple(not_read(self.folder, self.present)) if self.folder else (),
        )
