"""Train the paragraph classifier: cross-validated choice of settings, model file and card.

Reproducible: rows are deduplicated and sorted, folds and solvers are seeded, so the same
corpus and seed give the same model. ``dev.jsonl`` is only ever used for the final report.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline
from threadpoolctl import threadpool_limits

from presswatch.classify import LONG_WORDS, MODEL_DIR, MODEL_PATH, RULE_NAME, LongRule, _load, decide, windows, write_model
from presswatch.errors import ModelError
from presswatch.evaluation import (
    CORPUS_DIR, Example, evaluate_model, evaluate_predictions, lexicon_baseline, long_paragraphs, read_corpus,
)
from presswatch.features import (
    CharGrams, FocusBlock, HandFeatures, Prepare, heading_grams, lead_grams, prepare, word_grams,
)
from presswatch.models import LABELS, normalise_text

GRID = {"C": (10.0, 30.0), "words": (1.0, 1.5), "lead": (0.5, 1.0), "heading": (0.3, 0.7)}
FIXED = {"chars": 1.0, "focus": 1.0, "hand": 0.5, "char_range": (2, 5), "max_iter": 3000}
SIZES = (((1,), 1), ((2,), 1), ((2,), 2), ((1, 2), 1))
RULES = [LongRule(n, round(float(t), 2), whole, lean, words, step) for words in (LONG_WORDS, 100) for n, step in SIZES
         for whole in (True, False) for lean in (1.0, 1.5, 2.0) for t in np.arange(0.35, 0.951, 0.05)]


@dataclass(frozen=True, slots=True)
class ModelCard:
    created: str
    data_hash: str
    sklearn: str
    train_sizes: dict[str, int]
    dev_sizes: dict[str, int]
    dropped_as_in_dev: int
    hyperparameters: dict[str, Any]
    cv_macro_f1: float
    cv_macro_f1_std: float
    cv_folds: int
    dev: dict[str, Any] | None = None
    baselines: dict[str, dict[str, Any]] = field(default_factory=dict)
    model_file: str = ""
    model_bytes: int = 0
    long_rule: dict[str, Any] | None = None
    long_cv: dict[str, float] = field(default_factory=dict)
    long_dev: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_markdown(self) -> str:
        h = self.hyperparameters
        lines = [
            "# presswatch paragraph classifier", "",
            f"Created {self.created} with scikit-learn {self.sklearn}; training data hash `{self.data_hash[:16]}`.", "",
            "Labels: success (achievement, adoption, progress), improvement (problem, delay, failure, criticism,"
            " risk, remaining work), context (background, announcement, description, intentions).", "",
            "## Model",
            "Logistic regression (multinomial, L2) over TF-IDF blocks: word 1-2-grams with negation-scope"
            f" tokens, character {h['char_range'][0]}-{h['char_range'][1]}-grams within words, words of the clause after a"
            " contrast or concession (focus), first and last sentence words, heading words, and hand features (negation, pending, contrast,"
            " hedges, intentions, figures, quotes, cue-word counts). Scores are the model's probabilities.", "",
            "Hyper-parameters (chosen by stratified cross-validation on the training rows only): "
            + ", ".join(f"{k}={v}" for k, v in sorted(h.items())), "",
            "## Data",
            f"Training rows per label: {self.train_sizes} (rows also in dev.jsonl dropped: {self.dropped_as_in_dev}).",
            f"Dev rows per label: {self.dev_sizes}.", "",
            "## Results",
            f"Cross-validation macro-F1 ({self.cv_folds} folds): {self.cv_macro_f1:.3f} ± {self.cv_macro_f1_std:.3f}", "",
        ]
        rows = ([("model", self.dev)] if self.dev else []) + list(self.baselines.items())
        if rows:
            lines += ["| dev set | accuracy | macro-F1 | " + " | ".join(f"F1 {label}" for label in LABELS) + " |",
                      "|---|---|---|" + "---|" * len(LABELS)]
            for name, rep in rows:
                f1s = " | ".join(f"{rep['per_class'][label]['f1']:.3f}" for label in LABELS)
                lines.append(f"| {name} | {rep['accuracy']:.3f} | {rep['macro_f1']:.3f} | {f1s} |")
        if self.dev:
            lines += ["", "Dev confusion (rows gold, columns predicted, order " + ", ".join(LABELS) + "):", ""]
            lines += ["    " + " ".join(f"{v:>4}" for v in row) for row in self.dev["confusion"]["rows_gold_cols_predicted"]]
            lines += ["", "Per class on dev: " + "; ".join(
                f"{label} P={v['precision']:.3f} R={v['recall']:.3f} F1={v['f1']:.3f}" for label, v in self.dev["per_class"].items())]
        lines += self._long_lines()
        lines += ["", f"Model file: {self.model_file} ({self.model_bytes / 1e6:.1f} MB).", "", "## Known limits", "",
                  "- Achievements described in words only (no figure, target or trend) are learnt from a few hundred"
                  " rows of press idioms (a fait ses preuves, a trouvé sa place, franc succès…); a paragraph that lists"
                  " achievements in administrative wording can still be read as context.",
                  "- Headings agree with the paragraph's label on most training rows and contradict it on a deliberate"
                  " minority (case heading_contradicts); the heading block's weight is chosen by cross-validation and"
                  " stays below the text blocks, but a heading word can tip a borderline paragraph and appear among its cues.",
                  "- Rows are short (a few sentences, dev rows about 34 words) while press paragraphs run to 120-220"
                  " words; long paragraphs are decided from sentence windows (see above), and the long-paragraph"
                  " figures come from paragraphs glued from corpus rows, not from real mixed paragraphs. A single evaluative"
                  " sentence among several context sentences often stays below the window threshold and the paragraph"
                  " is read as context (about half of the glued improvement paragraphs on dev).", ""]
        return "\n".join(lines)

    def _long_lines(self) -> list[str]:
        if not self.long_rule:
            return []
        r, cv = self.long_rule, self.long_cv
        lines = [
            "", "## Long paragraphs",
            f"A paragraph of more than {r['words']} words is scored as windows of"
            f" {' and '.join(map(str, r['sizes']))} consecutive sentence(s), one every {r['step']} sentence(s), in the same batch{' together with the whole paragraph' if r['whole'] else ''}. If no window"
            f" gives success or improvement a probability of at least {r['threshold']}, the paragraph is context (score:"
            " 1 minus the strongest evaluative probability); otherwise success needs more than"
            f" {r['lean']} times the length-weighted improvement probability of those windows (ties go to improvement),"
            " the score is the deciding window's probability and the cues come from that window.", "",
            "Rule chosen by cross-validation on the training rows only: each held-out fold is scored on its own rows and on"
            " paragraphs glued from 3-5 of them (kinds success, improvement, context, and mixed success+improvement"
            f" labelled improvement by the tie rule). Fold-mean macro-F1 ({cv['folds']} folds): held-out rows"
            f" {cv['rows_without_rule']:.3f} read whole, {cv['rows_with_rule']:.3f} with the rule; glued paragraphs"
            f" {cv['long_without_rule']:.3f} read whole, {cv['long_with_rule']:.3f} with the rule.",
        ]
        if self.long_dev:
            lines += ["", "Long-paragraph proxy built from dev.jsonl (evaluation only; 100 paragraphs of each kind, seed 0):", "",
                      "| dev long proxy | accuracy | macro-F1 | " + " | ".join(f"F1 {label}" for label in LABELS) + " |",
                      "|---|---|---|" + "---|" * len(LABELS)]
            for name, rep in self.long_dev.items():
                f1s = " | ".join(f"{rep['per_class'][label]['f1']:.3f}" for label in LABELS)
                lines.append(f"| {name} | {rep['accuracy']:.3f} | {rep['macro_f1']:.3f} | {f1s} |")
        return lines


def build_pipeline(params: dict[str, Any], *, min_df: int = 2, seed: int = 0, headings: bool = True) -> Pipeline:
    """The model; ``headings=False`` leaves out the heading block (training rows without headings)."""
    blocks = [
        ("words", TfidfVectorizer(analyzer=word_grams, min_df=min_df, sublinear_tf=True)),
        ("chars", CharGrams(ngram_range=tuple(params["char_range"]), min_df=min_df + 1)),
        ("focus", FocusBlock(min_df=min_df)),
        ("lead", TfidfVectorizer(analyzer=lead_grams, min_df=min_df, sublinear_tf=True)),
        ("heading", TfidfVectorizer(analyzer=heading_grams, min_df=min_df, sublinear_tf=True)),
        ("hand", HandFeatures()),
    ]
    blocks = [b for b in blocks if headings or b[0] != "heading"]
    weights = {name: float(params[name]) for name, _ in blocks}
    clf = LogisticRegression(C=params["C"], max_iter=params["max_iter"], random_state=seed)
    return Pipeline([("prep", Prepare()), ("features", FeatureUnion(blocks, transformer_weights=weights)), ("clf", clf)])


def cross_validate(examples: Sequence[Example], *, seed: int = 0, min_df: int = 2) -> tuple[dict[str, Any], float, float, int]:
    """Grid search over GRID with stratified folds on training rows; returns best params, mean, std, folds."""
    y = np.array([e.label for e in examples])
    folds = max(2, min(5, min(Counter(y).values())))
    docs = prepare((e.text, e.heading) for e in examples)
    combos = [dict(zip(GRID, values)) | FIXED for values in itertools.product(*GRID.values())]
    scores: dict[int, list[float]] = {i: [] for i in range(len(combos))}
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y):
        union = build_pipeline(combos[0], min_df=min_df, headings=has_headings(examples, min_df)).named_steps["features"]
        fitted = {name: t.fit([docs[i] for i in train]) for name, t in union.transformer_list}
        parts = {name: (t.transform([docs[i] for i in train]), t.transform([docs[i] for i in test])) for name, t in fitted.items()}
        for c, params in enumerate(combos):
            xs = [sp.hstack([parts[n][k] * float(params[n]) for n in parts], format="csr") for k in (0, 1)]
            clf = LogisticRegression(C=params["C"], max_iter=params["max_iter"], random_state=seed).fit(xs[0], y[train])
            scores[c].append(f1_score(y[test], clf.predict(xs[1]), average="macro"))
    best = max(range(len(combos)), key=lambda c: (statistics.mean(scores[c]), -c))
    return combos[best], statistics.mean(scores[best]), statistics.pstdev(scores[best]), folds


def choose_long_rule(examples: Sequence[Example], params: dict[str, Any], *, seed: int = 0,
                     min_df: int = 2) -> tuple[LongRule, dict[str, float]]:
    """The long-paragraph rule with the best cross-validated score (to 3 decimals, then the
    cheapest: fewest long paragraphs, no whole-paragraph pass, fewest windows), where a fold's score is the
    mean of macro-F1 on its held-out rows and on paragraphs glued from them (``long_paragraphs``;
    a fold too small to glue counts its rows twice);
    returns the rule and the fold-mean macro-F1s with and without it."""
    y = np.array([e.label for e in examples])
    folds = max(2, min(5, min(Counter(y).values())))
    scores: dict[LongRule | None, list[tuple[float, float]]] = {r: [] for r in [None, *RULES]}
    split = StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y)
    for fold, (train, test) in enumerate(split):
        pipe = build_pipeline(params, min_df=min_df, seed=seed, headings=has_headings([examples[i] for i in train], min_df))
        pipe.fit([(examples[i].text, examples[i].heading) for i in train], y[train])
        held = [examples[i] for i in test]
        glued = [e for e, _ in long_paragraphs(held, seed=seed + fold, per_kind=max(10, len(held) // 8))]
        rows = held + glued
        pairs = [(e.text, e.heading) for e in rows]
        cuts: dict[tuple[tuple[int, ...], int], list[list[tuple[int, int]]]] = {}
        start: dict[tuple[tuple[int, ...], int], int] = {}
        for n in SIZES:
            start[n] = len(pairs)
            cuts[n] = [windows(e.text, *n) if len(e.text.split()) > LONG_WORDS else [] for e in rows]
            pairs += [(e.text[a:b], e.heading) for e, spans in zip(rows, cuts[n]) for a, b in spans]
        proba = pipe.predict_proba(pairs)
        labels = [str(c) for c in pipe.classes_]
        plain = [labels[k] for k in proba[:len(rows)].argmax(axis=1)]
        scores[None].append(_fold_scores(held, glued, plain))
        for rule in RULES:
            predicted, at = list(plain), start[rule.sizes, rule.step]
            for n, spans in enumerate(cuts[rule.sizes, rule.step]):
                if spans and len(rows[n].text.split()) > rule.words:
                    part = proba[at:at + len(spans)]
                    lengths = np.array([len(rows[n].text[a:b].split()) for a, b in spans], dtype=np.float64)
                    predicted[n] = labels[decide(part, lengths, rule, labels, proba[n])[0]]
                at += len(spans)
            scores[rule].append(_fold_scores(held, glued, predicted))
    mean = {r: statistics.mean((a + b) / 2 for a, b in v) for r, v in scores.items()}
    best = max(RULES, key=lambda r: (round(mean[r], 3), r.words, not r.whole, r.step - len(r.sizes), -RULES.index(r)))
    report = {
        "folds": folds,
        "rows_without_rule": statistics.mean(a for a, _ in scores[None]),
        "long_without_rule": statistics.mean(b for _, b in scores[None]),
        "rows_with_rule": statistics.mean(a for a, _ in scores[best]),
        "long_with_rule": statistics.mean(b for _, b in scores[best]),
    }
    return best, {k: round(v, 4) if isinstance(v, float) else v for k, v in report.items()}


def _fold_scores(held: Sequence[Example], glued: Sequence[Example], predicted: Sequence[str]) -> tuple[float, float]:
    gold = [e.label for e in [*held, *glued]]
    n = len(held)
    rows = f1_score(gold[:n], predicted[:n], average="macro")
    return rows, (f1_score(gold[n:], predicted[n:], average="macro") if glued else rows)


def has_headings(examples: Sequence[Example], min_df: int = 2) -> bool:
    """Whether any heading word is frequent enough for the heading block to have a vocabulary."""
    counts = Counter(t for e in examples for t in set(heading_grams(prepare([("", e.heading)])[0])))
    return any(c >= min_df for c in counts.values())


def plain_tfidf_baseline(train: Sequence[Example], rows: Sequence[Example], *, seed: int = 0) -> list[str]:
    """Word 1-2-gram TF-IDF + logistic regression, C chosen by cross-validation on ``train``."""
    y = [e.label for e in train]
    best_c, best = 1.0, -1.0
    folds = StratifiedKFold(max(2, min(5, min(Counter(y).values()))), shuffle=True, random_state=seed)
    for c in (1.0, 3.0, 10.0, 30.0):
        pipe = Pipeline([("tfidf", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
                         ("clf", LogisticRegression(C=c, max_iter=3000, random_state=seed))])
        score = statistics.mean(
            f1_score([y[i] for i in te], pipe.fit([train[i].text for i in tr], [y[i] for i in tr]).predict(
                [train[i].text for i in te]), average="macro")
            for tr, te in folds.split(np.zeros(len(y)), y))
        if score > best:
            best_c, best = c, score
    pipe = Pipeline([("tfidf", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
                     ("clf", LogisticRegression(C=best_c, max_iter=3000, random_state=seed))])
    return list(pipe.fit([e.text for e in train], y).predict([e.text for e in rows]))


def data_hash(examples: Sequence[Example]) -> str:
    blob = json.dumps([[e.text, e.label, e.heading] for e in examples], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def load_training_rows(corpus_dir: Path) -> tuple[list[Example], list[Example], int]:
    dev = read_corpus([corpus_dir / "dev.jsonl"]) if (corpus_dir / "dev.jsonl").exists() else []
    held_out = {normalise_text(e.text) for e in dev}
    seen: dict[str, Example] = {}
    dropped = 0
    for e in sorted(read_corpus(corpus_dir.glob("train-*.jsonl")), key=lambda e: (e.text, e.label, e.heading or "")):
        key = normalise_text(e.text)
        if key in held_out:
            dropped += 1
        elif key not in seen:
            seen[key] = e
    return sorted(seen.values(), key=lambda e: (e.text, e.label, e.heading or "")), dev, dropped


def train_and_write(corpus_dir: Path | None = None, out_dir: Path | None = None, *, seed: int = 0) -> ModelCard:
    with threadpool_limits(1):
        return _train_and_write(corpus_dir or CORPUS_DIR, out_dir or MODEL_DIR, seed)


def _train_and_write(corpus_dir: Path, out_dir: Path, seed: int) -> ModelCard:
    train, dev, dropped = load_training_rows(corpus_dir)
    counts = Counter(e.label for e in train)
    if len(train) < 6 or any(counts[label] < 2 for label in LABELS):
        raise ModelError(f"not enough training rows in {corpus_dir}/train-*.jsonl: {dict(counts)}")
    min_df = 2 if len(train) >= 200 else 1
    params, cv_mean, cv_std, folds = cross_validate(train, seed=seed, min_df=min_df)
    pipeline = build_pipeline(params, min_df=min_df, seed=seed, headings=has_headings(train, min_df))
    pipeline.fit([(e.text, e.heading) for e in train], [e.label for e in train])
    for _, block in pipeline.named_steps["features"].transformer_list:
        if hasattr(block, "stop_words_"):
            block.stop_words_ = None
    digest = data_hash(train)
    created = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    header = {"labels": list(pipeline.classes_), "data_hash": digest, "created": created, "hyperparameters": params}
    rule, long_cv = choose_long_rule(train, params, seed=seed, min_df=min_df)
    path = write_model(pipeline, header, out_dir / MODEL_PATH.name)
    (out_dir / RULE_NAME).write_text(json.dumps(asdict(rule), sort_keys=True) + "\n", encoding="utf-8")
    dev_report, baselines, long_dev = None, {}, {}
    if dev:
        model = _load(path)
        dev_report = evaluate_model(dev, model).to_dict()
        glued = [e for e, _ in long_paragraphs(dev, seed=seed)]
        if glued:
            long_dev = {"whole paragraph": evaluate_model(glued, replace(model, rule=None)).to_dict(),
                        "sentence windows": evaluate_model(glued, model).to_dict()}
        gold = [e.label for e in dev]
        baselines = {
            "lexicon baseline": evaluate_predictions(gold, lexicon_baseline(dev)).to_dict(),
            "plain TF-IDF baseline": evaluate_predictions(gold, plain_tfidf_baseline(train, dev, seed=seed)).to_dict(),
        }
    card = ModelCard(
        created=created, data_hash=digest, sklearn=sklearn.__version__,
        train_sizes={label: counts[label] for label in LABELS},
        dev_sizes={label: sum(1 for e in dev if e.label == label) for label in LABELS},
        dropped_as_in_dev=dropped, hyperparameters=params,
        cv_macro_f1=round(cv_mean, 4), cv_macro_f1_std=round(cv_std, 4), cv_folds=folds,
        dev=dev_report, baselines=baselines, model_file=path.name, model_bytes=path.stat().st_size,
        long_rule=asdict(rule), long_cv=long_cv, long_dev=long_dev,
    )
    (out_dir / "model_card.json").write_text(json.dumps(card.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out_dir / "MODEL_CARD.md").write_text(card.to_markdown(), encoding="utf-8")
    return card
