"""Language of an article, from its title and the start of its body (langdetect, seeded)."""

from __future__ import annotations

import re
from dataclasses import replace

from langdetect import DetectorFactory, detect
from langdetect.lang_detect_exception import LangDetectException

from presswatch.models import Article

SAMPLE_CHARS = 2000
MIN_LETTERS = 40
_NOISE = re.compile(r"https?://\S+|www\.\S+|\S+@\S+\.\w+")
_LETTER = re.compile(r"[^\W\d_]")


def _primary(code: str | None) -> str | None:
    if not code:
        return None
    primary = code.strip().replace("_", "-").split("-")[0].lower()
    return primary if primary.isalpha() and 2 <= len(primary) <= 3 else None


def detect_language(article: Article) -> Article:
    """Set ``language`` to an ISO 639 code, or None when there is no text to judge.

    Very short texts (fewer than MIN_LETTERS letters) trust the declared language when
    there is one, since langdetect guesses at random on a few words.
    """
    text = f"{article.title}\n{article.body_text[:SAMPLE_CHARS]}"
    text = _NOISE.sub(" ", text.encode("utf-8", "replace").decode("utf-8"))
    letters = len(_LETTER.findall(text))
    if letters == 0:
        return replace(article, language=None)
    declared = _primary(article.declared_language)
    if letters < MIN_LETTERS and declared:
        return replace(article, language=declared)
    DetectorFactory.seed = 0
    try:
        language = _primary(detect(text))
    except LangDetectException:
        language = declared
    return replace(article, language=language)
