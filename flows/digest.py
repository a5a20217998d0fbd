"""Flow ``digest``: a period (``2022-W38`` or ``2022-09``) → HTML, Markdown and JSON files.

    python flows/digest.py PERIOD [CONFIG]
"""

from __future__ import annotations

import sys

from prefect import flow, get_run_logger

from presswatch.config import Config, resolve_config
from presswatch.store import open_store
from presswatch_flows.tasks import build_digest_for, render


def render_periods(config: Config, periods: list[str], out_dir: str | None = None) -> list[str]:
    """Build, render and mark as reported each period's digest (digest and monitor flows)."""
    target = out_dir or str(config.reports_dir)
    paths: list[str] = []
    with open_store(config.database) as store:
        for period in periods:
            built = build_digest_for(str(config.database), period)
            paths += render(built, target, config.formats)
            shown = [item.paragraph_id for item in (*built.successes, *built.improvements)]
            store.mark_reported(shown, built.period.key, built.period.start)
    return paths


@flow(name="digest")
def digest(period: str, config_path: str | None = None, out_dir: str | None = None) -> list[str]:
    config = resolve_config(config_path)
    paths = render_periods(config, [period], out_dir)
    get_run_logger().info("digest %s written: %s", period, ", ".join(paths))
    return paths


if __name__ == "__main__":
    print("\n".join(digest(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)))
