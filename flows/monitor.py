"""Flow ``monitor``: ingest the configured sources, then write the digests of the period(s).

Scheduled runs pass ``period_kind`` and digest the last complete week or month in the
configured time zone; an operator may name periods, or ask for every period the store covers.

    python flows/monitor.py [CONFIG]
"""

from __future__ import annotations

import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger

from presswatch.config import resolve_config
from presswatch.models import Period
from presswatch.store import open_store
from presswatch_flows.digest import render_periods
from presswatch_flows.ingest import ingest


@flow(name="monitor")
def monitor(
    config_path: str | None = None,
    periods: list[str] | None = None,
    period_kind: str = "week",
    all_periods: bool = False,
) -> dict[str, object]:
    config = resolve_config(config_path)
    report = ingest(config_path=config_path)
    if all_periods:
        with open_store(config.database) as store:
            keys = store.covered_periods()
    elif periods:
        keys = [Period.parse(p).key for p in periods]
    else:
        today = datetime.now(ZoneInfo(config.timezone)).date()
        keys = [Period.containing(period_kind, today).previous().key]  # type: ignore[arg-type]
    paths = render_periods(config, keys)
    get_run_logger().info("monitor done: %d digest file(s)", len(paths))
    return {"ingest": report, "periods": keys, "paths": paths}


if __name__ == "__main__":
    result = monitor(config_path=sys.argv[1] if len(sys.argv) > 1 else None)
    print("\n".join(result["paths"]))  # type: ignore[arg-type]
