"""Vectorised shingling and one-permutation MinHash for near-duplicate detection (``dedup``).

Texts of a batch are joined, NFC-normalised, case- and accent-folded, then handled as one
array of code units: words are runs of letters/digits, each hashed by a polynomial over its
code points (32-bit wrap-around, murmur finaliser). Figure words (digits, number words,
months) are recorded apart and masked by one placeholder; shingles are ``shingle``
consecutive masked words, kept distinct and sorted per text. All hashes come from fixed
constants: no Python ``hash()``, so results do not depend on PYTHONHASHSEED, the platform or
the numpy version. A batch made only of characters below U+3000 that cannot change under NFC
(the usual case) is read as UTF-16 and folded by one table look-up; any other batch takes the
general path (normalise, UTF-32), which gives the same code points.

Signatures use one-permutation hashing: each shingle hash, and two odd multiples of it,
falls into one of ``num_perm`` bins by its top bits and every bin keeps its
smallest value, so a bin of two texts agrees with probability equal to their Jaccard
similarity at a cost linear in the shingles. Bins left empty (short texts) borrow the value
of the first non-empty bin along a fixed pseudo-random probe order of their own (optimal
densification, Shrivastava 2017), which keeps that probability. Values carry their bin in
the top bits, so a borrowed value never equals a native one of another bin. Candidates are
filtered on the low byte of each value (8-bit sketches) before the exact check.
"""

from __future__ import annotations

import functools
import tomllib
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

U64 = np.uint64
U32 = np.uint32
_BASE = 0x9E3779B1
_BASE_INV = pow(_BASE, -1, 2**32)
_LIMIT = 0x3000
_FAST_RANGES = ((0, 0x800), (0x2000, 0x2200))
_FLAG = 0xFFFF
_MAX = np.uint32(0xFFFFFFFF)
_PLACEHOLDER = U32(0x5DEECE66)
_ROUND_FACTORS = (1, 0x2545F491, 0x5BD1E995)


@dataclass(frozen=True, slots=True)
class Shingled:
    """Shingle and figure hashes of ``n`` texts, as ragged arrays (``offsets`` has n + 1 items);
    the shingles of one text are distinct and sorted."""

    shingles: np.ndarray
    offsets: np.ndarray
    figures: np.ndarray
    figure_offsets: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def figure_tuple(self, i: int) -> tuple[int, ...]:
        return tuple(sorted(self.figures[self.figure_offsets[i] : self.figure_offsets[i + 1]].tolist()))


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (sort-based: numpy's hash-based ``unique`` is slow on uint64)."""
    values = np.sort(values)
    if len(values) == 0:
        return values
    return values[np.concatenate([[True], values[1:] != values[:-1]])]


def fmix32(x: np.ndarray) -> np.ndarray:
    """murmur3 finaliser: a bijection on uint32."""
    x = x ^ (x >> U32(16))
    x *= U32(0x85EBCA6B)
    x ^= x >> U32(13)
    x *= U32(0xC2B2AE35)
    return x ^ (x >> U32(16))


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a bijection on uint64 with good avalanche."""
    x = x ^ (x >> U64(30))
    x = x * U64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> U64(27))
    x = x * U64(0x94D049BB133111EB)
    return x ^ (x >> U64(31))


def _fold(c: int) -> int:
    """Lower-case, accent-free code point of ``c``; 0 for a separator (not a letter or digit)."""
    ch = chr(c)
    if not ch.isalnum():
        return 0
    base = unicodedata.normalize("NFD", ch)[0]
    return ord(base.lower()[0]) if base.isalnum() else ord(ch.lower()[0])


@functools.cache
def _fold_full() -> np.ndarray:
    """``_fold`` of every code point below ``_LIMIT`` (the general path)."""
    return np.array([0, *map(_fold, range(1, _LIMIT))], dtype=np.uint32)


@functools.cache
def _fold_fast() -> np.ndarray:
    """``_fold`` for every UTF-16 code unit of ``_FAST_RANGES`` (Latin, Greek, Cyrillic, Hebrew,
    Arabic; punctuation, currency and letter-like signs), ``_FLAG`` for all others and for
    the units that NFC may change or compose with what precedes them (combining marks and
    characters with a canonical decomposition; in these ranges every second part of a
    canonical decomposition is a combining mark). A text made only of the others takes the
    fast path, which then gives the same code points as the general one."""
    fast = np.full(1 << 16, _FLAG, dtype=np.uint16)
    for lo, hi in _FAST_RANGES:
        for c in range(max(lo, 1), hi):
            ch = chr(c)
            decomposed = unicodedata.decomposition(ch)
            if not unicodedata.combining(ch) and (decomposed.startswith("<") or unicodedata.is_normalized("NFC", ch)):
                fast[c] = _fold(c)
    fast[0] = 0
    return fast


@functools.cache
def _figure_words() -> tuple[np.ndarray, np.ndarray]:
    """Sorted hashes of the figure words, and a bitmap of their top 16 bits (a cheap pre-test)."""
    text = (Path(__file__).parent / "data" / "dedup" / "figures.toml").read_text("utf-8")
    data = tomllib.loads(text)
    words = [*data["number_words"], *data["months"]]
    hashes = sorted_unique(_word_hashes(words))
    bitmap = np.zeros(1 << 16, dtype=bool)
    bitmap[hashes >> U32(16)] = True
    return hashes, bitmap


def _word_hashes(words: Sequence[str]) -> np.ndarray:
    out = np.empty(len(words), dtype=U32)
    for i, word in enumerate(words):
        out[i] = sum(ord(ch) * pow(_BASE, k, 2**32) for k, ch in enumerate(word)) % 2**32
    return fmix32(out)


@functools.cache
def _probes(num_perm: int) -> np.ndarray:
    """Row ``t``: the ``t``-th bin probed by each empty bin (a fixed permutation per bin)."""
    cell = np.arange(num_perm * num_perm, dtype=U32).reshape(num_perm, num_perm)
    return np.ascontiguousarray(np.argsort(fmix32(cell ^ U32(0x9E3779B9)), axis=1).T).astype(np.int64)


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """B**i and B**-i mod 2**32 for i < n (at least)."""
    return _powers_upto(max(16, (n - 1).bit_length()))


@functools.cache
def _powers_upto(bits: int) -> tuple[np.ndarray, np.ndarray]:
    out = []
    for base in (_BASE, _BASE_INV):
        pw = np.empty(1 << bits, dtype=U32)
        pw[0], size, step = 1, 1, base
        while size < len(pw):
            np.multiply(pw[:size], U32(step), out=pw[size : 2 * size])
            size, step = 2 * size, step * step % 2**32
        out.append(pw)
    return out[0], out[1]


def _code_units(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Folded code units of the texts joined by NUL, and the position of each text's end
    (a NUL inside a text is a separator like any other: it folds to 0)."""
    n = len(texts)
    big = "\x00".join(texts)
    chars = np.take(_fold_fast(), np.frombuffer(big.encode("utf-16-le", "surrogatepass"), dtype=np.uint16))
    if chars.max(initial=0) != _FLAG:
        ends = np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=n))
        return chars, ends + np.arange(n)
    if big.count("\x00") != max(n - 1, 0):
        big = "\x00".join(t.replace("\x00", " ") for t in texts)
    if not unicodedata.is_normalized("NFC", big):
        big = unicodedata.normalize("NFC", big)
    cps = np.frombuffer(big.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    chars = np.take(_fold_full(), np.minimum(cps, _LIMIT - 1))
    wide = np.flatnonzero(cps >= _LIMIT)
    chars[wide] = cps[wide]
    return chars, np.flatnonzero(cps == 0)


def shingle_texts(texts: Sequence[str], shingle: int = 3) -> Shingled:
    """Shingle hashes (uint32, distinct and sorted within each text) and figure hashes.

    Shingles are taken over *masked* words: every figure word (digits, number words, months)
    becomes one placeholder and a run of them ("1,5 million", "15 mars 2024") collapses to a
    single one, so a changed figure leaves the shingle set intact and the figure multisets
    alone tell a duplicate from a figure update."""
    n = len(texts)
    chars, bounds = _code_units(texts)
    inside = np.zeros(len(chars) + 2, dtype=bool)
    np.not_equal(chars, 0, out=inside[1:-1])
    edges = np.flatnonzero(inside[1:] != inside[:-1])
    starts = edges[0::2]
    pw, ipw = _powers(len(chars))
    if len(starts):
        tokens = fmix32(np.add.reduceat(chars * pw[: len(chars)], starts, dtype=U32) * ipw[starts])
    else:
        tokens = np.zeros(0, dtype=U32)
    per_text = np.diff(np.searchsorted(starts, bounds), prepend=0, append=len(starts))[: n]
    para = np.repeat(np.arange(n, dtype=np.int32), per_text)

    first = chars[starts]
    words, bitmap = _figure_words()
    is_fig = (first >= 48) & (first <= 57)
    maybe = np.flatnonzero(bitmap[tokens >> U32(16)])
    at = np.minimum(np.searchsorted(words, tokens[maybe]), len(words) - 1)
    is_fig[maybe[words[at] == tokens[maybe]]] = True
    figures = tokens[is_fig]
    fig_offsets = np.concatenate([[0], np.cumsum(np.bincount(para[is_fig], minlength=n))])

    tokens[is_fig] = _PLACEHOLDER
    run = np.concatenate([[False], is_fig[1:] & is_fig[:-1] & (para[1:] == para[:-1])])
    if run.any():
        tokens, para = tokens[~run], para[~run]
    keys = sorted_unique(_shingles(tokens, para, np.bincount(para, minlength=n), shingle))
    offsets = np.searchsorted(keys, np.arange(n + 1, dtype=U64) << U64(32))
    return Shingled(keys.astype(np.uint32), offsets.astype(np.int64), figures, fig_offsets.astype(np.int64))


_SHINGLE_FACTORS = (0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D, 0x27D4EB2F, 0x165667B1, 0xD3A2646C | 1, 0xFD7046C5, 0xB55A4F09)


def _shingles(tokens: np.ndarray, para: np.ndarray, counts: np.ndarray, k: int) -> np.ndarray:
    """(text << 32 | shingle hash) of every run of ``k`` words inside one text; a text of
    fewer than ``k`` words gets one shingle of all its words. The hash of words w_j is
    fmix32(sum of w_j * c_j), c_j fixed odd constants."""
    if k > len(_SHINGLE_FACTORS):
        raise ValueError(f"shingles of at most {len(_SHINGLE_FACTORS)} words")
    m = len(tokens) - k + 1
    parts = []
    if m > 0:
        h = tokens[:m] * U32(_SHINGLE_FACTORS[0])
        for j in range(1, k):
            h += tokens[j : j + m] * U32(_SHINGLE_FACTORS[j])
        valid = np.flatnonzero(para[:m] == para[k - 1 :])
        parts.append((para[valid].astype(U64) << U64(32)) | fmix32(h[valid]))
    short = np.flatnonzero((counts > 0) & (counts < k))
    if len(short):
        first = (np.cumsum(counts) - counts)[short]
        h = tokens[first] * U32(_SHINGLE_FACTORS[0])
        for j in range(1, k - 1):
            more = np.flatnonzero(counts[short] > j)
            h[more] += tokens[first[more] + j] * U32(_SHINGLE_FACTORS[j])
        parts.append((short.astype(U64) << U64(32)) | fmix32(h))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=U64)


def signatures(sh: Shingled, num_perm: int = 128, rows: int = 2048) -> np.ndarray:
    """One-permutation MinHash signatures, shape (n, num_perm) uint32, densified; a text
    without shingles gets all 2**32-1. Computed ``rows`` texts at a time (cache-sized)."""
    out = np.empty((len(sh), num_perm), dtype=U32)
    for lo, hi, sig in _signature_chunks(sh, num_perm, rows):
        out[lo:hi] = sig
    return out


def keys_and_sketches(sh: Shingled, num_perm: int, bands: int, rows: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """``band_keys`` and ``sketch`` of the signatures, without keeping the signatures."""
    keys = np.empty((len(sh), bands), dtype=U32)
    sketches = np.empty((len(sh), num_perm), dtype=np.uint8)
    for lo, hi, sig in _signature_chunks(sh, num_perm, rows):
        keys[lo:hi] = band_keys(sig, bands)
        sketches[lo:hi] = sketch(sig)
    return keys, sketches


def _signature_chunks(sh: Shingled, num_perm: int, rows: int) -> Iterator[tuple[int, int, np.ndarray]]:
    for lo in range(0, len(sh), rows):
        hi = min(lo + rows, len(sh))
        first = sh.offsets[lo]
        yield lo, hi, _signatures(sh.shingles[first : sh.offsets[hi]], sh.offsets[lo : hi + 1] - first, num_perm)


def _signatures(shingles: np.ndarray, offsets: np.ndarray, num_perm: int) -> np.ndarray:
    n, lengths = len(offsets) - 1, np.diff(offsets)
    sig = np.full((n, num_perm), _MAX, dtype=U32)
    rowbase = np.repeat(np.arange(0, n * num_perm, num_perm, dtype=np.int64), lengths)
    for factor in _ROUND_FACTORS:
        g = shingles * U32(factor) if factor != 1 else shingles
        if num_perm & (num_perm - 1) == 0:
            bins = g >> U32(33 - num_perm.bit_length())
        else:
            bins = (g.astype(U64) * U64(num_perm)) >> U64(32)
        np.minimum.at(sig.reshape(-1), rowbase + bins, g)
    return _densify(sig, lengths > 0)


def _densify(raw: np.ndarray, nonempty: np.ndarray) -> np.ndarray:
    """Each empty bin of a non-empty row filled from the first non-empty bin along its probe
    order: one dense round over all bins (bitwise select), then the few left one by one."""
    n, k = raw.shape
    probes = _probes(k)
    keep = np.negative((raw != _MAX).astype(U32))
    sig = np.take(raw, probes[0], axis=1)
    sig |= keep
    sig &= raw
    pending = np.flatnonzero(sig == _MAX)
    pending = pending[nonempty[pending // k]]
    flat, raw_flat = sig.reshape(-1), raw.reshape(-1)
    for t in range(1, k):
        if len(pending) == 0:
            break
        j = pending % k
        value = raw_flat[pending - j + probes[t][j]]
        hit = value != _MAX
        flat[pending[hit]] = value[hit]
        pending = pending[~hit]
    return sig


def band_keys(sig: np.ndarray, bands: int) -> np.ndarray:
    """One uint32 key per (text, band): fmix32 of the band's values times fixed odd factors,
    plus a constant of the band (so keys of bands differ)."""
    n, num_perm = sig.shape
    rows = num_perm // bands
    view = sig[:, : rows * bands].reshape(n, bands, rows)
    key = np.broadcast_to(fmix32(np.arange(1, bands + 1, dtype=U32) * U32(0x9E3779B1)), (n, bands)).copy()
    for r in range(rows):
        key += view[:, :, r] * U32(_SHINGLE_FACTORS[r % len(_SHINGLE_FACTORS)] ^ (r // len(_SHINGLE_FACTORS) << 1))
    return fmix32(key)


def sketch(sig: np.ndarray) -> np.ndarray:
    """The low byte of every MinHash value (a b-bit sketch, 4x less memory to compare; the
    top bits hold the bin)."""
    return sig.astype(np.uint8)


def estimate_jaccard(sk: np.ndarray, left: np.ndarray, right: np.ndarray, block: int = 32768,
                     other: np.ndarray | None = None, width: int | None = None) -> np.ndarray:
    """Jaccard estimated from the first ``width`` bytes (default: all) of the 8-bit sketches of
    each (sk[left[p]], other[right[p]]) pair (``other`` defaults to ``sk``), corrected for
    chance byte collisions (1/256)."""
    other = sk if other is None else other
    width = width or sk.shape[1]
    out = np.empty(len(left), dtype=np.float64)
    for i in range(0, len(left), block):
        same = sk[left[i : i + block], :width] == other[right[i : i + block], :width]
        out[i : i + block] = same.view(np.uint8).sum(axis=1, dtype=np.uint16)
    out /= width
    return np.maximum(out - 1 / 256, 0) * (256 / 255)
