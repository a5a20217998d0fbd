"""A presswatch.toml for flow tests: work and reports directories under ``tmp_path``, then ``body``."""

from __future__ import annotations

from pathlib import Path


def write_config(tmp_path: Path, body: str) -> Path:
    config = tmp_path / "presswatch.toml"
    config.write_text(
        f'[presswatch]\nwork_dir = "{tmp_path / "state"}"\nreports_dir = "{tmp_path / "reports"}"\n\n{body}',
        encoding="utf-8",
    )
    return config
