"""Classify paragraphs as success / improvement / context with the packaged linear model.

The model file is ``MAGIC``, one JSON header line (format, scikit-learn version, labels,
training-data hash, payload checksum) and a zlib-compressed pickle of the scikit-learn
pipeline; the header is checked before anything is unpickled. ``presswatch train``
(``presswatch.training``) writes it, with ``long_rule.json`` beside it: how a paragraph longer
than ``LongRule.words`` words is decided from windows of consecutive sentences scored by the same
model (``decide``). Without that file every paragraph is read whole.
"""

from __future__ import annotations

import functools
import hashlib
import json
import pickle
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import sklearn

from presswatch.errors import ModelError
from presswatch.explain import Spans, cue_table, pick_cues
from presswatch.features import Pairs, transform_union, union_pairs
from presswatch.reading import fold, prepare, prepare_spans, tokenize
from presswatch.models import LABELS, Article, Classification, Label

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

    from presswatch.modelcard import ModelCard

MODEL_DIR = Path(__file__).parent / "data" / "model"
MODEL_PATH = MODEL_DIR / "classifier.bin"
RULE_NAME = "long_rule.json"
MAGIC = b"presswatch-model\n"
FORMAT_VERSION = 1
_TOKEN = re.compile(r"[\w\u2019\u02bc'`´]+|[%€]")
_SENTENCE_END = re.compile(r"(?<![\s(][A-Z])[.!?\u2026]+[\s\u00a0]*[»\u201d\"]?\s+(?=[«\u201c\"(\[]?\s?[A-ZÀ-ÖØ-Þ0-9])")
LONG_WORDS = 70
STACK_FEATURES = 18


@dataclass(frozen=True, slots=True)
class LongRule:
    """How a long paragraph is decided: windows of each of ``sizes`` consecutive sentences, one
    every ``step`` sentences (and the whole paragraph if ``whole``) are scored.

    With ``stack`` (one row of weights per label, in the model's label order, over
    ``stack_features``) a small logistic layer learnt on held-out long paragraphs decides from
    the whole paragraph's and the windows' probabilities. Without it: if no window gives success
    or improvement a probability of at least ``threshold`` the paragraph is context, otherwise
    success needs more than ``lean`` times the length-weighted improvement probability over those
    windows (ties and near-ties go to improvement, as in the annotation guidelines)."""

    sizes: tuple[int, ...] = (2,)
    threshold: float = 0.5
    whole: bool = True
    lean: float = 1.0
    words: int = LONG_WORDS
    step: int = 1
    stack: tuple[tuple[float, ...], ...] = ()
    stack_bias: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class ParagraphInput:
    id: str
    text: str
    heading: str | None = None


@dataclass(frozen=True, slots=True)
class SectionLabel:
    """A section's verdict: ``mixed`` when it holds both successes and points to improve."""

    heading: str | None
    label: str
    score: float
    success_ids: tuple[str, ...] = ()
    improvement_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class Model:
    pipeline: Pipeline
    header: Mapping[str, Any]
    cues: tuple[tuple[str, Any, Any], ...]
    direction: np.ndarray
    shown: np.ndarray
    rule: LongRule | None = None
    pairs: Mapping[str, Pairs] | None = None

    @property
    def labels(self) -> tuple[Label, ...]:
        return tuple(str(c) for c in self.pipeline.classes_)


def write_model(pipeline: Pipeline, header: Mapping[str, Any], path: Path) -> Path:
    payload = zlib.compress(pickle.dumps(pipeline, protocol=5), 6)
    full = {**header, "format": FORMAT_VERSION, "sklearn": sklearn.__version__,
            "sha256": hashlib.sha256(payload).hexdigest()}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(MAGIC + json.dumps(full, sort_keys=True).encode("utf-8") + b"\n" + payload)
    return path


def read_header(path: Path) -> tuple[dict[str, Any], bytes]:
    hint = "run `presswatch train` to build it"
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        raise ModelError(f"classifier model not found at {path}; {hint}") from None
    except OSError as exc:
        raise ModelError(f"cannot read classifier model {path}: {exc}") from exc
    line_end = blob.find(b"\n", len(MAGIC))
    try:
        if not blob.startswith(MAGIC) or line_end < 0:
            raise ValueError("no presswatch header")
        header = json.loads(blob[len(MAGIC):line_end])
    except ValueError as exc:
        raise ModelError(f"{path} is not a presswatch model ({exc}); {hint}") from exc
    if header.get("format") != FORMAT_VERSION:
        raise ModelError(f"{path} has model format {header.get('format')}, expected {FORMAT_VERSION}; {hint}")
    built, installed = str(header.get("sklearn", "")), sklearn.__version__
    if built.split(".")[:2] != installed.split(".")[:2]:
        raise ModelError(f"{path} was built with scikit-learn {built}, this is {installed}; {hint}")
    payload = blob[line_end + 1:]
    if hashlib.sha256(payload).hexdigest() != header.get("sha256"):
        raise ModelError(f"{path} is corrupt (checksum mismatch); {hint}")
    return header, payload


def load_model(path: Path | None = None) -> Model:
    """The packaged model, or the one at ``path``; ``ModelError`` if missing or incompatible."""
    return _load_default() if path is None else _load(Path(path))


@functools.cache
def _load_default() -> Model:
    return _load(MODEL_PATH)


def _load(path: Path) -> Model:
    header, payload = read_header(path)
    try:
        pipeline = pickle.loads(zlib.decompress(payload))
        union, clf = pipeline.named_steps["features"], pipeline.named_steps["clf"]
        cues = cue_table([str(n) for n in union.get_feature_names_out()])
        pairs = union_pairs(union)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means an unusable file
        raise ModelError(f"cannot load classifier model {path}: {exc}; run `presswatch train`") from exc
    coef = np.asarray(clf.coef_, dtype=np.float64)
    direction = coef - coef.mean(axis=0, keepdims=True) if coef.shape[0] > 1 else np.vstack([-coef, coef])
    shown = np.array([kind not in ("skip", "char") for kind, _, _ in cues], dtype=bool)
    return Model(pipeline=pipeline, header=header, cues=cues, direction=direction, shown=shown, rule=read_rule(path),
                 pairs=pairs)


def read_rule(path: Path) -> LongRule | None:
    try:
        data = json.loads(path.with_name(RULE_NAME).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read {path.with_name(RULE_NAME)}: {exc}; run `presswatch train`") from exc
    try:
        stack = tuple(tuple(float(v) for v in row) for row in data.get("stack", ()))
        bias = tuple(float(v) for v in data.get("stack_bias", ()))
        if stack and (len(stack) != len(bias) or {len(row) for row in stack} != {STACK_FEATURES}):
            raise ValueError(f"stack weights must be {len(bias)} x {STACK_FEATURES}")
        return LongRule(tuple(int(n) for n in data["sizes"]), float(data["threshold"]), bool(data["whole"]),
                        float(data["lean"]), int(data["words"]), int(data["step"]), stack, bias)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{path.with_name(RULE_NAME)} is not a long-paragraph rule ({exc})") from exc


def windows(text: str, sizes: Sequence[int], step: int = 1) -> list[tuple[int, int]]:
    """Character spans of runs of n consecutive sentences for each n in ``sizes`` (a run never
    longer than the text), starting every ``step`` sentences (at most n) and always including
    the last run; ``[]`` when the text is a single sentence."""
    cuts = [0, *(m.end() for m in _SENTENCE_END.finditer(text)), len(text)]
    if len(cuts) <= 2:
        return []
    bounds = [(cuts[i], cuts[i + 1]) for i in range(len(cuts) - 1)]
    found: dict[tuple[int, int], None] = {}
    for n in sizes:
        k = min(n, len(bounds))
        starts = [*range(0, len(bounds) - k + 1, min(step, k)), len(bounds) - k]
        found.update(((bounds[i][0], bounds[i + k - 1][1]), None) for i in starts)
    return list(found)


def stack_features(parts: np.ndarray, lengths: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """What the stacked layer reads of one long paragraph: the whole paragraph's probabilities,
    then per label the windows' maximum, length-weighted mean, first and last value, and the
    share of the words in windows where that label comes first."""
    total = max(float(lengths.sum()), 1.0)
    mean = lengths @ parts / total
    share = np.bincount(parts.argmax(axis=1), weights=lengths, minlength=parts.shape[1]) / total
    return np.concatenate([whole, parts.max(axis=0), mean, parts[0], parts[-1], share])


def decide(parts: np.ndarray, lengths: np.ndarray, rule: LongRule, labels: Sequence[str],
           whole: np.ndarray | None = None) -> tuple[int, float, int]:
    """(label index, score, deciding row: a window index, or ``len(parts)`` for ``whole``)."""
    if rule.stack and whole is not None:
        logits = np.asarray(rule.stack) @ stack_features(parts, lengths, whole) + np.asarray(rule.stack_bias)
        odds = np.exp(logits - logits.max())
        k = int(np.argmax(odds))
        rows = np.vstack([parts, whole[None, :]])
        return k, float(odds[k] / odds.sum()), int(np.argmax(rows[:, k]))
    s, i, c = (labels.index(name) for name in ("success", "improvement", "context"))
    probs = np.vstack([parts, whole[None, :]]) if rule.whole and whole is not None else parts
    weights = np.append(lengths, lengths.sum()) if len(probs) > len(parts) else lengths
    evaluative = probs[:, [s, i]].max(axis=1)
    strong = evaluative >= rule.threshold
    if not strong.any():
        return c, float(1.0 - evaluative.max()), int(np.argmax(probs[:, c]))
    mass = weights[strong] @ probs[strong][:, [s, i]]
    k = s if mass[0] > rule.lean * mass[1] else i
    rows = np.flatnonzero(strong)
    return k, float(probs[rows, k].max()), int(rows[np.argmax(probs[rows, k])])


def classify_paragraphs(items: Sequence[ParagraphInput], model: Model | None = None) -> list[Classification]:
    """One ``Classification`` per item, in input order; all items, or for a long one its sentence
    windows (and itself if the rule reads it whole too), go through one transform."""
    if not items:
        return []
    model = model or load_model()
    rule = model.rule
    pairs: list[tuple[str, str | None]] = []
    whole = np.full(len(items), -1)
    parts: list[tuple[int, int]] = []
    owner: list[int] = []
    spans: list[tuple[int, int, list[tuple[int, int]]]] = []
    for n, item in enumerate(items):
        text = item.text
        found = windows(text, rule.sizes, rule.step) if (
            rule is not None and text.count(" ") >= rule.words and len(text.split()) > rule.words) else []
        if not found or rule.whole:
            whole[n] = len(pairs)
            pairs.append((text, item.heading))
        if found:
            parts.append((len(pairs), len(pairs) + len(found)))
            spans.append((n, len(pairs), found))
            pairs.extend((text[a:b], item.heading) for a, b in found)
            owner.extend([n] * (len(found) + (whole[n] >= 0)))
        else:
            parts.append((0, 0))
            owner.append(n)
    docs = _prepare_all(pairs, items, spans, whole)
    x = transform_union(model.pipeline.named_steps["features"], docs, model.pairs).tocsr()
    proba = model.pipeline.named_steps["clf"].predict_proba(x)
    labels = model.labels
    top = proba.argmax(axis=1)
    decided: list[tuple[int, float, int]] = []
    for n, (lo, hi) in enumerate(parts):
        if lo == hi:
            r = int(whole[n])
            decided.append((int(top[r]), float(proba[r, top[r]]), r))
            continue
        lengths = np.array([len(pairs[r][0].split()) for r in range(lo, hi)], dtype=np.float64)
        k, score, source = decide(proba[lo:hi], lengths, rule, labels, proba[whole[n]] if whole[n] >= 0 else None)
        decided.append((k, score, lo + source if source < hi - lo else int(whole[n])))
    best = np.array([k for k, _, _ in decided])[np.array(owner)] if len(owner) > len(items) else np.array(
        [k for k, _, _ in decided])
    shown = np.flatnonzero(model.shown[x.indices])
    weights = x.data[shown] * model.direction[best[np.searchsorted(x.indptr, shown, side="right") - 1], x.indices[shown]]
    positive = weights > 0
    kept, weights = shown[positive], weights[positive]
    features = x.indices[kept]
    bounds = np.searchsorted(kept, x.indptr).tolist()
    indptr = x.indptr.tolist()
    out = []
    for n, item in enumerate(items):
        k, score, r = decided[n]
        doc, text = docs[r], pairs[r][0]
        cue_spans = (doc.tokens, doc.starts, True) if doc.starts is not None else _spans(text)
        lo, hi = bounds[r], bounds[r + 1]
        cues = pick_cues(text, labels[k], cue_spans, (features[lo:hi], weights[lo:hi]),
                         functools.partial(_row_weights, x, model.direction[k], indptr[r], indptr[r + 1]), model.cues)
        out.append(Classification(paragraph_id=item.id, label=labels[k], score=round(score, 4), cues=cues))
    return out


def _prepare_all(pairs: Sequence[tuple[str, str | None]], items: Sequence[ParagraphInput],
                 spans: Sequence[tuple[int, int, list[tuple[int, int]]]], whole: np.ndarray) -> list[Any]:
    """``prepare(pairs)``, with each long paragraph (item ``n``, windows from row ``start``) and
    its windows cut from one tokenisation."""
    cut: list[tuple[int, ParagraphInput, list[tuple[int, int]]]] = []
    for n, start, found in spans:
        with_whole = int(whole[n] >= 0 and whole[n] == start - 1)
        cut.append((start - with_whole, items[n], [(0, len(items[n].text))] * with_whole + found))
    in_window = np.zeros(len(pairs), dtype=bool)
    for first, _, found in cut:
        in_window[first:first + len(found)] = True
    plain = np.flatnonzero(~in_window).tolist()
    docs: list[Any] = [None] * len(pairs)
    for k, doc in zip(plain, prepare([pairs[k] for k in plain])):
        docs[k] = doc
    titles: dict[str | None, tuple[str, ...]] = {}
    for first, item, found in cut:
        docs[first:first + len(found)] = prepare_spans(item.text, item.heading, found, titles)
    return docs


def classify_article(article: Article, model: Model | None = None) -> tuple[Classification, ...]:
    items = [ParagraphInput(p.id, p.text, s.heading) for s in article.sections for p in s.paragraphs]
    return tuple(classify_paragraphs(items, model))


def label_sections(article: Article, classifications: Iterable[Classification]) -> tuple[SectionLabel, ...]:
    """Per section: its label from its paragraphs (``mixed`` if it has both kinds) and a mean score."""
    by_id = {c.paragraph_id: c for c in classifications}
    out = []
    for section in article.sections:
        found = [by_id[p.id] for p in section.paragraphs if p.id in by_id]
        wins = [c.paragraph_id for c in found if c.label == "success"]
        fixes = [c.paragraph_id for c in found if c.label == "improvement"]
        label = "mixed" if wins and fixes else "success" if wins else "improvement" if fixes else "context"
        scored = [c.score for c in found if label == "context" or c.label != "context"]
        score = round(sum(scored) / len(scored), 4) if scored else 0.0
        out.append(SectionLabel(section.heading, label, score, tuple(wins), tuple(fixes)))
    return tuple(out)


def _row_weights(x: Any, direction: np.ndarray, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """Features of one row of ``x`` and their weights along ``direction``."""
    indices = x.indices[lo:hi]
    return indices, x.data[lo:hi] * direction[indices]


def _spans(text: str) -> Spans:
    """Tokens of a text that folding would shift, each with the start of its word in the original."""
    tokens: list[str] = []
    starts: list[int] = []
    for m in _TOKEN.finditer(text):
        for token in tokenize(fold(m.group())):
            tokens.append(token)
            starts.append(m.start())
    return tokens, starts, False


def train_model(corpus_dir: Path | None = None, out_dir: Path | None = None, *, seed: int = 0) -> ModelCard:
    """Train on ``train-*.jsonl``, evaluate on ``dev.jsonl``, write the model and its card."""
    from presswatch.training import train_and_write

    return train_and_write(corpus_dir, out_dir, seed=seed)


__all__ = [
    "LABELS", "Model", "ParagraphInput", "SectionLabel", "classify_article", "classify_paragraphs",
    "label_sections", "load_model", "train_model",
]
