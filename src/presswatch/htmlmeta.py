"""Metadata of an HTML article page: title, publication date and its origin, author, outlet.

Date evidence, first found wins, with ``date_source``: JSON-LD ``datePublished``
("json-ld"); ``article:published_time`` and similar ``<meta>`` tags, then ``<time
datetime>`` ("meta"); a ``/2022/09/14/`` pattern in the URL ("url"); a visible date such as
"14 septembre 2022", "1er octobre 2022" or "14/09/2022" in the article text ("text").
Lexicons and patterns live in ``data/extract.toml`` under ``[html]``.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urljoin

from lxml import html as lxml_html

from presswatch.models import normalise_text

_ISO = re.compile(r"((?:19|20)\d\d)-(\d{2})-(\d{2})")
_ROOTS = ("//*[@itemprop='articleBody']", "//article", "//main", "//*[@role='main']", "//body")
_DROP = ("//script", "//style", "//noscript", "//nav", "//footer", "//aside", "//form", "//header")


@dataclass(frozen=True, slots=True)
class PageMeta:
    title: str | None
    published: date | None
    date_source: str | None
    author: str | None
    outlet: str | None
    canonical: str | None
    language: str | None


@cache
def html_rules() -> dict[str, Any]:
    data = tomllib.loads(resources.files("presswatch.data").joinpath("extract.toml").read_text("utf-8"))
    rules = dict(data["html"])
    months = "|".join(sorted(rules["months"], key=len, reverse=True))
    rules["french_date"] = re.compile(rf"\b(1er|\d{{1,2}})\s+({months})\s+((?:19|20)\d\d)\b", re.I)
    for key in ("byline_pattern", "url_date_pattern", "numeric_date_pattern"):
        rules[key] = re.compile(rules[key])
    return rules


def fold(text: str) -> str:
    return normalise_text(text)


def iso_date(value: str | None) -> date | None:
    match = _ISO.search(value or "")
    return _date(match[1], match[2], match[3]) if match else None


def read_metadata(tree: lxml_html.HtmlElement, base_url: str | None, source: str) -> PageMeta:
    metas = _metas(tree)
    ld = list(_json_ld(tree))
    site = metas.get("og:site_name") or _ld_name(_ld_first(ld, "publisher"))
    canonical = _first(tree.xpath("//link[@rel='canonical']/@href")) or metas.get("og:url")
    if canonical and base_url:
        canonical = urljoin(base_url, canonical)
    published, date_source = _published(tree, metas, ld, canonical or base_url or "")
    lang = _first(tree.xpath("/html/@lang")) or metas.get("content-language") or ""
    return PageMeta(
        title=_title(tree, metas, site),
        published=published,
        date_source=date_source,
        author=_author(tree, metas, ld),
        outlet=site or None,
        canonical=canonical or None,
        language=lang.strip().replace("_", "-").split("-")[0].lower() or None,
    )


def content_root(tree: lxml_html.HtmlElement) -> lxml_html.HtmlElement:
    for element in tree.xpath(" | ".join(_DROP)):
        element.drop_tree()
    for xpath in _ROOTS:
        found = tree.xpath(xpath)
        if found:
            return found[0]
    return tree


def _metas(tree: lxml_html.HtmlElement) -> dict[str, str]:
    metas: dict[str, str] = {}
    for meta in tree.iter("meta"):
        key = meta.get("property") or meta.get("name") or meta.get("itemprop") or meta.get("http-equiv")
        content = (meta.get("content") or "").strip()
        if key and content:
            metas.setdefault(key.strip().lower(), content)
    return metas


def _json_ld(tree: lxml_html.HtmlElement) -> Iterator[dict[str, Any]]:
    for script in tree.xpath("//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text or "", strict=False)
        except json.JSONDecodeError:
            continue
        stack = [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                stack.extend(item.get("@graph", []) if isinstance(item.get("@graph"), list) else [])
                yield item


def _ld_first(ld: list[dict[str, Any]], key: str) -> Any:
    return next((item[key] for item in ld if item.get(key)), None)


def _ld_name(value: Any) -> str | None:
    if isinstance(value, list):
        names = [n for n in (_ld_name(v) for v in value) if n]
        return ", ".join(names) or None
    if isinstance(value, dict):
        value = value.get("name")
    return (value.strip() or None) if isinstance(value, str) else None


def _title(tree: lxml_html.HtmlElement, metas: dict[str, str], site: str | None) -> str | None:
    og = metas.get("og:title")
    if og:
        return _strip_site(og, site, always=False)
    h1 = _first(_clean(h.text_content()) for h in tree.iter("h1"))
    if h1:
        return h1
    title = _first(_clean(t.text_content()) for t in tree.iter("title"))
    return _strip_site(title, site, always=True) if title else None


def _strip_site(title: str, site: str | None, *, always: bool) -> str:
    title = _clean(title)
    for separator in html_rules()["title_separators"]:
        head, found, tail = title.rpartition(separator)
        if not found or not head:
            continue
        if (site and fold(tail) == fold(site)) or (always and len(tail.split()) <= 4):
            return head.strip()
    return title


def _published(tree: lxml_html.HtmlElement, metas: dict[str, str], ld: list[dict[str, Any]],
               url: str) -> tuple[date | None, str | None]:
    rules = html_rules()
    found = iso_date(str(_ld_first(ld, "datePublished") or ""))
    if found:
        return found, "json-ld"
    for key in [*rules["date_meta"], "__time__"]:
        value = _first(tree.xpath("//time/@datetime")) if key == "__time__" else metas.get(key)
        found = iso_date(value)
        if found:
            return found, "meta"
    match = rules["url_date_pattern"].search(url)
    if match and (found := _date(*match.groups())):
        return found, "url"
    text = _clean(" ".join(content_root(lxml_html.fromstring(lxml_html.tostring(tree))).itertext()))
    match = rules["french_date"].search(text)
    if match and (found := _date(match[3], str(rules["months"][match[2].lower()]), match[1].replace("er", ""))):
        return found, "text"
    match = rules["numeric_date_pattern"].search(text)
    if match and (found := _date(match[3], match[2], match[1])):
        return found, "text"
    return None, None


def _author(tree: lxml_html.HtmlElement, metas: dict[str, str], ld: list[dict[str, Any]]) -> str | None:
    rules = html_rules()
    for key in rules["author_meta"]:
        value = metas.get(key, "")
        if value and not value.startswith("http"):
            return value
    name = _ld_name(_ld_first(ld, "author"))
    if name:
        return name
    for element in tree.xpath("//*[@rel='author'] | //*[@class]"):
        classes = (element.get("class") or "").lower().split() + [element.get("rel") or ""]
        if element.get("rel") == "author" or any(c in rules["byline_classes"] for c in classes):
            text = _clean(element.text_content())
            match = rules["byline_pattern"].match(text)
            if match:
                return match[1]
            if 0 < len(text) <= 60 and len(text.split()) <= 5:
                return text
    return None


def _date(year: str, month: str, day: str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _first(values: Any) -> Any:
    return next((v for v in values if v), None)


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
