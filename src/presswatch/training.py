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
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
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

from presswatch.classify import (
    LONG_WORDS, MODEL_DIR, MODEL_PATH, RULE_NAME, LongRule, _load, decide, stack_features, windows, write_model,
)
from presswatch.errors import ModelError
from presswatch.evaluation import (
    CORPUS_DIR, Example, evaluate_model, evaluate_predictions, lexicon_baseline, long_paragraphs, read_corpus,
)
from presswatch.features import CharGrams, FocusBlock, HandFeatures, Prepare, heading_grams, lead_grams, word_grams
from presswatch.modelcard import ModelCard
from presswatch.models import LABELS, normalise_text
from presswatch.reading import prepare

GRID = {"C": (10.0, 30.0), "words": (1.0, 1.5), "lead": (0.5, 1.0), "heading": (0.3, 0.7)}
FIXED = {"chars": 1.0, "focus": 1.0, "hand": 0.5, "char_range": (2, 5), "max_iter": 3000}
SIZES = (((1,), 1), ((2,), 1), ((2,), 2), ((1, 2), 1))
STACK_WINDOWS = (((1,), 1), ((2,), 1))
STACK_C = (0.3, 1.0, 3.0, 10.0)
MIN_LONG_ROWS = 100
DEV_LONG = "dev-long.jsonl"
RULES = [LongRule(n, round(float(t), 2), whole, lean, words, step) for words in (LONG_WORDS, 100) for n, step in SIZES
         for whole in (True, False) for lean in (1.0, 1.5, 2.0) for t in np.arange(0.35, 0.951, 0.05)]


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
    """The way long paragraphs are decided, chosen by cross-validation on the training rows only.

    Every fold's model scores, read whole and as sentence windows, its held-out rows longer
    than ``LONG_WORDS`` words (written press-length paragraphs) and paragraphs glued from its
    shorter held-out rows (``long_paragraphs``: an evaluative sentence or two among context
    ones, which written rows seldom are). Candidates: each hand rule of ``RULES`` and a stacked
    logistic layer over ``stack_features`` (fitted, for each fold, on the other folds' rows). The
    score is the mean of the macro-F1 on written and on glued paragraphs, pooled over folds; with
    fewer than ``MIN_LONG_ROWS`` written rows only glued ones are scored and the stack is not
    tried. Ties (to 3 decimals) go to the cheapest candidate. Returns the rule and a report."""
    y = np.array([e.label for e in examples])
    folds = max(2, min(5, min(Counter(y).values())))
    real = sum(1 for e in examples if len(e.text.split()) > LONG_WORDS) >= MIN_LONG_ROWS
    gold: list[str] = []
    fold_of: list[int] = []
    kind: list[bool] = []
    predicted: dict[LongRule | None, list[str]] = {r: [] for r in [None, *RULES]}
    features: dict[tuple[tuple[int, ...], int], list[np.ndarray]] = {size: [] for size in STACK_WINDOWS}
    labels: list[str] = []
    split = StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y)
    for fold, (train, test) in enumerate(split):
        pipe = build_pipeline(params, min_df=min_df, seed=seed, headings=has_headings([examples[i] for i in train], min_df))
        pipe.fit([(examples[i].text, examples[i].heading) for i in train], y[train])
        held = [examples[i] for i in test]
        written = [e for e in held if len(e.text.split()) > LONG_WORDS] if real else []
        short = [e for e in held if len(e.text.split()) <= LONG_WORDS]
        rows = written + [e for e, _ in long_paragraphs(short, seed=seed + fold, per_kind=max(10, len(short) // 8))]
        kind += [True] * len(written) + [False] * (len(rows) - len(written))
        pairs = [(e.text, e.heading) for e in rows]
        cuts: dict[tuple[tuple[int, ...], int], list[list[tuple[int, int]]]] = {}
        start: dict[tuple[tuple[int, ...], int], int] = {}
        for n in SIZES:
            start[n] = len(pairs)
            cuts[n] = [windows(e.text, *n) for e in rows]
            pairs += [(e.text[a:b], e.heading) for e, spans in zip(rows, cuts[n]) for a, b in spans]
        proba = pipe.predict_proba(pairs) if pairs else np.zeros((0, len(LABELS)))
        labels = [str(c) for c in pipe.classes_]
        plain = [labels[k] for k in proba[:len(rows)].argmax(axis=1)]
        gold += [e.label for e in rows]
        fold_of += [fold] * len(rows)
        predicted[None] += plain
        for rule in RULES:
            out, at = list(plain), start[rule.sizes, rule.step]
            for n, spans in enumerate(cuts[rule.sizes, rule.step]):
                if spans and len(rows[n].text.split()) > rule.words:
                    lengths = np.array([len(rows[n].text[a:b].split()) for a, b in spans], dtype=np.float64)
                    out[n] = labels[decide(proba[at:at + len(spans)], lengths, rule, labels, proba[n])[0]]
                at += len(spans)
            predicted[rule] += out
        for size in STACK_WINDOWS:
            at = start[size]
            for n, spans in enumerate(cuts[size]):
                part = proba[at:at + len(spans)] if spans else proba[n:n + 1]
                lengths = np.array([len(rows[n].text[a:b].split()) for a, b in spans] or [1.0], dtype=np.float64)
                features[size].append(stack_features(part, lengths, proba[n]))
                at += len(spans)

    is_written = np.array(kind, dtype=bool)

    def score(values: Sequence[str]) -> float:
        """Mean macro-F1 over the written long rows and over the glued ones (glued only without written)."""
        picked = np.asarray(values, dtype=object)
        parts = [m for m in (is_written, ~is_written) if m.any()]
        return statistics.mean(float(f1_score(np.asarray(gold, dtype=object)[m], picked[m], average="macro")) for m in parts) if gold else 0.0

    mean = {r: score(v) for r, v in predicted.items()}
    best: LongRule = max(RULES, key=lambda r: (round(mean[r], 3), r.words, not r.whole, r.step - len(r.sizes), -RULES.index(r)))
    report: dict[str, Any] = {"folds": folds, "rows": len(gold), "written": int(is_written.sum()),
                              "whole": round(mean[None], 4), "best_rule": round(mean[best], 4)}
    if real and len(set(gold)) == len(LABELS):
        target, groups = np.array(gold), np.array(fold_of)
        tried = {size: _cv_stack(np.vstack(features[size]), target, groups, seed, score) for size in STACK_WINDOWS}
        size = max(STACK_WINDOWS, key=lambda k: (round(score(tried[k][1]), 3), -STACK_WINDOWS.index(k)))
        stack_c = tried[size][0]
        report["stack"] = round(score(tried[size][1]), 4)
        report["stack_windows"] = {f"{k[0][0]} sentence(s)": round(score(v[1]), 4) for k, v in tried.items()}
        if round(report["stack"], 3) > round(mean[best], 3):
            fitted = LogisticRegression(C=stack_c, max_iter=2000, random_state=seed).fit(np.vstack(features[size]), target)
            order = [list(fitted.classes_).index(label) for label in labels]
            best = LongRule(size[0], best.threshold, True, best.lean, LONG_WORDS, size[1],
                            tuple(tuple(round(float(v), 6) for v in fitted.coef_[k]) for k in order),
                            tuple(round(float(fitted.intercept_[k]), 6) for k in order))
            report["stack_c"] = stack_c
    report["chosen"] = "stack" if best.stack else "rule"
    return best, report


def _cv_stack(x: np.ndarray, y: np.ndarray, groups: np.ndarray, seed: int,
              score: Callable[[Sequence[str]], float]) -> tuple[float, list[str]]:
    """The stack's regularisation chosen on the same folds (each fold predicted by a layer fitted
    on the others); returns C and the held-out predictions."""
    best: tuple[float, float, list[str]] = (-1.0, 0.0, [])
    for c in STACK_C:
        out = np.empty(len(y), dtype=object)
        for g in np.unique(groups):
            mask = groups == g
            out[mask] = LogisticRegression(C=c, max_iter=2000, random_state=seed).fit(x[~mask], y[~mask]).predict(x[mask])
        f1 = score(list(out))
        if round(f1, 3) > round(best[0], 3):
            best = (f1, c, list(out))
    return best[1], best[2]


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
    dev_long = read_corpus([corpus_dir / DEV_LONG]) if (corpus_dir / DEV_LONG).exists() else []
    held_out = {normalise_text(e.text) for e in [*dev, *dev_long]}
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
        written = read_corpus([corpus_dir / DEV_LONG]) if (corpus_dir / DEV_LONG).exists() else []
        if written:
            long_dev["dev-long, read whole"] = evaluate_model(written, replace(model, rule=None)).to_dict()
            long_dev[f"dev-long, {'stacked layer' if rule.stack else 'hand rule'}"] = evaluate_model(written, model).to_dict()
        glued = [e for e, _ in long_paragraphs(dev, seed=seed)]
        if glued:
            long_dev["glued proxy, read whole"] = evaluate_model(glued, replace(model, rule=None)).to_dict()
            long_dev[f"glued proxy, {'stacked layer' if rule.stack else 'hand rule'}"] = evaluate_model(glued, model).to_dict()
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
