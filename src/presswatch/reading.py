"""How the classifier reads a paragraph: folding, tokens, negation scope, contrast focus, cue counts.

Every paragraph is folded and tokenised once (``prepare``) into a ``Doc`` that the model's
blocks (``presswatch.features``) read. Hand features are log(1 + count per TYPICAL_LENGTH
tokens), so they do not grow with the length of a paragraph. Cue lists live in
``data/cues.toml``.
"""

from __future__ import annotations

import bisect
import functools
import math
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from presswatch.models import normalise_text

CUES_PATH = Path(__file__).parent / "data" / "cues.toml"
NUMBER = "<n>"
_WHOLE = r"(?:aujourd'hui|quelqu'une?s?|presqu'île|prud'hom)\w*|"
_TOKEN = re.compile(_WHOLE + r"\w+'?|[%€]")
_TOKEN_OR_STOP = re.compile(_WHOLE + r"\w+'?|[%€]|[.!?]+|,")
_DIGIT = re.compile(r"\d")
_FOLDS = (("\u2019\u2018\u02bc\u00b4`", "'"), ("\u00ab\u00bb\u201c\u201d\u201e", '"'), ("\u2026", "."))
_LEADS = frozenset({"mais", "et", "or", "car", "même"})
_CONCEDE = frozenset({"si", "s'il", "s'ils", "quoiqu'", "quoique", "malgré", "certes"})
_AUXILIARIES = frozenset(
    "a ai as avons avez ont est sont était étaient été être avoir fut y en se s' l' d' le la les de des du un une".split()
)
TYPICAL_LENGTH = 40
HAND_FEATURES = (
    "negation", "pending", "contrast", "concession", "hedge", "intention", "numbers", "units",
    "quotes", "reporting", "success_cue", "improvement_cue", "negated_success", "negated_improvement", "focus_success",
    "focus_improvement",
)

_SIDES = ("success", "improvement")
_HAND_SOURCES = tuple(
    {"hedge": "hedges", "units": "figure_units", "success_cue": "success", "improvement_cue": "improvement"}.get(n, n)
    for n in HAND_FEATURES
)


def fold(text: str) -> str:
    """``models.normalise_text`` for tokenising: same tokens, and the same length as ``text``
    whenever possible, so token offsets in the result are offsets in the original."""
    if not text.isascii():
        for chars, plain in _FOLDS:
            for c in chars:
                if c in text:
                    text = text.replace(c, plain)
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
    return text.casefold()


def tokenize(folded: str) -> list[str]:
    return [NUMBER if _DIGIT.search(t) else t for t in _TOKEN.findall(folded)]


@dataclass(frozen=True, slots=True)
class Cues:
    openers: frozenset[str]
    closers: frozenset[str]
    prefixes: frozenset[str]
    contrast: frozenset[str]
    phrases: dict[str, tuple[tuple[tuple[str, ...], str], ...]]
    stopwords: frozenset[str]


@functools.cache
def load_cues(path: Path = CUES_PATH) -> Cues:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    markers, lexicon = data["markers"], data["lexicon"]
    index: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    groups = {k: markers[k] for k in ("pending", "contrast", "concession", "hedges", "intention", "figure_units", "reporting")}
    groups |= {"success": lexicon["success"], "improvement": lexicon["improvement"]}
    for group, entries in groups.items():
        for entry in entries:
            words = tuple(tokenize(normalise_text(entry)))
            index.setdefault(words[0], []).append((words, group))
    return Cues(
        openers=frozenset(normalise_text(w) for w in markers["negation_openers"]),
        closers=frozenset(normalise_text(w) for w in markers["negation_closers"]),
        prefixes=frozenset(normalise_text(w) for w in markers["negating_words"]),
        contrast=frozenset(w for w in (normalise_text(c) for c in markers["contrast"]) if " " not in w),
        phrases={k: tuple(sorted(v, key=lambda p: -len(p[0]))) for k, v in index.items()},
        stopwords=frozenset(normalise_text(w) for w in data["display"]["stopwords"]),
    )


class Doc(NamedTuple):
    tokens: tuple[str, ...]
    negated: tuple[str, ...]
    focus: tuple[str, ...]
    heading: tuple[str, ...]
    hand: tuple[float, ...]
    lead: tuple[str, ...] = ()
    starts: tuple[int, ...] | None = None


def negation_scope(tokens: Sequence[str], cues: Cues) -> list[int]:
    """Positions of content words negated by ``ne … pas`` (up to 3 past it) or by ``aucun``/``sans``."""
    inside: list[int] = []
    i, n = 0, len(tokens)
    while i < n:
        if tokens[i] in cues.openers:
            end = next((j for j in range(i + 1, min(n, i + 6)) if tokens[j] in cues.closers), None)
            if end is not None:
                stop = min(n, end + 4)
                inside.extend(j for j in range(i + 1, stop) if tokens[j] not in _AUXILIARIES and tokens[j] not in cues.closers)
                i = stop
                continue
        elif tokens[i] in cues.prefixes:
            stop = min(n, i + 4)
            inside.extend(j for j in range(i + 1, stop) if tokens[j] not in _AUXILIARIES)
            i = stop
            continue
        i += 1
    return inside


def split_tokens(folded: str, marks: list[tuple[int, bool]] | None = None) -> tuple[list[str], list[int], list[int], list[int]]:
    """Tokens (digits folded to NUMBER), their start offsets, and the token positions of
    sentence ends and commas; ``marks`` collects (offset, is a comma) of each of those."""
    tokens: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    commas: list[int] = []
    for m in _TOKEN_OR_STOP.finditer(folded):
        t = m.group()
        if t == ",":
            commas.append(len(tokens))
            if marks is not None:
                marks.append((m.start(), True))
        elif t[0] in ".!?":
            ends.append(len(tokens))
            if marks is not None:
                marks.append((m.start(), False))
        else:
            tokens.append(t if t.isalpha() or not _DIGIT.search(t) else NUMBER)
            starts.append(m.start())
    return tokens, starts, ends, commas


def focus_clauses(tokens: Sequence[str], ends: Sequence[int], commas: Sequence[int], cues: Cues) -> tuple[list[str], int]:
    """Tokens that carry each sentence's point: after its last contrast word or a conceded clause."""
    focus: list[str] = []
    concessions = 0
    start = 0
    for end in [*ends, len(tokens)]:
        if end <= start:
            continue
        head = start + 1 if tokens[start] in _LEADS else start
        conceded = head < end and (tokens[head] in _CONCEDE or (
            tokens[head] in ("bien", "alors") and head + 1 < end and tokens[head + 1] in ("qu'", "que")))
        cut = -1
        if conceded:
            comma = next((c for c in commas if head < c < end), None)
            if comma is not None:
                concessions += 1
                cut = comma
        last = max((i + 1 for i in range(max(cut, start), end) if tokens[i] in cues.contrast), default=cut)
        if last >= 0:
            focus.extend(tokens[last:end])
        start = end
    return focus, concessions


def ends_of(tokens: Sequence[str], ends: Sequence[int]) -> tuple[str, ...]:
    """Words of the first sentence (``l:``) and, if there are several, of the last one (``z:``)."""
    n = len(tokens)
    inner = [e for e in ends if 0 < e < n]
    first = ["l:" + t for t in tokens[: inner[0] if inner else n] if t != NUMBER]
    if inner:
        first += ["z:" + t for t in tokens[inner[-1]:] if t != NUMBER]
    return tuple(first)


def heading_words(heading: str | None, cues: Cues | None = None) -> tuple[str, ...]:
    """Heading words (``h:``), and with ``cues`` the heading's polarity as pseudo-words
    (``h:<success>``, ``h:<improvement>`` when it holds a cue of that side, ``h:<question>`` when
    it asks), so that what headings tend to announce is learnt across headings, not per word."""
    folded = fold(heading or "")
    tokens = tokenize(folded)
    words = ["h:" + t for t in tokens if t != NUMBER]
    if cues is not None:
        sides = {group for i, t in enumerate(tokens) for found, group in cues.phrases.get(t, ())
                 if group in _SIDES and tuple(tokens[i:i + len(found)]) == found}
        words += [f"h:<{side}>" for side in sorted(sides)] + (["h:<question>"] if "?" in folded else [])
    return tuple(words)


def prepare_one(text: str, heading: str | None, cues: Cues, titles: dict[str | None, tuple[str, ...]] | None = None) -> Doc:
    folded = fold(text)
    tokens, starts, ends, commas = split_tokens(folded)
    return _doc(folded, len(folded) == len(text), tokens, starts, ends, commas, heading, cues, titles)


def prepare_spans(text: str, heading: str | None, spans: Sequence[tuple[int, int]],
                  titles: dict[str | None, tuple[str, ...]] | None = None) -> list[Doc]:
    """``prepare`` of ``text[a:b]`` for each span, tokenising ``text`` once when the spans cut it
    at whitespace and folding keeps its length (sentence windows); otherwise span by span."""
    cues = load_cues()
    folded = fold(text)
    if len(folded) != len(text) or any((a and not text[a - 1].isspace()) or (b < len(text) and not text[b - 1].isspace())
                                       for a, b in spans):
        return [prepare_one(text[a:b], heading, cues, titles) for a, b in spans]
    marks: list[tuple[int, bool]] = []
    tokens, starts, ends, commas = split_tokens(folded, marks)
    at = [m for m, _ in marks]
    index = {False: iter(ends), True: iter(commas)}
    token_of = [next(index[comma]) for _, comma in marks]
    out = []
    for a, b in spans:
        lo, hi = bisect.bisect_left(starts, a), bisect.bisect_left(starts, b)
        inside = range(bisect.bisect_left(at, a), bisect.bisect_left(at, b))
        out.append(_doc(folded[a:b], True, tokens[lo:hi], [x - a for x in starts[lo:hi]],
                        [token_of[k] - lo for k in inside if not marks[k][1]],
                        [token_of[k] - lo for k in inside if marks[k][1]], heading, cues, titles))
    return out


def _doc(folded: str, aligned: bool, tokens: list[str], starts: list[int], ends: list[int], commas: list[int],
         heading: str | None, cues: Cues, titles: dict[str | None, tuple[str, ...]] | None) -> Doc:
    scope = negation_scope(tokens, cues)
    focus, concessions = focus_clauses(tokens, ends, commas, cues)
    counts: dict[str, int] = {}
    in_scope = set(scope)
    phrases = cues.phrases
    for i in [i for i, token in enumerate(tokens) if token in phrases]:
        for words, group in phrases[tokens[i]]:
            if len(words) == 1 or tuple(tokens[i:i + len(words)]) == words:
                counts[group] = counts.get(group, 0) + 1
                if i in in_scope and group in _SIDES:
                    counts["negated_" + group] = counts.get("negated_" + group, 0) + 1
                break
    for token in [t for t in focus if t in phrases]:
        for words, group in phrases[token]:
            if len(words) == 1 and group in _SIDES:
                counts["focus_" + group] = counts.get("focus_" + group, 0) + 1
    counts["negation"] = 0 if cues.closers.isdisjoint(tokens) else sum(
        1 for i, t in enumerate(tokens) if t in cues.closers and any(x in cues.openers for x in tokens[max(0, i - 5):i])
    )
    counts["concession"] = concessions
    counts["numbers"] = tokens.count(NUMBER)
    counts["quotes"] = folded.count('"') // 2
    scale = max(1.0, len(tokens) / TYPICAL_LENGTH)
    hand = tuple([math.log1p(counts.get(name, 0) / scale) for name in _HAND_SOURCES])
    if titles is None:
        title = heading_words(heading, cues)
    else:
        title = titles.get(heading)
        if title is None:
            title = titles[heading] = heading_words(heading, cues)
    return Doc(
        tokens=tuple(tokens),
        negated=tuple(["neg:" + tokens[i] for i in scope]),
        focus=tuple(["f:" + t for t in focus if t != NUMBER]),
        heading=title,
        hand=hand,
        lead=ends_of(tokens, ends),
        starts=tuple(starts) if aligned else None,
    )


def prepare(items: Iterable[tuple[str, str | None]]) -> list[Doc]:
    cues = load_cues()
    titles: dict[str | None, tuple[str, ...]] = {}
    return [prepare_one(text, heading, cues, titles) for text, heading in items]


def lexicon_label(doc: Doc) -> str:
    """The cue-word baseline: cue counts per side, a negated cue counting for the other side."""
    raw = {name: math.expm1(v) for name, v in zip(HAND_FEATURES, doc.hand)}
    success = round(raw["success_cue"] - 2 * raw["negated_success"] + raw["negated_improvement"], 6)
    problem = round(raw["improvement_cue"] - 2 * raw["negated_improvement"] + raw["negated_success"], 6)
    if success > problem:
        return "success"
    if problem > success:
        return "improvement"
    return "context"
