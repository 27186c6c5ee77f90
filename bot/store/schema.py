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
    # 2 -> 3: each distinct paragraph text is stored and indexed once, in `texts`; paragraphs
    # point at theirs. A library that holds a passage many times (a story filed twice, a song
    # quoted in several stories) then costs the search index one entry, not one per copy.
    # The story files are the source of the text, so the paragraphs are not converted here:
    # every story is marked changed and the next ingest (at start-up) reads it again, under
    # the same story id (buttons on old messages hold story ids).
    """
    DROP TABLE paragraphs_fts;
    DROP TABLE paragraphs;
    UPDATE stories SET hash = '', meta_hash = '';
    CREATE TABLE texts (
        id INTEGER PRIMARY KEY,
        hash INTEGER NOT NULL,
        text TEXT NOT NULL
    );
    CREATE INDEX texts_by_hash ON texts (hash);
    CREATE TABLE paragraphs (
        id INTEGER PRIMARY KEY,
        story_id INTEGER NOT NULL,
        chapter INTEGER NOT NULL,
        position INTEGER NOT NULL,
        scene INTEGER NOT NULL,
        text_id INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX paragraphs_by_position ON paragraphs (story_id, position);
    CREATE INDEX paragraphs_by_text ON paragraphs (text_id, story_id);
    CREATE VIRTUAL TABLE texts_fts USING fts5 (
        text, content='texts', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2'
    );
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
