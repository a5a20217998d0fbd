"""Syndicated stories: articles whose whole bodies are near-duplicates, grouped under one
canonical article (re-exported by ``presswatch.dedup``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from presswatch import candidates as cd
from presswatch import minhash as mh
from presswatch.dedup_rules import Params, shingle_all


@dataclass(frozen=True, slots=True)
class ArticleRecord:
    id: str
    outlet: str
    published: date | None
    paragraphs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Story:
    canonical_id: str
    member_ids: tuple[str, ...]
    outlets: tuple[str, ...]
    similarity: float | None


def _canonical_key(article: ArticleRecord) -> tuple:
    chars = sum(len(p) for p in article.paragraphs)
    return (article.published is None, article.published or date.min, -len(article.paragraphs), -chars, article.id)


def group_stories(articles: Sequence[ArticleRecord], *, threshold: float = 0.8, containment: float = 0.9,
                  **params: object) -> list[Story]:
    """One story per group of articles whose bodies are near-duplicates (syndication, retitled
    copies), canonical = earliest date, then most paragraphs, most characters, smallest id.
    Every article is in exactly one story; ``similarity`` is the lowest exact Jaccard between
    the canonical body and a member body (None for a single-article story)."""
    p = Params(threshold=threshold, containment=containment, **params)  # type: ignore[arg-type]
    articles = sorted(articles, key=_canonical_key)
    sh = shingle_all(["\n".join(a.paragraphs) for a in articles], p)
    sigs = mh.signatures(sh, p.num_perm)
    sk, raw = mh.sketch(sigs), np.diff(sh.offsets)
    nonempty = raw > 0
    left, right = cd.colliding_pairs(
        mh.band_keys(sigs, p.bands),
        keep=lambda a, b: nonempty[a] & p.plausible(mh.estimate_jaccard(sk, a, b), raw[a], raw[b]),
    )
    _, similar = p.similar(*cd.pair_overlap(sh.shingles, sh.offsets, left, right))
    root = list(range(len(articles)))

    def find(i: int) -> int:
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    for a, b in zip(left[similar].tolist(), right[similar].tolist()):
        ra, rb = find(a), find(b)
        root[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for i in range(len(articles)):
        groups.setdefault(find(i), []).append(i)
    heads = np.array([g[0] for g in groups.values() for _ in g[1:]], dtype=np.int64)
    members = np.array([m for g in groups.values() for m in g[1:]], dtype=np.int64)
    inter, na, nb = cd.pair_overlap(sh.shingles, sh.offsets, heads, members)
    jac = dict(zip(members.tolist(), (inter / np.maximum(na + nb - inter, 1)).tolist()))
    stories = []
    for head, group in groups.items():
        outlets = tuple(dict.fromkeys(articles[i].outlet for i in group))
        sim = round(min(jac[i] for i in group[1:]), 4) if len(group) > 1 else None
        stories.append(Story(articles[head].id, tuple(articles[i].id for i in group[1:]), outlets, sim))
    return stories
