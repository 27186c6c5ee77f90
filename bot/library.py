"""The library: the one door through which the front ends (Discord cogs, CLI, console) reach
the core. Nothing in cogs/, bot/runtime.py, bot/cli.py or bot/console.py goes below it (the
import contract in pyproject.toml, checked by `make lint`, says so).

The door does no work of its own: it opens the store, builds the services over it and hands
each what it needs (the store, the catalogue), and decides scope (which stories a search may
look in). The services:

- ``catalogue`` (bot/catalogue.py): the stories, a story or chapter named, a chapter's pages;
- ``excerpts`` (bot/excerpts.py): random passages, a channel's shuffle, Continue reading;
- ``readers`` (bot/readers.py): page turns, places, bookmarks, the spoiler horizon;
- ``daily`` (bot/daily.py): the servers' daily schedules and the claims on each day's post;
- ``clubs`` (bot/clubs.py): reading together (clubs, their boards and votes) and followers;
- ``quotes`` and ``scenes`` (bot/search/): quote and scene search;
- ``admin`` (bot/library_admin.py): the host's reload, add and remove;
- ingest (bot/ingest/): the stories folder into the store.

Every entrance returns frozen dataclasses (or objects the Library hands out: its ``admin``)
and raises StoryBotError with a user-safe message. ``mature_ok`` says whether the asker may
see mature/explicit stories (an age-restricted channel, or the host's own terminal).
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from bot.catalogue import STORY_GONE, Catalogue, NoSuchStory, one_line
from bot.clubs import Clubs, Growth
from bot.daily import Daily
from bot.errors import StoryBotError
from bot.excerpts import Excerpts
from bot.hosts import migration_key
from bot.ingest import DEFAULT_MAX_STORY_BYTES as MAX_STORY
from bot.ingest import ingest
from bot.library_admin import LibraryAdmin
from bot.models import (
    IngestReport,
    Migration,
    Progress,
    Rating,
    ReaderData,
    SceneIndexStatus,
    SceneResult,
    SearchResult,
    Story,
)
from bot.readers import Readers
from bot.search import QuoteSearch, SceneSearch, query_words, tokens
from bot.search.vectors import SceneVectors
from bot.settings import DEFAULT_MAX_UPLOAD, DEFAULT_RATING, Settings
from bot.store import Store, open_store

__all__ = ["STORY_GONE", "Library", "NoSuchStory", "one_line"]

NO_WORDS = "Type a few words of the line you remember."
SPOILER_SCAN = 25  # hits looked at when some may be hidden as spoilers
NO_SCENE_WORDS = "Describe the scene in a few words: who is in it, where, what happens."


class Library:
    def __init__(
        self,
        store: Store,
        stories_dir: Path,
        max_story_bytes: int = MAX_STORY,
        *,
        max_upload_bytes: int = DEFAULT_MAX_UPLOAD,
        read_only: bool = False,
        vectors: SceneVectors | None = None,
        default_rating: Rating = DEFAULT_RATING,
    ) -> None:
        self.store = store  # for the library's own tests and tools; front ends use the methods
        self.stories_dir = stories_dir
        self.max_story_bytes = max_story_bytes
        self.read_only = read_only
        self.default_rating: Rating = default_rating  # DEFAULT_RATING: for stories nothing rates
        self.rng = random.Random()  # seeded by tests and screenshots that want one passage
        # The services, a group at a time, each group with the entrances it answers.
        self._open_catalogue()
        self._open_readers()
        self._open_daily()
        self._open_search(vectors)
        # the host's changes to the library (reload, add, remove), one at a time
        self.admin = LibraryAdmin(
            stories_dir,
            self.catalogue,
            self.ingest,
            store=store,
            max_upload_bytes=max_upload_bytes,
            max_story_bytes=max_story_bytes,
            read_only=read_only,
        )

    def _open_catalogue(self) -> None:
        """The stories, a story or chapter named, pages; and excerpts drawn from them."""
        self.catalogue = catalogue = Catalogue(self.store)
        self.stories = catalogue.stories
        self.find_story = catalogue.find_story
        self.suggest = catalogue.suggest
        self.chapter = catalogue.chapter
        self.pages = catalogue.pages
        self.excerpts = excerpts = Excerpts(
            self.store, catalogue, self.rng, read_only=self.read_only
        )
        self.excerpt = excerpts.excerpt
        self.excerpt_pool = excerpts.excerpt_pool
        self.continue_after = excerpts.continue_after

    def _open_readers(self) -> None:
        """Page turns, places and bookmarks; and the clubs, which read the readers' places."""
        self.readers = readers = Readers(self.store, self.catalogue, read_only=self.read_only)
        self.turn_page = readers.turn_page
        self.record_reading = readers.record_reading
        self.record_place = readers.record_place
        self.readers_settled = readers.settled
        self.reading_place = readers.reading_place
        self.add_bookmark = readers.add_bookmark
        self.bookmarks = readers.bookmarks
        self.bookmark_place = readers.bookmark_place
        self.remove_bookmark = readers.remove_bookmark
        self.clubs = Clubs(self.store, self.catalogue, readers.settled)

    def _open_daily(self) -> None:
        """The servers' daily schedules and the claims on each day's post."""
        self.daily = daily = Daily(self.store, self.find_story)
        self.daily_story = daily.named_story
        self.daily_schedule = daily.schedule
        self.daily_schedules = daily.schedules
        self.set_daily_schedule = daily.set_schedule
        self.delete_daily_schedule = daily.delete_schedule
        self.claim_daily_post = daily.claim_post
        self.release_daily_post = daily.release_post

    def _open_search(self, vectors: SceneVectors | None) -> None:
        """Quote and scene search (the door scopes them: see ``quote`` and ``scene``)."""
        self.quotes = QuoteSearch(self.store)
        # the scene index by meaning, built in the background (SCENE_MODEL=off: none)
        self.vectors = vectors or SceneVectors(self.store, "off")
        self.scenes = SceneSearch(self.store, self.vectors)

    @classmethod
    async def open(cls, settings: Settings, *, check: bool = False) -> Library:
        """``check``: a process starting to serve or ingest checks the store first (open_store)."""
        store = await open_store(
            settings.db_path,
            url=settings.database_url,
            pool_size=settings.database_pool_size,
            read_only=settings.read_only,
            check=check,
        )
        return cls(
            store,
            settings.stories_dir,
            settings.max_story_bytes,
            max_upload_bytes=settings.max_upload_bytes,
            read_only=settings.read_only,
            vectors=SceneVectors(
                store,
                settings.scene_model,
                settings.scene_vectors_mb,
                settings.scene_index_cpu / 100,
            ),
            default_rating=settings.default_rating,
        )

    async def close(self) -> None:
        await self.vectors.stop()
        await self.readers.flush()  # the places not written yet: one more try
        await self.store.close()

    async def backup(self, target: Path, *, overwrite: bool = False) -> None:
        """A consistent copy of the database while it is in use (SQLite's backup API); an
        existing file is replaced only when ``overwrite``."""
        await self.store.backup(target, overwrite=overwrite)

    @staticmethod
    async def migrate(
        settings: Settings,
        url: str,
        *,
        host: str | None = None,
        force: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> Migration:
        """Copy the SQLite library at DATABASE_PATH into the PostgreSQL database at ``url``
        (``storybot migrate --to URL --stories DIR``): each table's rows, counted on both
        sides, and the host key its stories were given (STORIES_DIR on this machine, or on
        the machine named ``host``)."""
        if not url.startswith(("postgresql://", "postgres://")):
            raise StoryBotError("--to must be a PostgreSQL URL: postgresql://user:password@host/db")
        key = migration_key(settings.stories_dir, host)
        from bot.store.migrate import copy_library  # asyncpg only when it is wanted

        tables = await copy_library(settings.db_path, url, host=key, force=force, progress=progress)
        return Migration(key, tuple(tables))

    async def ingest(
        self, *, allow_empty: bool = False, on_progress: Callable[[Progress], None] | None = None
    ) -> IngestReport:
        """Rescan the stories folder; an empty folder empties the library only if allowed."""
        async with self.store.exclusive_ingest():  # one host at a time on a shared store
            report = await ingest(
                self.store,
                self.stories_dir,
                max_bytes=self.max_story_bytes,
                allow_empty=allow_empty,
                on_progress=on_progress,
                default_rating=self.default_rating,
            )
        self._forget_stories()
        self.clubs.ingested()  # followers may have news
        self.vectors.invalidate()
        if self.vectors.started and report.touched:
            await self.start_scene_index()  # the new passages get vectors too
        return report

    async def start_scene_index(self) -> None:
        """Embed the passages that have no vector yet, in the background (search/vectors.py)."""
        if not self.read_only:
            self.vectors.start(functools.partial(self.stories, mature_ok=True))

    async def build_scene_index(
        self, on_batch: Callable[[int, int], None] | None = None
    ) -> SceneIndexStatus:
        """Embed the passages that have no vector yet here and now, on all of one core (the
        `ingest --vectors` command); what is committed stays if it is stopped."""
        self.vectors.on_batch = on_batch
        self.vectors.cpu = 1.0
        await self.vectors.build(await self.stories(mature_ok=True))
        return await self.scene_index_status()

    async def scene_index_status(self) -> SceneIndexStatus:
        return await self.vectors.status(await self.stories(mature_ok=True))

    def _forget_stories(self) -> None:
        self.catalogue.forget()
        self.excerpts.forget()

    # ---- what is kept about a reader: the readers' and the clubs' ----------------------

    async def reader_data(self, reader: int) -> ReaderData:
        return await self.clubs.kept_about(reader, await self.readers.reader_data(reader))

    async def forget_reader(self, reader: int, dm_channel: int | None = None) -> ReaderData:
        """Delete everything kept about ``reader`` (places, bookmarks, clubs, follows, what
        their DM channel with the bot was shown)."""
        gone = await self.readers.forget_reader(reader, dm_channel)
        return await self.clubs.forget(reader, gone)

    async def story_growth(self) -> list[Growth]:
        """Followed (or club-read) stories that gained chapters since last seen (whichever
        process ingested), each claimed so that it is told once."""
        return await self.clubs.growth(self._forget_stories)

    # ---- search: the door decides which stories a search looks in -----------------------

    async def check_quote(
        self, text: str, story: str | int | None = None, *, mature_ok: bool
    ) -> Story | None:
        """What can be refused before a search runs: a query with no words, a story that
        cannot be searched here. Returns the story to hand to ``quote`` (found once)."""
        if not tokens(text):
            raise StoryBotError(NO_WORDS)
        return None if story is None else await self.find_story(story, mature_ok=mature_ok)

    async def quote(
        self,
        text: str,
        story: str | int | Story | None = None,
        *,
        mature_ok: bool,
        limit: int = 5,
        context: bool = False,
        reader: int | None = None,
    ) -> SearchResult:
        """Find a line; ``context`` adds the paragraphs before and after each hit.

        With a ``reader``, only what they have read is shown (the chapters up to their
        furthest place in each story); ``hidden`` counts the matches left out."""
        scope, every = await self._scope(story, mature_ok=mature_ok)
        limit = max(1, min(limit, 25))
        named = scope[0] if story is not None else None  # a "no match" names it
        if reader is None:
            found = await self.quotes.find(text, scope, every=every, limit=limit, context=context)
            return replace(found, story=named)
        found = await self.quotes.find(
            text, scope, every=every, limit=max(limit, SPOILER_SCAN), context=context
        )
        return replace(await self.readers.unspoiled(found, reader, limit), story=named)

    async def check_scene(
        self, text: str, story: str | int | None = None, *, mature_ok: bool
    ) -> Story | None:
        """What can be refused before a scene search runs: a description with no words, a
        story that cannot be searched here. Returns the story to hand to ``scene``."""
        if not query_words(text)[0]:
            raise StoryBotError(NO_SCENE_WORDS)
        return None if story is None else await self.find_story(story, mature_ok=mature_ok)

    async def scene(
        self,
        text: str,
        story: str | int | Story | None = None,
        *,
        mature_ok: bool,
        limit: int = 3,
    ) -> SceneResult:
        """The passages that best fit a description of a scene, each labelled by how sure."""
        scope, every = await self._scope(story, mature_ok=mature_ok)
        limit = max(1, min(limit, 25))
        found = await self.scenes.find(text, scope, limit, every=every, one_story=story is not None)
        return replace(found, story=scope[0] if story is not None else None)

    async def _scope(
        self, story: str | int | Story | None, *, mature_ok: bool
    ) -> tuple[list[Story], bool]:
        """The stories a search looks in (the one named, or every one that may be shown
        here), and whether they are the whole library."""
        if story is not None:
            scope = [await self.find_story(story, mature_ok=mature_ok)]
        else:
            scope = await self.stories(mature_ok=mature_ok)
        return scope, await self.catalogue.every(scope)

    async def warm(self) -> None:
        """Load what search keeps in memory now, so the first /quote does not wait for it."""
        await self.quotes.warm()
        await self.scenes.warm()
