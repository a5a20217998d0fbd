"""robots.txt rules, read once per host and run (RFC 9309 reading of the status codes).

A robots.txt answered with 2xx is parsed (``urllib.robotparser``); 4xx (404 above all) means
no rules, everything allowed; 5xx, a timeout or a connection error means the host is treated
as fully disallowed for the rest of the run. A ``Crawl-delay`` for our agent (capped) widens
the pause between two requests to that host.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

from presswatch.errors import FetchError, TransientFetchError

AGENT = "presswatch"
MAX_CRAWL_DELAY = 30.0


@dataclass(frozen=True, slots=True)
class Rules:
    """What robots.txt says for one host: a parser, or a blanket answer with its reason."""

    parser: RobotFileParser | None
    allow_all: bool
    why: str

    def allows(self, url: str) -> bool:
        if self.parser is None:
            return self.allow_all
        return self.parser.can_fetch(AGENT, url)

    @property
    def crawl_delay(self) -> float:
        if self.parser is None:
            return 0.0
        delay = self.parser.crawl_delay(AGENT)
        return min(float(delay), MAX_CRAWL_DELAY) if delay else 0.0


def robots_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/robots.txt", "", ""))


def read_rules(url: str, get: Callable[[str], bytes]) -> Rules:
    """The rules of ``url``'s host; ``get`` fetches a URL's body or raises ``FetchError``."""
    try:
        body = get(robots_url(url))
    except TransientFetchError as exc:
        return Rules(None, False, f"robots.txt unavailable ({exc}): host treated as disallowed")
    except FetchError as exc:
        if exc.status is not None and 400 <= exc.status < 500:
            return Rules(None, True, f"no robots.txt (HTTP {exc.status})")
        return Rules(None, False, f"robots.txt unreadable ({exc}): host treated as disallowed")
    parser = RobotFileParser()
    parser.parse(body.decode("utf-8", errors="replace").splitlines())
    return Rules(parser, True, "robots.txt")
