"""Writing processed batches to the store: the only stage with side effects on the database."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import date
from itertools import islice
from typing import TypeVar

from presswatch.config import Config, SourceSpec
from presswatch.pipeline import DIGEST_LANGUAGE, BatchResult
from presswatch.store import Store

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class IngestReport:
    new: int = 0
    revised: int = 0
    unchanged: int = 0
    skipped_old: int = 0
    not_modified: int = 0
    failed: int = 0
    non_french: int = 0
    off_topic: int = 0

    def __add__(self, other: IngestReport) -> IngestReport:
        return IngestReport(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def save_batch(store: Store, batch: BatchResult, *, since: date | None = None) -> IngestReport:
    """Store every processed article (one transaction each) and record the failures."""
    counts = {f.name: 0 for f in fields(IngestReport)}
    for item in batch.processed:
        published = item.article.published
        if since is not None and published is not None and published < since:
            counts["skipped_old"] += 1
            continue
        counts[store.save_article(item.article, item.classifications, item.facts, uri=item.uri)] += 1
        if item.article.language != DIGEST_LANGUAGE:
            counts["non_french"] += 1
        elif not item.article.relevant:
            counts["off_topic"] += 1
    for failure in batch.failures:
        store.record_failure(failure)
        counts["failed"] += 1
    return IngestReport(**counts)


def select_sources(config: Config, names: Sequence[str] | None) -> tuple[SourceSpec, ...]:
    """The configured sources, or the named ones (``ConfigError`` for an unknown name)."""
    if not names:
        return config.sources
    return tuple(config.source(name) for name in names)


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
