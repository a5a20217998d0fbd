"""Classify paragraphs as success / improvement / context with the packaged linear model.

The model file is ``MAGIC``, one JSON header line (format, scikit-learn version, labels,
training-data hash, payload checksum) and a zlib-compressed pickle of the scikit-learn
pipeline; the header is checked before anything is unpickled. ``presswatch train``
(``presswatch.training``) writes it.
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
from presswatch.features import fold, prepare, tokenize
from presswatch.models import LABELS, Article, Classification, Label

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

    from presswatch.training import ModelCard

MODEL_DIR = Path(__file__).parent / "data" / "model"
MODEL_PATH = MODEL_DIR / "classifier.bin"
MAGIC = b"presswatch-model\n"
FORMAT_VERSION = 1
_TOKEN = re.compile(r"[\w\u2019\u02bc'`´]+|[%€]")


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
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means an unusable file
        raise ModelError(f"cannot load classifier model {path}: {exc}; run `presswatch train`") from exc
    coef = np.asarray(clf.coef_, dtype=np.float64)
    direction = coef - coef.mean(axis=0, keepdims=True) if coef.shape[0] > 1 else np.vstack([-coef, coef])
    shown = np.array([kind not in ("skip", "char") for kind, _, _ in cues], dtype=bool)
    return Model(pipeline=pipeline, header=header, cues=cues, direction=direction, shown=shown)


def classify_paragraphs(items: Sequence[ParagraphInput], model: Model | None = None) -> list[Classification]:
    """One ``Classification`` per item, in input order; all items go through one transform."""
    if not items:
        return []
    model = model or load_model()
    docs = prepare([(item.text, item.heading) for item in items])
    x = model.pipeline.named_steps["features"].transform(docs).tocsr()
    proba = model.pipeline.named_steps["clf"].predict_proba(x)
    best = proba.argmax(axis=1)
    labels = model.labels
    rows = np.repeat(best, np.diff(x.indptr))
    weights = x.data * model.direction[rows, x.indices]
    kept = np.flatnonzero((weights > 0) & model.shown[x.indices])
    bounds = np.searchsorted(kept, x.indptr)
    out = []
    for i, item in enumerate(items):
        k = int(best[i])
        lo, hi = x.indptr[i], x.indptr[i + 1]
        mine = kept[bounds[i]:bounds[i + 1]]
        doc = docs[i]
        spans = (doc.tokens, doc.starts, True) if doc.starts is not None else _spans(item.text)
        cues = pick_cues(item.text, labels[k], spans, (x.indices[mine], weights[mine]),
                         (x.indices[lo:hi], weights[lo:hi]), model.cues)
        out.append(Classification(paragraph_id=item.id, label=labels[k], score=round(float(proba[i, k]), 4), cues=cues))
    return out


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
