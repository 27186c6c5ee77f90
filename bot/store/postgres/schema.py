"""The PostgreSQL schema, versioned in table ``storybot_schema``. Each step upgrades by one.

The same tables as the SQLite engine (bot/store/sqlite/schema.py), in PostgreSQL's terms:
ids from sequences (never reused: buttons on old messages hold them); texts and scene texts
carry their own ``tsvector`` (cut by bot/store/postgres/tokens.py) with a GIN index, their
number of tokens, and the index statistics BM25 needs kept beside them (``terms``,
``scene_terms``: how many documents hold each lexeme; ``index_stats``: documents and
tokens in all), so ranking a bounded candidate set never scans the index; ``texts_banded``
indexes the texts again by bands of ids (quote search reads it a band at a time). ``uploads``
holds the story files added through Discord, so every host serves them; ``stories.host``
and ``removals`` let each host's ingest touch only what is its own (bot/hosts.py).
"""

from __future__ import annotations

# The text ids where a band of the banded text index ends (step 3 -> 4): 2**14, 2**15, ...
# 2**40. A text's band is how many of them are at most its id. Never changed: the index of
# every database holds the bands they gave.
BAND_EDGES = "{" + ",".join(str(2**k) for k in range(14, 41)) + "}"
BAND_LEXEME_BYTES = 2000  # longer lexemes are left out of the banded index (tsvector: 2046)

# Index i of MIGRATIONS upgrades a database from version i to i + 1.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE stories (
        id BIGINT PRIMARY KEY,
        file TEXT NOT NULL UNIQUE,
        slug TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        author TEXT,
        rating TEXT NOT NULL DEFAULT 'general',
        url TEXT,
        words INTEGER NOT NULL,
        paragraph_count INTEGER NOT NULL,
        size BIGINT NOT NULL,
        mtime_ns BIGINT NOT NULL,
        hash TEXT NOT NULL,
        meta_hash TEXT NOT NULL,
        fandom TEXT,
        relationships TEXT,
        characters TEXT,
        tags TEXT,
        summary TEXT,
        language TEXT
    );
    CREATE SEQUENCE story_ids;
    CREATE TABLE chapters (
        story_id BIGINT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
        number INTEGER NOT NULL,
        label TEXT NOT NULL,
        words INTEGER NOT NULL,
        note TEXT,
        first_position INTEGER NOT NULL,
        last_position INTEGER NOT NULL,
        text_hash BYTEA,
        PRIMARY KEY (story_id, number)
    );
    CREATE INDEX chapters_by_text ON chapters (text_hash);
    CREATE TABLE texts (
        id BIGINT PRIMARY KEY,
        text TEXT NOT NULL,
        tokens INTEGER NOT NULL,
        tsv TSVECTOR NOT NULL
    );
    CREATE SEQUENCE text_ids;
    CREATE INDEX texts_tsv ON texts USING gin (tsv);
    CREATE TABLE paragraphs (
        id BIGINT PRIMARY KEY,
        story_id BIGINT NOT NULL,
        chapter INTEGER NOT NULL,
        position INTEGER NOT NULL,
        scene INTEGER NOT NULL,
        text_id BIGINT NOT NULL
    );
    CREATE SEQUENCE paragraph_ids;
    CREATE UNIQUE INDEX paragraphs_by_position ON paragraphs (story_id, position);
    CREATE INDEX paragraphs_by_text ON paragraphs (text_id, story_id);
    CREATE TABLE scene_texts (
        id BIGINT PRIMARY KEY,
        first_text BIGINT NOT NULL,
        paragraphs INTEGER NOT NULL,
        tokens INTEGER NOT NULL,
        tsv TSVECTOR NOT NULL,
        UNIQUE (first_text, paragraphs)
    );
    CREATE SEQUENCE scene_text_ids;
    CREATE INDEX scene_texts_tsv ON scene_texts USING gin (tsv);
    CREATE TABLE scenes (
        id BIGINT PRIMARY KEY,
        story_id BIGINT NOT NULL,
        chapter INTEGER NOT NULL,
        first_position INTEGER NOT NULL,
        last_position INTEGER NOT NULL,
        text_id BIGINT NOT NULL
    );
    CREATE SEQUENCE scene_ids;
    CREATE INDEX scenes_by_story ON scenes (story_id, first_position);
    CREATE INDEX scenes_by_text ON scenes (text_id, story_id, first_position);
    CREATE TABLE terms (term TEXT PRIMARY KEY, docs INTEGER NOT NULL);
    CREATE TABLE scene_terms (term TEXT PRIMARY KEY, docs INTEGER NOT NULL);
    CREATE TABLE index_stats (
        name TEXT PRIMARY KEY,
        docs BIGINT NOT NULL,
        tokens BIGINT NOT NULL
    );
    INSERT INTO index_stats VALUES ('texts', 0, 0), ('scene_texts', 0, 0);
    CREATE TABLE library_version (version BIGINT NOT NULL);
    INSERT INTO library_version VALUES (0);
    CREATE TABLE uploads (
        file TEXT PRIMARY KEY,
        data BYTEA NOT NULL,
        added TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE TABLE daily_schedules (
        guild_id BIGINT PRIMARY KEY,
        channel_id BIGINT NOT NULL,
        time TEXT NOT NULL,
        timezone TEXT NOT NULL DEFAULT 'UTC',
        story_file TEXT,
        last_posted TEXT
    );
    CREATE TABLE reading_positions (
        user_id BIGINT NOT NULL,
        story_id BIGINT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
        chapter INTEGER NOT NULL,
        position INTEGER NOT NULL,
        furthest INTEGER NOT NULL,
        turn BIGINT NOT NULL,
        PRIMARY KEY (user_id, story_id)
    );
    CREATE SEQUENCE reading_turns;
    CREATE INDEX reading_positions_by_story ON reading_positions (story_id);
    CREATE TABLE bookmarks (
        id BIGSERIAL PRIMARY KEY,
        user_id BIGINT NOT NULL,
        story_id BIGINT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
        chapter INTEGER NOT NULL,
        position INTEGER NOT NULL,
        words TEXT NOT NULL
    );
    CREATE INDEX bookmarks_by_user ON bookmarks (user_id, id);
    CREATE INDEX bookmarks_by_story ON bookmarks (story_id);
    CREATE TABLE excerpt_shuffles (
        channel_id BIGINT NOT NULL,
        story_id BIGINT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
        scope TEXT NOT NULL,
        seed BIGINT NOT NULL,
        size INTEGER NOT NULL,
        used INTEGER NOT NULL,
        PRIMARY KEY (channel_id, story_id, scope)
    );
    CREATE INDEX excerpt_shuffles_by_story ON excerpt_shuffles (story_id);
    """,
    # clubs and vectors: reading together (bot/store/postgres/clubs.py) and the scene model's
    # vectors (bot/store/postgres/vectors.py), as in the SQLite engine's steps "club" and
    # "vectors". Times are TIMESTAMPTZ; a vote's stories a BIGINT[]. A removed story's follows
    # and watch go with it (ON DELETE CASCADE, where SQLite has a trigger); its clubs stay
    # until bot/clubs.py ends them. A vector goes with its scene text (ON DELETE CASCADE).
    """
    CREATE TABLE clubs (
        channel_id BIGINT PRIMARY KEY,
        guild_id BIGINT NOT NULL,
        story_id BIGINT NOT NULL,
        every TEXT NOT NULL,
        weekday INTEGER NOT NULL,
        at TEXT NOT NULL,
        timezone TEXT NOT NULL,
        starting INTEGER NOT NULL,
        last_chapter INTEGER,
        released INTEGER NOT NULL DEFAULT 0,
        next_due TIMESTAMPTZ,
        state TEXT NOT NULL,
        starter_id BIGINT NOT NULL,
        blocked TEXT
    );
    CREATE INDEX clubs_by_due ON clubs (state, next_due);
    CREATE INDEX clubs_by_story ON clubs (story_id);
    CREATE TABLE club_releases (
        channel_id BIGINT NOT NULL,
        chapter INTEGER NOT NULL,
        message_id BIGINT,
        thread_id BIGINT,
        released_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (channel_id, chapter)
    );
    CREATE TABLE club_members (
        channel_id BIGINT NOT NULL,
        user_id BIGINT NOT NULL,
        PRIMARY KEY (channel_id, user_id)
    );
    CREATE INDEX club_members_by_user ON club_members (user_id);
    CREATE TABLE club_managers (
        guild_id BIGINT PRIMARY KEY,
        role_id BIGINT NOT NULL
    );
    CREATE TABLE club_votes (
        message_id BIGINT PRIMARY KEY,
        channel_id BIGINT NOT NULL,
        guild_id BIGINT NOT NULL,
        story_ids BIGINT[] NOT NULL,
        ends_at TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE follows (
        user_id BIGINT NOT NULL,
        story_id BIGINT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
        channel_id BIGINT,
        PRIMARY KEY (user_id, story_id)
    );
    CREATE INDEX follows_by_story ON follows (story_id);
    CREATE TABLE story_watch (
        story_id BIGINT PRIMARY KEY REFERENCES stories (id) ON DELETE CASCADE,
        chapters INTEGER NOT NULL
    );
    CREATE TABLE scene_vectors (
        text_id BIGINT PRIMARY KEY REFERENCES scene_texts (id) ON DELETE CASCADE,
        model TEXT NOT NULL,
        scale DOUBLE PRECISION NOT NULL,
        vector BYTEA NOT NULL
    );
    """,
    # 2 -> 3: several hosts. An upload keeps its size and hash, and is marked removed rather
    # than deleted; each story knows the host whose folder last held its file ("upload" for
    # an upload); a story removed with /library remove is remembered by its file and bytes.
    """
    ALTER TABLE uploads ADD COLUMN size BIGINT NOT NULL DEFAULT 0;
    ALTER TABLE uploads ADD COLUMN hash TEXT NOT NULL DEFAULT '';
    ALTER TABLE uploads ADD COLUMN removed TIMESTAMPTZ;
    ALTER TABLE stories ADD COLUMN host TEXT NOT NULL DEFAULT '';
    CREATE TABLE removals (
        file TEXT PRIMARY KEY,
        hash TEXT NOT NULL,
        removed TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    """,
    # 3 -> 4: the text index again, in bands of text ids, for quote search's stages over the
    # whole library (bot/store/postgres/search.py, banded_source): each lexeme of a text is
    # prefixed with its band ("2:door"), so a search reads the postings of one band at a time,
    # the lowest first, and stops once it has found enough, where GIN reads a word's whole
    # posting list. Each band is twice the one before (BAND_EDGES): a library of N texts has
    # about log2(N / 16384) of them. Only pg_catalog's functions, named in full: an index
    # expression is also evaluated by VACUUM, ANALYZE and pg_restore, whatever search_path.
    f"""
    CREATE FUNCTION storybot_banded(tsv TSVECTOR, id BIGINT) RETURNS TSVECTOR
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$SELECT pg_catalog.array_to_tsvector(ARRAY(
            SELECT pg_catalog.width_bucket(id, '{BAND_EDGES}'::bigint[])::text || ':' || w
            FROM pg_catalog.unnest(pg_catalog.tsvector_to_array(tsv)) AS u(w)
            WHERE pg_catalog.octet_length(w) <= {BAND_LEXEME_BYTES}))$$;
    CREATE INDEX texts_banded ON texts USING gin (storybot_banded(tsv, id));
    """,
    # 4 -> 5: a tsvector kept in its row (STORAGE MAIN: out of line only when the row would
    # not fit in a page; a text's words go out of line first), compressed with lz4 where the
    # server has it. A phrase is checked on the tsvectors of the texts GIN finds, thousands
    # for a query of common words: each one stored out of line was a TOAST index lookup and
    # a few more pages read (docs/speed.md). For rows written from now on: a row stored
    # before keeps its layout, and answers the same.
    """
    ALTER TABLE texts ALTER COLUMN tsv SET STORAGE MAIN;
    ALTER TABLE scene_texts ALTER COLUMN tsv SET STORAGE MAIN;
    DO $$BEGIN
        ALTER TABLE texts ALTER COLUMN tsv SET COMPRESSION lz4;
        ALTER TABLE scene_texts ALTER COLUMN tsv SET COMPRESSION lz4;
    EXCEPTION WHEN feature_not_supported THEN NULL;
    END$$;
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
