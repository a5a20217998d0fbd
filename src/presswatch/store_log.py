"""What the store keeps about sources and runs: fetch states, failures, runs (``Store`` mixin).

``SourceLog`` holds the methods; ``presswatch.store.Store`` provides the connection
(``_write``: one ``BEGIN IMMEDIATE`` transaction, ``_read``: a query), so every write here is
transactional like the rest of the store.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime, timezone
from typing import Any

from presswatch.models import Failure, Period
from presswatch.stored import FetchState, fetch_state_of


def iso_text(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class SourceLog:
    """Fetch states, failures and runs of a store."""

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        raise NotImplementedError

    def record_failure(self, failure: Failure) -> None:
        """Record a failure; the same open failure again only moves its last time and count."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO failures (source, uri, stage, reason, at, last_at) VALUES (?,?,?,?,?,?)"
                " ON CONFLICT (source, uri, stage, reason) WHERE resolved_at IS NULL DO UPDATE SET"
                " last_at = max(last_at, excluded.last_at), attempts = attempts + 1",
                (failure.source, failure.uri, failure.stage, failure.reason, iso_text(failure.at), iso_text(failure.at)),
            )

    def resolve_failures(self, uri: str, at: datetime | None = None) -> int:
        """Mark the open failures of ``uri`` resolved; return how many were open."""
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE failures SET resolved_at = ? WHERE uri = ? AND resolved_at IS NULL",
                (iso_text(at or utc_now()), uri),
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
            cursor = conn.execute("INSERT INTO runs (started) VALUES (?)", (iso_text(started or utc_now()),))
            return int(cursor.lastrowid or 0)

    def finish_run(self, run_id: int, stats: Mapping[str, Any], finished: datetime | None = None) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE runs SET finished = ?, stats = ? WHERE id = ?",
                (iso_text(finished or utc_now()), json.dumps(dict(stats), ensure_ascii=False, default=str), run_id),
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
                (url, etag, last_modified, content_hash, status, iso_text(fetched_at or utc_now())),
            )

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
