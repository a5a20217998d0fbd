"""Prefect tasks: each a few lines around one presswatch function.

Only network tasks retry. Compute tasks are pure; the flows alone write to the store.
Nothing is cached by Prefect: the store already makes re-runs incremental.
"""

from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from presswatch.digest import build_digest, render_digest
from presswatch.models import Digest, Failure, Period, RawDocument
from presswatch.pipeline import BatchResult, process_documents
from presswatch.sources import read_local
from presswatch.store import open_store


@task(name="read-local", cache_policy=NO_CACHE)
def read_local_source(location: str, source: str) -> list[RawDocument | Failure]:
    return list(read_local(Path(location), source))


@task(name="process-batch", cache_policy=NO_CACHE)
def process_batch(items: list[RawDocument | Failure]) -> BatchResult:
    return process_documents(items)


@task(name="build-digest", cache_policy=NO_CACHE)
def build_digest_for(database: str, period: str) -> Digest:
    with open_store(Path(database)) as store:
        return build_digest(store, Period.parse(period))


@task(name="render-digest", cache_policy=NO_CACHE)
def render(digest: Digest, out_dir: str, formats: tuple[str, ...]) -> list[str]:
    return [str(p) for p in render_digest(digest, Path(out_dir), formats)]
