"""``presswatch inspect``: one document through every stage, nothing stored.

The operator's view of a source: what was extracted, what was removed and why, the language,
the relevance decision and each paragraph's label with its cues.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from presswatch.classify import ParagraphInput, classify_paragraphs, label_sections, load_model
from presswatch.config import Config
from presswatch.errors import ExtractError, SourceError
from presswatch.models import Failure, RawDocument
from presswatch.pipeline import DIGEST_LANGUAGE, prepare_article
from presswatch.sources import read_local


def inspect_target(target: str, config: Config) -> list[dict[str, Any]]:
    """Reports for a file (several for a JSON Lines file) or a URL."""
    return [inspect_document(doc, config) for doc in _documents(target, config)]


def inspect_document(doc: RawDocument, config: Config) -> dict[str, Any]:
    article = prepare_article(doc)
    labels: dict[str, Any] = {}
    section_labels: list[Any] = []
    if article.language == DIGEST_LANGUAGE:
        inputs = [ParagraphInput(p.id, p.text, s.heading) for s in article.sections for p in s.paragraphs]
        results = classify_paragraphs(inputs, load_model(config.model_path))
        labels = {r.paragraph_id: r for r in results}
        section_labels = list(label_sections(article, tuple(results)))
    sections = []
    for index, section in enumerate(article.sections):
        summary = section_labels[index] if section_labels else None
        sections.append({
            "heading": section.heading,
            "label": summary.label if summary else None,
            "score": round(summary.score, 4) if summary else None,
            "paragraphs": [
                {
                    "id": p.id,
                    "text": p.text,
                    "label": labels[p.id].label if p.id in labels else None,
                    "score": round(labels[p.id].score, 4) if p.id in labels else None,
                    "cues": list(labels[p.id].cues) if p.id in labels else [],
                }
                for p in section.paragraphs
            ],
        })
    return {
        "uri": doc.uri,
        "url": article.url,
        "title": article.title,
        "source": article.source,
        "published": article.published.isoformat() if article.published else None,
        "date_source": article.date_source,
        "author": article.author,
        "language": article.language,
        "relevant": article.relevant,
        "topics": list(article.topics),
        "sections": sections,
        "removed": [
            {"text": r.text, "reason": r.reason, "kept_id": r.kept_id, "similarity": r.similarity}
            for r in article.removals
        ],
    }


def render_text(report: dict[str, Any]) -> str:
    """A readable page of the same report."""
    lines = [
        f"{report['title']}",
        f"  url: {report['url']}",
        f"  outlet: {report['source']}   published: {report['published'] or '?'} ({report['date_source'] or '-'})"
        f"   author: {report['author'] or '-'}",
        f"  language: {report['language']}   relevant: {report['relevant']}   topics: {', '.join(report['topics']) or '-'}",
    ]
    for section in report["sections"]:
        head = section["heading"] or "(no heading)"
        suffix = f"  [{section['label']} {section['score']:.2f}]" if section["label"] else ""
        lines.append(f"\n## {head}{suffix}")
        for p in section["paragraphs"]:
            tag = f"[{p['label']} {p['score']:.2f}] " if p["label"] else ""
            lines.append(textwrap.fill(tag + p["text"], width=100, initial_indent="  ", subsequent_indent="    "))
            if p["cues"]:
                lines.append(f"    cues: {', '.join(p['cues'])}")
    if report["removed"]:
        lines.append("\nRemoved:")
        for r in report["removed"]:
            extra = f" (kept {r['kept_id']}, similarity {r['similarity']:.2f})" if r["kept_id"] else ""
            lines.append(f"  - {r['reason']}{extra}: {textwrap.shorten(r['text'], 90)}")
    return "\n".join(lines)


def _documents(target: str, config: Config) -> list[RawDocument]:
    if target.startswith(("http://", "https://")):
        from presswatch.fetch import fetch_document

        return [fetch_document(target, config.fetch)]
    path = Path(target)
    if not path.is_file():
        raise SourceError(f"no such file: {target}")
    docs: list[RawDocument] = []
    for item in read_local(path, "inspect"):
        if isinstance(item, Failure):
            raise ExtractError(f"{item.uri}: {item.reason}", url=item.uri)
        docs.append(item)
    return docs
