"""Corpus-level duplicates: what the dedup engine decides, written to the store.

After each ingest the paragraphs not yet seen go through the persisted ``DedupIndex`` (only
they are hashed), in ``(day, article, position)`` order so the earliest copy is kept whatever
the order of ingestion within a run. A near-duplicate is marked ``duplicate`` of its kept twin;
a paragraph that differs only by its figures is marked ``figure_update`` and linked to the
older one. Articles of the surrounding weeks are regrouped into stories (syndicated copies).
Nothing is deleted, and the index, the marks and the stories are written in one transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from presswatch.dedup import ArticleRecord, DedupIndex, DuplicateMatch, ParagraphRecord, group_stories
from presswatch.digest import french_date
from presswatch.enrich import find_figures
from presswatch.errors import StoreError
from presswatch.store import Store

log = logging.getLogger("presswatch.corpus")

STORY_WINDOW = timedelta(days=14)


@dataclass(frozen=True, slots=True)
class CorpusReport:
    indexed: int = 0
    duplicates: int = 0
    figure_updates: int = 0
    stories: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"indexed": self.indexed, "duplicates": self.duplicates,
                "figure_updates": self.figure_updates, "stories": self.stories}


def update_corpus(store: Store) -> CorpusReport:
    """Mark corpus-level duplicates and figure updates of the new paragraphs; regroup stories."""
    index = _saved_index(store)
    rows = store.unindexed_paragraphs()
    if not rows:
        return CorpusReport()
    records = [ParagraphRecord(r["id"], r["text"], (r["day"], r["article_id"], r["position"])) for r in rows]
    matches = index.add(records)
    texts = {r.id: r.text for r in records}
    twins = store.paragraph_texts(m.duplicate_of for m in matches if m.kind == "figure_update" and m.duplicate_of)
    marks = [
        (m.id, m.kind, m.duplicate_of, m.similarity, _update_detail(texts[m.id], twins.get(m.duplicate_of or "")))
        for m in matches
        if m.kind in ("duplicate", "figure_update")
    ]
    days = [date.fromisoformat(r["day"]) for r in rows]
    stories = group_stories([
        ArticleRecord(aid, outlet, published, paragraphs)
        for aid, outlet, published, paragraphs in store.story_candidates(min(days) - STORY_WINDOW,
                                                                          max(days) + STORY_WINDOW)
    ])
    grouped = [s for s in stories if s.member_ids]
    story_rows = [(aid, s.canonical_id, s.canonical_id) for s in grouped for aid in (s.canonical_id, *s.member_ids)]
    store.save_corpus_state(index.to_bytes(), [r.id for r in records], marks, story_rows)
    return CorpusReport(
        indexed=len(records),
        duplicates=_count(matches, "duplicate"),
        figure_updates=_count(matches, "figure_update"),
        stories=len(grouped),
    )


def _saved_index(store: Store) -> DedupIndex:
    """The persisted index; one of an older format is dropped so that every paragraph is redone."""
    blob = store.dedup_index()
    if blob is None:
        return DedupIndex()
    try:
        return DedupIndex.from_bytes(blob)
    except StoreError as exc:
        log.warning("rebuilding the dedup index from every stored paragraph: %s", exc)
        store.reset_corpus_state()
        return DedupIndex()


def _update_detail(text: str, twin: tuple[str, str] | None) -> str | None:
    """The phrase a digest shows after "Mise à jour :": the earlier figures and their date."""
    if twin is None:
        return None
    twin_text, twin_day = twin
    mine = set(find_figures(text))
    older = [f for f in find_figures(twin_text) if f not in mine]
    when = french_date(date.fromisoformat(twin_day))
    if not older:
        return f"chiffres modifiés depuis le {when}"
    return f"précédemment {', '.join(older[:3])} le {when}"


def _count(matches: list[DuplicateMatch], kind: str) -> int:
    return sum(m.kind == kind for m in matches)
