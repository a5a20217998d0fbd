"""Near-duplicate paragraphs and syndicated stories, at corpus scale.

Paragraphs are shingled (``shingle`` consecutive folded words, every figure replaced by one
placeholder, so a changed number does not lower the similarity), given a one-permutation
MinHash signature (``num_perm`` densified bins, see ``minhash``) and bucketed by LSH
(``bands`` bands of ``num_perm // bands`` bins). A candidate
pair shares at least ``MIN_BANDS`` (2) band keys: with 32 x 4 that finds ~100% of pairs from
Jaccard 0.7 up, 93% at 0.6, 60% at 0.5, and drops ~96% of the chance collisions of texts
that only share a sentence or a template. Candidates are screened on 8-bit sketches
(``Params.screen``), then verified exactly on their two shingle sets: a pair is *similar*
when Jaccard >= ``threshold``, or when the shorter paragraph's shingles are >=
``containment`` inside the other one (a sentence added or dropped), it has at least
``min_contained`` shingles and Jaccard >= 0.5. Similar pairs whose figures (numbers, number
words, months) conflict, neither multiset containing the other, are a ``figure_update``:
kept, and linked to the closest earlier version (fewest differing figures, then most
similar, then latest). Otherwise the later record is a ``duplicate``.

Decisions follow a total order, never arrival order: records are taken by
``(order_key, id)``, in blocks of ``_BLOCK``; each is compared with the *kept* records before
it (the index: band keys in a ``candidates.BandTable``, shingle sets, figures, sketches;
plus the earlier rows of its block, found by one sort of the block's band keys) and becomes
a duplicate of the first similar one with compatible figures. So any
permutation of the same input gives the same answer, and memory grows with the kept records.
``iter_matches`` streams: the same engine, lines numbered in input order.

Hashing a block (shingles, signatures, the similar pairs inside it) does not depend on the
index, so with ``workers`` > 1 (the default on a machine with two CPUs) the next blocks are
hashed in a background thread while this one is decided; the answers do not change.
"""

from __future__ import annotations

import gc
import io
import json
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime
from itertools import islice
from operator import attrgetter
from typing import TypeVar

import numpy as np

from presswatch import candidates as cd
from presswatch import minhash as mh
from presswatch.dedup_blocks import BlockHashing, Claimable, Prepared, default_workers, prepare
from presswatch.dedup_rules import BUCKET_CAP, CHUNK, MIN_BANDS, DuplicateMatch, ParagraphRecord, Params, choose_twin
from presswatch.errors import StoreError
from presswatch.models import Article, Removal, Section
from presswatch.stories import ArticleRecord, Story, group_stories

__all__ = ["ArticleRecord", "DedupIndex", "DuplicateMatch", "ParagraphRecord", "Story", "drop_duplicate_paragraphs",
           "find_duplicates", "group_stories", "iter_duplicates", "iter_matches"]

_BLOCK = 65536
_AHEAD = 2
_FORMAT = 3
_SORT_KEY = attrgetter("order_key", "id")
T = TypeVar("T")


class DedupIndex:
    """Kept paragraphs (unique or figure updates) of earlier runs: shingle sets, figures, band
    keys and 8-bit sketches, so a later run hashes only its new paragraphs. Earlier decisions are
    never revised: a new record may become the duplicate of an indexed record even when its
    own order key is smaller (one batch over both runs would have kept the new one)."""

    def __init__(self, *, num_perm: int = 128, bands: int = 32, threshold: float = 0.8,
                 containment: float = 0.9, min_contained: int = 10, shingle: int = 3,
                 workers: int | None = None) -> None:
        if num_perm % bands:
            raise ValueError(f"num_perm ({num_perm}) must be a multiple of bands ({bands})")
        self.params = Params(num_perm, bands, threshold, containment, min_contained, shingle)
        self.workers = default_workers() if workers is None else max(int(workers), 1)
        self.ids: list[str] = []
        self.order_keys: list[tuple] = []
        self.shingles = cd.Ragged()
        self.figures = cd.Ragged()
        self._keys = np.zeros((0, bands), dtype=np.uint32)
        self._sketch = np.zeros((0, num_perm), dtype=np.uint8)
        self._table = cd.BandTable()
        self._pending: list[tuple[mh.Shingled, np.ndarray]] = []
        self._upkeep: Claimable | None = None
        self._threads: ThreadPoolExecutor | None = None

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def keys(self) -> np.ndarray:
        """Band keys of the indexed rows, shape (len(self), bands)."""
        return self._keys[: len(self.ids)]

    def add(self, records: Sequence[ParagraphRecord]) -> list[DuplicateMatch]:
        """Decide every new record against the index and the new records before it in
        ``(order_key, id)`` order; results come in that order. Kept records join the index."""
        records = sorted(records, key=_SORT_KEY)
        blocks = ((records[lo : lo + _BLOCK], [r.text for r in records[lo : lo + _BLOCK]])
                  for lo in range(0, len(records), _BLOCK))
        results: list[DuplicateMatch] = []
        with _gc_paused():
            for block, prepared in self.prepared(blocks):
                results += self.decide(prepared, [r.id for r in block], [r.order_key for r in block])
        return results

    def prepared(self, blocks: Iterable[tuple[T, Sequence[str]]]) -> Iterator[tuple[T, Prepared]]:
        """``(tag, prepare(texts))`` for each ``(tag, texts)`` block, in order. With more than
        one worker, ``workers - 1`` background threads hash the blocks, up to ``_AHEAD``
        blocks ahead of the one the caller decides, and the caller hashes the chunks left of a
        block it needs instead of waiting (``dedup_blocks.BlockHashing``). Hashing does not
        depend on the index and numpy releases the GIL in its array loops, so the threads
        work at once, and results are the same whatever ``workers`` is. Threads start only for
        a second block or a first one of more than ``CHUNK`` texts (a few paragraphs are
        hashed faster than a thread starts). ``blocks`` is read in the calling thread; if
        reading it fails, the blocks read before are yielded, then the error is raised."""
        if self.workers <= 1:
            for tag, texts in blocks:
                yield tag, prepare(texts, self.params)
            return
        pool: ThreadPoolExecutor | None = None  # started for a second block or a large first one
        ahead: deque[tuple[T, BlockHashing]] = deque()
        try:
            source = enumerate(blocks)
            while True:
                try:
                    k, (tag, texts) = next(source)
                except StopIteration:
                    break
                except Exception:  # a reader error: the blocks read before it are answered first
                    while ahead:
                        tag, job = ahead.popleft()
                        yield tag, job.result()
                    raise
                job = BlockHashing(texts, self.params, between=self._lend_a_hand)
                if pool is None and (k > 0 or len(texts) > CHUNK):
                    pool = self._threads = ThreadPoolExecutor(self.workers - 1, thread_name_prefix="presswatch-dedup")
                if pool is not None:
                    for _ in range(self.workers - 1):
                        pool.submit(job.work)
                ahead.append((tag, job))
                if len(ahead) > _AHEAD:
                    tag, job = ahead.popleft()
                    yield tag, job.result()
            while ahead:
                tag, job = ahead.popleft()
                yield tag, job.result()
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
            self._threads = self._upkeep = None  # upkeep done, or left to the lazy steps of the next decision

    def _lend_a_hand(self) -> None:
        """Run the upkeep of the last decided block if nobody has (hashing threads call this
        between chunks, so the caller finds the index ready while it reads the next lines)."""
        upkeep = self._upkeep
        if upkeep is not None:
            upkeep.try_run()

    def _catch_up(self) -> None:
        """Copy the kept rows in and index them: lazy steps, done early when threads allow."""
        self._settle()
        self._band_table().settle()

    def _band_table(self) -> cd.BandTable:
        """The band table, brought up to date: rows join it only when a query needs them."""
        done = self._table.rows
        if done < len(self):
            self._table.add(self.keys[done:], np.arange(done, len(self)))
        return self._table

    def _settle(self) -> None:
        """Shingles and figures of the rows kept by the last blocks, copied in only when needed."""
        for sh, rows in self._pending:
            self.shingles.extend(sh.shingles, sh.offsets, rows)
            self.figures.extend(sh.figures, sh.figure_offsets, rows)
        self._pending = []

    def decide(self, prepared: Prepared, ids: list[str], order_keys: Sequence[tuple]) -> list[DuplicateMatch]:
        """Decide one block of rows given in decision order (see ``add``), hashed by ``prepare``."""
        if self._upkeep is not None:
            self._upkeep.result()
            self._upkeep = None
        p, m = self.params, len(self.ids)
        sh, keys, sk, active = prepared.shingled, prepared.keys, prepared.sketches, prepared.active
        sizes = np.diff(sh.offsets)
        self._settle()
        old_sh, old_off = self.shingles.trimmed()
        old_fig, old_foff = self.figures.trimmed()

        q, k = self._band_table().query_needles(prepared.needles, len(active), cap=BUCKET_CAP, min_bands=MIN_BANDS)
        q = active[q]
        ok = p.screen(sk, q, k, sizes[q], np.diff(old_off)[k], other=self._sketch)
        q, k = q[ok], k[ok]
        jac, sim = p.similar(*cd.pair_overlap(sh.shingles, sh.offsets, q, k, other=(old_sh, old_off)))
        q, k, jac = q[sim], k[sim], jac[sim]
        gaps = cd.multiset_gaps((sh.figures, sh.figure_offsets), q, (old_fig, old_foff), k)

        kept, kind, twin, sim = _decide(prepared.alias, m, (q, k, jac, gaps), prepared.inner)
        results = [DuplicateMatch(i, None, None, "unique") for i in ids]
        for j, t in twin.items():
            results[j] = DuplicateMatch(ids[j], self.ids[t] if t < m else ids[t - m], sim[j], kind[j])

        new_kept = np.flatnonzero(kept & (sizes > 0))
        self._grow(m + len(new_kept))
        self._keys[m : m + len(new_kept)] = keys[new_kept]
        self._sketch[m : m + len(new_kept)] = sk[new_kept]
        kept_rows = new_kept.tolist()
        self.ids += [ids[i] for i in kept_rows]
        if isinstance(order_keys, _Numbered):
            self.order_keys += [(order_keys.start + i,) for i in kept_rows]
        else:
            self.order_keys += [order_keys[i] for i in kept_rows]
        self._pending.append((sh, new_kept))
        if self._threads is not None:  # an idle thread starts it now, a busy one between two chunks
            self._upkeep = Claimable(self._catch_up)
            self._threads.submit(self._upkeep.try_run)
        return results

    def _grow(self, need: int) -> None:
        if need > len(self._keys):
            size = max(need, 2 * len(self._keys))
            keys = np.zeros((size, self.params.bands), dtype=np.uint32)
            sketch = np.zeros((size, self.params.num_perm), dtype=np.uint8)
            keys[: len(self)], sketch[: len(self)] = self.keys, self._sketch[: len(self)]
            self._keys, self._sketch = keys, sketch

    def to_bytes(self) -> bytes:
        meta = {"format": _FORMAT, "params": _params_dict(self.params),
                "ids": self.ids, "order_keys": [_encode_key(k) for k in self.order_keys]}
        self._settle()
        sh, sh_off = self.shingles.trimmed()
        fg, fg_off = self.figures.trimmed()
        buf = io.BytesIO()
        np.savez_compressed(buf, meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8),
                            sh=sh, sh_off=sh_off, fg=fg, fg_off=fg_off, keys=self.keys,
                            sketch=self._sketch[: len(self)])
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> DedupIndex:
        """The index saved by ``to_bytes``; ``StoreError`` if it was written with other hashing."""
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            meta = json.loads(z["meta"].tobytes().decode("utf-8"))
            if meta.get("format") != _FORMAT:
                raise StoreError(f"dedup index format {meta.get('format', 1)} (expected {_FORMAT}): its shingle "
                                 "hashes are not comparable; rebuild the index from the stored paragraphs")
            index = cls(**meta["params"])
            index.ids = list(meta["ids"])
            index.order_keys = [_decode_key(k) for k in meta["order_keys"]]
            index.shingles = cd.Ragged(z["sh"].copy(), z["sh_off"].copy())
            index.figures = cd.Ragged(z["fg"].copy(), z["fg_off"].copy())
            index._keys = z["keys"].copy()
            index._sketch = z["sketch"].copy()
        return index


class _Numbered(Sequence[tuple]):
    """The order keys ``(start,)``, ``(start + 1,)``, ... of ``size`` numbered lines."""

    def __init__(self, start: int, size: int) -> None:
        self.start, self.size = start, size

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, i):  # type: ignore[no-untyped-def]
        if isinstance(i, slice):
            return [(self.start + k,) for k in range(*i.indices(self.size))]
        if not -self.size <= i < self.size:
            raise IndexError(i)
        return (self.start + i % self.size,)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a block is decided: it makes only acyclic
    objects (matches, lists of numbers), and full collections would otherwise walk every
    record the caller holds, again and again."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _decide(alias: np.ndarray, m: int, *found: tuple[np.ndarray, ...]
            ) -> tuple[np.ndarray, list[str], dict[int, int], dict[int, float]]:
    """Decisions of one block, row by row: ``found`` holds (row, partner, Jaccard, figure gap)
    arrays, partners numbered as in the index (block rows from ``m``; those of the block
    count only if kept). Returns kept rows, and kind, twin and similarity of every row that
    is not unique (a row with no partner and no exact copy before it is unique and kept)."""
    n = len(alias)
    rows = np.concatenate([found[0][0], found[1][0]])
    mates = np.concatenate([found[0][1], found[1][1] + m])
    order = np.lexsort((mates, rows))
    rows, mates = rows[order], mates[order].tolist()
    jac = np.concatenate([found[0][2], found[1][2]])[order].tolist()
    gaps = np.concatenate([found[0][3], found[1][3]])[order].tolist()
    heads = np.flatnonzero(np.concatenate([[True], rows[1:] != rows[:-1]])) if len(rows) else rows
    start = dict(zip(rows[heads].tolist(), heads.tolist()))
    rows = rows.tolist()
    copies = np.flatnonzero(alias >= 0).tolist()
    alias = alias.tolist()
    kept = np.ones(n, dtype=bool)
    kind = ["unique"] * n
    twin: dict[int, int] = {}
    sim: dict[int, float] = {}
    for j in sorted({*start, *copies}):
        rep = alias[j]
        if rep >= 0:
            kept[j] = False
            dup = kind[rep] == "duplicate"
            twin[j], sim[j], kind[j] = (twin[rep], sim[rep], "duplicate") if dup else (m + rep, 1.0, "duplicate")
            continue
        pos, partners = start[j], []
        while pos < len(rows) and rows[pos] == j:
            if mates[pos] < m or kept[mates[pos] - m]:
                partners.append((mates[pos], jac[pos], gaps[pos]))
            pos += 1
        decided, i, s = choose_twin(partners)
        if i >= 0:
            kind[j], twin[j], sim[j] = decided, i, round(s, 4)
            kept[j] = decided != "duplicate"
    return kept, kind, twin, sim


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


def iter_matches(lines: Iterable[tuple[str, str]], *, chunk: int = _BLOCK, **params: object) -> Iterator[DuplicateMatch]:
    """Stream ``(id, text)`` pairs; yield one match per line, in input order.

    Here "before" means "earlier in the input": lines are numbered and fed to one
    ``DedupIndex`` ``chunk`` lines (at most 65,536) at a time, so every pair is verified
    exactly and the result equals ``find_duplicates`` with the line number as order key. Only kept lines are
    remembered (shingle hashes, figures, band keys and an 8-bit sketch; no text): memory grows
    linearly, about 1 kB per kept line, plus the few chunks hashed ahead (``workers``, see
    ``DedupIndex.prepared``). The garbage collector is paused while a chunk is read and
    decided (never while the caller handles the matches). If reading ``lines`` raises, every
    line read before gets its match first, then the error propagates."""
    index = DedupIndex(**params)  # type: ignore[arg-type]

    def chunks() -> Iterator[tuple[tuple[list[str], int], list[str]]]:
        rows, done, size = iter(lines), 0, max(1, min(chunk, _BLOCK))  # a block never exceeds _BLOCK rows
        while True:
            ids: list[str] = []
            texts: list[str] = []
            failure = None
            with _gc_paused():
                try:
                    for line_id, text in islice(rows, size):
                        ids.append(line_id)
                        texts.append(text)
                except Exception as exc:  # the lines read before it still get their answer
                    failure = exc
            if ids:
                yield (ids, done), texts
            if failure is not None:
                raise failure
            if not ids:
                return
            done += len(ids)

    for (ids, first), prepared in index.prepared(chunks()):
        with _gc_paused():
            matches = index.decide(prepared, ids, _Numbered(first, len(ids)))
        yield from matches


def iter_duplicates(lines: Iterable[tuple[str, str]], **params: object) -> Iterator[tuple[str, str | None, float | None]]:
    """``(id, duplicate_of, similarity)`` per input line, in input order (see ``iter_matches``;
    a figure update is kept, so it reads ``(id, None, None)`` here)."""
    for match in iter_matches(lines, **params):
        if match.kind == "duplicate":
            yield match.id, match.duplicate_of, match.similarity
        else:
            yield match.id, None, None


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
