"""HTTP for presswatch: safe, polite, bounded and conditional.

Every request goes through a ``Fetcher`` (one per run and source, closed after use):

- only ``http``/``https``; a host that is, or resolves to, a loopback, private, link-local
  (169.254.169.254 included), multicast, reserved, unspecified or otherwise non-public address
  is refused before any connection, unless listed in ``FetchSettings.allow_hosts`` (a host
  name, an address or a network such as ``10.0.0.0/8``); redirects are followed by hand, at
  most ``max_redirects``, and every hop is checked again (a loop is a ``FetchError``);
- robots.txt is obeyed (``presswatch.robots``, read once per host with this same client);
- one request at a time per host, ``host_delay`` seconds (or the robots Crawl-delay) apart;
- the content type is checked before the body is read; the body is streamed and refused as
  soon as it passes ``max_bytes`` (counted after gzip/deflate decoding);
- a stored ETag / Last-Modified makes the request conditional (304 → ``Response.status``);
- timeouts, connection errors, 5xx and 429 are retried ``retries`` times with exponential
  backoff, honouring ``Retry-After`` up to ``RETRY_AFTER_CAP`` seconds (a longer wait asked by
  the server gives up at once); what still fails is a ``TransientFetchError``.

Refusals carry their kind: ``UnsafeURLError`` (safety, ``presswatch.urlsafety``) and
``RobotsDisallowedError`` (robots), both ``FetchError``s.
"""

from __future__ import annotations

import hashlib
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Literal
from urllib.parse import urljoin, urlsplit

import httpx

from presswatch.config import FetchSettings
from presswatch.errors import FetchError, TransientFetchError
from presswatch.models import RawDocument
from presswatch.robots import Rules, read_rules
from presswatch.store import FetchState
from presswatch.urlsafety import check_url

Kind = Literal["page", "feed", "robots"]
PAGE_TYPES = ("text/html", "application/xhtml+xml")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml", "text/xml")
GZIP_TYPES = ("application/gzip", "application/x-gzip")
ACCEPT = {
    "page": "text/html,application/xhtml+xml;q=0.9",
    "feed": "application/rss+xml,application/atom+xml,application/xml;q=0.9,text/xml;q=0.8",
    "robots": "text/plain",
}
REDIRECTS = frozenset({301, 302, 303, 307, 308})
RETRY_AFTER_CAP = 60.0
ROBOTS_MAX_BYTES = 512 * 1024


class RobotsDisallowedError(FetchError):
    """robots.txt forbids the URL (or the host's robots.txt was unavailable)."""


@dataclass(frozen=True, slots=True)
class Response:
    url: str
    final_url: str
    status: int
    body: bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None
    fetched_at: datetime

    @property
    def content_hash(self) -> str:
        return body_hash(self.body)

    def state(self, previous: FetchState | None = None) -> FetchState:
        """The fetch state to remember; a 304 keeps the previous validators and hash."""
        if self.status == 304 and previous is not None:
            return FetchState(self.url, self.etag or previous.etag, self.last_modified or previous.last_modified,
                              previous.content_hash, previous.status, self.fetched_at)
        return FetchState(self.url, self.etag, self.last_modified, self.content_hash, self.status, self.fetched_at)

    def document(self, source: str, meta: dict[str, str] | None = None) -> RawDocument:
        return RawDocument(self.url, self.body, source, self.content_type, meta or {}, self.fetched_at)


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32]


def user_agent(settings: FetchSettings) -> str:
    agent = settings.user_agent
    if not settings.contact or settings.contact in agent:
        return agent
    if agent.endswith(")"):
        return f"{agent[:-1]}; {settings.contact})"
    return f"{agent} (+{settings.contact})"


def fetch_document(url: str, settings: FetchSettings) -> RawDocument:
    """One article page, with every safety rule and limit of a run (``presswatch inspect``)."""
    with Fetcher(settings) as fetcher:
        response = fetcher.fetch(url, "page")
    return response.document(urlsplit(url).hostname or "web")


class Fetcher:
    """An HTTP client with the rules above; use as a context manager."""

    def __init__(self, settings: FetchSettings) -> None:
        self.settings = settings
        self._client = httpx.Client(
            timeout=httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout),
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": user_agent(settings)},
        )
        self._rules: dict[str, Rules] = {}
        self._last: dict[str, float] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.close()

    def fetch(self, url: str, kind: Kind = "page", state: FetchState | None = None) -> Response:
        """GET ``url`` following redirects, retrying transient failures; 200 or 304 only."""
        attempt = 0
        while True:
            try:
                return self._follow(url, kind, state)
            except TransientFetchError as exc:
                wait = self._backoff(attempt, exc)
                if wait is None:
                    raise
                time.sleep(wait)
                attempt += 1

    def _backoff(self, attempt: int, exc: TransientFetchError) -> float | None:
        if attempt >= self.settings.retries:
            return None
        if exc.retry_after is not None:
            return exc.retry_after if exc.retry_after <= RETRY_AFTER_CAP else None
        return self.settings.backoff * 2**attempt

    def _follow(self, url: str, kind: Kind, state: FetchState | None) -> Response:
        headers = {"Accept": ACCEPT[kind]}
        if state is not None and state.etag:
            headers["If-None-Match"] = state.etag
        if state is not None and state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
        chain = [url]
        current = url
        while True:
            check_url(current, self.settings.allow_hosts)
            if kind != "robots":
                self._check_robots(current)
            reply = self._get(current, kind, headers, url)
            if isinstance(reply, Response):
                return reply
            current = urljoin(current, reply)
            if current in chain:
                raise FetchError(f"redirect loop: {' -> '.join([*chain, current])}", url=url, status=None)
            chain.append(current)
            if len(chain) > self.settings.max_redirects + 1:
                raise FetchError(f"more than {self.settings.max_redirects} redirects", url=url)

    def _check_robots(self, url: str) -> None:
        if not self.settings.obey_robots:
            return
        rules = self._robots(url)
        if not rules.allows(url):
            raise RobotsDisallowedError(f"disallowed by robots.txt ({rules.why})", url=url)

    def _robots(self, url: str) -> Rules:
        host = _host_key(url)
        if host not in self._rules:
            self._rules[host] = read_rules(url, lambda u: self._follow(u, "robots", None).body)
        return self._rules[host]

    def _get(self, url: str, kind: Kind, headers: dict[str, str], origin: str) -> Response | str:
        with self._polite(url):
            try:
                with self._client.stream("GET", url, headers=headers) as r:
                    return self._read(r, kind, origin)
            except httpx.TimeoutException as exc:
                raise TransientFetchError(f"timed out ({type(exc).__name__})", url=origin) from exc
            except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                raise TransientFetchError(f"connection error: {exc or type(exc).__name__}", url=origin) from exc
            except httpx.HTTPError as exc:
                raise FetchError(f"HTTP error: {exc or type(exc).__name__}", url=origin) from exc

    def _read(self, r: httpx.Response, kind: Kind, origin: str) -> Response | str:
        """The response, or the Location of a redirect."""
        status = r.status_code
        if status in REDIRECTS:
            location = r.headers.get("location")
            if not location:
                raise FetchError(f"HTTP {status} without a Location header", url=origin, status=status)
            return location
        if status == 429 or status >= 500:
            raise TransientFetchError(f"HTTP {status} {r.reason_phrase}".strip(), url=origin, status=status,
                                      retry_after=retry_after(r.headers.get("retry-after")))
        if status == 304 and kind != "robots":
            return self._response(r, origin, b"")
        if not 200 <= status < 300 or status == 204:
            raise FetchError(f"HTTP {status} {r.reason_phrase}".strip(), url=origin, status=status)
        content_type = r.headers.get("content-type")
        media = media_type(content_type)
        check_type(media, kind, origin)
        limit = ROBOTS_MAX_BYTES if kind == "robots" else self.settings.max_bytes
        declared = r.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(f"response too large: {declared} bytes declared, limit {limit}", url=origin, status=status)
        body = b"".join(_capped(r.iter_bytes(), limit, origin))
        if media in GZIP_TYPES:
            body = gunzip(body, limit, origin)
        return self._response(r, origin, body)

    def _response(self, r: httpx.Response, origin: str, body: bytes) -> Response:
        return Response(origin, str(r.url), r.status_code, body, r.headers.get("content-type"),
                        r.headers.get("etag"), r.headers.get("last-modified"), datetime.now(timezone.utc))

    @contextmanager
    def _polite(self, url: str) -> Iterator[None]:
        host = _host_key(url)
        with self._guard:
            lock = self._locks.setdefault(host, threading.Lock())
        with lock:
            rules = self._rules.get(host)
            delay = max(self.settings.host_delay, rules.crawl_delay if rules else 0.0)
            wait = self._last.get(host, float("-inf")) + delay - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                yield
            finally:
                self._last[host] = time.monotonic()


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def check_type(media: str, kind: Kind, url: str) -> None:
    if kind == "robots" or not media:
        return
    allowed = PAGE_TYPES if kind == "page" else FEED_TYPES + GZIP_TYPES
    if media not in allowed and not (kind == "feed" and media.endswith("+xml")):
        raise FetchError(f"unsupported content type {media} for a {kind}", url=url)


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def gunzip(body: bytes, limit: int, url: str) -> bytes:
    """Decompress a gzipped sitemap without ever holding more than ``limit`` bytes."""
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = decompressor.decompress(body, limit + 1)
    except zlib.error as exc:
        raise FetchError(f"bad gzip body: {exc}", url=url) from exc
    if len(out) > limit:
        raise FetchError(f"response too large: more than {limit} bytes once decompressed", url=url)
    return out


def _capped(chunks: Iterator[bytes], limit: int, url: str) -> Iterator[bytes]:
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise FetchError(f"response too large: more than {limit} bytes", url=url)
        yield chunk


def _host_key(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"

