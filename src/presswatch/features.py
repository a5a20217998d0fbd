"""Features of the paragraph classifier: tokens, negation scope, contrast focus, cue counts.

Every paragraph is folded and tokenised once (``prepare``); the blocks of the model (word
n-grams, character n-grams, focus clause, first/last sentence, heading, hand features) read
that one record. Hand features are log(1 + count per TYPICAL_LENGTH tokens), so they do not
grow with the length of a paragraph.
Cue lists live in ``data/cues.toml``.
"""

from __future__ import annotations

import bisect
import functools
import math
import re
import tomllib
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from pathlib import Path
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from presswatch.models import normalise_text

CUES_PATH = Path(__file__).parent / "data" / "cues.toml"
NUMBER = "<n>"
_WHOLE = r"(?:aujourd'hui|quelqu'une?s?|presqu'île|prud'hom)\w*|"
_TOKEN = re.compile(_WHOLE + r"\w+'?|[%€]")
_TOKEN_OR_STOP = re.compile(_WHOLE + r"\w+'?|[%€]|[.!?]+|,")
_DIGIT = re.compile(r"\d")
_FOLDS = (("\u2019\u2018\u02bc\u00b4`", "'"), ("\u00ab\u00bb\u201c\u201d\u201e", '"'), ("\u2026", "."))
_LEADS = frozenset({"mais", "et", "or", "car", "même"})
_CONCEDE = frozenset({"si", "s'il", "s'ils", "quoiqu'", "quoique", "malgré", "certes"})
_AUXILIARIES = frozenset(
    "a ai as avons avez ont est sont était étaient été être avoir fut y en se s' l' d' le la les de des du un une".split()
)
TYPICAL_LENGTH = 40
HAND_FEATURES = (
    "negation", "pending", "contrast", "concession", "hedge", "intention", "numbers", "units",
    "quotes", "reporting", "success_cue", "improvement_cue", "negated_success", "negated_improvement", "focus_success",
    "focus_improvement",
)

_SIDES = ("success", "improvement")
_HAND_SOURCES = tuple(
    {"hedge": "hedges", "units": "figure_units", "success_cue": "success", "improvement_cue": "improvement"}.get(n, n)
    for n in HAND_FEATURES
)


def fold(text: str) -> str:
    """``models.normalise_text`` for tokenising: same tokens, and the same length as ``text``
    whenever possible, so token offsets in the result are offsets in the original."""
    if not text.isascii():
        for chars, plain in _FOLDS:
            for c in chars:
                if c in text:
                    text = text.replace(c, plain)
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
    return text.casefold()


def tokenize(folded: str) -> list[str]:
    return [NUMBER if _DIGIT.search(t) else t for t in _TOKEN.findall(folded)]


@dataclass(frozen=True, slots=True)
class Cues:
    openers: frozenset[str]
    closers: frozenset[str]
    prefixes: frozenset[str]
    contrast: frozenset[str]
    phrases: dict[str, tuple[tuple[tuple[str, ...], str], ...]]
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
        prefixes=frozenset(normalise_text(w) for w in markers["negating_words"]),
        contrast=frozenset(w for w in (normalise_text(c) for c in markers["contrast"]) if " " not in w),
        phrases={k: tuple(sorted(v, key=lambda p: -len(p[0]))) for k, v in index.items()},
        stopwords=frozenset(normalise_text(w) for w in data["display"]["stopwords"]),
    )


class Doc(NamedTuple):
    tokens: tuple[str, ...]
    negated: tuple[str, ...]
    focus: tuple[str, ...]
    heading: tuple[str, ...]
    hand: tuple[float, ...]
    lead: tuple[str, ...] = ()
    starts: tuple[int, ...] | None = None


def negation_scope(tokens: Sequence[str], cues: Cues) -> list[int]:
    """Positions of content words negated by ``ne … pas`` (up to 3 past it) or by ``aucun``/``sans``."""
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
        elif tokens[i] in cues.prefixes:
            stop = min(n, i + 4)
            inside.extend(j for j in range(i + 1, stop) if tokens[j] not in _AUXILIARIES)
            i = stop
            continue
        i += 1
    return inside


def split_tokens(folded: str, marks: list[tuple[int, bool]] | None = None) -> tuple[list[str], list[int], list[int], list[int]]:
    """Tokens (digits folded to NUMBER), their start offsets, and the token positions of
    sentence ends and commas; ``marks`` collects (offset, is a comma) of each of those."""
    tokens: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    commas: list[int] = []
    for m in _TOKEN_OR_STOP.finditer(folded):
        t = m.group()
        if t == ",":
            commas.append(len(tokens))
            if marks is not None:
                marks.append((m.start(), True))
        elif t[0] in ".!?":
            ends.append(len(tokens))
            if marks is not None:
                marks.append((m.start(), False))
        else:
            tokens.append(t if t.isalpha() or not _DIGIT.search(t) else NUMBER)
            starts.append(m.start())
    return tokens, starts, ends, commas


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


def ends_of(tokens: Sequence[str], ends: Sequence[int]) -> tuple[str, ...]:
    """Words of the first sentence (``l:``) and, if there are several, of the last one (``z:``)."""
    n = len(tokens)
    inner = [e for e in ends if 0 < e < n]
    first = ["l:" + t for t in tokens[: inner[0] if inner else n] if t != NUMBER]
    if inner:
        first += ["z:" + t for t in tokens[inner[-1]:] if t != NUMBER]
    return tuple(first)


def heading_words(heading: str | None, cues: Cues | None = None) -> tuple[str, ...]:
    """Heading words (``h:``), and with ``cues`` the heading's polarity as pseudo-words
    (``h:<success>``, ``h:<improvement>`` when it holds a cue of that side, ``h:<question>`` when
    it asks), so that what headings tend to announce is learnt across headings, not per word."""
    folded = fold(heading or "")
    tokens = tokenize(folded)
    words = ["h:" + t for t in tokens if t != NUMBER]
    if cues is not None:
        sides = {group for i, t in enumerate(tokens) for found, group in cues.phrases.get(t, ())
                 if group in _SIDES and tuple(tokens[i:i + len(found)]) == found}
        words += [f"h:<{side}>" for side in sorted(sides)] + (["h:<question>"] if "?" in folded else [])
    return tuple(words)


def prepare_one(text: str, heading: str | None, cues: Cues, titles: dict[str | None, tuple[str, ...]] | None = None) -> Doc:
    folded = fold(text)
    tokens, starts, ends, commas = split_tokens(folded)
    return _doc(folded, len(folded) == len(text), tokens, starts, ends, commas, heading, cues, titles)


def prepare_spans(text: str, heading: str | None, spans: Sequence[tuple[int, int]],
                  titles: dict[str | None, tuple[str, ...]] | None = None) -> list[Doc]:
    """``prepare`` of ``text[a:b]`` for each span, tokenising ``text`` once when the spans cut it
    at whitespace and folding keeps its length (sentence windows); otherwise span by span."""
    cues = load_cues()
    folded = fold(text)
    if len(folded) != len(text) or any((a and not text[a - 1].isspace()) or (b < len(text) and not text[b - 1].isspace())
                                       for a, b in spans):
        return [prepare_one(text[a:b], heading, cues, titles) for a, b in spans]
    marks: list[tuple[int, bool]] = []
    tokens, starts, ends, commas = split_tokens(folded, marks)
    at = [m for m, _ in marks]
    index = {False: iter(ends), True: iter(commas)}
    token_of = [next(index[comma]) for _, comma in marks]
    out = []
    for a, b in spans:
        lo, hi = bisect.bisect_left(starts, a), bisect.bisect_left(starts, b)
        inside = range(bisect.bisect_left(at, a), bisect.bisect_left(at, b))
        out.append(_doc(folded[a:b], True, tokens[lo:hi], [x - a for x in starts[lo:hi]],
                        [token_of[k] - lo for k in inside if not marks[k][1]],
                        [token_of[k] - lo for k in inside if marks[k][1]], heading, cues, titles))
    return out


def _doc(folded: str, aligned: bool, tokens: list[str], starts: list[int], ends: list[int], commas: list[int],
         heading: str | None, cues: Cues, titles: dict[str | None, tuple[str, ...]] | None) -> Doc:
    scope = negation_scope(tokens, cues)
    focus, concessions = focus_clauses(tokens, ends, commas, cues)
    counts: dict[str, int] = {}
    in_scope = set(scope)
    phrases = cues.phrases
    for i in [i for i, token in enumerate(tokens) if token in phrases]:
        for words, group in phrases[tokens[i]]:
            if len(words) == 1 or tuple(tokens[i:i + len(words)]) == words:
                counts[group] = counts.get(group, 0) + 1
                if i in in_scope and group in _SIDES:
                    counts["negated_" + group] = counts.get("negated_" + group, 0) + 1
                break
    for token in [t for t in focus if t in phrases]:
        for words, group in phrases[token]:
            if len(words) == 1 and group in _SIDES:
                counts["focus_" + group] = counts.get("focus_" + group, 0) + 1
    counts["negation"] = 0 if cues.closers.isdisjoint(tokens) else sum(
        1 for i, t in enumerate(tokens) if t in cues.closers and any(x in cues.openers for x in tokens[max(0, i - 5):i])
    )
    counts["concession"] = concessions
    counts["numbers"] = tokens.count(NUMBER)
    counts["quotes"] = folded.count('"') // 2
    scale = max(1.0, len(tokens) / TYPICAL_LENGTH)
    hand = tuple([math.log1p(counts.get(name, 0) / scale) for name in _HAND_SOURCES])
    if titles is None:
        title = heading_words(heading, cues)
    else:
        title = titles.get(heading)
        if title is None:
            title = titles[heading] = heading_words(heading, cues)
    return Doc(
        tokens=tuple(tokens),
        negated=tuple(["neg:" + tokens[i] for i in scope]),
        focus=tuple(["f:" + t for t in focus if t != NUMBER]),
        heading=title,
        hand=hand,
        lead=ends_of(tokens, ends),
        starts=tuple(starts) if aligned else None,
    )


def prepare(items: Iterable[tuple[str, str | None]]) -> list[Doc]:
    cues = load_cues()
    titles: dict[str | None, tuple[str, ...]] = {}
    return [prepare_one(text, heading, cues, titles) for text, heading in items]


def word_grams(doc: Doc) -> list[str]:
    t = doc.tokens
    return [*t, *map(" ".join, zip(t, t[1:])), *doc.negated]


def focus_grams(doc: Doc) -> tuple[str, ...]:
    return doc.focus or ("f:<none>",)


def lead_grams(doc: Doc) -> tuple[str, ...]:
    return doc.lead or ("l:<none>",)


def heading_grams(doc: Doc) -> tuple[str, ...]:
    return doc.heading


def char_grams(word: str, low: int, high: int) -> list[str]:
    padded = f" {word} "
    return [padded[i:i + n] for n in range(low, high + 1) for i in range(len(padded) - n + 1)]


class Prepare(BaseEstimator, TransformerMixin):
    """(text, heading) pairs -> ``Doc`` records."""

    def fit(self, items: Sequence[tuple[str, str | None]], y: object = None) -> Prepare:
        return self

    def transform(self, items: Sequence[tuple[str, str | None]]) -> list[Doc]:
        return prepare(items)


class FocusBlock(BaseEstimator, TransformerMixin):
    """TF-IDF of the focus words, scaled per paragraph by the square root of the share of the
    paragraph they cover: a turn in a one-sentence paragraph counts more than a closing caveat."""

    def __init__(self, min_df: int = 2) -> None:
        self.min_df = min_df

    def fit(self, docs: Sequence[Doc], y: object = None) -> FocusBlock:
        self.vectorizer_ = TfidfVectorizer(analyzer=focus_grams, min_df=self.min_df, sublinear_tf=True).fit(docs)
        return self

    def transform(self, docs: Sequence[Doc]) -> sp.csr_matrix:
        x = tfidf_transform(self.vectorizer_, docs).tocsr()
        share = np.array([math.sqrt(len(d.focus) / len(d.tokens)) if d.focus else 1.0 for d in docs])
        x.data *= np.repeat(share, np.diff(x.indptr))
        return x

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return self.vectorizer_.get_feature_names_out()


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
        flat = list(chain.from_iterable(d.tokens for d in docs))
        ids = np.fromiter(map(known.get, flat, repeat(-1)), dtype=np.int64, count=len(flat))
        for k in np.flatnonzero(ids < 0).tolist():
            if flat[k] != NUMBER:
                ids[k] = extra.setdefault(flat[k], len(known) + len(extra))
        width = len(known) + len(extra)
        rows = np.repeat(np.arange(len(docs), dtype=np.int64), [len(d.tokens) for d in docs])
        valid = ids >= 0
        keys, first, tally = np.unique(rows[valid] * width + ids[valid], return_index=True, return_counts=True)
        order = np.argsort(first, kind="stable")
        keys, tally = keys[order], tally[order]
        indptr = np.zeros(len(docs) + 1, dtype=np.int64)
        if width:
            np.cumsum(np.bincount(keys // width, minlength=len(docs)), out=indptr[1:])
            keys = keys % width
        counts = sp.csr_matrix((tally.astype(np.float64), keys, indptr), shape=(len(docs), width), dtype=np.float64)
        grams = sp.vstack([self.matrix_, self._grams_matrix(list(extra))], format="csr") if extra else self.matrix_
        x = (counts @ grams).tocsr()
        np.log1p(x.data, out=x.data)
        x.data *= self.idf_[x.indices]
        lengths = np.diff(x.indptr)
        squares = np.add.reduceat(np.square(x.data), x.indptr[:-1][lengths > 0]) if x.nnz else np.zeros(0)
        norms = np.ones(len(docs))
        norms[lengths > 0] = np.sqrt(squares)
        x.data /= np.repeat(norms, lengths)
        return x

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.array(sorted(self.vocabulary_, key=self.vocabulary_.get), dtype=object)


Pairs = dict[tuple[str, str], int]


def union_pairs(union: FeatureUnion) -> dict[str, Pairs]:
    """Per ``word_grams`` block of ``union``: its word-pair columns keyed by (word, word)."""
    return {
        name: {tuple(g.split(" ")): j for g, j in block.vocabulary_.items() if g.count(" ") == 1}
        for name, block in union.transformer_list
        if type(block) is TfidfVectorizer and block.analyzer is word_grams
    }


def _word_gram_ids(docs: Sequence[Doc], vocabulary: dict[str, int], pairs: Pairs) -> tuple[np.ndarray, np.ndarray]:
    """Columns of ``word_grams(doc)`` for every doc, pairs looked up without building their text."""
    tokens = [d.tokens for d in docs]
    words = np.fromiter(map(len, tokens), dtype=np.int64, count=len(docs))
    negated = np.fromiter((len(d.negated) for d in docs), dtype=np.int64, count=len(docs))
    links = np.maximum(words - 1, 0)
    ids = chain(
        map(vocabulary.get, chain.from_iterable(tokens), repeat(-1)),
        map(pairs.get, chain.from_iterable(zip(t, t[1:]) for t in tokens), repeat(-1)),
        map(vocabulary.get, chain.from_iterable(d.negated for d in docs), repeat(-1)),
    )
    total = int(words.sum() + links.sum() + negated.sum())
    order = np.arange(len(docs), dtype=np.int64)
    rows = np.concatenate([np.repeat(order, words), np.repeat(order, links), np.repeat(order, negated)])
    return np.fromiter(ids, dtype=np.int64, count=total), rows


def tfidf_transform(vectorizer: TfidfVectorizer, docs: Sequence[Doc], pairs: Pairs | None = None) -> sp.spmatrix:
    """``vectorizer.transform(docs)`` for a fitted vectorizer whose analyzer reads ``Doc`` records,
    with the term counts gathered in bulk (same matrix as scikit-learn's count step); ``pairs``
    (from ``union_pairs``) for a ``word_grams`` vectorizer."""
    tfidf = getattr(vectorizer, "_tfidf", None)
    vocabulary = getattr(vectorizer, "vocabulary_", None)
    if (type(vectorizer) is not TfidfVectorizer or tfidf is None or not vocabulary
            or not callable(vectorizer.analyzer) or vectorizer.input != "content"):
        return vectorizer.transform(docs)
    width = len(vocabulary)
    if pairs is not None and vectorizer.analyzer is word_grams:
        ids, rows = _word_gram_ids(docs, vocabulary, pairs)
    else:
        grams = list(map(vectorizer.analyzer, docs))
        sizes = list(map(len, grams))
        ids = np.fromiter(map(vocabulary.get, chain.from_iterable(grams), repeat(-1)), dtype=np.int64, count=sum(sizes))
        rows = np.repeat(np.arange(len(docs), dtype=np.int64), sizes)
    valid = ids >= 0
    keys, tally = np.unique(rows[valid] * width + ids[valid], return_counts=True)
    indptr = np.zeros(len(docs) + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys // width, minlength=len(docs)), out=indptr[1:])
    x = sp.csr_array((tally.astype(np.intc), keys % width, indptr), shape=(len(docs), width), dtype=vectorizer.dtype)
    x.sort_indices()
    if vectorizer.binary:
        x.data.fill(1)
    return tfidf.transform(x, copy=False)


def transform_union(union: FeatureUnion, docs: Sequence[Doc], pairs: dict[str, Pairs] | None = None) -> sp.csr_matrix:
    """``union.transform(docs)``: each block (TF-IDF ones through ``tfidf_transform``), weighted, side by side."""
    weights = union.transformer_weights or {}
    pairs = pairs or {}
    blocks = []
    for name, block in union.transformer_list:
        if isinstance(block, str):
            return union.transform(docs)
        x = tfidf_transform(block, docs, pairs.get(name)) if type(block) is TfidfVectorizer else block.transform(docs)
        weight = weights.get(name)
        blocks.append(x if weight is None else x * weight)
    return sp.hstack(blocks).tocsr()


def lexicon_label(doc: Doc) -> str:
    """The cue-word baseline: cue counts per side, a negated cue counting for the other side."""
    raw = {name: math.expm1(v) for name, v in zip(HAND_FEATURES, doc.hand)}
    success = round(raw["success_cue"] - 2 * raw["negated_success"] + raw["negated_improvement"], 6)
    problem = round(raw["improvement_cue"] - 2 * raw["negated_improvement"] + raw["negated_success"], 6)
    if success > problem:
        return "success"
    if problem > success:
        return "improvement"
    return "context"
