"""Flow ``digest``: a period (``2022-W38`` or ``2022-09``) → HTML, Markdown and JSON files.

    python flows/digest.py PERIOD [CONFIG]
"""

from __future__ import annotations

import sys

from prefect import flow, get_run_logger

from presswatch.config import Config, resolve_config
from presswatch_flows.tasks import build_digest_for, render


def render_periods(config: Config, periods: list[str], out_dir: str | None = None) -> list[str]:
    """Build and render each period's digest; used by the digest and monitor flows."""
    target = out_dir or str(config.reports_dir)
    paths: list[str] = []
    for period in periods:
        paths += render(build_digest_for(str(config.database), period), target, config.formats)
    return paths


@flow(name="digest")
def digest(period: str, config_path: str | None = None, out_dir: str | None = None) -> list[str]:
    config = resolve_config(config_path)
    paths = render_periods(config, [period], out_dir)
    get_run_logger().info("digest %s written: %s", period, ", ".join(paths))
    return paths


if __name__ == "__main__":
    print("\n".join(digest(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)))
