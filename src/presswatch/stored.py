"""What the store gives back: articles as stored, with their labels, facts, marks and story.

Rows read by ``Store`` are turned into frozen dataclasses here, so that readers (the digest,
the tests) never see SQL rows.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType
from typing import Literal

from presswatch.models import Article, Classification, Paragraph, ParagraphFacts, Removal, Section

MarkKind = Literal["duplicate", "figure_update", "reported"]


@dataclass(frozen=True, slots=True)
class Mark:
    paragraph_id: str
    kind: MarkKind
    other_id: str | None
    similarity: float | None
    at: str
    detail: str | None


@dataclass(frozen=True, slots=True)
class FetchState:
    url: str
    etag: str | None
    last_modified: str | None
    content_hash: str | None
    status: int | None
    fetched_at: datetime | None


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """An article as stored: its current revision, labels, facts, marks and story."""

    article: Article
    revision: int
    day: date
    first_seen: datetime
    last_seen: datetime
    classifications: Mapping[str, Classification]
    facts: Mapping[str, ParagraphFacts]
    marks: Mapping[str, tuple[Mark, ...]]
    story_id: str | None = None
    canonical_id: str | None = None
    also_in: tuple[str, ...] = ()


def fetch_state_of(r: sqlite3.Row) -> FetchState:
    fetched = datetime.fromisoformat(r["fetched_at"]) if r["fetched_at"] else None
    return FetchState(r["url"], r["etag"], r["last_modified"], r["content_hash"], r["status"], fetched)



def assemble(
    articles: list[sqlite3.Row],
    paragraphs: list[sqlite3.Row],
    removals: list[sqlite3.Row],
    labels: list[sqlite3.Row],
    facts: list[sqlite3.Row],
    marks: list[sqlite3.Row],
    stories: list[sqlite3.Row],
) -> list[StoredArticle]:
    paras: dict[str, list[sqlite3.Row]] = defaultdict(list)
    for r in paragraphs:
        paras[r["article_id"]].append(r)
    cuts: dict[str, list[Removal]] = defaultdict(list)
    for r in removals:
        cuts[r["article_id"]].append(Removal(r["text"], r["reason"], r["kept_id"], r["similarity"]))
    label_of = {
        r["paragraph_id"]: Classification(r["paragraph_id"], r["label"], r["score"], tuple(json.loads(r["cues"])))
        for r in labels
    }
    facts_of = {
        r["paragraph_id"]: ParagraphFacts(
            r["paragraph_id"], *(tuple(json.loads(r[k])) for k in ("programmes", "figures", "quotes"))
        )
        for r in facts
    }
    marks_of: dict[str, list[Mark]] = defaultdict(list)
    for r in marks:
        marks_of[r["paragraph_id"]].append(
            Mark(r["paragraph_id"], r["kind"], r["other_id"], r["similarity"], r["at"], r["detail"])
        )
    story: dict[str, tuple[str, str]] = {}
    others: dict[str, set[str]] = defaultdict(set)
    for r in stories:
        story[r["article_id"]] = (r["story_id"], r["canonical_id"])
        if r["other"]:
            others[r["article_id"]].add(r["other"])
    result = []
    for a in articles:
        rows = paras[a["id"]]
        sections: list[Section] = []
        groups: dict[int, list[sqlite3.Row]] = defaultdict(list)
        for r in rows:
            groups[r["section"]].append(r)
        for group in groups.values():
            sections.append(
                Section(group[0]["heading"], tuple(Paragraph(r["id"], r["text"], r["position"]) for r in group))
            )
        article = Article(
            id=a["id"], url=a["url"], title=a["title"], source=a["source"],
            published=date.fromisoformat(a["published"]) if a["published"] else None,
            sections=tuple(sections), author=a["author"], canonical_url=a["canonical_url"],
            date_source=a["date_source"], declared_language=a["declared_language"],
            removals=tuple(cuts[a["id"]]), language=a["language"],
            relevant=None if a["relevant"] is None else bool(a["relevant"]),
            topics=tuple(json.loads(a["topics"])), origin=a["origin"],
        )
        ids = list(dict.fromkeys(p.id for p in article.paragraphs))
        story_id, canonical_id = story.get(a["id"], (None, None))
        result.append(
            StoredArticle(
                article=article, revision=a["revision"], day=date.fromisoformat(a["day"]),
                first_seen=datetime.fromisoformat(a["first_seen"]),
                last_seen=datetime.fromisoformat(a["last_seen"]),
                classifications=MappingProxyType({k: label_of[k] for k in ids if k in label_of}),
                facts=MappingProxyType({k: facts_of[k] for k in ids if k in facts_of}),
                marks=MappingProxyType({k: tuple(marks_of[k]) for k in ids if k in marks_of}),
                story_id=story_id, canonical_id=canonical_id,
                also_in=tuple(sorted(others[a["id"]] - {article.source})),
            )
        )
    return result
