"""The digest of a period: statements read from the store, rendered to HTML, Markdown and JSON.

Only French (``language == 'fr'``) and relevant articles feed the statements. A paragraph
marked ``duplicate`` is left out, unless its twin was already reported. A paragraph (or the
twin of a paragraph) already ``reported`` in an earlier digest of the same series (weekly or
monthly) stays, with ``first_reported`` set; it is shown as "déjà signalé" and placed after the
new statements of its section. Statements are sorted by score (highest first), then by date
(most recent first). A ``figure_update`` mark's ``detail`` (a short French phrase on the
figure it updates) becomes the item's ``updates``, and the older paragraph is not shown when
it falls in the same period; stories give ``also_in`` (the other outlets of the same story).
Files are named ``presswatch-<period key>.<html|md|json>``.

JSON digest, schema ``presswatch.digest/1`` (dates ISO 8601, ``end`` exclusive)::

    {
      "schema": "presswatch.digest/1",
      "period": {"key": "2022-W38", "kind": "week", "start": "2022-09-19", "end": "2022-09-26"},
      "generated_at": "2022-09-26T06:00:00+00:00",
      "counts": {"articles", "french", "relevant", "paragraphs", "successes", "improvements",
                 "context", "already_reported", "duplicates_removed", "boilerplate_removed",
                 "non_french", "off_topic", "failures": int},
      "successes": [item], "improvements": [item],
      "programmes": [{"name": str, "successes": [paragraph_id], "improvements": [paragraph_id]}],
      "articles": [article],
      "stories": [{"story_id", "canonical_article_id", "title", "outlets": [str],
                   "articles": [article id in this period]}],
      "quality": {"duplicates_removed": int, "boilerplate_removed": int,
                  "removals_by_reason": [{"reason": str, "count": int}],
                  "non_french": [article], "off_topic": [article],
                  "failures": [{"source", "uri", "stage", "reason", "at"}]}
    }
    item = {"paragraph_id", "article_id", "label", "score", "cues": [str], "text", "excerpt",
            "heading": str|null, "article_title", "outlet", "published": date|null, "url",
            "link", "programmes": [str], "figures": [str], "quotes": [str], "also_in": [str],
            "first_reported": date|null, "updates": str|null}
    article = {"id", "title", "outlet", "published": date|null, "url", "successes": int,
               "improvements": int, "also_in": [str], "story_id": str|null,
               "canonical_id": str|null}

``link`` is the article URL with a text fragment (``#:~:text=``) made of the paragraph's
first words, so a browser that supports it scrolls to and highlights the source paragraph.
Counts partition the articles: articles = french + non_french, french = relevant + off_topic.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2

from presswatch.errors import RenderError
from presswatch.models import DataQuality, Digest, DigestArticle, DigestItem, Label, Period
from presswatch.store import Store, StoredArticle

SCHEMA = "presswatch.digest/1"
FORMATS = ("html", "md", "json")
EXCERPT_CHARS = 300
LINK_WORDS = 6
_BLANK_LINES = re.compile(r"\n{3,}")
_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre")


def build_digest(store: Store, period: Period, *, now: datetime | None = None) -> Digest:
    """Read the period's articles from the store and turn them into a ``Digest``."""
    stored = store.articles_in(period)
    reported = store.reported_before(period.start, period.kind)
    failures = tuple(store.failures_in(period))
    french = [s for s in stored if s.article.language == "fr"]
    relevant = [s for s in french if s.article.relevant]
    items: dict[Label, list[DigestItem]] = {"success": [], "improvement": [], "context": []}
    rows, paragraphs, corpus_duplicates = [], 0, 0
    for entry in relevant:
        mine: list[DigestItem] = []
        seen: set[str] = set()
        for section in entry.article.sections:
            for paragraph in section.paragraphs:
                if paragraph.id in seen:
                    continue
                seen.add(paragraph.id)
                paragraphs += 1
                marks = entry.marks.get(paragraph.id, ())
                twin = next((m.other_id or "" for m in marks if m.kind == "duplicate"), None)
                if twin is not None and twin not in reported:
                    corpus_duplicates += 1
                    continue
                label = entry.classifications.get(paragraph.id)
                if label is None:
                    continue
                first = reported.get(paragraph.id) or (reported[twin] if twin else None)
                item = _item(entry, section.heading, paragraph.id, paragraph.text, first)
                items[label.label].append(item)
                mine.append(item)
        rows.append((entry, _article(entry, mine)))
    superseded = {m.other_id for s in relevant for ms in s.marks.values() for m in ms if m.kind == "figure_update"}
    for label_items in items.values():  # an older figure updated within the same period is not shown twice
        label_items[:] = [i for i in label_items if i.paragraph_id not in superseded]
    day_of = {s.article.id: s.day for s in relevant}
    for found in items.values():
        found.sort(key=lambda i: (i.first_reported is not None, -i.score, -day_of[i.article_id].toordinal(),
                                  i.article_id, i.paragraph_id))
    removals = Counter(r.reason for s in stored for r in s.article.removals)
    if corpus_duplicates:
        removals["corpus-duplicate"] += corpus_duplicates
    duplicates = sum(n for reason, n in removals.items() if "dup" in reason.casefold())
    quality = DataQuality(
        duplicates_removed=duplicates,
        boilerplate_removed=sum(removals.values()) - duplicates,
        non_french=tuple(_article(s, []) for s in stored if s.article.language != "fr"),
        off_topic=tuple(_article(s, []) for s in french if not s.article.relevant),
        failures=failures,
        removals_by_reason=tuple(sorted(removals.items(), key=lambda kv: (-kv[1], kv[0]))),
    )
    successes, improvements = tuple(items["success"]), tuple(items["improvement"])
    counts = {
        "articles": len(stored), "french": len(french), "relevant": len(relevant),
        "paragraphs": paragraphs, "successes": len(successes), "improvements": len(improvements),
        "context": len(items["context"]),
        "already_reported": sum(i.first_reported is not None for i in successes + improvements),
        "duplicates_removed": quality.duplicates_removed,
        "boilerplate_removed": quality.boilerplate_removed,
        "non_french": len(quality.non_french), "off_topic": len(quality.off_topic),
        "failures": len(failures),
    }
    return Digest(
        period=period,
        generated_at=now or datetime.now(timezone.utc),
        successes=successes,
        improvements=improvements,
        articles=tuple(a for _, a in sorted(rows, key=lambda r: (r[0].day, r[1].title, r[1].id))),
        quality=quality,
        counts=counts,
        programmes=_programmes(successes, improvements),
    )


def _item(
    entry: StoredArticle, heading: str | None, pid: str, text: str, first_reported: date | None
) -> DigestItem:
    article, label = entry.article, entry.classifications[pid]
    facts = entry.facts.get(pid)
    updates = [m.detail or m.other_id for m in entry.marks.get(pid, ()) if m.kind == "figure_update"]
    return DigestItem(
        paragraph_id=pid, article_id=article.id, label=label.label, score=label.score,
        cues=label.cues, text=text, excerpt=excerpt(text), heading=heading,
        article_title=article.title, outlet=article.source, published=article.published,
        url=article.url, link=source_link(article.url, text),
        programmes=facts.programmes if facts else (), figures=facts.figures if facts else (),
        quotes=facts.quotes if facts else (), also_in=entry.also_in,
        first_reported=first_reported, updates=next((u for u in updates if u), None),
    )


def _article(entry: StoredArticle, items: Sequence[DigestItem]) -> DigestArticle:
    a = entry.article
    return DigestArticle(
        id=a.id, title=a.title, outlet=a.source, published=a.published, url=a.url,
        successes=sum(i.label == "success" for i in items),
        improvements=sum(i.label == "improvement" for i in items),
        also_in=entry.also_in, story_id=entry.story_id, canonical_id=entry.canonical_id,
    )


def _programmes(
    successes: tuple[DigestItem, ...], improvements: tuple[DigestItem, ...]
) -> tuple[tuple[str, tuple[DigestItem, ...], tuple[DigestItem, ...]], ...]:
    names = {name for item in successes + improvements for name in item.programmes}
    groups = [
        (name, tuple(i for i in successes if name in i.programmes),
         tuple(i for i in improvements if name in i.programmes))
        for name in names
    ]
    return tuple(sorted(groups, key=lambda g: (-(len(g[1]) + len(g[2])), g[0].casefold())))


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The text on one line, cut at a word boundary near ``limit`` characters, with "…"."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit + 1].rfind(" ")
    cut = cut if cut > limit // 2 else limit
    return text[:cut].rstrip(" ,;:-–—(«\"'") + "…"


def source_link(url: str, text: str, words: int = LINK_WORDS) -> str:
    """``url`` with a text fragment on the first words of ``text`` (leading punctuation skipped)."""
    tokens = text.split()
    while tokens and not any(ch.isalnum() for ch in tokens[0]):
        tokens.pop(0)
    chosen = tokens[:words]
    while chosen and not any(ch.isalnum() for ch in chosen[-1]):
        chosen.pop()
    base = url.split(":~:", 1)[0]
    if not chosen:
        return base
    directive = quote(" ".join(chosen), safe="").replace("-", "%2D")
    return f"{base}{'' if '#' in base else '#'}:~:text={directive}"


def french_date(day: date | datetime | None) -> str:
    """``14 septembre 2022``, ``1er octobre 2022``; empty for None."""
    if day is None:
        return ""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {_MONTHS[day.month - 1]} {day.year}"


def period_label(period: Period) -> str:
    """``semaine 38 de 2022 (du 19 au 25 septembre 2022)`` or ``septembre 2022``."""
    if period.kind == "month":
        return f"{_MONTHS[period.start.month - 1]} {period.start.year}"
    last = date.fromordinal(period.end.toordinal() - 1)
    if (last.year, last.month) == (period.start.year, period.start.month):
        first = "1er" if period.start.day == 1 else str(period.start.day)
    elif last.year == period.start.year:
        first = french_date(period.start).rsplit(" ", 1)[0]
    else:
        first = french_date(period.start)
    week = period.key.split("-W")[1].lstrip("0")
    return f"semaine {week} de {period.key[:4]} (du {first} au {french_date(last)})"


def render_digest(
    digest: Digest, out_dir: Path, formats: Sequence[str] = FORMATS
) -> list[Path]:
    """Write the digest in each format to ``out_dir``; each file is replaced atomically."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise RenderError(f"unknown digest format(s) {unknown}; choose among {list(FORMATS)}")
    contents: dict[str, str] = {}
    for fmt in dict.fromkeys(formats):
        if fmt == "json":
            contents[fmt] = json.dumps(digest_document(digest), ensure_ascii=False, indent=2) + "\n"
            continue
        try:
            template = _environment().get_template(f"digest.{fmt}.j2")
            text = template.render(digest=digest, label=period_label(digest.period))
            contents[fmt] = _BLANK_LINES.sub("\n\n", text) if fmt == "md" else text
        except jinja2.TemplateError as exc:
            raise RenderError(f"template digest.{fmt}.j2 failed: {exc}") from exc
    out_dir = Path(out_dir)
    paths = []
    for fmt, text in contents.items():
        path = out_dir / f"presswatch-{digest.period.key}.{fmt}"
        _write_atomic(path, text)
        paths.append(path)
    return paths


def digest_document(digest: Digest) -> dict[str, Any]:
    """The digest as the ``presswatch.digest/1`` JSON document (see the module docstring)."""
    p = digest.period
    q = digest.quality
    return {
        "schema": SCHEMA,
        "period": {"key": p.key, "kind": p.kind, "start": p.start.isoformat(), "end": p.end.isoformat()},
        "generated_at": digest.generated_at.isoformat(),
        "counts": dict(digest.counts),
        "successes": [_plain(i) for i in digest.successes],
        "improvements": [_plain(i) for i in digest.improvements],
        "programmes": [
            {"name": name, "successes": [i.paragraph_id for i in ok],
             "improvements": [i.paragraph_id for i in todo]}
            for name, ok, todo in digest.programmes
        ],
        "articles": [_plain(a) for a in digest.articles],
        "stories": _stories(digest.articles),
        "quality": {
            "duplicates_removed": q.duplicates_removed,
            "boilerplate_removed": q.boilerplate_removed,
            "removals_by_reason": [{"reason": r, "count": n} for r, n in q.removals_by_reason],
            "non_french": [_plain(a) for a in q.non_french],
            "off_topic": [_plain(a) for a in q.off_topic],
            "failures": [_plain(f) for f in q.failures],
        },
    }


def _stories(articles: Sequence[DigestArticle]) -> list[dict[str, Any]]:
    """Stories told by several outlets, each once: its canonical article and every outlet."""
    grouped: dict[str, list[DigestArticle]] = {}
    for article in articles:
        if article.story_id:
            grouped.setdefault(article.story_id, []).append(article)
    return [
        {
            "story_id": story_id,
            "canonical_article_id": members[0].canonical_id,
            "title": next((m.title for m in members if m.id == m.canonical_id), members[0].title),
            "outlets": sorted({m.outlet for m in members} | {o for m in members for o in m.also_in}),
            "articles": [m.id for m in members],
        }
        for story_id, members in grouped.items()
    ]


def _plain(value: Any) -> dict[str, Any]:
    return {k: _scalar(v) for k, v in asdict(value).items()}


def _scalar(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_scalar(v) for v in value]
    return value


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("presswatch", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2", "atom.j2"), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        fr_date=french_date, score=_score, md=_markdown_text, mdurl=_markdown_url, ucfirst=_ucfirst
    )
    return env


def _ucfirst(value: str) -> str:
    return value[:1].upper() + value[1:]


def _score(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")


def _markdown_text(value: str) -> str:
    escaped = "".join("\\" + ch if ch in "\\`*_[]<>#|~" else ch for ch in " ".join(str(value).split()))
    return escaped


def _markdown_url(url: str) -> str:
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29").replace("<", "%3C").replace(">", "%3E")


def _write_atomic(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp, 0o644)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise RenderError(f"cannot write {path}: {exc}") from exc
