"""Raw documents to ``Article``s: scraped text, HTML pages and JSON records.

The article is RAW: every body line is kept (captions, footers and duplicates are the
clean stage's business); headings are detected into ``Section.heading``. HTML bodies come
from trafilatura (precision settings first, its full fallback chain when that yields
little), with a plain lxml walk when trafilatura finds nothing; metadata (title, date and
where it came from, author, outlet, canonical URL, declared language) is read from the
page itself. See ``presswatch.sources`` for the front-matter and sidecar formats.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import soupsieve
import trafilatura
from bs4 import BeautifulSoup
from lxml import etree, html as lxml_html

from presswatch import htmlmeta
from presswatch.encoding import decode_bytes
from presswatch.errors import ExtractError
from presswatch.models import Article, Paragraph, RawDocument, Section, article_id, paragraph_id
from presswatch.textlines import first_sentence, has_credit, is_heading, parse_front_matter, split_record_text

MAX_BYTES = 10 * 1024 * 1024
RECORD_TYPE = "application/x-presswatch-record+json"
_PRECISE = {"include_comments": False, "include_tables": True, "fast": True, "favor_precision": True}
_THOROUGH = {"include_comments": False, "include_tables": True}
_SHORT = 1200
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_SPACE = re.compile(r"\s+")
_CAPTIONS = "//figcaption | //*[@class and contains(concat(' ', normalize-space(@class), ' '), ' wp-caption-text ')]"


@dataclass(frozen=True, slots=True)
class _Block:
    text: str
    heading: bool


def extract_article(doc: RawDocument, *, max_bytes: int = MAX_BYTES) -> Article:
    """Build the raw ``Article`` of one document; ``ExtractError`` if it has no usable body."""
    if len(doc.body) > max_bytes:
        raise ExtractError(f"oversized document: {len(doc.body)} bytes > {max_bytes}", url=doc.uri)
    kind = _kind(doc)
    if kind == "record":
        return _from_record(doc)
    binary = _binary_kind(doc.body)
    if binary:
        raise ExtractError(f"not a text document: {binary}", url=doc.uri)
    decoded = decode_bytes(doc.body, doc.content_type)
    if kind == "html":
        return _from_html(doc, decoded.text, dict(doc.meta))
    meta, text = parse_front_matter(decoded.text)
    return _from_text(doc, text.splitlines(), {**doc.meta, **meta})


def main_text(html: str) -> str:
    """The body text of an HTML page, one heading or paragraph per line (benchmark entry)."""
    text = trafilatura.extract(html, **_PRECISE) or ""
    if len(text) < _SHORT:
        text = trafilatura.extract(html, **_THOROUGH) or text
    return text


_MAGIC = ((b"\x1f\x8b", "gzip data"), (b"%PDF", "a PDF file"), (b"PK\x03\x04", "a zip archive"),
          (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"))


def _binary_kind(body: bytes) -> str | None:
    """What a body is when it is plainly not text: a known file signature, or NUL bytes."""
    for magic, name in _MAGIC:
        if body.startswith(magic):
            return name
    head = body[:4096]
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 has NULs
        return "binary data"
    return None


def _kind(doc: RawDocument) -> str:
    ctype = (doc.content_type or "").split(";")[0].strip().lower()
    if ctype == RECORD_TYPE:
        return "record"
    if ctype in {"text/html", "application/xhtml+xml"}:
        return "html"
    if ctype.startswith("text/plain"):
        return "text"
    suffix = Path(doc.uri.split("#")[0].split("?")[0]).suffix.lower()
    return "html" if suffix in {".html", ".htm", ".xhtml"} else "text"


def _from_record(doc: RawDocument) -> Article:
    try:
        record = json.loads(doc.body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ExtractError(f"unparseable record: {exc}", url=doc.uri) from exc
    if not isinstance(record, dict):
        raise ExtractError("unparseable record: not a JSON object", url=doc.uri)
    meta = {**doc.meta, **{k: str(v) for k, v in record.items() if k not in {"text", "html"} and v is not None}}
    if isinstance(record.get("html"), str) and record["html"].strip():
        return _from_html(doc, record["html"], meta)
    if isinstance(record.get("text"), str):
        return _from_text(doc, split_record_text(record["text"]), meta)
    raise ExtractError("record has neither 'text' nor 'html'", url=doc.uri)


def _from_text(doc: RawDocument, lines: Iterable[str], meta: Mapping[str, str]) -> Article:
    blocks = [_Block(line.strip(), is_heading(line.strip())) for line in lines if line.strip()]
    title = meta.get("title")
    if not title and blocks and blocks[0].heading:
        title, blocks = blocks[0].text, blocks[1:]
    body = [b for b in blocks if not b.heading]
    if not body:
        raise ExtractError("empty document: no paragraph", url=doc.uri)
    url = meta.get("url") or _document_url(doc.uri)
    lead = next((b.text for b in body if not has_credit(b.text)), body[0].text)
    return _article(
        url=url,
        title=title or first_sentence(lead),
        source=meta.get("source") or doc.source,
        published=htmlmeta.iso_date(meta.get("published")),
        date_source="meta" if htmlmeta.iso_date(meta.get("published")) else None,
        author=meta.get("author"),
        declared_language=meta.get("language"),
        blocks=blocks,
    )


def _from_html(doc: RawDocument, text: str, meta: Mapping[str, str]) -> Article:
    try:
        tree = lxml_html.document_fromstring(_XML_DECLARATION.sub("", text, count=1))
    except (etree.ParserError, ValueError) as exc:
        raise ExtractError(f"unparseable HTML: {exc}", url=doc.uri) from exc
    base = meta.get("url") or (doc.uri if _is_web(doc.uri) else None)
    found = htmlmeta.read_metadata(tree, base, doc.source)
    url = meta.get("url") or (doc.uri if _is_web(doc.uri) else None) or found.canonical or _document_url(doc.uri)
    published = htmlmeta.iso_date(meta.get("published"))
    title = meta.get("title") or found.title
    for caption in tree.xpath(_CAPTIONS):
        caption.drop_tree()
    selector = meta.get("selector")
    blocks = _selected_blocks(tree, selector, doc.uri) if selector else _trafilatura_blocks(tree) or _plain_blocks(tree)
    if title:
        folded = htmlmeta.fold(title)
        blocks = [b for b in blocks if not (b.heading and htmlmeta.fold(b.text) == folded)]
    body = [b for b in blocks if not b.heading]
    if not body:
        raise ExtractError("empty document: no paragraph", url=doc.uri)
    return _article(
        url=url,
        title=title or first_sentence(body[0].text),
        source=meta.get("source") or found.outlet or doc.source,
        published=published or found.published,
        date_source="meta" if published else found.date_source,
        author=meta.get("author") or found.author,
        declared_language=meta.get("language") or found.language,
        canonical_url=found.canonical,
        blocks=blocks,
    )


def _article(*, url: str, title: str, source: str, published: date | None, blocks: list[_Block],
             **fields: Any) -> Article:
    sections: list[Section] = []
    heading: str | None = None
    current: list[Paragraph] = []
    position = 0
    for block in blocks:
        if block.heading:
            if current or heading is not None:
                sections.append(Section(heading, tuple(current)))
            heading, current = block.text, []
            continue
        current.append(Paragraph(paragraph_id(url, block.text), block.text, position))
        position += 1
    sections.append(Section(heading, tuple(current)))
    return Article(id=article_id(url), url=url, title=title, source=source, published=published,
                   sections=tuple(sections), **fields)


def _trafilatura_blocks(tree: lxml_html.HtmlElement) -> list[_Block]:
    result = _bare(tree, _PRECISE)
    if result is None or len(result.text or "") < _SHORT:
        result = _bare(tree, _THOROUGH) or result
    if result is None or result.body is None:
        return []
    blocks: list[_Block] = []
    for element in result.body:
        _collect(element, blocks.append)
    return blocks


def _bare(tree: lxml_html.HtmlElement, options: Mapping[str, Any]) -> Any:
    """trafilatura on the serialised page, so it parses it itself exactly as ``main_text`` does."""
    try:
        return trafilatura.bare_extraction(lxml_html.tostring(tree, encoding="unicode"), with_metadata=False, **options)
    except (ValueError, TypeError, etree.LxmlError):
        return None


def _collect(element: etree._Element, emit: Callable[[_Block], None]) -> None:
    tag = element.tag
    if tag in {"list", "quote"} and len(element):
        for child in element:
            _collect(child, emit)
        return
    if tag == "table":
        for row in element.iter("row"):
            cells = [_clean(" ".join(cell.itertext())) for cell in row]
            if any(cells):
                emit(_Block(" | ".join(c for c in cells if c), False))
        return
    text = _clean(" ".join(element.itertext()))
    if text:
        emit(_Block(text, tag == "head"))


def _selected_blocks(tree: lxml_html.HtmlElement, selector: str, url: str) -> list[_Block]:
    """The body a source's configured CSS selector points at (``selector`` in the source's options)."""
    try:
        found = BeautifulSoup(lxml_html.tostring(tree, encoding="unicode"), "lxml").select(selector)
    except soupsieve.SelectorSyntaxError as exc:
        raise ExtractError(f"bad CSS selector {selector!r}: {exc}", url=url) from exc
    if not found:
        raise ExtractError(f"CSS selector {selector!r} matched nothing", url=url)
    return _plain_blocks(lxml_html.document_fromstring(f"<html><body>{''.join(map(str, found))}</body></html>"))


def _plain_blocks(tree: lxml_html.HtmlElement) -> list[_Block]:
    root = htmlmeta.content_root(tree)
    blocks = []
    for element in root.iter("h1", "h2", "h3", "p", "li", "blockquote"):
        if any(a.tag in {"p", "li", "blockquote"} for a in element.iterancestors()):
            continue
        text = _clean(element.text_content())
        if text:
            blocks.append(_Block(text, element.tag in {"h1", "h2", "h3"}))
    return blocks


def _clean(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _is_web(uri: str) -> bool:
    return uri.startswith(("http://", "https://"))


def _document_url(uri: str) -> str:
    if re.match(r"^[a-z][a-z0-9+.-]*:", uri, re.I) and not re.match(r"^[a-z]:\\", uri, re.I):
        return uri
    path, _, line = uri.partition("#")
    return Path(path).resolve().as_uri() + (f"#{line}" if line else "")
