-- version 2: the persisted dedup index, the paragraphs it has seen, each article's configured source
CREATE TABLE dedup_state (name TEXT PRIMARY KEY, data BLOB NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE dedup_seen (paragraph_id TEXT PRIMARY KEY);
ALTER TABLE articles ADD COLUMN origin TEXT NOT NULL DEFAULT '';
CREATE INDEX articles_origin ON articles(origin);
