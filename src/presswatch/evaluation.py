"""Labelled corpus rows, classifier evaluation reports and the cue-word baseline."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from presswatch.classify import Model, ParagraphInput, classify_paragraphs
from presswatch.errors import ModelError
from presswatch.reading import lexicon_label, prepare
from presswatch.models import LABELS, Label

CORPUS_DIR = Path(__file__).parent / "data" / "corpus"


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: Label
    heading: str | None = None
    programme: str | None = None


@dataclass(frozen=True, slots=True)
class ClassScores:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True, slots=True)
class EvalReport:
    n: int
    accuracy: float
    macro_f1: float
    per_class: tuple[ClassScores, ...]
    confusion: tuple[tuple[int, ...], ...]
    labels: tuple[str, ...] = LABELS

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "per_class": {c.label: {"precision": c.precision, "recall": c.recall, "f1": c.f1, "support": c.support}
                          for c in self.per_class},
            "confusion": {"labels": list(self.labels), "rows_gold_cols_predicted": [list(r) for r in self.confusion]},
        }


def as_example(row: Example | Mapping[str, Any]) -> Example:
    if isinstance(row, Example):
        return row
    if row.get("label") not in LABELS or not isinstance(row.get("text"), str):
        raise ValueError(f"not a labelled row: {dict(row)!r:.120}")
    return Example(row["text"], row["label"], row.get("heading") or None, row.get("programme") or None)


def read_corpus(paths: Iterable[Path]) -> list[Example]:
    """Complete, valid lines of JSONL files (a file still being written ends mid-line)."""
    rows = []
    for path in sorted(paths):
        try:
            lines = path.read_text(encoding="utf-8").split("\n")
        except OSError as exc:
            raise ModelError(f"cannot read corpus file {path}: {exc}") from exc
        for line in lines[:-1]:
            try:
                rows.append(as_example(json.loads(line)))
            except ValueError:
                continue
    return rows


def evaluate_predictions(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str] = LABELS) -> EvalReport:
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted labels differ in length")
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, predicted):
        matrix[index[g]][index[p]] += 1
    per_class, f1s = [], []
    for i, label in enumerate(labels):
        tp = matrix[i][i]
        predicted_i = sum(row[i] for row in matrix)
        support = sum(matrix[i])
        precision = tp / predicted_i if predicted_i else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        f1s.append(f1)
        per_class.append(ClassScores(label, round(precision, 4), round(recall, 4), round(f1, 4), support))
    n = len(gold)
    accuracy = sum(matrix[i][i] for i in range(len(labels))) / n if n else 0.0
    macro = sum(f1s) / len(f1s)
    return EvalReport(n, round(accuracy, 4), round(macro, 4), tuple(per_class),
                      tuple(tuple(r) for r in matrix), tuple(labels))


def evaluate_model(rows: Iterable[Example | Mapping[str, Any]], model: Model | None = None) -> EvalReport:
    examples = [as_example(r) for r in rows]
    items = [ParagraphInput(str(i), e.text, e.heading) for i, e in enumerate(examples)]
    predicted = [c.label for c in classify_paragraphs(items, model)]
    return evaluate_predictions([e.label for e in examples], predicted)


LONG_KINDS = ("success", "improvement", "context", "mixed")


def long_paragraphs(rows: Sequence[Example], *, seed: int = 0, per_kind: int = 100) -> list[tuple[Example, str]]:
    """Press-length paragraphs glued from 3-5 labelled rows, for evaluation only.

    Kinds: ``success``/``improvement`` (one or two rows of that label among context rows of the
    same programme when there are enough), ``context`` (context rows only) and ``mixed`` (one
    success and one improvement row among context rows: a balance, so ``improvement`` by the
    guidelines' tie rule). Seeded; returns (example, kind) pairs, ``per_kind`` of each kind."""
    rng = random.Random(seed)
    by_label: dict[str, list[Example]] = {label: [] for label in LABELS}
    for e in rows:
        by_label[e.label].append(e)
    if any(len(v) < 2 for v in by_label.values()) or len(by_label["context"]) < 5:
        return []
    context_of: dict[str | None, list[Example]] = {}
    for e in by_label["context"]:
        context_of.setdefault(e.programme, []).append(e)
    out: list[tuple[Example, str]] = []
    for kind in LONG_KINDS:
        for _ in range(per_kind):
            size = rng.randint(3, 5)
            if kind == "context":
                points: list[Example] = []
            elif kind == "mixed":
                points = [rng.choice(by_label["success"]), rng.choice(by_label["improvement"])]
            else:
                points = rng.sample(by_label[kind], rng.randint(1, 2))
            same = context_of.get(points[0].programme, []) if points else []
            pool = same if len(same) >= size - len(points) else by_label["context"]
            parts = points + rng.sample(pool, size - len(points))
            rng.shuffle(parts)
            label = "improvement" if kind == "mixed" else kind
            out.append((Example(" ".join(p.text for p in parts), label, None, parts[0].programme), kind))
    return out


def lexicon_baseline(rows: Iterable[Example | Mapping[str, Any]]) -> list[str]:
    """Count success vs problem cue words from ``data/cues.toml``; a tie means context."""
    docs = prepare((e.text, e.heading) for e in map(as_example, rows))
    return [lexicon_label(d) for d in docs]


def format_report(report: EvalReport, title: str = "classifier") -> str:
    lines = [f"{title}: n={report.n}  accuracy={report.accuracy:.3f}  macro-F1={report.macro_f1:.3f}",
             f"{'label':<12} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>8}"]
    lines += [f"{c.label:<12} {c.precision:>9.3f} {c.recall:>7.3f} {c.f1:>6.3f} {c.support:>8}" for c in report.per_class]
    lines.append("confusion (rows = gold, columns = predicted): " + " ".join(report.labels))
    width = max(len(label) for label in report.labels)
    lines += [f"{label:<{width}} " + " ".join(f"{v:>5}" for v in row) for label, row in zip(report.labels, report.confusion)]
    return "\n".join(lines)
