"""Streaming near-duplicate detection: one pass over ``(id, text)`` lines in input order, with
memory that grows only with the kept lines (re-exported by ``presswatch.dedup``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from presswatch import candidates as cd
from presswatch import minhash as mh
from presswatch.dedup_rules import BUCKET_CAP, CHUNK, MIN_BANDS, DuplicateMatch, Params, choose_twin, to_match


def iter_matches(lines: Iterable[tuple[str, str]], *, chunk: int = CHUNK, **params: object) -> Iterator[DuplicateMatch]:
    """Stream ``(id, text)`` pairs; yield one match per line, in input order.

    Here the kept twin is the first similar line *seen in the input*. Only kept lines are
    remembered, as band keys, a 16-bit MinHash sketch, a shingle count and figure hashes (no
    text): memory grows linearly, ~0.6 kB per kept line. Pairs within one chunk are verified
    exactly; a pair with an earlier chunk is judged on the sketch (estimated Jaccard)."""
    p = Params(**params)  # type: ignore[arg-type]
    table, figs = cd.BandTable(), cd.Ragged()
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

    q, k = table.query(keys[live], cap=BUCKET_CAP, min_bands=MIN_BANDS)
    q = live[q]
    est = np.zeros(len(q))
    for lo in range(0, len(q), 32768):
        part = slice(lo, lo + 32768)
        est[part] = (low[q[part]] == sketch[k[part]]).sum(axis=1, dtype=np.int64) / p.num_perm
    inter = np.rint(est * (size[q] + sizes[k]) / (1 + est))
    jac_x, sim_x = p.similar(inter, size[q], sizes[k])
    mine = (sh.figures, sh.figure_offsets)
    q, k, jac_x = q[sim_x], k[sim_x], jac_x[sim_x]
    gap_x = cd.multiset_gaps(mine, q, figs.trimmed(), k)
    partners: dict[int, list[tuple[int, float, int]]] = {}
    for j, i, s, g in zip(q.tolist(), k.tolist(), jac_x.tolist(), gap_x.tolist()):
        partners.setdefault(j, []).append((i, s, g))

    sk, raw = mh.sketch(sig), np.diff(sh.offsets)
    left, right = cd.colliding_pairs(
        keys[live], keep=lambda a, b: p.screen(sk, live[a], live[b], raw[live[a]], raw[live[b]]),
        cap=BUCKET_CAP, min_bands=MIN_BANDS)
    left, right = live[left], live[right]
    jac_w, sim_w = p.similar(*cd.pair_overlap(sh.shingles, sh.offsets, left, right))
    left, right, jac_w = left[sim_w], right[sim_w], jac_w[sim_w]
    gap_w = cd.multiset_gaps(mine, right, mine, left)
    for i, j, s, g in zip(left.tolist(), right.tolist(), jac_w.tolist(), gap_w.tolist()):
        partners.setdefault(j, []).append((m + i, s, g))

    def name(i: int) -> str:
        return ids[i] if i < m else batch[i - m][0]

    kept = np.ones(n, dtype=bool)
    out = []
    for j, (line_id, _) in enumerate(batch):
        decision = choose_twin(t for t in sorted(partners.get(j, ())) if t[0] < m or kept[t[0] - m])
        kept[j] = decision[0] != "duplicate"
        out.append(to_match(line_id, decision, name))

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
