"""The one exception tree of presswatch.

    PresswatchError
    ├── ConfigError            bad configuration (run-level: fail fast)
    ├── SourceError            unknown or malformed source spec, missing path
    ├── FetchError(url)        the HTTP client failed, or the response was refused
    │   └── TransientFetchError   timeouts, connection errors, 5xx, 429: worth a retry
    ├── ExtractError(url)      unparseable, empty or oversized document
    ├── ModelError             classifier missing or incompatible
    ├── StoreError             database unusable or of an unknown schema version
    └── RenderError            template failure

Per-document errors (FetchError, ExtractError) are caught by the flows, recorded and shown
in the digest's data-quality section; the others stop the run. Third-party errors are
translated at the boundary: ``raise FetchError("...", url=url) from exc``.
"""

from __future__ import annotations


class PresswatchError(Exception):
    """Base class of every error presswatch raises on purpose."""


class ConfigError(PresswatchError):
    """The configuration file is missing, unreadable or invalid."""


class SourceError(PresswatchError):
    """A source spec is unknown or malformed, or its path does not exist."""


class FetchError(PresswatchError):
    """A document could not be fetched, or its response was refused."""

    def __init__(self, message: str, *, url: str, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class TransientFetchError(FetchError):
    """A fetch failure that may succeed later: timeout, connection error, 5xx, 429."""

    def __init__(
        self, message: str, *, url: str, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, url=url, status=status)
        self.retry_after = retry_after


class ExtractError(PresswatchError):
    """A document is unparseable, empty or oversized."""

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message)
        self.url = url


class ModelError(PresswatchError):
    """The classifier model is missing or incompatible with this version."""


class StoreError(PresswatchError):
    """The store cannot be opened or has an unknown schema version."""


class RenderError(PresswatchError):
    """A digest template failed to render."""
