"""Near-duplicate paragraphs and syndicated stories, at corpus scale.

Paragraphs are shingled (``shingle`` consecutive folded words), MinHashed (``num_perm``
functions) and bucketed by LSH (``bands`` bands of ``num_perm // bands`` rows: 32 x 4 finds
pairs from Jaccard ~0.5 up). Every candidate pair is then verified exactly on its two shingle
sets: a pair is *similar* when Jaccard >= ``threshold``, or when the shorter paragraph's
shingles are >= ``containment`` inside the other one (a sentence added or dropped) and it has
at least ``min_contained`` shingles. Similar pairs whose figures (numbers, number words,
months) conflict, neither multiset containing the other, are a ``figure_update``: kept, and
linked to their twin. Otherwise the later record is a ``duplicate``.

Decisions follow a total order, never arrival order: records are taken by
``(order_key, id)``; each is compared with the *kept* records before it and becomes a
duplicate of the first similar one with compatible figures. So any permutation of the same
input gives the same answer. ``iter_matches`` streams instead: there "before" means "earlier in
the input", and candidates from earlier chunks are verified on MinHash sketches (the texts are
not kept).
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

import numpy as np

from presswatch import minhash as mh
from presswatch.models import Article, Removal, Section

KINDS = ("unique", "duplicate", "figure_update")
_CHUNK = 4096


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

    @property
    def floor(self) -> float:
        """Candidates whose MinHash estimate is below this are dropped before exact checking."""
        return min(self.threshold, 0.5) - 0.15

    def similar(self, inter: np.ndarray, na: np.ndarray, nb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Jaccard of each pair and whether the pair counts as near-duplicate text."""
        union = np.maximum(na + nb - inter, 1)
        jac = inter / union
        small = np.maximum(np.minimum(na, nb), 1)
        contained = (inter / small >= self.containment) & (small >= self.min_contained) & (jac >= 0.5)
        return jac, (jac >= self.threshold) | contained


def figures_agree(a: Sequence[int], b: Sequence[int]) -> bool:
    """True unless a figure was replaced: one figure multiset must contain the other."""
    ca, cb = Counter(a), Counter(b)
    return not (ca - cb) or not (cb - ca)


def _sort_key(record: ParagraphRecord) -> tuple:
    return (record.order_key, record.id)


def _shingle_all(texts: Sequence[str], params: Params) -> mh.Shingled:
    parts = [mh.shingle_texts(texts[i : i + _CHUNK], params.shingle) for i in range(0, len(texts), _CHUNK)]
    if not parts:
        parts = [mh.shingle_texts([], params.shingle)]

    def cat(values: str, offsets: str) -> tuple[np.ndarray, np.ndarray]:
        vals = np.concatenate([getattr(p, values) for p in parts])
        base = np.cumsum([0] + [int(getattr(p, offsets)[-1]) for p in parts[:-1]])
        offs = np.concatenate([[0]] + [getattr(p, offsets)[1:] + b for p, b in zip(parts, base)])
        return vals, offs.astype(np.int64)

    return mh.Shingled(*cat("shingles", "offsets"), *cat("figures", "figure_offsets"))


class DedupIndex:
    """Kept paragraphs (unique or figure updates) of earlier runs: shingle sets, figures and
    band keys, so a later run hashes only its new paragraphs."""

    def __init__(self, *, num_perm: int = 128, bands: int = 32, threshold: float = 0.8,
                 containment: float = 0.9, min_contained: int = 10, shingle: int = 3) -> None:
        if num_perm % bands:
            raise ValueError(f"num_perm ({num_perm}) must be a multiple of bands ({bands})")
        self.params = Params(num_perm, bands, threshold, containment, min_contained, shingle)
        self.ids: list[str] = []
        self.order_keys: list[tuple] = []
        self.shingles = mh.Ragged()
        self.figures = mh.Ragged()
        self.sigs = np.zeros((0, num_perm), dtype=np.uint32)

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, records: Sequence[ParagraphRecord]) -> list[DuplicateMatch]:
        """Decide every new record against the index and the new records before it in
        ``(order_key, id)`` order; results come in that order. Kept records join the index."""
        p = self.params
        records = sorted(records, key=_sort_key)
        m, n = len(self.ids), len(records)
        sh = _shingle_all([r.text for r in records], p)
        sigs = mh.signatures(sh, p.num_perm)
        keys = mh.band_keys(sigs, p.bands)
        empty = np.diff(sh.offsets) == 0
        old_sh, old_off = self.shingles.trimmed()
        all_sh = np.concatenate([old_sh, sh.shingles])
        all_off = np.concatenate([old_off[:-1], sh.offsets + old_off[-1]])
        old_fig, old_foff = self.figures.trimmed()
        all_fig = np.concatenate([old_fig, sh.figures])
        all_foff = np.concatenate([old_foff[:-1], sh.figure_offsets + old_foff[-1]])

        alias = _exact_copies(keys, sh, empty)
        active = np.flatnonzero(~empty & (alias < 0))
        rows = np.concatenate([np.arange(m), m + active])
        all_sigs = np.concatenate([self.sigs, sigs])
        left, right = mh.colliding_pairs(np.concatenate([mh.band_keys(self.sigs, p.bands), keys[active]]))
        left, right = rows[left], rows[right]
        keep = right >= m
        left, right = left[keep], right[keep]
        keep = mh.estimate_jaccard(all_sigs, left, right) >= p.floor
        left, right = left[keep], right[keep]
        inter, na, nb = mh.pair_overlap(all_sh, all_off, left, right)
        jac, similar = p.similar(inter, na, nb)
        left, right, jac = left[similar], right[similar], jac[similar]

        order = np.lexsort((left, right))
        partners: dict[int, list[tuple[int, float]]] = {}
        for a, b, s in zip(left[order].tolist(), right[order].tolist(), jac[order].tolist()):
            partners.setdefault(b, []).append((a, s))

        def figs(i: int) -> list[int]:
            return all_fig[all_foff[i] : all_foff[i + 1]].tolist()

        name = self.ids + [r.id for r in records]
        kept = np.ones(m + n, dtype=bool)
        results = []
        for j, record in enumerate(records, start=m):
            twin, fig_twin = None, None
            rep = int(alias[j - m])
            if rep >= 0:
                done = results[rep]
                kept[j] = False
                if done.kind == "duplicate":
                    results.append(replace(done, id=record.id))
                else:
                    results.append(DuplicateMatch(record.id, done.id, 1.0, "duplicate"))
                continue
            for i, s in partners.get(j, ()):
                if not kept[i]:
                    continue
                if figures_agree(figs(i), figs(j)):
                    twin = (i, s)
                    break
                fig_twin = fig_twin or (i, s)
            if twin:
                kept[j] = False
                results.append(DuplicateMatch(record.id, name[twin[0]], round(twin[1], 4), "duplicate"))
            elif fig_twin:
                results.append(DuplicateMatch(record.id, name[fig_twin[0]], round(fig_twin[1], 4), "figure_update"))
            else:
                results.append(DuplicateMatch(record.id, None, None, "unique"))

        new_kept = np.flatnonzero(kept[m:] & ~empty)
        self.ids += [records[i].id for i in new_kept]
        self.order_keys += [records[i].order_key for i in new_kept]
        self.shingles.extend(sh.shingles, sh.offsets, new_kept)
        self.figures.extend(sh.figures, sh.figure_offsets, new_kept)
        self.sigs = np.concatenate([self.sigs, sigs[new_kept]])
        return results

    def to_bytes(self) -> bytes:
        meta = {"params": _params_dict(self.params),
                "ids": self.ids, "order_keys": [_encode_key(k) for k in self.order_keys]}
        sh, sh_off = self.shingles.trimmed()
        fg, fg_off = self.figures.trimmed()
        buf = io.BytesIO()
        np.savez_compressed(buf, meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8),
                            sh=sh, sh_off=sh_off, fg=fg, fg_off=fg_off, sigs=self.sigs)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> DedupIndex:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            meta = json.loads(z["meta"].tobytes().decode("utf-8"))
            index = cls(**meta["params"])
            index.ids = list(meta["ids"])
            index.order_keys = [_decode_key(k) for k in meta["order_keys"]]
            index.shingles = mh.Ragged(z["sh"].copy(), z["sh_off"].copy())
            index.figures = mh.Ragged(z["fg"].copy(), z["fg_off"].copy())
            index.sigs = z["sigs"].copy()
        return index


def _exact_copies(keys: np.ndarray, sh: mh.Shingled, empty: np.ndarray) -> np.ndarray:
    """For each row, the first earlier row with the same shingle set and figures, or -1."""
    fp = np.zeros(len(keys), dtype=np.uint64)
    for band in range(keys.shape[1]):
        fp = mh.mix64(fp * np.uint64(0x9E3779B97F4A7C15) + keys[:, band])
    _, first, inverse = np.unique(fp, return_index=True, return_inverse=True)
    alias = first[inverse]
    cand = np.flatnonzero((alias != np.arange(len(keys))) & ~empty)
    result = np.full(len(keys), -1, dtype=np.int64)
    if len(cand):
        inter, na, nb = mh.pair_overlap(sh.shingles, sh.offsets, alias[cand], cand)
        same = (inter == na) & (inter == nb)
        for j in cand[same].tolist():
            if sh.figure_tuple(int(alias[j])) == sh.figure_tuple(j):
                result[j] = alias[j]
    return result


def _params_dict(params: Params) -> dict:
    return {name: getattr(params, name) for name in Params.__slots__}


def _encode_key(key: object) -> object:
    if isinstance(key, tuple):
        return {"t": [_encode_key(k) for k in key]}
    if isinstance(key, datetime):
        return {"dt": key.isoformat()}
    if isinstance(key, date):
        return {"d": key.isoformat()}
    return key


def _decode_key(value: object) -> object:
    if isinstance(value, dict):
        if "t" in value:
            return tuple(_decode_key(v) for v in value["t"])
        if "dt" in value:
            return datetime.fromisoformat(value["dt"])
        return date.fromisoformat(value["d"])
    return value


def find_duplicates(records: Iterable[ParagraphRecord], **params: object) -> list[DuplicateMatch]:
    """Batch decision over all records, in ``(order_key, id)`` order; input order is irrelevant."""
    return DedupIndex(**params).add(list(records))  # type: ignore[arg-type]
