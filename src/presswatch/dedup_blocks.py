"""Hashing one block of paragraphs for ``dedup``: everything that does not depend on the index
(shingles, signatures, band keys, sketches, exact copies and the similar pairs inside the
block), so it can run ahead of the decisions, in other threads.

A ``BlockHashing`` cuts its block into chunks of ``CHUNK`` texts that any thread may claim:
background threads work through the blocks in order, and the thread that needs a block's
result and finds it unfinished hashes the chunks nobody has claimed instead of waiting
idle. The thread finishing the last chunk assembles the block. The chunks are independent,
so the result is the same whichever threads did the work.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from presswatch import candidates as cd
from presswatch import minhash as mh
from presswatch.dedup_rules import BUCKET_CAP, CHUNK, MIN_BANDS, Params, join_shingled

_Hashed = tuple[mh.Shingled, np.ndarray, np.ndarray]


@dataclass(frozen=True, slots=True)
class Prepared:
    """One block hashed and compared with itself, before any decision against the index:
    shingles and figures, band keys, 8-bit sketches; for each row the first earlier row of the
    block with the same shingle set and figures (``alias``, -1 if none); the rows to compare
    (``active``: not empty, not such a copy); the similar pairs inside the block (``inner``:
    later row, earlier row, Jaccard, figure gap); and the sorted band keys of the active rows
    that the band table will be asked for (``needles``, see ``candidates.sorted_needles``)."""

    shingled: mh.Shingled
    keys: np.ndarray
    sketches: np.ndarray
    alias: np.ndarray
    active: np.ndarray
    inner: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    needles: tuple[np.ndarray, np.ndarray]

    def __len__(self) -> int:
        return len(self.alias)


def prepare(texts: Sequence[str], params: Params) -> Prepared:
    """Hash one block in this thread."""
    return assemble([hash_chunk(texts[i : i + CHUNK], params) for i in range(0, len(texts), CHUNK)], params)


def hash_chunk(texts: Sequence[str], params: Params) -> _Hashed:
    """Shingles, band keys and 8-bit sketches of a few texts (at most ``CHUNK``: cache-sized)."""
    sh = mh.shingle_texts(texts, params.shingle)
    return (sh, *mh.keys_and_sketches(sh, params.num_perm, params.bands, rows=CHUNK))


def assemble(parts: list[_Hashed], params: Params) -> Prepared:
    """The block of the hashed chunks ``parts`` (in order), compared with itself."""
    p = params
    sh = join_shingled([part[0] for part in parts], p)
    keys = np.concatenate([part[1] for part in parts]) if parts else np.zeros((0, p.bands), np.uint32)
    sk = np.concatenate([part[2] for part in parts]) if parts else np.zeros((0, p.num_perm), np.uint8)
    sizes = np.diff(sh.offsets)
    alias = exact_copies(keys, sh, sizes == 0)
    active = np.flatnonzero((sizes > 0) & (alias < 0))
    left, right = cd.colliding_pairs(
        keys[active],
        keep=lambda a, b: p.screen(sk, active[a], active[b], sizes[active[a]], sizes[active[b]]),
        cap=BUCKET_CAP, min_bands=MIN_BANDS)
    left, right = active[left], active[right]
    jac, sim = p.similar(*cd.pair_overlap(sh.shingles, sh.offsets, left, right))
    left, right, jac = left[sim], right[sim], jac[sim]
    mine = (sh.figures, sh.figure_offsets)
    inner = (right, left, jac, cd.multiset_gaps(mine, right, mine, left))
    return Prepared(sh, keys, sk, alias, active, inner, cd.sorted_needles(keys[active]))


def exact_copies(keys: np.ndarray, sh: mh.Shingled, empty: np.ndarray) -> np.ndarray:
    """For each row, the first earlier row with the same shingle set and figures, or -1."""
    words = np.ascontiguousarray(keys).view(np.uint64)
    weights = mh.mix64(np.arange(1, words.shape[1] + 1, dtype=np.uint64)) | np.uint64(1)
    fp = mh.mix64((words * weights).sum(axis=1, dtype=np.uint64))
    order = np.argsort(fp, kind="stable")
    fps = fp[order]
    head = np.concatenate([[True], fps[1:] != fps[:-1]])
    alias = np.empty(len(keys), dtype=np.int64)
    alias[order] = order[np.maximum.accumulate(np.where(head, np.arange(len(fps)), 0))]
    cand = np.flatnonzero((alias != np.arange(len(keys))) & ~empty)
    result = np.full(len(keys), -1, dtype=np.int64)
    if len(cand):
        cand = cand[cd.same_rows(sh.shingles, sh.offsets, alias[cand], cand)]
        figs = (sh.figures, sh.figure_offsets)
        sizes = np.diff(sh.figure_offsets)
        same = (sizes[alias[cand]] == sizes[cand]) & (cd.multiset_gaps(figs, alias[cand], figs, cand) == 0)
        result[cand[same]] = alias[cand[same]]
    return result


class BlockHashing:
    """One block being hashed by whichever threads call ``work`` (see the module docstring)."""

    def __init__(self, texts: Sequence[str], params: Params, between: Callable[[], object] | None = None) -> None:
        self._texts, self._params, self._between = texts, params, between
        self._starts = range(0, len(texts), CHUNK)
        self._parts: list[_Hashed | None] = [None] * len(self._starts)
        self._claimed = 0
        self._left = len(self._starts)
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._result: Prepared | None = None
        self._error: BaseException | None = None
        if not self._left:
            self._assemble()

    def work(self) -> None:
        """Hash chunks nobody has claimed, until none is left; the thread that hashes the
        last one assembles the block. ``between`` is called before each chunk (a chance to run
        more urgent work)."""
        while True:
            if self._between is not None:
                self._between()
            with self._lock:
                if self._claimed == len(self._starts) or self._error is not None:
                    return
                k, self._claimed = self._claimed, self._claimed + 1
            try:
                part = hash_chunk(self._texts[self._starts[k] : self._starts[k] + CHUNK], self._params)
            except BaseException as exc:  # handed to ``result``
                with self._lock:
                    self._error = self._error or exc
                self._done.set()
                return
            with self._lock:
                self._parts[k] = part
                self._left -= 1
                last = self._left == 0
            if last:
                self._assemble()

    def _assemble(self) -> None:
        try:
            self._result = assemble(self._parts, self._params)  # type: ignore[arg-type]
        except BaseException as exc:
            self._error = exc
        finally:
            self._parts, self._texts = [], ()  # the texts are not needed any more: free them early
            self._done.set()

    def result(self) -> Prepared:
        """The hashed block: helps with the chunks left, then waits for those in progress."""
        self.work()
        self._done.wait()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result


class Claimable:
    """A piece of work done once, by the first thread that claims it (``try_run``); ``result``
    claims it or waits for the thread that did."""

    def __init__(self, work: Callable[[], object]) -> None:
        self._work: Callable[[], object] | None = work
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._error: BaseException | None = None

    def try_run(self) -> None:
        with self._lock:
            work, self._work = self._work, None
        if work is None:
            return
        try:
            work()
        except BaseException as exc:  # handed to ``result``
            self._error = exc
        finally:
            self._done.set()

    def result(self) -> None:
        self.try_run()
        self._done.wait()
        if self._error is not None:
            raise self._error


def default_workers() -> int:
    """Threads used by default: 2 (hash the next blocks while deciding this one) when the
    process may run on at least two CPUs, else 1."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return 2 if cpus >= 2 else 1
