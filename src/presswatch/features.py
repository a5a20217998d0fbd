"""The blocks of the paragraph classifier and their fast transforms.

Each block reads the ``Doc`` record that ``presswatch.reading.prepare`` makes of a paragraph:
word n-grams with negation scope, character n-grams, focus clause, first/last sentence,
heading, hand features.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from itertools import chain, repeat

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from presswatch.reading import HAND_FEATURES, NUMBER, Doc, prepare
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
