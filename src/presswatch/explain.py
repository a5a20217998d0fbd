"""Readable cues for a classified paragraph: whole words and phrases as published.

Each model feature is mapped once (``cue_table``) to what it can show: word tokens, a negated
word, a heading word or a character n-gram. For one paragraph, ``pick_cues`` walks the features
that weighed most toward the predicted label, places each on a span of tokens, trims function
words from its edges, widens it to a negation ("n'a pas encore fait") or an evaluative phrase
("a fait ses preuves", "hausse de 62 %") it sits in, and cuts the text at whole-word boundaries.
Evaluative cues (lexicon words, negations, phrases) come first; the result is 2–5 cues in order
of weight, none inside another. Word lists live in ``data/cues.toml`` (``[display]``).
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import numpy as np

from presswatch.reading import CUES_PATH, NUMBER, tokenize
from presswatch.models import normalise_text

MAX_CUES = 5
MIN_CUES = 2
FILL_TO = 3
SCAN = 40
ENOUGH = 8
_APOSTROPHES = "'\u2019\u02bc`\u00b4"
_PREPOSITIONS = frozenset({"de", "d'", "à"})

Spans = tuple[Sequence[str], Sequence[int], bool]
Features = tuple[np.ndarray, np.ndarray]
Hits = dict[int, tuple[int, ...]]


@dataclass(frozen=True, slots=True)
class Display:
    stop: frozenset[str]
    quiet: frozenset[str]
    elisions: frozenset[str]
    evaluative: frozenset[str]
    sides: dict[str, dict[str, tuple[tuple[str, ...], ...]]]
    pending: dict[str, tuple[tuple[str, ...], ...]]
    side_words: dict[str, frozenset[str]]
    phrases: dict[str, tuple[tuple[str, ...], ...]]
    negators: frozenset[str]
    units: frozenset[str]
    longest: int


@functools.cache
def load_display() -> Display:
    data = tomllib.loads(CUES_PATH.read_text(encoding="utf-8"))
    shown, markers, lexicon = data["display"], data["markers"], data["lexicon"]
    stop = frozenset(normalise_text(w) for w in shown["stopwords"])
    entries = [*lexicon["success"], *lexicon["improvement"]]
    words = [tuple(tokenize(normalise_text(e))) for e in [*entries, *markers["pending"], *shown["phrases"]]]
    index: dict[str, list[tuple[str, ...]]] = {}
    for phrase in {w for w in words if len(w) > 1}:
        index.setdefault(phrase[0], []).append(phrase)
    return Display(
        stop=stop,
        quiet=stop | {normalise_text(w) for w in shown["neutral"]},
        elisions=frozenset(normalise_text(w) for w in shown["elisions"]),
        evaluative=frozenset(t for e in entries for t in tokenize(normalise_text(e)) if t not in stop),
        sides={side: _index(lexicon[side]) for side in ("success", "improvement")},
        pending=_index(markers["pending"]),
        side_words={side: frozenset(normalise_text(e) for e in lexicon[side] if " " not in e) for side in ("success", "improvement")},
        phrases={k: tuple(sorted(v, key=len, reverse=True)) for k, v in index.items()},
        negators=frozenset(normalise_text(w) for w in [*markers["negation_openers"], *markers["negating_words"]]),
        units=frozenset(t for u in markers["figure_units"] for t in tokenize(normalise_text(u))),
        longest=max((len(w) for w in words), default=1),
    )


HAND_CUES = ("pending", "negation", "success_cue", "improvement_cue", "negated_success", "negated_improvement")
Entry = tuple[str, Any, Any]


def _index(entries: Sequence[str]) -> dict[str, tuple[tuple[str, ...], ...]]:
    index: dict[str, list[tuple[str, ...]]] = {}
    for words in {tuple(tokenize(normalise_text(e))) for e in entries}:
        index.setdefault(words[0], []).append(words)
    return {k: tuple(sorted(v, key=len, reverse=True)) for k, v in index.items()}


def _polarity(words: Sequence[str], shown: Display) -> str | bool:
    """The lexicon side of a word n-gram ("success", "improvement"), or False."""
    for side, known in shown.side_words.items():
        if any(w in known for w in words):
            return side
    return False


def _content(words: Sequence[str], shown: Display) -> bool:
    return any(_meaningful(w) for w in words)


@functools.lru_cache(maxsize=1 << 16)
def _meaningful(word: str) -> bool:
    return word not in load_display().quiet and sum(c.isalpha() for c in word) >= 3


def cue_table(names: Sequence[str]) -> tuple[Entry, ...]:
    """Per feature: (kind, value, evaluative); kind is words, neg, title, char or skip."""
    shown = load_display()
    table: list[Entry] = []
    for full in names:
        block, _, name = full.partition("__")
        if block == "hand" and name.removeprefix("hand:") in HAND_CUES:
            table.append(("hand", name.removeprefix("hand:"), True))
        elif "<" in name or block not in ("words", "focus", "lead", "heading", "chars"):
            table.append(("skip", None, False))
        elif block == "chars":
            core = name.strip()
            table.append(("char", name, False) if len(core) >= 4 and core not in shown.quiet else ("skip", None, False))
        elif block == "heading":
            word = name.removeprefix("h:")
            table.append(("title", f"titre: {word}", _polarity([word], shown)) if _content([word], shown) else ("skip", None, False))
        elif name.startswith("neg:"):
            word = name.removeprefix("neg:")
            table.append(("neg", word, True) if _content([word], shown) else ("skip", None, False))
        else:
            words = tuple(name.removeprefix("f:").removeprefix("l:").removeprefix("z:").split(" "))
            good = _content(words, shown)
            table.append(("words", words, _polarity(words, shown)) if good else ("skip", None, False))
    return tuple(table)


def _find(tokens: Sequence[str], words: Sequence[str]) -> int:
    n, i = len(words), -1
    if n == 1:
        try:
            return tokens.index(words[0])
        except ValueError:
            return -1
    while True:
        try:
            i = tokens.index(words[0], i + 1)
        except ValueError:
            return -1
        if n == 1 or tuple(tokens[i:i + n]) == tuple(words):
            return i


def _phrase_hits(tokens: Sequence[str], shown: Display) -> Hits:
    """Per token position, the lengths (longest first) of the evaluative phrases starting there."""
    phrases = shown.phrases
    hits: Hits = {}
    for p in [p for p, t in enumerate(tokens) if t in phrases]:
        found = tuple(len(phrase) for phrase in phrases[tokens[p]] if tuple(tokens[p:p + len(phrase)]) == phrase)
        if found:
            hits[p] = found
    return hits


def _widen(tokens: Sequence[str], a: int, b: int, shown: Display, hits: Hits) -> tuple[int, int, bool]:
    """The span grown to the longest evaluative phrase it overlaps, then to a figure after "de"."""
    best = (a, b)
    if hits:
        for p in range(max(0, a - shown.longest + 1), b):
            for size in hits.get(p, ()):
                if p + size > a:
                    if size > best[1] - best[0] or p < best[0] or p + size > best[1]:
                        best = (min(best[0], p), max(best[1], p + size))
                    break
    a2, b2 = best
    if b2 + 1 < len(tokens) and tokens[b2] in _PREPOSITIONS and tokens[b2 + 1] == NUMBER:
        b2 += 1
        while b2 < len(tokens) and tokens[b2] == NUMBER:
            b2 += 1
        if b2 < len(tokens) and tokens[b2] in shown.units:
            b2 += 1
    return a2, b2, (a2, b2) != (a, b)


def _word_start(text: str, s: int, shown: Display) -> int:
    while s > 0:
        c = text[s - 1]
        if c.isalnum() or (c == "-" and s > 1 and text[s - 2].isalnum()):
            s -= 1
        elif c in _APOSTROPHES and s > 1 and text[s - 2].isalpha():
            j = s - 1
            while j > 0 and text[j - 1].isalpha():
                j -= 1
            if text[j:s - 1].casefold() in shown.elisions:
                return s
            s -= 1
        else:
            return s
    return s


def _word_end(text: str, e: int) -> int:
    n = len(text)
    while e < n and (text[e].isalnum() or (text[e] in "-" + _APOSTROPHES and e + 1 < n and text[e + 1].isalnum())):
        e += 1
    return e


def _place(kind: str, value: Any, tokens: Sequence[str], shown: Display, hits: Hits) -> tuple[int, int, bool] | None:
    if kind == "neg":
        i = _find(tokens, (value,))
        if i < 0:
            return None
        opener = next((j for j in range(i - 1, max(-1, i - 8), -1) if tokens[j] in shown.negators), None)
        a, b, _ = _widen(tokens, i if opener is None else opener, i + 1, shown, hits)
        return a, b, True
    i = _find(tokens, value)
    if i < 0:
        return None
    a, b = i, i + len(value)
    while a < b and tokens[a] in shown.stop:
        a += 1
    while b > a and tokens[b - 1] in shown.stop:
        b -= 1
    return _widen(tokens, a, b, shown, hits) if a < b else None


def _occurrence(tokens: Sequence[str], phrases: dict[str, tuple[tuple[str, ...], ...]],
                negators: frozenset[str] | None) -> tuple[int, int] | None:
    for i, token in enumerate(tokens):
        for phrase in phrases.get(token, ()):
            if tuple(tokens[i:i + len(phrase)]) == phrase:
                if negators is None:
                    return i, i + len(phrase)
                opener = next((j for j in range(i - 1, max(-1, i - 7), -1) if tokens[j] in negators), None)
                if opener is not None:
                    return opener, i + len(phrase)
    return None


def _place_hand(name: str, tokens: Sequence[str], shown: Display, hits: Hits) -> tuple[int, int, bool] | None:
    if name in ("success_cue", "improvement_cue"):
        found = _occurrence(tokens, shown.sides[name.removesuffix("_cue")], None)
    elif name.startswith("negated_"):
        found = _occurrence(tokens, shown.sides[name.removeprefix("negated_")], shown.negators)
    elif name == "pending":
        found = _occurrence(tokens, shown.pending, None)
    else:
        found = next(((i, i + 1) for i, t in enumerate(tokens) if t in shown.negators), None)
    if found is None:
        return None
    a, b = found
    while b < len(tokens) and b - a < 7 and (tokens[b] in shown.stop or tokens[b] == NUMBER) and not _content(tokens[a:b], shown):
        b += 1
    if not _content(tokens[a:b], shown) and b < len(tokens):
        b += 1
    return _widen(tokens, a, b, shown, hits)


def _cut(text: str, spans: Spans, a: int, b: int, shown: Display) -> str:
    tokens, starts, aligned = spans
    start = _word_start(text, starts[a], shown)
    last = tokens[b - 1]
    end = starts[b - 1] + (len(last) if aligned and last != NUMBER else 1)
    return text[start:_word_end(text, end)]


def pick_cues(text: str, label: str, spans: Spans, words: Features, everything: Callable[[], Features],
              table: Sequence[Entry]) -> tuple[str, ...]:
    """2–5 cues (fewer only if the text has none), strongest first, each whole words of ``text``.

    ``words`` are the showable non-character features with a positive weight toward ``label``
    (indices, weights); ``everything`` gives all of the paragraph's features, read for character
    n-grams only when the words give fewer than three cues."""
    shown = load_display()
    tokens = spans[0]
    ranked = _strongest(*words)
    found: list[tuple[float, bool, tuple[int, int], str | None]] = []
    seen: set[Any] = set()
    title, strong = False, 0
    hits = _phrase_hits(tokens, shown)
    for w, feature in ranked:
        if strong > MAX_CUES or len(found) >= ENOUGH:
            break
        kind, value, evaluative = table[feature]
        if kind == "title" and not title:
            if evaluative and evaluative != label:
                continue
            title = True
            found.append((w, False, (-1, -1), value))
        elif kind in ("words", "neg", "hand") and (kind, value) not in seen:
            seen.add((kind, value))
            placed = _place_hand(value, tokens, shown, hits) if kind == "hand" else _place(kind, value, tokens, shown, hits)
            if placed is None or placed[:2] in seen or not _content(tokens[placed[0]:placed[1]], shown):
                continue
            a, b, widened = placed
            seen.add((a, b))
            if evaluative in ("success", "improvement"):
                if evaluative != label and not widened and label != "context":
                    continue
                evaluative = evaluative == label
            tier = bool(evaluative or widened)
            strong += tier
            found.append((w, tier, (a, b), None))
    if len(found) < FILL_TO:
        for w, gram in _grams(everything(), table):
            i = next((i for i, t in enumerate(tokens) if gram.strip() in t and gram in f" {t} "), -1)
            if i >= 0 and (i, i + 1) not in seen and tokens[i] not in shown.quiet:
                seen.add((i, i + 1))
                side = _polarity((tokens[i],), shown)
                if not side or side == label or label == "context":
                    found.append((w, side == label, (i, i + 1), None))
    chosen: list[tuple[float, str, tuple[int, int]]] = []
    for tier in (True, False):
        for w, evaluative, span, cue in found:
            if evaluative is tier and len(chosen) < (MAX_CUES if tier else max(FILL_TO, MIN_CUES)):
                _add(chosen, w, cue or _cut(text, spans, span[0], span[1], shown), span)
    return tuple(cue for _, cue, _ in sorted(chosen, key=lambda c: -c[0]))


def _strongest(indices: np.ndarray, weights: np.ndarray) -> list[tuple[float, int]]:
    """The ``SCAN`` heaviest (weight, feature) pairs, heaviest first, ties in input order."""
    if len(weights) > 4 * SCAN:
        top = np.argsort(-weights, kind="stable")[:SCAN]
        return list(zip(weights[top].tolist(), indices[top].tolist()))
    pairs = list(zip(weights.tolist(), indices.tolist()))
    return sorted(pairs, key=itemgetter(0), reverse=True)[:SCAN]


def _grams(features: Features, table: Sequence[Entry]) -> list[tuple[float, str]]:
    indices, weights = features
    top = np.flatnonzero(weights > 0)
    top = top[np.argsort(-weights[top], kind="stable")][:SCAN]
    return [(w, table[f][1]) for w, f in zip(weights[top].tolist(), indices[top].tolist()) if table[f][0] == "char"]


def _add(chosen: list[tuple[float, str, tuple[int, int]]], w: float, cue: str, span: tuple[int, int]) -> None:
    low = cue.casefold() if span[0] >= 0 else "\0"
    for k, (w0, old, (a, b)) in enumerate(chosen):
        if a < 0 and span[0] < 0:
            return
        if low in (old.casefold() if a >= 0 else "") or (span[0] < b and a < span[1] and not (span[0] <= a and b <= span[1])):
            return
        if (a >= 0 and old.casefold() in low) or (span[0] <= a and b <= span[1] and a >= 0):
            chosen[k] = (w0, cue, span)
            chosen[:] = [c for i, c in enumerate(chosen) if i == k or not _inside(c, cue, span)]
            return
    chosen.append((w, cue, span))


def _inside(c: tuple[float, str, tuple[int, int]], cue: str, span: tuple[int, int]) -> bool:
    return (c[2][0] >= 0 and c[1].casefold() in cue.casefold()) or (c[2][0] >= 0 and span[0] <= c[2][0] and c[2][1] <= span[1])
