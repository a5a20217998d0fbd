"""Vectorised shingling and MinHash for near-duplicate detection (used by ``dedup``).

Texts of a batch are joined, NFC-normalised, case- and accent-folded, then handled as one
array of code points: words are runs of letters/digits, each hashed by a polynomial over its
code points (prefix sums, 32-bit wrap-around, murmur finaliser). Figure words (digits, number
words, months) are recorded apart and masked by one placeholder; shingles are ``shingle``
consecutive masked words, kept distinct and sorted per text. All hashes come from fixed
constants and blake2b-derived seeds: no Python ``hash()``, so results do not depend on
PYTHONHASHSEED, the platform or the numpy version.

MinHash uses ``h_i(x) = a_i * x + b_i mod 2**32`` over 32-bit shingle hashes, computed as a
(num_perm, shingles) matrix and reduced per text with ``np.minimum.reduceat``; candidates are
filtered on the top byte of each value (8-bit sketches) before the exact check.
"""

from __future__ import annotations

import functools
import hashlib
import tomllib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np

U64 = np.uint64
U32 = np.uint32
_BASE = 0x9E3779B1
_TABLE_SIZE = 0x3000
_BASE_INV = pow(_BASE, -1, 2**32)
_MAX = np.uint32(0xFFFFFFFF)
_PLACEHOLDER = U32(0x5DEECE66)


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


@functools.cache
def _fold_table() -> np.ndarray:
    """Code point -> lower-case, accent-free code point; 0 for separators."""
    fold = np.zeros(_TABLE_SIZE, dtype=np.uint32)
    for c in range(1, _TABLE_SIZE):
        ch = chr(c)
        if ch.isalnum():
            base = unicodedata.normalize("NFD", ch)[0]
            fold[c] = ord(base.lower()[0]) if base.isalnum() else ord(ch.lower()[0])
    return fold


@functools.cache
def _figure_words() -> tuple[np.ndarray, np.ndarray]:
    """Sorted hashes of the figure words, and a bitmap of their top 16 bits (a cheap pre-test)."""
    text = resources.files("presswatch").joinpath("data/dedup/figures.toml").read_text("utf-8")
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
def permutations(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    """Fixed (a, b) coefficients of the ``num_perm`` hash functions, a odd."""
    raw = [hashlib.blake2b(f"presswatch-minhash-{i}".encode(), digest_size=8).digest() for i in range(num_perm)]
    values = np.frombuffer(b"".join(raw), dtype="<u4").reshape(num_perm, 2)
    return (values[:, 0] | np.uint32(1)).copy(), values[:, 1].copy()


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """B**i and B**-i mod 2**32 for i <= n."""
    return _powers_upto(max(16, (n + 1).bit_length()))


@functools.cache
def _powers_upto(bits: int) -> tuple[np.ndarray, np.ndarray]:
    out = []
    for base in (_BASE, _BASE_INV):
        steps = np.full(1 << bits, base, dtype=U32)
        steps[0] = 1
        out.append(np.cumprod(steps, dtype=U32))
    return out[0], out[1]


def shingle_texts(texts: Sequence[str], shingle: int = 3) -> Shingled:
    """Shingle hashes (uint32, distinct and sorted within each text) and figure hashes.

    Shingles are taken over *masked* words: every figure word (digits, number words, months)
    becomes one placeholder and a run of them ("1,5 million", "15 mars 2024") collapses to a
    single one, so a changed figure leaves the shingle set intact and the figure multisets
    alone tell a duplicate from a figure update."""
    n = len(texts)
    big = "\x00".join(texts)
    if big.count("\x00") != max(n - 1, 0):
        big = "\x00".join(t.replace("\x00", " ") for t in texts)
    if unicodedata.is_normalized("NFC", big):
        bounds = np.cumsum(np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=n)) - 1
    else:
        big = unicodedata.normalize("NFC", big)
        bounds = None
    cps = np.frombuffer(big.encode("utf-32-le", "replace"), dtype=np.uint32)
    if bounds is None:
        bounds = np.flatnonzero(cps == 0)
    chars = np.take(_fold_table(), cps, mode="clip")
    if len(cps) and cps.max() >= _TABLE_SIZE - 1:
        wide = np.flatnonzero(cps >= _TABLE_SIZE - 1)
        chars[wide] = cps[wide]
    inside = np.zeros(len(chars) + 2, dtype=np.int8)
    np.not_equal(chars, 0, out=inside[1:-1].view(bool))
    edges = np.flatnonzero(np.diff(inside))
    starts, ends = edges[0::2], edges[1::2]
    pw, ipw = _powers(len(chars))
    prefix = np.zeros(len(chars) + 1, dtype=U32)
    np.cumsum(chars * pw[: len(chars)], dtype=U32, out=prefix[1:])
    tokens = fmix32((prefix[ends] - prefix[starts]) * ipw[starts])
    per_text = np.diff(np.searchsorted(starts, bounds), prepend=0, append=len(starts))[: n]
    para = np.repeat(np.arange(n), per_text)

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
    shingles, sh_para = (keys & U64(_MAX)).astype(np.uint32), (keys >> U64(32)).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(np.bincount(sh_para, minlength=n))])
    return Shingled(shingles, offsets.astype(np.int64), figures, fig_offsets.astype(np.int64))


def _top32(h: np.ndarray) -> np.ndarray:
    """A well-mixed 32-bit hash of each uint64 (xor-shift, multiply, top half)."""
    h ^= h >> U64(29)
    h *= U64(0xBF58476D1CE4E5B9)
    return h >> U64(32)


def _shingles(tokens: np.ndarray, para: np.ndarray, counts: np.ndarray, k: int) -> np.ndarray:
    """(text << 32 | shingle hash) of every run of ``k`` words inside one text; a text of
    fewer than ``k`` words gets one shingle of all its words."""
    words = tokens.astype(U64)
    m = len(words) - k + 1
    parts = []
    if m > 0:
        h = words[:m].copy()
        for j in range(1, k):
            h = h * U64(0x9E3779B97F4A7C15) + words[j : j + m]
        valid = para[:m] == para[k - 1 :]
        parts.append((para[:m][valid].astype(U64) << U64(32)) | _top32(h[valid]))
    short = np.flatnonzero((counts > 0) & (counts < k))
    if len(short):
        first = np.concatenate([[0], np.cumsum(counts)])[short]
        h = words[first].copy()
        for j in range(1, k - 1):
            more = counts[short] > j
            h[more] = h[more] * U64(0x9E3779B97F4A7C15) + words[first[more] + j]
        parts.append((short.astype(U64) << U64(32)) | _top32(h))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=U64)


def signatures(sh: Shingled, num_perm: int = 128, block: int = 4096) -> np.ndarray:
    """MinHash signatures, shape (n, num_perm) uint32; a text without shingles gets all 2**32-1."""
    a, b = permutations(num_perm)
    n = len(sh)
    out = np.full((num_perm, n), _MAX, dtype=np.uint32)
    lengths = np.diff(sh.offsets)
    nonempty = np.flatnonzero(lengths > 0)
    ends = sh.offsets[nonempty + 1]
    start = 0
    while start < len(nonempty):
        lo = sh.offsets[nonempty[start]]
        stop = int(np.searchsorted(ends, lo + block, side="right"))
        stop = max(stop, start + 1)
        rows = nonempty[start:stop]
        seg = sh.shingles[lo : sh.offsets[rows[-1] + 1]]
        hashed = a[:, None] * seg[None, :]
        hashed += b[:, None]
        out[:, rows] = np.minimum.reduceat(hashed, sh.offsets[rows] - lo, axis=1)
        start = stop
    return np.ascontiguousarray(out.T)


def band_keys(sig: np.ndarray, bands: int) -> np.ndarray:
    """One uint32 key per (text, band); the band number is mixed in, so keys of bands differ."""
    n, num_perm = sig.shape
    rows = num_perm // bands
    view = sig[:, : rows * bands].reshape(n, bands, rows)
    key = np.broadcast_to(np.arange(bands, dtype=U64) * U64(0xD6E8FEB86659FD93), (n, bands))
    for r in range(0, rows, 2):
        word = view[:, :, r].astype(U64) << U64(32)
        if r + 1 < rows:
            word |= view[:, :, r + 1]
        key = mix64(key ^ word)
    return (key >> U64(32)).astype(U32)


def sketch(sig: np.ndarray) -> np.ndarray:
    """The top byte of every MinHash value (a b-bit sketch, 4x less memory to compare)."""
    return (sig >> np.uint32(24)).astype(np.uint8)


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
