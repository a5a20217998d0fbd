"""Flow ``ingest``: configured sources (or one path) → processed articles in the store.

    python flows/ingest.py [CONFIG] [PATH]
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import date, datetime, timezone
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.utilities.annotations import quote

from presswatch.config import FetchSettings, SourceSpec, resolve_config
from presswatch.corpus import update_corpus
from presswatch.ingest import IngestReport, batched, save_batch, select_sources
from presswatch.models import Failure, RawDocument
from presswatch.store import Store, open_store
from presswatch.web import retry_uris, states_to_save
from presswatch_flows.tasks import fetch_web, process_batch, read_local_source

BATCH_SIZE = 200


@flow(name="ingest")
def ingest(
    config_path: str | None = None,
    sources: list[str] | None = None,
    path: str | None = None,
    since: date | None = None,
) -> dict[str, int]:
    logger = get_run_logger()
    config = resolve_config(config_path)
    specs = (SourceSpec("cli", "folder", path),) if path else select_sources(config, sources)
    report = IngestReport()
    with open_store(config.database) as store:
        run_id = store.start_run()
        for spec in specs:
            if spec.kind != "folder":
                report += _ingest_web(store, spec, config.fetch, since, config.model_path)
                continue
            state = read_local_source(spec.location, spec.name, return_state=True)
            if state.is_failed():
                report += _source_failed(store, spec, "source", state.result(raise_on_failure=False))
                continue
            report += _process(store, state.result(), since, config.model_path)[0]
        corpus = update_corpus(store)
        stats = report.as_dict() | {f"corpus_{k}": v for k, v in corpus.as_dict().items()}
        store.finish_run(run_id, stats)
    logger.info("ingest done: %s", stats)
    return stats


def _process(
    store: Store, items: Iterable[RawDocument | Failure], since: date | None, model: Path | None
) -> tuple[IngestReport, set[str]]:
    """Process in batches (one task each); the flow saves each article and records failures."""
    logger = get_run_logger()
    report, failed = IngestReport(), set()
    for chunk in batched(items, BATCH_SIZE):
        batch = process_batch(chunk, str(model) if model else None)
        for failure in batch.failures:
            logger.warning("%s: %s skipped (%s): %s", failure.source, failure.uri, failure.stage, failure.reason)
        report += save_batch(store, batch, since=since)
        failed |= {f.uri for f in batch.failures}
    return report, failed


def _ingest_web(
    store: Store, spec: SourceSpec, settings: FetchSettings, since: date | None, model: Path | None
) -> IngestReport:
    """Fetch (network task, retried if transient), process, save; fetch states only after success."""
    logger = get_run_logger()
    retry = retry_uris(store.open_failures(spec.name))
    state = fetch_web(spec, settings, quote(store.fetch_states()), since, retry, return_state=True)
    if state.is_failed():
        return _source_failed(store, spec, "feed", state.result(raise_on_failure=False))
    harvest = state.result()
    for failure in harvest.failures:
        logger.warning("%s: %s refused (%s): %s", failure.source, failure.uri, failure.stage, failure.reason)
        store.record_failure(failure)
    report, failed = _process(store, harvest.documents, since, model)
    for url, fetched in states_to_save(harvest, failed).items():
        store.set_fetch_state(url, etag=fetched.etag, last_modified=fetched.last_modified,
                              content_hash=fetched.content_hash, status=fetched.status, fetched_at=fetched.fetched_at)
        store.resolve_failures(url)
    logger.info("source %s: %d document(s) fetched, %d not modified", spec.name, len(harvest.documents),
                harvest.not_modified)
    return report + IngestReport(failed=len(harvest.failures), not_modified=harvest.not_modified)


def _source_failed(store: Store, spec: SourceSpec, stage: str, error: object) -> IngestReport:
    get_run_logger().error("source %s failed: %s", spec.name, error)
    location = spec.location if isinstance(spec.location, str) else ", ".join(spec.location)
    store.record_failure(Failure(spec.name, location, stage, str(error), datetime.now(timezone.utc)))
    return IngestReport(failed=1)


if __name__ == "__main__":
    args = sys.argv[1:]
    print(ingest(config_path=args[0] if args else None, path=args[1] if len(args) > 1 else None))
