"""The SQLite store: articles and their revisions, paragraphs, labels, facts, failures, runs.

Schema (version 2, ``PRAGMA user_version``; the SQL scripts of ``data/schema/`` upgrade it step
by step):

    articles         one row per URL: metadata of the current revision, ``day`` (published date,
                     else first-seen date) for period queries, ``revision``, ``content_hash``
    revisions        (article_id, revision): content hash, title, when it was seen
    paragraphs       (article_id, revision, seq): paragraph id, position, section, heading, text
    removals         (article_id, revision, seq): text taken out by cleaning, reason, kept id
    classifications  paragraph_id -> label, score, cues, model version (latest wins)
    facts            paragraph_id -> programmes, figures, quotes
    paragraph_marks  paragraph_id, kind ('duplicate' | 'figure_update' | 'reported'), other_id,
                     similarity, at, detail; idempotent
    stories          article_id -> story_id, canonical_id  (marks, stories, index: store_corpus.py)
    failures         source, uri, stage, reason, first and last time (at, last_at), attempts,
                     resolved_at; one open row per (source, uri, stage, reason)
    runs             started, finished, stats
    fetch_state      url -> etag, last_modified, content_hash, status, fetched_at  (store_log.py)
    dedup_state      (version 2) the persisted near-duplicate index, one blob
    dedup_seen       (version 2) paragraph ids already through the corpus-level dedup;
                     articles.origin (version 2): the configured source an article came from

Nothing is deleted: a changed article becomes a new revision, earlier paragraphs stay. Every
write is one ``BEGIN IMMEDIATE`` transaction. Timestamps are stored as ISO 8601 text exactly as
given (pass aware datetimes); a timestamp's calendar day is the day it shows.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from presswatch.errors import StoreError
from presswatch.models import Article, Classification, ParagraphFacts, Period
from presswatch.store_corpus import CorpusState
from presswatch.store_log import SourceLog, iso_text, utc_now
from presswatch.stored import FetchState, Mark, StoredArticle, assemble

__all__ = ["FetchState", "Mark", "SCHEMA_VERSION", "Store", "StoredArticle", "open_store"]

SaveStatus = Literal["new", "unchanged", "revised"]

@cache


def _migrations() -> tuple[str, ...]:
    """The SQL scripts of ``data/schema/``, in order; script i upgrades version i to i + 1."""
    folder = resources.files("presswatch") / "data" / "schema"
    names = sorted(f.name for f in folder.iterdir() if f.name.endswith(".sql"))
    return tuple((folder / name).read_text(encoding="utf-8") for name in names)


SCHEMA_VERSION = 2


def open_store(path: Path) -> Store:
    """Open (creating if needed) the database at ``path`` and bring its schema up to date."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"cannot open store {path}: {exc}") from exc
    try:
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        _migrate(conn, path)
    except BaseException as exc:
        conn.close()
        if isinstance(exc, sqlite3.Error):
            raise StoreError(f"cannot open store {path}: {exc}") from exc
        raise
    return Store(conn, path)


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"store {path} has schema version {version}; this presswatch knows up to {SCHEMA_VERSION}"
        )
    for number in range(version, SCHEMA_VERSION):
        try:
            conn.executescript(
                f"BEGIN IMMEDIATE;\n{_migrations()[number]}\nPRAGMA user_version = {number + 1};\nCOMMIT;"
            )
        except sqlite3.Error:
            if conn.in_transaction:
                conn.rollback()
            raise


class Store(SourceLog, CorpusState):
    """A presswatch database; use ``open_store`` to get one, close it (or use ``with``)."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self._lock = threading.RLock()
        self.path = path

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"store {self.path} is not writable: {exc}") from exc
            try:
                yield self._conn
            except BaseException as exc:
                self._conn.rollback()
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(f"write to {self.path} failed and was rolled back: {exc}") from exc
                raise
            self._conn.commit()

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"query on {self.path} failed: {exc}") from exc

    def save_article(
        self,
        article: Article,
        classifications: Iterable[Classification] = (),
        facts: Iterable[ParagraphFacts] = (),
        *,
        seen_at: datetime | None = None,
        uri: str | None = None,
        model_version: str | None = None,
    ) -> SaveStatus:
        """Save an article, its labels and facts in one transaction; say what changed.

        Same URL and same content hash: 'unchanged' (only last_seen and metadata move).
        Same URL, new content: 'revised', a new revision whose paragraphs become current.
        Open failures for the article's URL, canonical URL and ``uri`` are marked resolved.
        """
        seen = iso_text(seen_at or utc_now())
        labels, found = list(classifications), list(facts)
        known = {p.id for p in article.paragraphs}
        stray = sorted(({c.paragraph_id for c in labels} | {f.paragraph_id for f in found}) - known)
        if stray:
            raise StoreError(f"{article.url}: labels or facts for unknown paragraphs {stray[:3]}")
        content_hash = article.content_hash
        with self._write() as conn:
            row = conn.execute(
                "SELECT revision, content_hash, first_seen FROM articles WHERE id = ?", (article.id,)
            ).fetchone()
            if row is None:
                status, revision, first_seen = "new", 1, seen
            elif row["content_hash"] == content_hash:
                status, revision, first_seen = "unchanged", row["revision"], row["first_seen"]
            else:
                status, revision, first_seen = "revised", row["revision"] + 1, row["first_seen"]
            day = iso_text(article.published) or str(first_seen)[:10]
            conn.execute(
                "INSERT INTO articles (id, url, canonical_url, title, source, published, author,"
                " date_source, declared_language, language, relevant, topics, day, first_seen,"
                " last_seen, revision, content_hash, origin) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT(id) DO UPDATE SET canonical_url=excluded.canonical_url,"
                " title=excluded.title, source=excluded.source, published=excluded.published,"
                " author=excluded.author, date_source=excluded.date_source,"
                " declared_language=excluded.declared_language, language=excluded.language,"
                " relevant=excluded.relevant, topics=excluded.topics, day=excluded.day,"
                " last_seen=excluded.last_seen, revision=excluded.revision,"
                " content_hash=excluded.content_hash, origin=excluded.origin",
                (
                    article.id, article.url, article.canonical_url, article.title, article.source,
                    iso_text(article.published), article.author, article.date_source,
                    article.declared_language, article.language,
                    None if article.relevant is None else int(article.relevant),
                    json.dumps(list(article.topics), ensure_ascii=False), day, first_seen, seen,
                    revision, content_hash, article.origin,
                ),
            )
            if status != "unchanged":
                self._insert_revision(conn, article, revision, seen)
            conn.executemany(
                "INSERT INTO classifications (paragraph_id, label, score, cues, model_version)"
                " VALUES (?,?,?,?,?) ON CONFLICT(paragraph_id) DO UPDATE SET label=excluded.label,"
                " score=excluded.score, cues=excluded.cues, model_version=excluded.model_version",
                [(c.paragraph_id, c.label, c.score, _json(c.cues), model_version) for c in labels],
            )
            conn.executemany(
                "INSERT INTO facts (paragraph_id, programmes, figures, quotes) VALUES (?,?,?,?)"
                " ON CONFLICT(paragraph_id) DO UPDATE SET programmes=excluded.programmes,"
                " figures=excluded.figures, quotes=excluded.quotes",
                [(f.paragraph_id, _json(f.programmes), _json(f.figures), _json(f.quotes)) for f in found],
            )
            uris = {u for u in (article.url, article.canonical_url, uri) if u}
            conn.executemany(
                "UPDATE failures SET resolved_at = ? WHERE uri = ? AND resolved_at IS NULL",
                [(seen, u) for u in sorted(uris)],
            )
        return status

    def _insert_revision(
        self, conn: sqlite3.Connection, article: Article, revision: int, seen: str | None
    ) -> None:
        conn.execute(
            "INSERT INTO revisions (article_id, revision, content_hash, title, seen_at) VALUES (?,?,?,?,?)",
            (article.id, revision, article.content_hash, article.title, seen),
        )
        rows = [
            (article.id, revision, seq, p.id, p.position, index, section.heading, p.text)
            for seq, (index, section, p) in enumerate(
                (i, s, p) for i, s in enumerate(article.sections) for p in s.paragraphs
            )
        ]
        conn.executemany("INSERT INTO paragraphs VALUES (?,?,?,?,?,?,?,?)", rows)
        conn.executemany(
            "INSERT INTO removals VALUES (?,?,?,?,?,?,?)",
            [
                (article.id, revision, seq, r.text, r.reason, r.kept_id, r.similarity)
                for seq, r in enumerate(article.removals)
            ],
        )

    def counts(self) -> dict[str, int]:
        """Row count of every table, plus the number of open failures."""
        tables = ("articles", "revisions", "paragraphs", "removals", "classifications", "facts",
                  "paragraph_marks", "stories", "failures", "runs", "fetch_state")
        sql = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM {t}" for t in tables)
        result = {name: n for name, n in self._read(sql)}
        result["open_failures"] = self._read("SELECT count(*) FROM failures WHERE resolved_at IS NULL")[0][0]
        return result

    def covered_periods(self) -> list[str]:
        """Keys of every ISO week, then every month, holding at least one article."""
        days = [date.fromisoformat(r[0]) for r in self._read("SELECT DISTINCT day FROM articles")]
        weeks = {Period.containing("week", d) for d in days}
        months = {Period.containing("month", d) for d in days}
        return [p.key for p in sorted(weeks, key=_start)] + [p.key for p in sorted(months, key=_start)]

    def articles_in(self, period: Period) -> list[StoredArticle]:
        """Articles whose day (published, else first seen) falls in ``period``, current revision."""
        return self._load("a.day >= ? AND a.day < ?", (period.start.isoformat(), period.end.isoformat()))

    def _load(self, where: str, params: Sequence[Any]) -> list[StoredArticle]:
        current = f"FROM articles a {{join}} WHERE {where}"
        on_rev = "JOIN {t} x ON x.article_id = a.id AND x.revision = a.revision"
        articles = self._read(f"SELECT a.* {current.format(join='')} ORDER BY a.day, a.id", params)
        paragraphs = self._read(
            f"SELECT x.* {current.format(join=on_rev.format(t='paragraphs'))} ORDER BY x.article_id, x.seq",
            params,
        )
        removals = self._read(
            f"SELECT x.* {current.format(join=on_rev.format(t='removals'))} ORDER BY x.article_id, x.seq",
            params,
        )
        by_para = on_rev.format(t="paragraphs") + " JOIN {t} y ON y.paragraph_id = x.id"
        labels = self._read(f"SELECT DISTINCT y.* {current.format(join=by_para.format(t='classifications'))}", params)
        facts = self._read(f"SELECT DISTINCT y.* {current.format(join=by_para.format(t='facts'))}", params)
        marks = self._read(
            f"SELECT DISTINCT y.* {current.format(join=by_para.format(t='paragraph_marks'))} ORDER BY y.id",
            params,
        )
        stories = self._read(
            f"SELECT s.article_id, s.story_id, s.canonical_id, o.source AS other FROM stories s"
            f" LEFT JOIN stories t ON t.story_id = s.story_id AND t.article_id != s.article_id"
            f" LEFT JOIN articles o ON o.id = t.article_id"
            f" WHERE s.article_id IN (SELECT a.id FROM articles a WHERE {where})",
            params,
        )
        return assemble(articles, paragraphs, removals, labels, facts, marks, stories)


    # corpus-level dedup (see presswatch.corpus)

def _start(period: Period) -> date:
    return period.start


def _json(values: Iterable[str]) -> str:
    return json.dumps(list(values), ensure_ascii=False)
