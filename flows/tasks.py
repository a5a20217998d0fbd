"""Prefect tasks: each a few lines around one presswatch function.

Only network tasks retry. Compute tasks are pure; the flows alone write to the store.
Nothing is cached by Prefect: the store already makes re-runs incremental.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.states import State

from presswatch.classify import load_model
from presswatch.config import FetchSettings, SourceSpec
from presswatch.digest import build_digest, render_digest
from presswatch.errors import TransientFetchError
from presswatch.models import Digest, Failure, Period, RawDocument
from presswatch.pipeline import BatchResult, process_documents
from presswatch.sources import read_local
from presswatch.store import FetchState, open_store
from presswatch.web import Harvest, collect_web


@task(name="read-local", cache_policy=NO_CACHE)
def read_local_source(location: str, source: str) -> list[RawDocument | Failure]:
    return list(read_local(Path(location), source))


def _transient(task: object, task_run: object, state: State) -> bool:
    try:
        state.result()
    except TransientFetchError:
        return True
    except Exception:
        return False
    return False


@task(name="fetch-web", cache_policy=NO_CACHE, retries=1, retry_delay_seconds=[5], retry_condition_fn=_transient)
def fetch_web(
    spec: SourceSpec, settings: FetchSettings, known: Mapping[str, FetchState], since: date | None = None,
    retry: Sequence[str] = (),
) -> Harvest:
    return collect_web(spec, settings, known, since=since, retry=retry)


@task(name="process-batch", cache_policy=NO_CACHE)
def process_batch(items: list[RawDocument | Failure], model_path: str | None = None) -> BatchResult:
    return process_documents(items, load_model(Path(model_path)) if model_path else None)


@task(name="build-digest", cache_policy=NO_CACHE)
def build_digest_for(database: str, period: str) -> Digest:
    with open_store(Path(database)) as store:
        return build_digest(store, Period.parse(period))


@task(name="render-digest", cache_policy=NO_CACHE)
def render(digest: Digest, out_dir: str, formats: tuple[str, ...]) -> list[str]:
    return [str(p) for p in render_digest(digest, Path(out_dir), formats)]
