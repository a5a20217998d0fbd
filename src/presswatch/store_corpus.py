"""What the store keeps for corpus-level dedup and digests: paragraph marks, stories, the
persisted near-duplicate index (``Store`` mixin).

``CorpusState`` holds the methods; ``presswatch.store.Store`` provides the connection
(``_write``: one ``BEGIN IMMEDIATE`` transaction, ``_read``: a query). Marks are idempotent and
nothing is deleted but the index itself when it is rebuilt.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Any

from presswatch.store_log import iso_text, utc_now
from presswatch.stored import MarkKind

_MARK_SQL = (
    "INSERT OR IGNORE INTO paragraph_marks (paragraph_id, kind, other_id, similarity, at, detail)"
    " VALUES (?,?,?,?,?,?)"
)
_STORY_SQL = (
    "INSERT INTO stories VALUES (?,?,?) ON CONFLICT(article_id) DO UPDATE SET"
    " story_id = excluded.story_id, canonical_id = excluded.canonical_id"
)


class CorpusState:
    """Paragraph marks, stories and the dedup index of a store."""

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        raise NotImplementedError

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
        self._mark([(paragraph_id, kind, other_id, similarity, iso_text(at or utc_now()), detail)])

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
        stamp = (at or utc_now()).isoformat()
        with self._write() as conn:
            conn.execute(
                "INSERT INTO dedup_state VALUES ('paragraphs', ?, ?) ON CONFLICT(name) DO UPDATE SET"
                " data = excluded.data, updated_at = excluded.updated_at",
                (index, stamp),
            )
            conn.executemany("INSERT OR IGNORE INTO dedup_seen VALUES (?)", [(pid,) for pid in seen])
            conn.executemany(_MARK_SQL, [(pid, kind, other, sim, stamp, detail) for pid, kind, other, sim, detail in marks])
            conn.executemany(_STORY_SQL, list(stories))
