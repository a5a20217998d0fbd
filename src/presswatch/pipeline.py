"""The compute stages chained: raw documents in, processed articles and failures out.

Pure functions (no store, no Prefect) so that the flows, ``presswatch inspect`` and the tests
run exactly the same code. Classification is batched over all paragraphs of a batch.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from presswatch.classify import ParagraphInput, classify_paragraphs, load_model
from presswatch.clean import clean_article
from presswatch.dedup import drop_duplicate_paragraphs
from presswatch.enrich import enrich_paragraphs
from presswatch.errors import PresswatchError
from presswatch.extract import extract_article
from presswatch.language import detect_language
from presswatch.models import Article, Classification, Failure, ParagraphFacts, RawDocument
from presswatch.relevance import assess_relevance

log = logging.getLogger("presswatch.pipeline")

DIGEST_LANGUAGE = "fr"


@dataclass(frozen=True, slots=True)
class ProcessedArticle:
    article: Article
    classifications: tuple[Classification, ...]
    facts: tuple[ParagraphFacts, ...]
    uri: str


@dataclass(frozen=True, slots=True)
class BatchResult:
    processed: tuple[ProcessedArticle, ...]
    failures: tuple[Failure, ...]


def prepare_article(doc: RawDocument) -> Article:
    """Extraction, cleaning, near-duplicate removal, language and relevance of one document."""
    article = replace(extract_article(doc), origin=doc.source)
    article = clean_article(article)
    article = drop_duplicate_paragraphs(article)
    article = detect_language(article)
    return assess_relevance(article)


def process_documents(items: Iterable[RawDocument | Failure], model: object | None = None) -> BatchResult:
    """Run every stage on a batch; a document that fails becomes a ``Failure``, never an abort."""
    prepared: list[tuple[Article, str]] = []
    failures: list[Failure] = []
    for item in items:
        if isinstance(item, Failure):
            failures.append(item)
            continue
        try:
            prepared.append((prepare_article(item), item.uri))
        except PresswatchError as exc:
            failures.append(_failure(item, "extract", str(exc)))
        except Exception as exc:  # a bug or a pathological page must not stop the batch
            log.exception("unexpected error while processing %s", item.uri)
            failures.append(_failure(item, "process", f"{type(exc).__name__}: {exc}"))
    classified = classify_batch([a for a, _ in prepared], model)
    processed = tuple(
        ProcessedArticle(article, classified.get(article.id, ()), enrich_paragraphs(article), uri)
        for article, uri in prepared
    )
    return BatchResult(processed, tuple(failures))


def classify_batch(
    articles: Sequence[Article], model: object | None = None
) -> dict[str, tuple[Classification, ...]]:
    """Classify the paragraphs of the French, relevant articles in one vectorised call."""
    targets = [a for a in articles if a.language == DIGEST_LANGUAGE and a.relevant]
    inputs = [
        ParagraphInput(p.id, p.text, s.heading)
        for a in targets
        for s in a.sections
        for p in s.paragraphs
    ]
    if not inputs:
        return {}
    results = iter(classify_paragraphs(inputs, model if model is not None else load_model()))
    return {a.id: tuple(next(results) for _ in a.paragraphs) for a in targets}


def _failure(doc: RawDocument, stage: str, reason: str) -> Failure:
    return Failure(doc.source, doc.uri, stage, reason, datetime.now(timezone.utc))
