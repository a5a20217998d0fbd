"""What counts as a near-duplicate: the records and matches exchanged by the dedup modules,
the similarity rule (exact Jaccard or containment on masked shingles, with a cheap sketch-based
pre-test) and the figure rule that tells a duplicate from a figure update."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from presswatch import minhash as mh

CHUNK = 2048
MARGIN = 0.15
MIN_BANDS = 2
BUCKET_CAP = 16


@dataclass(frozen=True, slots=True)
class ParagraphRecord:
    id: str
    text: str
    order_key: tuple = ()


@dataclass(frozen=True, slots=True)
class DuplicateMatch:
    id: str
    duplicate_of: str | None
    similarity: float | None
    kind: str


@dataclass(frozen=True, slots=True)
class Params:
    num_perm: int = 128
    bands: int = 32
    threshold: float = 0.8
    containment: float = 0.9
    min_contained: int = 10
    shingle: int = 3

    def plausible(self, est: np.ndarray, na: np.ndarray, nb: np.ndarray, margin: float = MARGIN) -> np.ndarray:
        """Candidates worth an exact check: estimated Jaccard, or estimated containment of the
        shorter text (from the estimate and the two shingle counts), within ``margin`` of the
        thresholds of ``similar``."""
        small = np.maximum(np.minimum(na, nb), 1)
        contained = est * (na + nb) / ((1 + est) * small)
        return (est >= self.threshold - margin) | (
            (est >= 0.5 - margin) & (contained >= self.containment - margin) & (small >= self.min_contained))

    def screen(self, sk: np.ndarray, left: np.ndarray, right: np.ndarray, na: np.ndarray, nb: np.ndarray,
               other: np.ndarray | None = None) -> np.ndarray:
        """``plausible`` on the full sketches, after a pre-test on their first quarter with twice
        the margin (~4 standard deviations there) that drops most unrelated pairs cheaply."""
        out = self.plausible(mh.estimate_jaccard(sk, left, right, other=other, width=sk.shape[1] // 4),
                             na, nb, 2 * MARGIN)
        rest = np.flatnonzero(out)
        out[rest] = self.plausible(mh.estimate_jaccard(sk, left[rest], right[rest], other=other), na[rest], nb[rest])
        return out

    def similar(self, inter: np.ndarray, na: np.ndarray, nb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Jaccard of each pair and whether the pair counts as near-duplicate text."""
        union = np.maximum(na + nb - inter, 1)
        jac = inter / union
        small = np.maximum(np.minimum(na, nb), 1)
        contained = (inter / small >= self.containment) & (small >= self.min_contained) & (jac >= 0.5)
        return jac, (jac >= self.threshold) | contained


def choose_twin(partners: Iterable[tuple[int, float, int]]) -> tuple[str, int, float]:
    """Decide one record from its similar kept predecessors ``(row, similarity, figure gap)``
    (see ``minhash.multiset_gaps``) in ascending row order: ``duplicate`` of the first with
    compatible figures (gap 0); otherwise a ``figure_update`` of the closest version (fewest
    differing figures, then most similar, then latest); otherwise ``unique`` (row -1)."""
    best: tuple[int, float, int] | None = None
    for i, s, gap in partners:
        if gap == 0:
            return "duplicate", i, s
        if best is None or (gap, -s) <= (best[0], -best[1]):
            best = (gap, s, i)
    return ("figure_update", best[2], best[1]) if best else ("unique", -1, 0.0)


def shingle_all(texts: Sequence[str], params: Params) -> mh.Shingled:
    """``minhash.shingle_texts`` of all texts, ``CHUNK`` texts at a time (cache-sized)."""
    return join_shingled([mh.shingle_texts(texts[i : i + CHUNK], params.shingle) for i in range(0, len(texts), CHUNK)],
                         params)


def join_shingled(parts: list[mh.Shingled], params: Params) -> mh.Shingled:
    if not parts:
        parts = [mh.shingle_texts([], params.shingle)]

    def cat(values: str, offsets: str) -> tuple[np.ndarray, np.ndarray]:
        vals = np.concatenate([getattr(p, values) for p in parts])
        base = np.cumsum([0] + [int(getattr(p, offsets)[-1]) for p in parts[:-1]])
        offs = np.concatenate([[0]] + [getattr(p, offsets)[1:] + b for p, b in zip(parts, base)])
        return vals, offs.astype(np.int64)

    return mh.Shingled(*cat("shingles", "offsets"), *cat("figures", "figure_offsets"))
