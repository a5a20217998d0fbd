"""Feeds and sitemaps to lists of article links, parsed without entity expansion.

The XML is read with defusedxml (a DTD may be present, but any entity declaration or external
reference is refused: no billion laughs, no XXE), then walked by local tag name so that the
namespaces of the formats and their variants do not matter:

- RSS 0.9x/2.0 (``rss/channel/item``: ``link``, else a permalink ``guid``; ``pubDate`` or
  ``dc:date``), RSS 1.0 (``rdf:RDF/item``), Atom (``feed/entry``: the ``alternate`` link;
  ``published``, else ``updated``);
- sitemaps (``urlset/url``: ``loc``; the news ``publication_date``, else ``lastmod``; the news
  ``title``) and sitemap indexes (``sitemapindex/sitemap``: child sitemaps as entries).

Links are resolved against the listing's URL; dates become aware datetimes (UTC when the
source gives no offset).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Literal
from urllib.parse import urljoin
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_xml
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from presswatch.errors import ExtractError

ListingKind = Literal["feed", "sitemap", "sitemapindex"]
MAX_ENTRIES = 50_000
_PARTIAL_DATE = re.compile(r"^\s*(\d{4})-(\d{2})(?:-(\d{2}))?")


@dataclass(frozen=True, slots=True)
class Entry:
    url: str
    title: str | None = None
    published: datetime | None = None


@dataclass(frozen=True, slots=True)
class Listing:
    kind: ListingKind
    entries: tuple[Entry, ...]


def parse_listing(body: bytes, url: str) -> Listing:
    """The links of a feed, sitemap or sitemap index; ``ExtractError`` for anything else."""
    root = _parse(body, url)
    name = _local(root.tag)
    if name == "rss":
        channel = _child(root, "channel")
        items = _children(channel, "item") if channel is not None else iter(())
        return Listing("feed", _entries(url, items, _rss_entry))
    if name == "RDF":
        return Listing("feed", _entries(url, _children(root, "item"), _rss_entry))
    if name == "feed":
        return Listing("feed", _entries(url, _children(root, "entry"), _atom_entry))
    if name == "urlset":
        return Listing("sitemap", _entries(url, _children(root, "url"), _sitemap_entry))
    if name == "sitemapindex":
        return Listing("sitemapindex", _entries(url, _children(root, "sitemap"), _sitemap_entry))
    raise ExtractError(f"not a feed or a sitemap (root element <{name}>)", url=url)


def parse_date(text: str | None) -> datetime | None:
    """RFC 822 (RSS), ISO 8601 / W3C (Atom, sitemaps) or a bare year-month(-day)."""
    if not text or not text.strip():
        return None
    text = text.strip()
    value: datetime | None = None
    try:
        value = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            match = _PARTIAL_DATE.match(text)
            if match:
                try:
                    value = datetime(int(match[1]), int(match[2]), int(match[3] or 1))
                except ValueError:
                    return None
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _parse(body: bytes, url: str) -> Element:
    try:
        return safe_xml.fromstring(body, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except (EntitiesForbidden, ExternalReferenceForbidden) as exc:
        raise ExtractError(f"XML entity declarations refused ({type(exc).__name__})", url=url) from exc
    except DTDForbidden as exc:
        raise ExtractError("XML DTD refused", url=url) from exc
    except ParseError as exc:
        raise ExtractError(f"invalid XML: {exc}", url=url) from exc


def _entries(base: str, items: Iterator[Element], read: Callable[[Element, str], Entry | None]) -> tuple[Entry, ...]:
    found: dict[str, Entry] = {}
    for item in items:
        entry = read(item, base)
        if entry is not None and entry.url not in found:
            found[entry.url] = entry
        if len(found) >= MAX_ENTRIES:
            break
    return tuple(found.values())


def _rss_entry(item: Element, base: str) -> Entry | None:
    link = _text(item, "link")
    if not link:
        guid = _child(item, "guid")
        permalink = guid is not None and guid.get("isPermaLink", "true").lower() != "false"
        link = _clean(guid.text) if permalink and guid is not None else None
    if not link:
        return None
    published = parse_date(_text(item, "pubDate")) or parse_date(_text(item, "date"))
    return Entry(urljoin(base, link), _text(item, "title"), published)


def _atom_entry(entry: Element, base: str) -> Entry | None:
    href = None
    for link in _children(entry, "link"):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            href = link.get("href")
            break
    if not href:
        return None
    published = parse_date(_text(entry, "published")) or parse_date(_text(entry, "updated"))
    return Entry(urljoin(base, href.strip()), _text(entry, "title"), published)


def _sitemap_entry(item: Element, base: str) -> Entry | None:
    loc = _text(item, "loc")
    if not loc:
        return None
    news = _child(item, "news")
    title = _text(news, "title") if news is not None else None
    published = parse_date(_text(news, "publication_date")) if news is not None else None
    return Entry(urljoin(base, loc), title, published or parse_date(_text(item, "lastmod")))


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(element: Element, name: str) -> Iterator[Element]:
    return (child for child in element if _local(child.tag) == name)


def _child(element: Element, name: str) -> Element | None:
    return next(_children(element, name), None)


def _text(element: Element, name: str) -> str | None:
    child = _child(element, name)
    return _clean(child.text) if child is not None else None


def _clean(text: str | None) -> str | None:
    text = " ".join((text or "").split())
    return text or None
