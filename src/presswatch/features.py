"""Features of the paragraph classifier: tokens, negation scope, contrast focus, cue counts.

Every paragraph is folded and tokenised once (``prepare``); the blocks of the model (word
n-grams, character n-grams, focus clause, heading, hand features) read that one record.
Cue lists live in ``data/cues.toml``.
"""

from __future__ import annotations

import functools
import math
import re
import tomllib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from presswatch.models import normalise_text

CUES_PATH = Path(__file__).parent / "data" / "cues.toml"
NUMBER = "<n>"
_TOKEN = re.compile(r"\w+'|\w+|[%€]")
_TOKEN_OR_STOP = re.compile(r"\w+'|\w+|[%€]|[.!?]+|,")
_DIGIT = re.compile(r"\d")
_STOPS = frozenset({".", "!", "?", "..."})
_LEADS = frozenset({"mais", "et", "or", "car", "même"})
_CONCEDE = frozenset({"si", "s'il", "s'ils", "quoiqu'", "quoique", "malgré", "certes"})
_AUXILIARIES = frozenset(
    "a ai as avons avez ont est sont était étaient été être avoir fut y en se s' l' d' le la les de des du un une".split()
)
HAND_FEATURES = (
    "negation", "pending", "contrast", "concession", "hedge", "intention", "numbers", "units",
    "quotes", "reporting", "success_cue", "improvement_cue", "negated_success", "focus_success",
    "focus_improvement", "length",
)


def tokenize(folded: str) -> list[str]:
    return [NUMBER if _DIGIT.search(t) else t for t in _TOKEN.findall(folded)]


@dataclass(frozen=True, slots=True)
class Cues:
    openers: frozenset[str]
    closers: frozenset[str]
    contrast: frozenset[str]
    phrases: dict[str, tuple[tuple[tuple[str, ...], str], ...]]
    success: tuple[str, ...]
    improvement: tuple[str, ...]
    stopwords: frozenset[str]


@functools.cache
def load_cues(path: Path = CUES_PATH) -> Cues:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    markers, lexicon = data["markers"], data["lexicon"]
    index: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    groups = {k: markers[k] for k in ("pending", "contrast", "concession", "hedges", "intention", "figure_units", "reporting")}
    groups |= {"success": lexicon["success"], "improvement": lexicon["improvement"]}
    for group, entries in groups.items():
        for entry in entries:
            words = tuple(tokenize(normalise_text(entry)))
            index.setdefault(words[0], []).append((words, group))
    return Cues(
        openers=frozenset(normalise_text(w) for w in markers["negation_openers"]),
        closers=frozenset(normalise_text(w) for w in markers["negation_closers"]),
        contrast=frozenset(w for w in (normalise_text(c) for c in markers["contrast"]) if " " not in w),
        phrases={k: tuple(sorted(v, key=lambda p: -len(p[0]))) for k, v in index.items()},
        success=tuple(lexicon["success"]),
        improvement=tuple(lexicon["improvement"]),
        stopwords=frozenset(normalise_text(w) for w in data["display"]["stopwords"]),
    )


class Doc(NamedTuple):
    tokens: tuple[str, ...]
    negated: tuple[str, ...]
    focus: tuple[str, ...]
    heading: tuple[str, ...]
    hand: tuple[float, ...]


def negation_scope(tokens: Sequence[str], cues: Cues) -> list[int]:
    """Positions of the content words inside a ``ne … pas``-like negation (up to 3 past it)."""
    inside: list[int] = []
    i, n = 0, len(tokens)
    while i < n:
        if tokens[i] in cues.openers:
            end = next((j for j in range(i + 1, min(n, i + 6)) if tokens[j] in cues.closers), None)
            if end is not None:
                stop = min(n, end + 4)
                inside.extend(j for j in range(i + 1, stop) if tokens[j] not in _AUXILIARIES and tokens[j] not in cues.closers)
                i = stop
                continue
        i += 1
    return inside


def split_tokens(folded: str) -> tuple[list[str], list[int], list[int]]:
    """Tokens (digits folded to NUMBER), and the token positions of sentence ends and commas."""
    tokens: list[str] = []
    ends: list[int] = []
    commas: list[int] = []
    for t in _TOKEN_OR_STOP.findall(folded):
        if t == ",":
            commas.append(len(tokens))
        elif t[0] in ".!?":
            ends.append(len(tokens))
        else:
            tokens.append(NUMBER if _DIGIT.search(t) else t)
    return tokens, ends, commas


def focus_clauses(tokens: Sequence[str], ends: Sequence[int], commas: Sequence[int], cues: Cues) -> tuple[list[str], int]:
    """Tokens that carry each sentence's point: after its last contrast word or a conceded clause."""
    focus: list[str] = []
    concessions = 0
    start = 0
    for end in [*ends, len(tokens)]:
        if end <= start:
            continue
        head = start + 1 if tokens[start] in _LEADS else start
        conceded = head < end and (tokens[head] in _CONCEDE or (
            tokens[head] in ("bien", "alors") and head + 1 < end and tokens[head + 1] in ("qu'", "que")))
        cut = -1
        if conceded:
            comma = next((c for c in commas if head < c < end), None)
            if comma is not None:
                concessions += 1
                cut = comma
        last = max((i + 1 for i in range(max(cut, start), end) if tokens[i] in cues.contrast), default=cut)
        if last >= 0:
            focus.extend(tokens[last:end])
        start = end
    return focus, concessions


def prepare_one(text: str, heading: str | None, cues: Cues) -> Doc:
    folded = normalise_text(text)
    tokens, ends, commas = split_tokens(folded)
    scope = negation_scope(tokens, cues)
    focus, concessions = focus_clauses(tokens, ends, commas, cues)
    counts: Counter[str] = Counter()
    in_scope = set(scope)
    for i, token in enumerate(tokens):
        for words, group in cues.phrases.get(token, ()):
            if tuple(tokens[i:i + len(words)]) == words:
                counts[group] += 1
                if group == "success" and i in in_scope:
                    counts["negated_success"] += 1
                break
    for token in focus:
        for words, group in cues.phrases.get(token, ()):
            if len(words) == 1 and group in ("success", "improvement"):
                counts["focus_" + group] += 1
    counts["negation"] = sum(
        1 for i, t in enumerate(tokens) if t in cues.closers and any(x in cues.openers for x in tokens[max(0, i - 5):i])
    )
    counts["concession"] = concessions
    counts["numbers"] = tokens.count(NUMBER)
    counts["quotes"] = folded.count('"') // 2
    counts["length"] = len(tokens) / 10
    aliases = {"hedges": "hedge", "figure_units": "units", "success": "success_cue", "improvement": "improvement_cue"}
    for old, new in aliases.items():
        counts[new] = counts.pop(old, 0)
    hand = tuple(math.log1p(counts[name]) for name in HAND_FEATURES)
    return Doc(
        tokens=tuple(tokens),
        negated=tuple("neg:" + tokens[i] for i in scope),
        focus=tuple("f:" + t for t in focus if t != NUMBER),
        heading=tuple("h:" + t for t in tokenize(normalise_text(heading or "")) if t != NUMBER),
        hand=hand,
    )


def prepare(items: Iterable[tuple[str, str | None]]) -> list[Doc]:
    cues = load_cues()
    return [prepare_one(text, heading, cues) for text, heading in items]


def word_grams(doc: Doc) -> list[str]:
    t = doc.tokens
    return [*t, *(f"{a} {b}" for a, b in zip(t, t[1:])), *doc.negated]


def focus_grams(doc: Doc) -> tuple[str, ...]:
    return doc.focus or ("f:<none>",)


def heading_grams(doc: Doc) -> tuple[str, ...]:
    return doc.heading or ("h:<none>",)


def char_grams(word: str, low: int, high: int) -> list[str]:
    padded = f" {word} "
    return [padded[i:i + n] for n in range(low, high + 1) for i in range(len(padded) - n + 1)]


class Prepare(BaseEstimator, TransformerMixin):
    """(text, heading) pairs -> ``Doc`` records."""

    def fit(self, items: Sequence[tuple[str, str | None]], y: object = None) -> Prepare:
        return self

    def transform(self, items: Sequence[tuple[str, str | None]]) -> list[Doc]:
        return prepare(items)


class HandFeatures(BaseEstimator, TransformerMixin):
    def fit(self, docs: Sequence[Doc], y: object = None) -> HandFeatures:
        return self

    def transform(self, docs: Sequence[Doc]) -> sp.csr_matrix:
        return sp.csr_matrix(np.array([d.hand for d in docs], dtype=np.float64).reshape(len(docs), len(HAND_FEATURES)))

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.array([f"hand:{n}" for n in HAND_FEATURES], dtype=object)


class CharGrams(BaseEstimator, TransformerMixin):
    """TF-IDF of character n-grams inside word boundaries, computed per distinct word.

    Equivalent in spirit to ``TfidfVectorizer(analyzer="char_wb")`` but a paragraph's vector
    is a sparse product (word counts x n-grams per word), so known words cost one lookup.
    """

    def __init__(self, ngram_range: tuple[int, int] = (2, 5), min_df: int = 2, max_features: int | None = None) -> None:
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_features = max_features

    def fit(self, docs: Sequence[Doc], y: object = None) -> CharGrams:
        low, high = self.ngram_range
        per_word = {w: set(char_grams(w, low, high)) for d in docs for w in d.tokens if w != NUMBER}
        df: Counter[str] = Counter()
        for d in docs:
            df.update(set().union(*(per_word[w] for w in set(d.tokens) if w != NUMBER)))
        kept = sorted((g for g, c in df.items() if c >= self.min_df), key=lambda g: (-df[g], g))
        kept = sorted(kept[: self.max_features] if self.max_features else kept)
        self.vocabulary_ = {g: i for i, g in enumerate(kept)}
        n = len(docs)
        self.idf_ = np.array([math.log((1 + n) / (1 + df[g])) + 1 for g in kept])
        words = sorted(per_word)
        self.words_ = {w: i for i, w in enumerate(words)}
        self.matrix_ = self._grams_matrix(words)
        return self

    def _grams_matrix(self, words: Sequence[str]) -> sp.csr_matrix:
        low, high = self.ngram_range
        indptr, indices = [0], []
        vocabulary = self.vocabulary_
        for w in words:
            indices.extend(j for j in (vocabulary.get(g) for g in char_grams(w, low, high)) if j is not None)
            indptr.append(len(indices))
        data = np.ones(len(indices))
        m = sp.csr_matrix((data, indices, indptr), shape=(len(words), len(vocabulary)))
        m.sum_duplicates()
        return m

    def transform(self, docs: Sequence[Doc]) -> sp.csr_matrix:
        known, extra = self.words_, {}
        indptr, indices, data = [0], [], []
        for d in docs:
            for w, c in Counter(d.tokens).items():
                j = known.get(w)
                if j is None and w != NUMBER:
                    j = extra.setdefault(w, len(known) + len(extra))
                if j is not None:
                    indices.append(j)
                    data.append(c)
            indptr.append(len(indices))
        counts = sp.csr_matrix((data, indices, indptr), shape=(len(docs), len(known) + len(extra)), dtype=np.float64)
        grams = sp.vstack([self.matrix_, self._grams_matrix(list(extra))], format="csr") if extra else self.matrix_
        x = counts @ grams
        x.data = np.log1p(x.data)
        x = x @ sp.diags(self.idf_)
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sp.csr_matrix(sp.diags(1.0 / norms) @ x)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.array(sorted(self.vocabulary_, key=self.vocabulary_.get), dtype=object)


def lexicon_label(doc: Doc) -> str:
    """The cue-word baseline: more success cues -> success, more problem cues -> improvement."""
    success = doc.hand[HAND_FEATURES.index("success_cue")]
    problem = doc.hand[HAND_FEATURES.index("improvement_cue")]
    if success > problem:
        return "success"
    if problem > success:
        return "improvement"
    return "context"
