"""Near-duplicate paragraphs and syndicated stories, at corpus scale.

Paragraphs are shingled (``shingle`` consecutive folded words, every figure replaced by one
placeholder, so a changed number does not lower the similarity), MinHashed (``num_perm``
functions) and bucketed by LSH (``bands`` bands of ``num_perm // bands`` rows: 32 x 4 finds
pairs from Jaccard ~0.5 up). Every candidate pair is then verified exactly on its two shingle
sets: a pair is *similar* when Jaccard >= ``threshold``, or when the shorter paragraph's
shingles are >= ``containment`` inside the other one (a sentence added or dropped) and it has
at least ``min_contained`` shingles. Similar pairs whose figures (numbers, number words,
months) conflict, neither multiset containing the other, are a ``figure_update``: kept, and
linked to the closest earlier version (fewest differing figures, then most similar, then latest). Otherwise the later record is a ``duplicate``.

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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

import numpy as np

from presswatch import minhash as mh
from presswatch.models import Article, Removal, Section

KINDS = ("unique", "duplicate", "figure_update")
_CHUNK = 4096
_MARGIN = 0.15


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

    def plausible(self, est: np.ndarray, na: np.ndarray, nb: np.ndarray) -> np.ndarray:
        """Candidates worth an exact check: estimated Jaccard, or estimated containment of the
        shorter text (from the estimate and the two shingle counts), within ``_MARGIN`` of the
        thresholds of ``similar``."""
        small = np.maximum(np.minimum(na, nb), 1)
        contained = est * (na + nb) / ((1 + est) * small)
        return (est >= self.threshold - _MARGIN) | (
            (est >= 0.5 - _MARGIN) & (contained >= self.containment - _MARGIN) & (small >= self.min_contained))

    def similar(self, inter: np.ndarray, na: np.ndarray, nb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Jaccard of each pair and whether the pair counts as near-duplicate text."""
        union = np.maximum(na + nb - inter, 1)
        jac = inter / union
        small = np.maximum(np.minimum(na, nb), 1)
        contained = (inter / small >= self.containment) & (small >= self.min_contained) & (jac >= 0.5)
        return jac, (jac >= self.threshold) | contained


def figure_gap(a: Sequence[int], b: Sequence[int]) -> int:
    """0 when one figure multiset contains the other (no figure replaced), else the number of
    figures in one and not the other."""
    ca, cb = Counter(a), Counter(b)
    only_a, only_b = sum((ca - cb).values()), sum((cb - ca).values())
    return 0 if not only_a or not only_b else only_a + only_b


def choose_twin(mine: Sequence[int], partners: Iterable[tuple[int, float, Sequence[int]]]) -> tuple[str, int, float]:
    """Decide one record from its similar kept predecessors ``(row, similarity, figures)`` in
    ascending row order: ``duplicate`` of the first with compatible figures; otherwise a
    ``figure_update`` of the closest version (fewest differing figures, then most similar,
    then latest); otherwise ``unique`` (row -1)."""
    best: tuple[int, float, int] | None = None
    for i, s, theirs in partners:
        gap = figure_gap(theirs, mine)
        if gap == 0:
            return "duplicate", i, s
        if best is None or (gap, -s) <= (best[0], -best[1]):
            best = (gap, s, i)
    return ("figure_update", best[2], best[1]) if best else ("unique", -1, 0.0)


def _match(record_id: str, decision: tuple[str, int, float], name: Callable[[int], str]) -> DuplicateMatch:
    kind, i, s = decision
    return DuplicateMatch(record_id, name(i), round(s, 4), kind) if i >= 0 else DuplicateMatch(record_id, None, None, kind)


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
    MinHash signatures, so a later run hashes only its new paragraphs. Earlier decisions are
    never revised: a new record may become the duplicate of an indexed record even when its
    own order key is smaller (one batch over both runs would have kept the new one)."""

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
        all_sk = mh.sketch(np.concatenate([self.sigs, sigs]))
        sizes = np.diff(all_off)

        def keep(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            a, b = rows[a], rows[b]
            out = b >= m
            out[out] = p.plausible(mh.estimate_jaccard(all_sk, a[out], b[out]), sizes[a[out]], sizes[b[out]])
            return out

        left, right = mh.colliding_pairs(np.concatenate([mh.band_keys(self.sigs, p.bands), keys[active]]), keep=keep)
        left, right = rows[left], rows[right]
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
            rep = int(alias[j - m])
            if rep >= 0:
                done = results[rep]
                kept[j] = False
                if done.kind == "duplicate":
                    results.append(replace(done, id=record.id))
                else:
                    results.append(DuplicateMatch(record.id, done.id, 1.0, "duplicate"))
                continue
            decision = choose_twin(figs(j), ((i, s, figs(i)) for i, s in partners.get(j, ()) if kept[i]))
            kept[j] = decision[0] != "duplicate"
            results.append(_match(record.id, decision, name.__getitem__))

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


def iter_matches(lines: Iterable[tuple[str, str]], *, chunk: int = _CHUNK, **params: object) -> Iterator[DuplicateMatch]:
    """Stream ``(id, text)`` pairs; yield one match per line, in input order.

    Here the kept twin is the first similar line *seen in the input*. Only kept lines are
    remembered, as band keys, a 16-bit MinHash sketch, a shingle count and figure hashes (no
    text): memory grows linearly, ~0.6 kB per kept line. Pairs within one chunk are verified
    exactly; a pair with an earlier chunk is judged on the sketch (estimated Jaccard)."""
    p = Params(**params)  # type: ignore[arg-type]
    table, figs = mh.BandTable(), mh.Ragged()
    sketch = np.zeros((1024, p.num_perm), dtype=np.uint16)
    sizes = np.zeros(1024, dtype=np.int64)
    ids: list[str] = []
    batch: list[tuple[str, str]] = []
    for line in lines:
        batch.append(line)
        if len(batch) == chunk:
            sketch, sizes = _grow(sketch, len(ids) + chunk), _grow(sizes, len(ids) + chunk)
            yield from _stream_chunk(batch, p, table, figs, ids, (sketch, sizes))
            batch = []
    if batch:
        sketch, sizes = _grow(sketch, len(ids) + len(batch)), _grow(sizes, len(ids) + len(batch))
        yield from _stream_chunk(batch, p, table, figs, ids, (sketch, sizes))


def _grow(array: np.ndarray, need: int) -> np.ndarray:
    if need <= len(array):
        return array
    bigger = np.zeros((max(need, 2 * len(array)),) + array.shape[1:], dtype=array.dtype)
    bigger[: len(array)] = array
    return bigger


def _stream_chunk(batch, p, table, figs, ids, store) -> list[DuplicateMatch]:  # type: ignore[no-untyped-def]
    sketch, sizes = store
    m, n = len(ids), len(batch)
    sh = mh.shingle_texts([text for _, text in batch], p.shingle)
    sig = mh.signatures(sh, p.num_perm)
    keys = mh.band_keys(sig, p.bands)
    size = np.diff(sh.offsets)
    low = (sig & 0xFFFF).astype(np.uint16)
    live = np.flatnonzero(size > 0)

    q, k = table.query(keys[live])
    q = live[q]
    est = (low[q] == sketch[k]).mean(axis=1) if len(q) else np.zeros(0)
    inter = np.rint(est * (size[q] + sizes[k]) / (1 + est))
    jac_x, sim_x = p.similar(inter, size[q], sizes[k])
    partners: dict[int, list[tuple[int, float]]] = {}
    for j, i, s in zip(q[sim_x].tolist(), k[sim_x].tolist(), jac_x[sim_x].tolist()):
        partners.setdefault(j, []).append((i, s))

    sk, raw = mh.sketch(sig), np.diff(sh.offsets)
    left, right = mh.colliding_pairs(
        keys[live], keep=lambda a, b: p.plausible(mh.estimate_jaccard(sk, live[a], live[b]), raw[live[a]], raw[live[b]])
    )
    left, right = live[left], live[right]
    jac_w, sim_w = p.similar(*mh.pair_overlap(sh.shingles, sh.offsets, left, right))
    for i, j, s in zip(left[sim_w].tolist(), right[sim_w].tolist(), jac_w[sim_w].tolist()):
        partners.setdefault(j, []).append((m + i, s))

    def local(j: int) -> list[int]:
        return sh.figures[sh.figure_offsets[j] : sh.figure_offsets[j + 1]].tolist()

    def name(i: int) -> str:
        return ids[i] if i < m else batch[i - m][0]

    kept = np.ones(n, dtype=bool)
    out = []
    for j, (line_id, _) in enumerate(batch):
        decision = choose_twin(local(j), ((i, s, figs.row(i).tolist() if i < m else local(i - m))
                                          for i, s in sorted(partners.get(j, ())) if i < m or kept[i - m]))
        kept[j] = decision[0] != "duplicate"
        out.append(_match(line_id, decision, name))

    rows = np.flatnonzero(kept & (size > 0))
    new_index = np.arange(m, m + len(rows))
    table.add(keys[rows], new_index)
    sketch[m : m + len(rows)] = low[rows]
    sizes[m : m + len(rows)] = size[rows]
    figs.extend(sh.figures, sh.figure_offsets, rows)
    ids.extend(batch[r][0] for r in rows.tolist())
    return out


def iter_duplicates(lines: Iterable[tuple[str, str]], **params: object) -> Iterator[tuple[str, str | None, float | None]]:
    """``(id, duplicate_of, similarity)`` per input line, in input order (see ``iter_matches``;
    a figure update is kept, so it reads ``(id, None, None)`` here)."""
    for match in iter_matches(lines, **params):
        if match.kind == "duplicate":
            yield match.id, match.duplicate_of, match.similarity
        else:
            yield match.id, None, None


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
    sh = _shingle_all(["\n".join(a.paragraphs) for a in articles], p)
    sigs = mh.signatures(sh, p.num_perm)
    sk, raw = mh.sketch(sigs), np.diff(sh.offsets)
    nonempty = raw > 0
    left, right = mh.colliding_pairs(
        mh.band_keys(sigs, p.bands),
        keep=lambda a, b: nonempty[a] & p.plausible(mh.estimate_jaccard(sk, a, b), raw[a], raw[b]),
    )
    _, similar = p.similar(*mh.pair_overlap(sh.shingles, sh.offsets, left, right))
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
    inter, na, nb = mh.pair_overlap(sh.shingles, sh.offsets, heads, members)
    jac = dict(zip(members.tolist(), (inter / np.maximum(na + nb - inter, 1)).tolist()))
    stories = []
    for head, group in groups.items():
        outlets = tuple(dict.fromkeys(articles[i].outlet for i in group))
        sim = round(min(jac[i] for i in group[1:]), 4) if len(group) > 1 else None
        stories.append(Story(articles[head].id, tuple(articles[i].id for i in group[1:]), outlets, sim))
    return stories


def drop_duplicate_paragraphs(article: Article, *, threshold: float = 0.8) -> Article:
    """Remove paragraphs that near-duplicate an earlier paragraph of the same article (the
    first one is kept); each removal names the kept paragraph and the Jaccard similarity."""
    paragraphs = article.paragraphs
    records = [ParagraphRecord(f"{k}", p.text, (k,)) for k, p in enumerate(paragraphs)]
    matches = find_duplicates(records, threshold=threshold)
    drop = {int(m.id): m for m in matches if m.kind == "duplicate"}
    if not drop:
        return article
    removals = tuple(
        Removal(paragraphs[k].text, "near-duplicate", paragraphs[int(m.duplicate_of)].id, m.similarity)
        for k, m in sorted(drop.items())
    )
    gone = {id(paragraphs[k]) for k in drop}
    sections = tuple(
        Section(s.heading, tuple(p for p in s.paragraphs if id(p) not in gone)) for s in article.sections
    )
    return replace(article, sections=sections, removals=article.removals + removals)
