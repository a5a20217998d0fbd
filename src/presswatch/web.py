"""Collecting a web source (``feed``, ``sitemap`` or ``url``): the pages that are new or changed.

The listing (feed, sitemap, or each child of a sitemap index) is fetched and parsed, entries
dated before ``since`` are dropped without being fetched, then every page is fetched with its
stored validators: a 304, or a 200 whose body hashes as stored, counts as ``not_modified``.
``retry`` adds the URLs of earlier failures (``retry_uris``), so a page that failed is tried
again even when the listing no longer names it, or has not changed.

Every refusal or failure becomes a ``Failure`` (stage ``safety``, ``robots`` or ``fetch`` for a
page, ``feed`` for a listing) and collection goes on; only a transient failure of the source's
own listing is raised (``TransientFetchError``), so that the caller may retry the source.
``states_to_save`` says which of the new fetch states may be written once the pages are
processed: a page's only if it was processed, a listing's only if nothing of the source failed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from presswatch.config import FetchSettings, SourceSpec
from presswatch.errors import ExtractError, FetchError, SourceError, TransientFetchError
from presswatch.feeds import Entry, parse_listing
from presswatch.fetch import Fetcher, RobotsDisallowedError
from presswatch.models import Failure, RawDocument
from presswatch.store import FetchState
from presswatch.urlsafety import UnsafeURLError

MAX_INDEX_DEPTH = 2
LISTING_STAGE = "feed"
PAGE_STAGES = frozenset({"fetch", "robots", "safety", "extract", "process"})


@dataclass(frozen=True)
class Harvest:
    documents: tuple[RawDocument, ...]
    failures: tuple[Failure, ...]
    states: Mapping[str, FetchState]
    not_modified: int
    listings: tuple[str, ...] = ()


@dataclass
class _Acc:
    source: str
    documents: list[RawDocument] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    states: dict[str, FetchState] = field(default_factory=dict)
    listings: list[str] = field(default_factory=list)
    not_modified: int = 0

    def fail(self, uri: str, stage: str, exc: Exception) -> None:
        self.failures.append(Failure(self.source, uri, stage, str(exc), datetime.now(timezone.utc)))

    def harvest(self) -> Harvest:
        return Harvest(tuple(self.documents), tuple(self.failures), dict(self.states), self.not_modified,
                       tuple(self.listings))


def collect_web(
    spec: SourceSpec,
    settings: FetchSettings,
    known: Mapping[str, FetchState],
    *,
    since: date | None = None,
    retry: Sequence[str] = (),
) -> Harvest:
    """Fetch a web source's new or changed pages (see the module docstring)."""
    acc = _Acc(spec.name)
    selector = spec.options.get("selector")
    meta = {"selector": selector} if isinstance(selector, str) and selector.strip() else {}
    with Fetcher(settings) as fetcher:
        if spec.kind == "url":
            pages = [spec.location] if isinstance(spec.location, str) else list(spec.location)
        elif spec.kind in ("feed", "sitemap") and isinstance(spec.location, str):
            entries = _listing(fetcher, spec.location, known, since, acc, depth=0)
            pages = [e.url for e in entries if not _before(e, since)]
        else:
            raise SourceError(f"source {spec.name!r}: kind {spec.kind!r} is not a web source")
        listed = set(acc.listings)
        for url in dict.fromkeys([*pages, *(u for u in retry if u not in listed)]):
            _page(fetcher, url, known.get(url), acc, meta)
    return acc.harvest()


def retry_uris(failures: Iterable[Failure]) -> list[str]:
    """The page URLs among a source's open failures (listing failures are not pages)."""
    return list(dict.fromkeys(
        f.uri for f in failures if f.stage in PAGE_STAGES and f.uri.startswith(("http://", "https://"))
    ))


def states_to_save(harvest: Harvest, failed: Iterable[str]) -> dict[str, FetchState]:
    """The fetch states to store once the harvest's documents went through the pipeline."""
    failed = set(failed) | {f.uri for f in harvest.failures}
    listings = set(harvest.listings)
    return {
        url: state for url, state in harvest.states.items()
        if url not in failed and (url not in listings or not failed)
    }


def _listing(
    fetcher: Fetcher, url: str, known: Mapping[str, FetchState], since: date | None, acc: _Acc, depth: int
) -> list[Entry]:
    acc.listings.append(url)
    previous = known.get(url) if since is None else None
    try:
        response = fetcher.fetch(url, "feed", previous)
    except TransientFetchError as exc:
        if depth == 0:
            raise
        acc.fail(url, LISTING_STAGE, exc)
        return []
    except FetchError as exc:
        acc.fail(url, LISTING_STAGE, exc)
        return []
    if response.status == 304 or (previous is not None and previous.content_hash == response.content_hash):
        acc.not_modified += 1
        acc.states[url] = response.state(previous)
        return []
    try:
        listing = parse_listing(response.body, url)
    except ExtractError as exc:
        acc.fail(url, LISTING_STAGE, exc)
        return []
    acc.states[url] = response.state()
    if listing.kind != "sitemapindex":
        return list(listing.entries)
    if depth >= MAX_INDEX_DEPTH:
        acc.fail(url, LISTING_STAGE, ExtractError("sitemap indexes nested too deep", url=url))
        return []
    entries: list[Entry] = []
    for child in listing.entries:
        if child.url not in acc.listings and not _before(child, since):
            entries.extend(_listing(fetcher, child.url, known, since, acc, depth + 1))
    return entries


def _page(fetcher: Fetcher, url: str, previous: FetchState | None, acc: _Acc, meta: Mapping[str, str]) -> None:
    try:
        response = fetcher.fetch(url, "page", previous)
    except UnsafeURLError as exc:
        acc.fail(url, "safety", exc)
        return
    except RobotsDisallowedError as exc:
        acc.fail(url, "robots", exc)
        return
    except FetchError as exc:
        acc.fail(url, "fetch", exc)
        return
    if response.status == 304 or (previous is not None and previous.content_hash == response.content_hash):
        acc.not_modified += 1
        acc.states[url] = response.state(previous)
        return
    acc.documents.append(response.document(acc.source, dict(meta)))
    acc.states[url] = response.state()


def _before(entry: Entry, since: date | None) -> bool:
    return since is not None and entry.published is not None and entry.published.date() < since
