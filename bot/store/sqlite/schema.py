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
    # formats: story metadata columns. What EPUB and HTML downloads say of a story (the
    # Archive's fandoms, relationships, characters and tags as JSON arrays of strings, its
    # summary and language). Existing rows keep NULL, read as "none": a .txt story has none.
    """
    ALTER TABLE stories ADD COLUMN fandom TEXT;
    ALTER TABLE stories ADD COLUMN relationships TEXT;
    ALTER TABLE stories ADD COLUMN characters TEXT;
    ALTER TABLE stories ADD COLUMN tags TEXT;
    ALTER TABLE stories ADD COLUMN summary TEXT;
    ALTER TABLE stories ADD COLUMN language TEXT;
    """,
    # scene: scene passages for scene search (bot/store/scenes.py), apart from the paragraph
    # index of quote search: runs of whole paragraphs of one scene, about 1,250 characters
    # (the rule of bot.store.scenes.passages, in SQL: a scene of `total` characters makes
    # n = max(1, (total + 625) / 1250) passages; a paragraph starting `start` characters in
    # goes to passage start * n / total), indexed with the porter stemmer. The index keeps
    # no text: its content is the view scene_texts, read back from the paragraphs. Existing
    # stories are cut here, from their paragraphs; later writes cut their own.
    """
    CREATE TABLE scenes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        story_id INTEGER NOT NULL,
        chapter INTEGER NOT NULL,
        first_position INTEGER NOT NULL,
        last_position INTEGER NOT NULL
    );
    CREATE INDEX scenes_by_story ON scenes (story_id, first_position);
    CREATE VIEW scene_texts (id, text) AS
        SELECT s.id, (
            SELECT group_concat(t.text, char(10) || char(10))
            FROM paragraphs p JOIN texts t ON t.id = p.text_id
            WHERE p.story_id = s.story_id
            AND p.position BETWEEN s.first_position AND s.last_position
        ) FROM scenes s;
    CREATE VIRTUAL TABLE scenes_fts USING fts5 (
        text, content='scene_texts', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2'
    );
    INSERT INTO scenes (story_id, chapter, first_position, last_position)
        SELECT story_id, chapter, min(position), max(position) FROM (
            SELECT story_id, chapter, scene, position,
                (sum(len) OVER scene_rows - len) * max(1, (total + 625) / 1250) / total AS part
            FROM (
                SELECT p.story_id, p.chapter, p.scene, p.position, length(t.text) + 2 AS len,
                    sum(length(t.text) + 2)
                        OVER (PARTITION BY p.story_id, p.chapter, p.scene) AS total
                FROM paragraphs p JOIN texts t ON t.id = p.text_id
            )
            WINDOW scene_rows AS (PARTITION BY story_id, chapter, scene ORDER BY position)
        )
        GROUP BY story_id, chapter, scene, part
        ORDER BY story_id, min(position);
    INSERT INTO scenes_fts (scenes_fts) VALUES ('rebuild');
    """,
    # trust: story ids are never reused (a button naming a removed story must not open the
    # story added after it). story_ids.high is the highest story id ever given; the writer
    # gives new stories ids above it and raises it once per batch (bot/store/library.py).
    # (Not a trigger: a statement with a trigger opens a savepoint, and FTS5 flushes its
    # pending index at every savepoint: 3 ms per story written.)
    """
    CREATE TABLE story_ids (high INTEGER NOT NULL);
    INSERT INTO story_ids (high) SELECT coalesce(max(id), 0) FROM stories;
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
    # scene2: scene passage texts are indexed once, as paragraph texts are. A passage's text
    # is the run of paragraph texts it holds. Paragraph texts are shared by whole chapter
    # (a text id belongs to one chapter text, however many chapters hold it), so the run is
    # named by its first text id and its number of paragraphs: `scene_texts` (first_text,
    # paragraphs). Passages of a chapter stored twice have the same key and share one row
    # of `scene_texts` and of the index. Each passage (`scenes`) points at its text
    # (`scenes.text_id`); the index is over `scene_texts` and reads a text back through the
    # view `scene_bodies` (the paragraphs of a passage holding it, joined by blank lines),
    # so it still keeps no copy. AUTOINCREMENT: a scene text id is never reused (a search
    # never meets another text under an id it has just read). Existing passages keep their
    # places and ids; their keys are computed here from the paragraphs.
    """
    DROP TABLE scenes_fts;
    DROP VIEW scene_texts;
    CREATE TABLE scene_texts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        first_text INTEGER NOT NULL,
        paragraphs INTEGER NOT NULL,
        UNIQUE (first_text, paragraphs)
    );
    ALTER TABLE scenes ADD COLUMN text_id INTEGER;
    CREATE TEMP TABLE scene_keys AS
        SELECT s.id AS scene_id, p.text_id AS first_text,
            s.last_position - s.first_position + 1 AS paragraphs
        FROM scenes s JOIN paragraphs p
        ON p.story_id = s.story_id AND p.position = s.first_position;
    INSERT INTO scene_texts (first_text, paragraphs)
        SELECT first_text, paragraphs FROM temp.scene_keys
        GROUP BY first_text, paragraphs ORDER BY min(scene_id);
    UPDATE scenes SET text_id = (
        SELECT st.id FROM temp.scene_keys k JOIN scene_texts st
        ON st.first_text = k.first_text AND st.paragraphs = k.paragraphs
        WHERE k.scene_id = scenes.id
    );
    DROP TABLE temp.scene_keys;
    CREATE INDEX scenes_by_text ON scenes (text_id, story_id, first_position);
    CREATE VIEW scene_bodies (id, text) AS
        SELECT st.id, (
            SELECT group_concat(text, char(10) || char(10)) FROM (
                SELECT t.text FROM scenes s
                JOIN paragraphs p ON p.story_id = s.story_id
                AND p.position BETWEEN s.first_position AND s.last_position
                JOIN texts t ON t.id = p.text_id
                WHERE s.id = (SELECT o.id FROM scenes o WHERE o.text_id = st.id LIMIT 1)
                ORDER BY p.position
            )
        ) FROM scene_texts st;
    CREATE VIRTUAL TABLE scenes_fts USING fts5 (
        text, content='scene_bodies', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2'
    );
    INSERT INTO scenes_fts (scenes_fts) VALUES ('rebuild');
    """,
    # club: reading together (bot/store/clubs.py). A club is a channel's (one per channel);
    # its release is claimed by moving last_chapter on in one conditional UPDATE, so two
    # processes or a restart never post it twice. Members are the board (their progress is
    # read from reading_positions). Votes wait for their poll to close. Follows and the
    # chapter counts last seen of watched stories (followed, or read by a club) say when a
    # story grew. A removed story's follows, watch and clubs go with it.
    """
    CREATE TABLE clubs (
        channel_id INTEGER PRIMARY KEY,
        guild_id INTEGER NOT NULL,
        story_id INTEGER NOT NULL,
        every TEXT NOT NULL,
        weekday INTEGER NOT NULL,
        at TEXT NOT NULL,
        timezone TEXT NOT NULL,
        starting INTEGER NOT NULL,
        last_chapter INTEGER,
        released INTEGER NOT NULL DEFAULT 0,
        next_due TEXT,
        state TEXT NOT NULL,
        starter_id INTEGER NOT NULL,
        blocked TEXT
    ) WITHOUT ROWID;
    CREATE INDEX clubs_by_due ON clubs (state, next_due);
    CREATE INDEX clubs_by_story ON clubs (story_id);
    CREATE TABLE club_releases (
        channel_id INTEGER NOT NULL,
        chapter INTEGER NOT NULL,
        message_id INTEGER,
        thread_id INTEGER,
        released_at TEXT NOT NULL,
        PRIMARY KEY (channel_id, chapter)
    ) WITHOUT ROWID;
    CREATE TABLE club_members (
        channel_id INTEGER NOT NULL,
        user_id INTEGER NOT NULL,
        PRIMARY KEY (channel_id, user_id)
    ) WITHOUT ROWID;
    CREATE INDEX club_members_by_user ON club_members (user_id);
    CREATE TABLE club_managers (
        guild_id INTEGER PRIMARY KEY,
        role_id INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE club_votes (
        message_id INTEGER PRIMARY KEY,
        channel_id INTEGER NOT NULL,
        guild_id INTEGER NOT NULL,
        story_ids TEXT NOT NULL,
        ends_at TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE follows (
        user_id INTEGER NOT NULL,
        story_id INTEGER NOT NULL,
        channel_id INTEGER,
        PRIMARY KEY (user_id, story_id)
    ) WITHOUT ROWID;
    CREATE INDEX follows_by_story ON follows (story_id);
    CREATE TABLE story_watch (
        story_id INTEGER PRIMARY KEY,
        chapters INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TRIGGER clubs_forget_removed_story AFTER DELETE ON stories BEGIN
        DELETE FROM follows WHERE story_id = OLD.id;
        DELETE FROM story_watch WHERE story_id = OLD.id;
    END;
    """,
    # vectors: one embedding per scene text, made in the background after ingest by the scene
    # model (bot/search/vectors.py; SQL in bot/store/vectors.py): int8 bytes and one scale,
    # and the model's name, so vectors of another model are never compared with its own.
    # Keyed by scene text, so a passage held twice is embedded once; it goes with its text.
    """
    CREATE TABLE scene_vectors (
        text_id INTEGER PRIMARY KEY,
        model TEXT NOT NULL,
        scale REAL NOT NULL,
        vector BLOB NOT NULL
    );
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
