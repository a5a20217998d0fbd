"""Flow ``ingest``: configured sources (or one path) → processed articles in the store.

    python flows/ingest.py [CONFIG] [PATH]
"""

from __future__ import annotations

import sys
from datetime import date, datetime, timezone

from prefect import flow, get_run_logger

from presswatch.config import SourceSpec, resolve_config
from presswatch.ingest import IngestReport, batched, save_batch, select_sources
from presswatch.models import Failure
from presswatch.store import open_store
from presswatch_flows.tasks import process_batch, read_local_source

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
        for spec in specs:
            state = read_local_source(spec.location, spec.name, return_state=True)
            if state.is_failed():
                reason = str(state.result(raise_on_failure=False))
                logger.error("source %s failed: %s", spec.name, reason)
                store.record_failure(Failure(spec.name, str(spec.location), "source", reason, _now()))
                report += IngestReport(failed=1)
                continue
            for chunk in batched(state.result(), BATCH_SIZE):
                batch = process_batch(chunk)
                for failure in batch.failures:
                    logger.warning("%s: %s skipped (%s): %s", failure.source, failure.uri, failure.stage, failure.reason)
                report += save_batch(store, batch, since=since)
    logger.info("ingest done: %s", report.as_dict())
    return report.as_dict()


def _now() -> datetime:
    return datetime.now(timezone.utc)


if __name__ == "__main__":
    args = sys.argv[1:]
    print(ingest(config_path=args[0] if args else None, path=args[1] if len(args) > 1 else None))
