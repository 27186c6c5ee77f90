"""The database schema, versioned with PRAGMA user_version. Each step upgrades by one."""

from __future__ import annotations

# Index i of MIGRATIONS upgrades a database from user_version i to i + 1.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE stories (
        id INTEGER PRIMARY KEY,
        file TEXT NOT NULL UNIQUE,
        slug TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        author TEXT,
        rating TEXT NOT NULL DEFAULT 'general',
        url TEXT,
        words INTEGER NOT NULL,
        paragraph_count INTEGER NOT NULL,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        hash TEXT NOT NULL,
        meta_hash TEXT NOT NULL
    );
    CREATE TABLE chapters (
        story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
        number INTEGER NOT NULL,
        label TEXT NOT NULL,
        words INTEGER NOT NULL,
        note TEXT,
        first_position INTEGER NOT NULL,
        last_position INTEGER NOT NULL,
        PRIMARY KEY (story_id, number)
    ) WITHOUT ROWID;
    CREATE TABLE paragraphs (
        id INTEGER PRIMARY KEY,
        story_id INTEGER NOT NULL,
        chapter INTEGER NOT NULL,
        position INTEGER NOT NULL,
        scene INTEGER NOT NULL,
        text TEXT NOT NULL
    );
    CREATE UNIQUE INDEX paragraphs_by_position ON paragraphs (story_id, position);
    CREATE VIRTUAL TABLE paragraphs_fts USING fts5 (
        text, content='paragraphs', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2'
    );
    """,
    # 1 -> 2: per-server settings that must survive a restart (the daily excerpt).
    """
    CREATE TABLE daily_schedules (
        guild_id INTEGER PRIMARY KEY,
        channel_id INTEGER NOT NULL,
        time TEXT NOT NULL,
        timezone TEXT NOT NULL DEFAULT 'UTC',
        story_file TEXT,
        last_posted TEXT
    ) WITHOUT ROWID;
    """,
    # 2 -> 3: paragraph texts move to `texts`, indexed there, and paragraphs point at theirs,
    # so a chapter stored twice (the same story filed twice, a chapter posted in two stories)
    # is stored and indexed once: a chapter whose text (text_hash) is already stored takes
    # the same texts. Rows are converted in place, one text per paragraph, so nothing is
    # lost; every story is then marked changed so the next ingest reads it again and shares
    # what it can (under the same story id: buttons on old messages hold story ids).
    # AUTOINCREMENT: a text id is never reused, so a search cannot meet another text under
    # an id it has just read.
    """
    DROP TABLE paragraphs_fts;
    CREATE TABLE texts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        text TEXT NOT NULL
    );
    INSERT INTO texts (id, text) SELECT id, text FROM paragraphs;
    CREATE TABLE paragraphs_v3 (
        id INTEGER PRIMARY KEY,
        story_id INTEGER NOT NULL,
        chapter INTEGER NOT NULL,
        position INTEGER NOT NULL,
        scene INTEGER NOT NULL,
        text_id INTEGER NOT NULL
    );
    INSERT INTO paragraphs_v3 (id, story_id, chapter, position, scene, text_id)
        SELECT id, story_id, chapter, position, scene, id FROM paragraphs;
    DROP TABLE paragraphs;
    ALTER TABLE paragraphs_v3 RENAME TO paragraphs;
    CREATE UNIQUE INDEX paragraphs_by_position ON paragraphs (story_id, position);
    CREATE INDEX paragraphs_by_text ON paragraphs (text_id, story_id);
    ALTER TABLE chapters ADD COLUMN text_hash BLOB;
    CREATE INDEX chapters_by_text ON chapters (text_hash);
    CREATE VIRTUAL TABLE texts_fts USING fts5 (
        text, content='texts', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2'
    );
    INSERT INTO texts_fts (texts_fts) VALUES ('rebuild');
    UPDATE stories SET hash = '', meta_hash = '';
    """,
    # readers: per-reader state, keyed by Discord user id (reading positions, bookmarks), and
    # each channel's excerpt shuffle (which passages of a story it has been shown). A story's
    # rows go with it (the trigger), so nothing is kept about a story the library no longer
    # has; a story changed in place keeps its id, and its readers keep their places.
    """
    CREATE TABLE reading_positions (
        user_id INTEGER NOT NULL,
        story_id INTEGER NOT NULL,
        chapter INTEGER NOT NULL,
        position INTEGER NOT NULL,
        furthest INTEGER NOT NULL,
        turn INTEGER NOT NULL,
        PRIMARY KEY (user_id, story_id)
    ) WITHOUT ROWID;
    CREATE INDEX reading_positions_by_story ON reading_positions (story_id);
    CREATE TABLE bookmarks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id INTEGER NOT NULL,
        story_id INTEGER NOT NULL,
        chapter INTEGER NOT NULL,
        position INTEGER NOT NULL,
        words TEXT NOT NULL
    );
    CREATE INDEX bookmarks_by_user ON bookmarks (user_id, id);
    CREATE INDEX bookmarks_by_story ON bookmarks (story_id);
    CREATE TABLE excerpt_shuffles (
        channel_id INTEGER NOT NULL,
        story_id INTEGER NOT NULL,
        scope TEXT NOT NULL,
        seed INTEGER NOT NULL,
        size INTEGER NOT NULL,
        used INTEGER NOT NULL,
        PRIMARY KEY (channel_id, story_id, scope)
    ) WITHOUT ROWID;
    CREATE INDEX excerpt_shuffles_by_story ON excerpt_shuffles (story_id);
    CREATE TRIGGER readers_forget_removed_story AFTER DELETE ON stories BEGIN
        DELETE FROM reading_positions WHERE story_id = OLD.id;
        DELETE FROM bookmarks WHERE story_id = OLD.id;
        DELETE FROM excerpt_shuffles WHERE story_id = OLD.id;
    END;
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
