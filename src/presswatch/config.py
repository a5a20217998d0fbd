"""Configuration: ``presswatch.toml`` read into a typed, frozen model.

Relative paths are resolved against the folder that holds the configuration file, so a
config can travel with the articles it points at (``samples/presswatch.toml``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from presswatch.errors import ConfigError

SOURCE_KINDS = ("folder", "feed", "sitemap", "url")
PERIOD_KINDS = ("week", "month")
FORMATS = ("html", "md", "json")


@dataclass(frozen=True, slots=True)
class SourceSpec:
    name: str
    kind: str
    location: str | tuple[str, ...]
    tags: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FetchSettings:
    user_agent: str = "presswatch/0.1 (+https://github.com/presswatch/presswatch)"
    contact: str = ""
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    retries: int = 3
    backoff: float = 1.0
    max_redirects: int = 5
    max_bytes: int = 10 * 1024 * 1024
    host_delay: float = 1.0
    obey_robots: bool = True
    allow_hosts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Schedule:
    name: str
    cron: str
    period: str
    timezone: str = "Europe/Paris"


@dataclass(frozen=True, slots=True)
class Config:
    root: Path
    work_dir: Path
    reports_dir: Path
    database: Path
    sources: tuple[SourceSpec, ...] = ()
    fetch: FetchSettings = field(default_factory=FetchSettings)
    schedules: tuple[Schedule, ...] = ()
    formats: tuple[str, ...] = FORMATS
    model_path: Path | None = None
    timezone: str = "Europe/Paris"

    def source(self, name: str) -> SourceSpec:
        for spec in self.sources:
            if spec.name == name:
                return spec
        raise ConfigError(f"no source named {name!r} (known: {', '.join(s.name for s in self.sources)})")


def default_config(root: Path | None = None) -> Config:
    """The configuration used when no file is given: state under ``./.presswatch``."""
    root = (root or Path.cwd()).resolve()
    work = root / ".presswatch"
    return Config(root=root, work_dir=work, reports_dir=root / "reports", database=work / "presswatch.db")


def load_config(path: str | Path) -> Config:
    """Read and validate a configuration file; any problem raises ``ConfigError``."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"configuration file not found: {path}") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read configuration {path}: {exc}") from exc
    return parse_config(data, root=path.resolve().parent)


def parse_config(data: Mapping[str, Any], *, root: Path) -> Config:
    main = _table(data, "presswatch")
    work_dir = _path(root, main.get("work_dir", ".presswatch"))
    database = _path(work_dir, main["database"]) if "database" in main else work_dir / "presswatch.db"
    formats = tuple(main.get("formats", FORMATS))
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise ConfigError(f"unknown digest format(s) {bad}; choose among {list(FORMATS)}")
    model = main.get("model")
    return Config(
        root=root,
        work_dir=work_dir,
        reports_dir=_path(root, main.get("reports_dir", "reports")),
        database=database,
        sources=tuple(_source(item, root, i) for i, item in enumerate(data.get("sources", []))),
        fetch=_fetch(_table(data, "fetch")),
        schedules=tuple(_schedule(name, item, main) for name, item in _table(data, "schedules").items()),
        formats=formats,
        model_path=_path(root, model) if model else None,
        timezone=str(main.get("timezone", "Europe/Paris")),
    )


def _table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"[{key}] must be a table")
    return value


def _path(base: Path, value: Any) -> Path:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"expected a path, got {value!r}")
    p = Path(value).expanduser()
    return p if p.is_absolute() else (base / p).resolve()


def _source(item: Any, root: Path, index: int) -> SourceSpec:
    if not isinstance(item, Mapping):
        raise ConfigError(f"sources[{index}] must be a table")
    name, kind = item.get("name"), item.get("kind")
    if not name or not isinstance(name, str):
        raise ConfigError(f"sources[{index}] needs a name")
    if kind not in SOURCE_KINDS:
        raise ConfigError(f"source {name!r}: kind must be one of {list(SOURCE_KINDS)}, got {kind!r}")
    if kind == "folder":
        location: str | tuple[str, ...] = str(_path(root, item.get("path")))
    elif kind == "url":
        urls = item.get("urls")
        if not isinstance(urls, list) or not urls:
            raise ConfigError(f"source {name!r}: kind 'url' needs a non-empty list 'urls'")
        location = tuple(str(u) for u in urls)
    else:
        url = item.get("url")
        if not isinstance(url, str) or not url:
            raise ConfigError(f"source {name!r}: kind {kind!r} needs 'url'")
        location = url
    known = {"name", "kind", "path", "url", "urls", "tags"}
    options = {k: v for k, v in item.items() if k not in known}
    return SourceSpec(name, kind, location, tuple(item.get("tags", ())), options)


def _fetch(table: Mapping[str, Any]) -> FetchSettings:
    defaults = FetchSettings()
    unknown = set(table) - set(FetchSettings.__slots__)
    if unknown:
        raise ConfigError(f"[fetch]: unknown setting(s) {sorted(unknown)}")
    values = {}
    for key, value in table.items():
        expected = type(getattr(defaults, key))
        if expected is tuple:
            value = tuple(value)
        elif expected is float and isinstance(value, int):
            value = float(value)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(f"[fetch] {key}: expected {expected.__name__}, got {value!r}")
        values[key] = value
    return FetchSettings(**values)


def _schedule(name: str, item: Any, main: Mapping[str, Any]) -> Schedule:
    if not isinstance(item, Mapping) or "cron" not in item:
        raise ConfigError(f"[schedules.{name}] needs a 'cron' expression")
    period = item.get("period", "week")
    if period not in PERIOD_KINDS:
        raise ConfigError(f"[schedules.{name}] period must be 'week' or 'month'")
    cron = str(item["cron"])
    if len(cron.split()) != 5:
        raise ConfigError(f"[schedules.{name}] cron must have 5 fields, got {cron!r}")
    return Schedule(name, cron, period, str(item.get("timezone", main.get("timezone", "Europe/Paris"))))


def resolve_config(path: str | Path | None = None) -> Config:
    """The given file, else ``./presswatch.toml`` if present, else the defaults."""
    if path is not None:
        return load_config(path)
    local = Path.cwd() / "presswatch.toml"
    return load_config(local) if local.is_file() else default_config()
