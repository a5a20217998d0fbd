-- presswatch store, schema version 1
CREATE TABLE articles (
    id TEXT PRIMARY KEY, url TEXT NOT NULL UNIQUE, canonical_url TEXT, title TEXT NOT NULL,
    source TEXT NOT NULL, published TEXT, author TEXT, date_source TEXT, declared_language TEXT,
    language TEXT, relevant INTEGER CHECK (relevant IN (0, 1)), topics TEXT NOT NULL DEFAULT '[]',
    day TEXT NOT NULL, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL,
    revision INTEGER NOT NULL CHECK (revision >= 1), content_hash TEXT NOT NULL
);
CREATE INDEX articles_day ON articles(day);
CREATE INDEX articles_published ON articles(published);
CREATE TABLE revisions (
    article_id TEXT NOT NULL REFERENCES articles(id), revision INTEGER NOT NULL,
    content_hash TEXT NOT NULL, title TEXT NOT NULL, seen_at TEXT NOT NULL,
    PRIMARY KEY (article_id, revision)
);
CREATE TABLE paragraphs (
    article_id TEXT NOT NULL REFERENCES articles(id), revision INTEGER NOT NULL,
    seq INTEGER NOT NULL, id TEXT NOT NULL, position INTEGER NOT NULL, section INTEGER NOT NULL,
    heading TEXT, text TEXT NOT NULL,
    PRIMARY KEY (article_id, revision, seq),
    FOREIGN KEY (article_id, revision) REFERENCES revisions(article_id, revision)
);
CREATE INDEX paragraphs_id ON paragraphs(id);
CREATE TABLE removals (
    article_id TEXT NOT NULL REFERENCES articles(id), revision INTEGER NOT NULL,
    seq INTEGER NOT NULL, text TEXT NOT NULL, reason TEXT NOT NULL, kept_id TEXT, similarity REAL,
    PRIMARY KEY (article_id, revision, seq),
    FOREIGN KEY (article_id, revision) REFERENCES revisions(article_id, revision)
);
CREATE TABLE classifications (
    paragraph_id TEXT PRIMARY KEY,
    label TEXT NOT NULL CHECK (label IN ('success', 'improvement', 'context')),
    score REAL NOT NULL CHECK (score BETWEEN 0 AND 1), cues TEXT NOT NULL DEFAULT '[]',
    model_version TEXT
);
CREATE TABLE facts (
    paragraph_id TEXT PRIMARY KEY, programmes TEXT NOT NULL DEFAULT '[]',
    figures TEXT NOT NULL DEFAULT '[]', quotes TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE paragraph_marks (
    id INTEGER PRIMARY KEY, paragraph_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('duplicate', 'figure_update', 'reported')),
    other_id TEXT, similarity REAL, at TEXT NOT NULL, detail TEXT
);
CREATE UNIQUE INDEX paragraph_marks_once
    ON paragraph_marks(paragraph_id, kind, coalesce(other_id, ''), coalesce(detail, ''));
CREATE TABLE stories (
    article_id TEXT PRIMARY KEY REFERENCES articles(id), story_id TEXT NOT NULL,
    canonical_id TEXT NOT NULL
);
CREATE INDEX stories_story ON stories(story_id);
CREATE TABLE failures (
    id INTEGER PRIMARY KEY, source TEXT NOT NULL, uri TEXT NOT NULL, stage TEXT NOT NULL,
    reason TEXT NOT NULL, at TEXT NOT NULL, last_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 1, resolved_at TEXT
);
CREATE UNIQUE INDEX failures_open ON failures(source, uri, stage, reason) WHERE resolved_at IS NULL;
CREATE INDEX failures_uri ON failures(uri) WHERE resolved_at IS NULL;
CREATE TABLE runs (id INTEGER PRIMARY KEY, started TEXT NOT NULL, finished TEXT, stats TEXT);
CREATE TABLE fetch_state (
    url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, content_hash TEXT, status INTEGER,
    fetched_at TEXT
);
