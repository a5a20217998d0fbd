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
    stories          article_id -> story_id, canonical_id
    failures         source, uri, stage, reason, first and last time (at, last_at), attempts,
                     resolved_at; one open row per (source, uri, stage, reason)
    runs             started, finished, stats
    fetch_state      url -> etag, last_modified, content_hash, status, fetched_at
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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timezone
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from presswatch.errors import StoreError
from presswatch.models import Article, Classification, Failure, ParagraphFacts, Period
from presswatch.stored import FetchState, Mark, MarkKind, StoredArticle, assemble, fetch_state_of

__all__ = ["FetchState", "Mark", "SCHEMA_VERSION", "Store", "StoredArticle", "open_store"]

SaveStatus = Literal["new", "unchanged", "revised"]

@cache
def _migrations() -> tuple[str, ...]:
    """The SQL scripts of ``data/schema/``, in order; script i upgrades version i to i + 1."""
    folder = resources.files("presswatch") / "data" / "schema"
    names = sorted(f.name for f in folder.iterdir() if f.name.endswith(".sql"))
    return tuple((folder / name).read_text(encoding="utf-8") for name in names)


SCHEMA_VERSION = 2
_MARK_SQL = (
    "INSERT OR IGNORE INTO paragraph_marks (paragraph_id, kind, other_id, similarity, at, detail)"
    " VALUES (?,?,?,?,?,?)"
)
_STORY_SQL = (
    "INSERT INTO stories VALUES (?,?,?) ON CONFLICT(article_id) DO UPDATE SET"
    " story_id = excluded.story_id, canonical_id = excluded.canonical_id"
)


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


def _iso(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Store:
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
        seen = _iso(seen_at or _now())
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
            day = _iso(article.published) or str(first_seen)[:10]
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
                    _iso(article.published), article.author, article.date_source,
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

    def record_failure(self, failure: Failure) -> None:
        """Record a failure; the same open failure again only moves its last time and count."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO failures (source, uri, stage, reason, at, last_at) VALUES (?,?,?,?,?,?)"
                " ON CONFLICT (source, uri, stage, reason) WHERE resolved_at IS NULL DO UPDATE SET"
                " last_at = max(last_at, excluded.last_at), attempts = attempts + 1",
                (failure.source, failure.uri, failure.stage, failure.reason, _iso(failure.at), _iso(failure.at)),
            )

    def resolve_failures(self, uri: str, at: datetime | None = None) -> int:
        """Mark the open failures of ``uri`` resolved; return how many were open."""
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE failures SET resolved_at = ? WHERE uri = ? AND resolved_at IS NULL",
                (_iso(at or _now()), uri),
            )
            return cursor.rowcount

    def failures_in(self, period: Period) -> list[Failure]:
        """Failures still open whose last occurrence is on or after the period's start.

        A failure that recurs, or happened after the period (e.g. during the run that builds
        the digest), is shown; one last seen before the period was shown in earlier digests.
        One row per (source, uri, stage): the latest; ``at`` is its last occurrence.
        """
        rows = self._read(
            "SELECT source, uri, stage, reason, max(last_at) AS at FROM failures"
            " WHERE resolved_at IS NULL AND substr(last_at, 1, 10) >= ?"
            " GROUP BY source, uri, stage ORDER BY source, uri, stage",
            (period.start.isoformat(),),
        )
        return [
            Failure(r["source"], r["uri"], r["stage"], r["reason"], datetime.fromisoformat(r["at"]))
            for r in rows
        ]

    def start_run(self, started: datetime | None = None) -> int:
        with self._write() as conn:
            cursor = conn.execute("INSERT INTO runs (started) VALUES (?)", (_iso(started or _now()),))
            return int(cursor.lastrowid or 0)

    def finish_run(self, run_id: int, stats: Mapping[str, Any], finished: datetime | None = None) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE runs SET finished = ?, stats = ? WHERE id = ?",
                (_iso(finished or _now()), json.dumps(dict(stats), ensure_ascii=False, default=str), run_id),
            )

    def get_fetch_state(self, url: str) -> FetchState | None:
        rows = self._read("SELECT * FROM fetch_state WHERE url = ?", (url,))
        if not rows:
            return None
        return fetch_state_of(rows[0])

    def fetch_states(self, urls: Iterable[str] | None = None) -> dict[str, FetchState]:
        """Stored fetch states by URL: of the given URLs, or all of them."""
        if urls is None:
            rows = self._read("SELECT * FROM fetch_state")
        else:
            wanted = sorted(set(urls))
            rows = [r for i in range(0, len(wanted), 500) for r in self._read(
                f"SELECT * FROM fetch_state WHERE url IN ({','.join('?' * len(wanted[i:i + 500]))})",
                wanted[i:i + 500])]
        return {r["url"]: fetch_state_of(r) for r in rows}

    def open_failures(self, source: str) -> list[Failure]:
        """The failures of a source not resolved yet, oldest first."""
        rows = self._read(
            "SELECT source, uri, stage, reason, last_at FROM failures"
            " WHERE source = ? AND resolved_at IS NULL ORDER BY at, id",
            (source,),
        )
        return [Failure(r["source"], r["uri"], r["stage"], r["reason"], datetime.fromisoformat(r["last_at"]))
                for r in rows]

    def set_fetch_state(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        content_hash: str | None = None,
        status: int | None = None,
        fetched_at: datetime | None = None,
    ) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO fetch_state VALUES (?,?,?,?,?,?)",
                (url, etag, last_modified, content_hash, status, _iso(fetched_at or _now())),
            )

    def mark_paragraph(
        self,
        paragraph_id: str,
        kind: MarkKind,
        *,
        other_id: str | None = None,
        similarity: float | None = None,
        detail: str | None = None,
        at: datetime | date | None = None,
    ) -> None:
        """Mark a paragraph (idempotent: the same mark twice is one row)."""
        self._mark([(paragraph_id, kind, other_id, similarity, _iso(at or _now()), detail)])

    def mark_reported(self, paragraph_ids: Iterable[str], period_key: str, day: date) -> None:
        """Record that these paragraphs went out in the digest of ``period_key`` (day: its start)."""
        self._mark([(pid, "reported", None, None, day.isoformat(), period_key) for pid in paragraph_ids])

    def _mark(self, rows: list[tuple[Any, ...]]) -> None:
        with self._write() as conn:
            conn.executemany(_MARK_SQL, rows)

    def reported_before(self, day: date, kind: str | None = None) -> dict[str, date]:
        """Paragraphs reported in a digest whose period started before ``day``, with the first day.

        ``kind`` ('week' or 'month') keeps to one series: a monthly digest is not a repeat of
        the weekly ones.
        """
        series = {"week": " AND detail LIKE '%-W%'", "month": " AND detail NOT LIKE '%-W%'"}.get(kind or "", "")
        rows = self._read(
            "SELECT paragraph_id, min(at) AS at FROM paragraph_marks"
            f" WHERE kind = 'reported' AND at < ?{series} GROUP BY paragraph_id",
            (day.isoformat(),),
        )
        return {r["paragraph_id"]: date.fromisoformat(r["at"][:10]) for r in rows}

    def set_story(self, article_id: str, story_id: str, canonical_id: str) -> None:
        with self._write() as conn:
            conn.execute(_STORY_SQL, (article_id, story_id, canonical_id))

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

    def source_status(self, source: str, url: str | None = None) -> str:
        """One line on a configured source: articles, last seen, last fetch of ``url``, open failures."""
        row = self._read("SELECT count(*), max(last_seen) FROM articles WHERE origin = ?", (source,))[0]
        failed = self._read(
            "SELECT count(*) FROM failures WHERE source = ? AND resolved_at IS NULL", (source,)
        )[0][0]
        parts = [f"{row[0]} article(s)", f"last seen {row[1][:16].replace('T', ' ')}" if row[1] else "never ingested"]
        fetched = self.get_fetch_state(url) if url else None
        if fetched is not None:
            parts.append(f"last fetch {str(fetched.fetched_at)[:16].replace('T', ' ')} (HTTP {fetched.status})")
        return ", ".join([*parts, f"{failed} open failure(s)"])

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

    def unindexed_paragraphs(self) -> list[sqlite3.Row]:
        """Current paragraphs not yet through the corpus dedup: id, text, day, article_id, position."""
        return self._read(
            "SELECT p.id, p.text, a.day, a.id AS article_id, p.position FROM paragraphs p"
            " JOIN articles a ON a.id = p.article_id AND a.revision = p.revision"
            " WHERE p.id NOT IN (SELECT paragraph_id FROM dedup_seen) ORDER BY a.day, a.id, p.position"
        )

    def paragraph_texts(self, ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """Text and article day of the given paragraph ids."""
        wanted = list(dict.fromkeys(ids))
        found: dict[str, tuple[str, str]] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = self._read(
                "SELECT p.id, p.text, a.day FROM paragraphs p JOIN articles a ON a.id = p.article_id"
                f" WHERE p.id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            found.update({r["id"]: (r["text"], r["day"]) for r in rows})
        return found

    def story_candidates(self, start: date, end: date) -> list[tuple[str, str, date | None, tuple[str, ...]]]:
        """Articles whose day is in [start, end): id, outlet, published, current paragraphs."""
        rows = self._read(
            "SELECT a.id, a.source, a.published, p.text FROM articles a JOIN paragraphs p"
            " ON p.article_id = a.id AND p.revision = a.revision WHERE a.day >= ? AND a.day < ?"
            " ORDER BY a.id, p.position",
            (start.isoformat(), end.isoformat()),
        )
        grouped: dict[str, tuple[str, str | None, list[str]]] = {}
        for r in rows:
            grouped.setdefault(r["id"], (r["source"], r["published"], []))[2].append(r["text"])
        return [
            (aid, outlet, date.fromisoformat(pub) if pub else None, tuple(texts))
            for aid, (outlet, pub, texts) in grouped.items()
        ]

    def dedup_index(self) -> bytes | None:
        rows = self._read("SELECT data FROM dedup_state WHERE name = 'paragraphs'")
        return bytes(rows[0]["data"]) if rows else None

    def reset_corpus_state(self) -> None:
        """Forget the dedup index and which paragraphs it saw (marks and stories stay)."""
        with self._write() as conn:
            conn.execute("DELETE FROM dedup_state")
            conn.execute("DELETE FROM dedup_seen")

    def save_corpus_state(
        self,
        index: bytes,
        seen: Iterable[str],
        marks: Iterable[tuple[str, MarkKind, str | None, float | None, str | None]],
        stories: Iterable[tuple[str, str, str]],
        at: datetime | None = None,
    ) -> None:
        """One transaction: the index, the paragraphs it has seen, their marks and the stories."""
        stamp = (at or _now()).isoformat()
        with self._write() as conn:
            conn.execute(
                "INSERT INTO dedup_state VALUES ('paragraphs', ?, ?) ON CONFLICT(name) DO UPDATE SET"
                " data = excluded.data, updated_at = excluded.updated_at",
                (index, stamp),
            )
            conn.executemany("INSERT OR IGNORE INTO dedup_seen VALUES (?)", [(pid,) for pid in seen])
            conn.executemany(_MARK_SQL, [(pid, kind, other, sim, stamp, detail) for pid, kind, other, sim, detail in marks])
            conn.executemany(_STORY_SQL, list(stories))

def _start(period: Period) -> date:
    return period.start



def _json(values: Iterable[str]) -> str:
    return json.dumps(list(values), ensure_ascii=False)
