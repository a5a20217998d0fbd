"""Candidate pairs and their exact checks, on the arrays made by ``minhash``: LSH buckets
(within one block of texts, or against a growing table of indexed rows), exact shingle overlap
and figure multiset gaps of many pairs at once, and the growable ragged arrays of the index.
All vectorised; memory per call is bounded by caps and blocks."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from presswatch.minhash import U64, sorted_unique


def pair_overlap(
    shingles: np.ndarray, offsets: np.ndarray, left: np.ndarray, right: np.ndarray,
    other: tuple[np.ndarray, np.ndarray] | None = None, block: int = 1 << 21,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact |A & B|, |A|, |B| of each (left[p], right[p]) pair, in blocks of about ``block``
    shingles; ``right`` indexes ``other`` (shingles, offsets) when given. Every row must be
    distinct and sorted: each side, keyed (pair, shingle), is then one sorted run, so the
    stable sort of both is a linear merge."""
    npairs = len(left)
    sources = ((shingles, offsets), other or (shingles, offsets))
    work = np.cumsum(offsets[left + 1] - offsets[left])
    inter = np.zeros(npairs, dtype=np.int64)
    na, nb = np.zeros(npairs, dtype=np.int64), np.zeros(npairs, dtype=np.int64)
    lo = 0
    while lo < npairs:
        hi = max(int(np.searchsorted(work, (work[lo - 1] if lo else 0) + block, side="right")), lo + 1)
        inter[lo:hi], na[lo:hi], nb[lo:hi] = _overlap_block(sources, left[lo:hi], right[lo:hi])
        lo = hi
    return inter, na, nb


def _overlap_block(sources, left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    npairs = len(left)
    sides, size = [], []
    for (shingles, offsets), rows in zip(sources, (left, right)):
        lengths = offsets[rows + 1] - offsets[rows]
        pair = np.repeat(np.arange(npairs, dtype=U64) << U64(32), lengths)
        starts = np.repeat(offsets[rows] - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
        pair |= shingles[starts + np.arange(len(pair))]
        sides.append(pair)
        size.append(lengths)
    both = np.concatenate(sides)
    both.sort(kind="stable")
    same = both[1:][both[1:] == both[:-1]]
    inter = np.bincount((same >> U64(32)).astype(np.int64), minlength=npairs)
    return inter, size[0], size[1]


def same_rows(values: np.ndarray, offsets: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Whether rows ``left[p]`` and ``right[p]`` of a ragged array hold the same sequence."""
    size = offsets[left + 1] - offsets[left]
    same = size == offsets[right + 1] - offsets[right]
    at = np.flatnonzero(same & (size > 0))
    if len(at):
        c = size[at]
        step = np.repeat(np.cumsum(c) - c, c)
        k = np.arange(int(c.sum())) - step
        differ = values[offsets[left[at]].repeat(c) + k] != values[offsets[right[at]].repeat(c) + k]
        bad = np.zeros(len(at), dtype=bool)
        bad[np.repeat(np.arange(len(at)), c)[differ]] = True
        same[at[bad]] = False
    return same


def multiset_gaps(
    a: tuple[np.ndarray, np.ndarray], left: np.ndarray, b: tuple[np.ndarray, np.ndarray], right: np.ndarray
) -> np.ndarray:
    """For each pair, 0 when one multiset (row ``left[p]`` of ragged ``a``, row ``right[p]``
    of ``b``) contains the other, else the number of items in one and not the other."""
    npairs = len(left)
    sides, size = [], []
    for (values, offsets), rows in ((a, left), (b, right)):
        lengths = offsets[rows + 1] - offsets[rows]
        pair = np.repeat(np.arange(npairs, dtype=U64), lengths)
        starts = np.repeat(offsets[rows] - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
        keys = np.sort((pair << U64(40)) | (values[starts + np.arange(len(pair))].astype(U64) << U64(8)))
        first = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
        occurrence = np.arange(len(keys)) - np.repeat(first, np.diff(np.append(first, len(keys))))
        sides.append(keys | np.minimum(occurrence, 255).astype(U64))
        size.append(lengths)
    both = np.sort(np.concatenate(sides))
    same = both[1:][both[1:] == both[:-1]]
    common = np.bincount((same >> U64(40)).astype(np.int64), minlength=npairs)
    only_a, only_b = size[0] - common, size[1] - common
    return np.where((only_a == 0) | (only_b == 0), 0, only_a + only_b)


def repeated(codes: np.ndarray, times: int) -> np.ndarray:
    """Sorted distinct values occurring at least ``times`` times in ``codes``."""
    codes = np.sort(codes)
    if times <= 1 or len(codes) == 0:
        return sorted_unique(codes)
    if times == 2:
        again = codes[1:] == codes[:-1]
        again[1:] &= ~again[:-1]
        return codes[1:][again]
    start = np.flatnonzero(np.concatenate([[True], codes[1:] != codes[:-1]]))
    count = np.diff(np.append(start, len(codes)))
    return codes[start[count >= times]]


def colliding_pairs(
    keys: np.ndarray, cap: int = 64, keep: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    min_bands: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (i, j), i < j, of rows sharing at least ``min_bands`` band keys (each row paired
    with at most ``cap`` lower rows per key, so a huge bucket stays linear), then kept if
    ``keep(i, j)``. Band numbers are mixed into the keys, so one sort of all (key, row) finds
    the buckets of every band at once."""
    n, bands = keys.shape
    packed = (keys.astype(U64) << U64(32)) | np.arange(n, dtype=U64)[:, None]
    packed = np.sort(packed.reshape(-1))
    same = (packed[1:] >> U64(32)) == (packed[:-1] >> U64(32))
    code = np.uint32 if n * n <= 2**32 else np.int64
    rows = (packed & U64(0xFFFFFFFF)).astype(code)
    parts = []
    run = np.flatnonzero(same) + 1
    later = rows[run]
    for lag in range(1, cap + 1):
        if len(run) == 0:
            break
        parts.append(rows[run - lag] * code(n) + later)
        at = np.flatnonzero(same[run[np.searchsorted(run, lag + 1):] - lag - 1]) + np.searchsorted(run, lag + 1)
        run, later = run[at], later[at]
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    codes = np.concatenate(parts)
    if keep is not None and min_bands <= 1:
        codes = codes[keep((codes // code(n)).astype(np.int64), (codes % code(n)).astype(np.int64))]
    codes = repeated(codes, min_bands)
    left, right = (codes // code(n)).astype(np.int64), (codes % code(n)).astype(np.int64)
    if keep is not None and min_bands > 1:
        passed = keep(left, right)
        left, right = left[passed], right[passed]
    return left, right


class Ragged:
    """A growable ragged array of uint32 rows (amortised doubling, no per-row objects)."""

    def __init__(self, values: np.ndarray | None = None, offsets: np.ndarray | None = None) -> None:
        self.values = np.zeros(1024, dtype=np.uint32) if values is None else values
        self.offsets = np.zeros(1, dtype=np.int64) if offsets is None else offsets
        self.size = int(self.offsets[-1])
        self.rows = len(self.offsets) - 1

    def extend(self, values: np.ndarray, offsets: np.ndarray, rows: np.ndarray) -> None:
        lengths = offsets[rows + 1] - offsets[rows]
        if np.all(rows[1:] > rows[:-1]):
            chosen = np.zeros(len(offsets) - 1, dtype=bool)
            chosen[rows] = True
            chunk = values[offsets[0] : offsets[-1]][np.repeat(chosen, np.diff(offsets))]
        else:
            take = np.repeat(offsets[rows] - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
            chunk = values[take + np.arange(int(lengths.sum()))]
        if self.size + len(chunk) > len(self.values):  # amortised doubling; an empty array grows too
            grown = np.empty(max(2 * len(self.values), self.size + len(chunk), 1024), dtype=self.values.dtype)
            grown[: self.size] = self.values[: self.size]  # the free tail is never read: left untouched
            self.values = grown
        self.values[self.size : self.size + len(chunk)] = chunk
        self.offsets = np.concatenate([self.offsets, self.size + np.cumsum(lengths)])
        self.size += len(chunk)
        self.rows += len(rows)

    def trimmed(self) -> tuple[np.ndarray, np.ndarray]:
        return self.values[: self.size], self.offsets

    def row(self, i: int) -> np.ndarray:
        return self.values[self.offsets[i] : self.offsets[i + 1]]


class BandTable:
    """Band keys (uint32) of indexed rows as a few runs; a run lists its distinct keys sorted
    (``keys``), the rows of each key (``rows[first[k] : first[k + 1]]``, ascending) and a
    directory of the keys' top ``bits`` bits (``start[b]``: first key in bucket ``b``; 1 to
    2 keys per bucket on average), so a look-up reads the directory and scans a short bucket
    of distinct keys instead of a binary search. Each ``add`` makes a run; before a query,
    runs are merged (by insertion, no sort) while the older one is at most twice as large."""

    def __init__(self) -> None:
        self.runs: list[_Run] = []
        self.rows = 0

    def add(self, keys: np.ndarray, rows: np.ndarray) -> None:
        """Index ``keys`` (rows x bands) as rows ``rows``, all after the rows already indexed."""
        packed = np.sort(((keys.astype(U64) << U64(32)) | rows.astype(U64)[:, None]).ravel())
        self.runs.append(_Run.from_packed(packed))
        self.rows = max(self.rows, int(rows.max()) + 1) if len(rows) else self.rows

    def settle(self) -> None:
        """Merge the runs (done before each query; may be called earlier)."""
        merged: list[_Run] = []
        for run in self.runs:
            while merged and merged[-1].size <= 2 * run.size:
                run = merged.pop().merge(run)
            merged.append(run)
        self.runs = merged

    def query(self, keys: np.ndarray, cap: int = 64, min_bands: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """(query row, indexed row) pairs, distinct, for rows of ``keys`` sharing at least
        ``min_bands`` band keys; per key only the ``cap`` latest indexed rows (a huge bucket
        stays linear). Runs hold rows in age order, so they are read newest first."""
        return self.query_needles(sorted_needles(keys), len(keys), cap, min_bands)

    def query_needles(self, found_by: tuple[np.ndarray, np.ndarray], n: int, cap: int = 64,
                      min_bands: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """``query`` for the ``needles`` of ``n`` query rows."""
        self.settle()
        needles, owner = found_by
        room = np.full(len(needles), cap, dtype=np.int64)
        found = [np.zeros(0, dtype=np.int64)]
        for run in reversed(self.runs):
            at, lo, hi = run.find(needles)
            lo = np.maximum(lo, hi - room[at])
            c = np.maximum(hi - lo, 0)
            room[at] -= c
            rows = run.rows[np.repeat(lo - np.cumsum(c) + c, c) + np.arange(int(c.sum()))]
            span = run.high - run.low + 1
            code = np.uint32 if n * span <= 2**32 else np.int64
            codes = repeated(np.repeat(owner[at].astype(code), c) * code(span) + (rows - run.low).astype(code),
                             min_bands)
            found.append((codes // code(span)).astype(np.int64) * (1 << 32) + (codes % code(span)).astype(np.int64) + run.low)
        codes = np.sort(np.concatenate(found))
        return codes >> 32, codes & 0xFFFFFFFF

    @property
    def nbytes(self) -> int:
        return sum(r.keys.nbytes + r.first.nbytes + r.rows.nbytes + r.start.nbytes for r in self.runs)


def sorted_needles(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The band keys of ``keys`` (rows x bands) sorted, and the row each comes from: what a
    ``BandTable`` query looks up (independent of the table, so it can be made in advance)."""
    flat = np.ascontiguousarray(keys, dtype=np.uint32).reshape(-1)
    packed = np.sort((flat.astype(U64) << U64(32)) | np.arange(len(flat), dtype=U64))
    bands = max(keys.shape[1], 1)
    return (packed >> U64(32)).astype(np.uint32), ((packed & U64(0xFFFFFFFF)) // U64(bands)).astype(np.int64)


class _Run:
    def __init__(self, keys: np.ndarray, first: np.ndarray, rows: np.ndarray, low: int, high: int,
                 start: np.ndarray | None = None) -> None:
        self.keys, self.first, self.rows = keys, first, rows
        self.low, self.high = low, high
        self.size = len(rows)
        self.bits = _bits(len(keys))
        if start is not None:
            self.start = start
            return
        self.start = np.zeros((1 << self.bits) + 1, dtype=_index_type(len(keys)))
        np.cumsum(np.bincount(keys >> np.uint32(32 - self.bits), minlength=1 << self.bits), out=self.start[1:])

    @classmethod
    def from_packed(cls, packed: np.ndarray) -> _Run:
        """From sorted (key << 32 | row) entries."""
        key = (packed >> U64(32)).astype(np.uint32)
        new = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]])) if len(key) else np.zeros(0, np.intp)
        index = _index_type(len(packed))
        rows = (packed & U64(0xFFFFFFFF)).astype(index)
        low, high = (int(rows.min()), int(rows.max())) if len(rows) else (0, 0)
        return cls(key[new], np.append(new, len(key)).astype(index), rows, low, high)

    def merge(self, newer: _Run) -> _Run:
        """One run with the entries of both; ``newer`` holds only rows after those of ``self``."""
        pos = np.searchsorted(self.keys, newer.keys)
        known = np.zeros(len(pos), dtype=bool)
        inside = np.flatnonzero(pos < len(self.keys))
        known[inside] = self.keys[pos[inside]] == newer.keys[inside]
        fresh = np.flatnonzero(~known)
        counts = np.diff(newer.first)
        rows = _insert(self.rows, np.repeat(self.first[pos + known], counts), newer.rows)
        sizes = np.diff(self.first)
        sizes[pos[known]] += counts[known]
        sizes = _insert(sizes, pos[fresh], counts[fresh])
        first = np.zeros(len(sizes) + 1, dtype=_index_type(len(rows)))
        np.cumsum(sizes, out=first[1:])
        low, high = (newer.low, newer.high) if self.size == 0 else (self.low, max(self.high, newer.high))
        if newer.size == 0:
            low, high = self.low, self.high
        keys = _insert(self.keys, pos[fresh], newer.keys[fresh])
        start = None
        if _bits(len(keys)) == self.bits and self.start.dtype == _index_type(len(keys)):
            added = np.bincount(newer.keys[fresh] >> np.uint32(32 - self.bits), minlength=1 << self.bits)
            start = self.start.copy()
            start[1:] += np.cumsum(added, dtype=start.dtype)
        return _Run(keys, first, rows, low, high, start)

    def find(self, needles: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(needle, first row position, end row position) of the needles found."""
        bucket = (needles >> np.uint32(32 - self.bits)).astype(np.intp)
        lo, hi = self.start[bucket], self.start[bucket + 1]
        at = np.flatnonzero(hi > lo)
        pos, end = lo[at].astype(np.int64), hi[at]
        owners, where = [], []
        while len(at):
            hit = np.flatnonzero(self.keys[pos] == needles[at])
            owners.append(at[hit])
            where.append(pos[hit])
            pos += 1
            more = np.flatnonzero(pos < end)
            at, pos, end = at[more], pos[more], end[more]
        if not owners:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        at, k = np.concatenate(owners), np.concatenate(where)
        return at, self.first[k].astype(np.int64), self.first[k + 1].astype(np.int64)


def _bits(keys: int) -> int:
    """Directory bits for ``keys`` distinct keys (1 to 2 keys per bucket)."""
    return max(keys.bit_length() - 1, 1)


def _index_type(size: int) -> type:
    return np.int32 if size < 2**31 else np.int64


def _insert(base: np.ndarray, at: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``np.insert(base, at, values)`` for sorted ``at`` (a scatter and a masked copy)."""
    out = np.empty(len(base) + len(values), dtype=base.dtype)
    where = at + np.arange(len(values))
    free = np.ones(len(out), dtype=bool)
    free[where] = False
    out[where] = values
    out[free] = base
    return out
