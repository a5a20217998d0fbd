"""Serve the ``monitor`` flow with the cron schedules of the configuration (Europe/Paris).

    python flows/serve.py [CONFIG]        # or: presswatch serve
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from prefect import serve
from prefect.schedules import Cron

from presswatch.config import resolve_config
from presswatch.errors import ConfigError
from presswatch_flows.monitor import monitor


def build_deployments(config_path: str | None = None) -> list[Any]:
    """One deployment of ``monitor`` per ``[schedules.NAME]``, with its cron and time zone."""
    config = resolve_config(config_path)
    if not config.schedules:
        raise ConfigError("no [schedules.*] in the configuration: nothing to serve")
    absolute = str(Path(config_path).resolve()) if config_path else None
    return [
        monitor.to_deployment(
            name=schedule.name,
            schedules=[Cron(schedule.cron, timezone=schedule.timezone)],
            parameters={"config_path": absolute, "period_kind": schedule.period},
            description=f"monitor every '{schedule.cron}' ({schedule.timezone}), {schedule.period} digest",
        )
        for schedule in config.schedules
    ]


def serve_schedules(config_path: str | None = None, *, limit: int = 2) -> None:
    serve(*build_deployments(config_path), limit=limit)


if __name__ == "__main__":
    serve_schedules(sys.argv[1] if len(sys.argv) > 1 else None)
