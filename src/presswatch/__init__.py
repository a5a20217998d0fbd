"""presswatch: watch the French press on digital health and turn it into digests.

The public entry points, one per stage (imported lazily, so ``import presswatch`` stays cheap)::

    read_local, extract_article, clean_article, drop_duplicate_paragraphs, detect_language,
    assess_relevance, classify_paragraphs, enrich_paragraphs, open_store, update_corpus,
    build_digest, render_digest, collect_web, load_config
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_WHERE = {
    "read_local": "sources",
    "collect_web": "web",
    "fetch_document": "fetch",
    "extract_article": "extract",
    "main_text": "extract",
    "clean_article": "clean",
    "drop_duplicate_paragraphs": "dedup",
    "find_duplicates": "dedup",
    "detect_language": "language",
    "assess_relevance": "relevance",
    "classify_paragraphs": "classify",
    "load_model": "classify",
    "enrich_paragraphs": "enrich",
    "process_documents": "pipeline",
    "open_store": "store",
    "update_corpus": "corpus",
    "build_digest": "digest",
    "render_digest": "digest",
    "load_config": "config",
    "PresswatchError": "errors",
}
__all__ = ["__version__", *sorted(_WHERE)]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f"presswatch.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'presswatch' has no attribute {name!r}")
