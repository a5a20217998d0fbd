"""The model card written beside the classifier: data, hyper-parameters and measured quality."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from presswatch.classify import LONG_WORDS
from presswatch.models import LABELS


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
            f"Training rows per label: {self.train_sizes} (train-*.jsonl, of which train-long-*.jsonl are written press-length paragraphs; rows also in dev.jsonl or dev-long.jsonl dropped: {self.dropped_as_in_dev}).",
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
                  " rows and the press idioms of the cue lexicon (a fait ses preuves, a trouvé sa place, a marqué les"
                  " esprits…); a paragraph that lists achievements in administrative wording can still be read as context.",
                  "- Headings: the heading's words and its polarity (a cue word of either side, a question mark) are"
                  " features whose weight is chosen by cross-validation. Headings contradict their paragraph on about"
                  " 10 % of the short training rows and 20 % of the long ones; with some success headings (\"Plusieurs"
                  " succès\") the corpus holds as many contradicting rows as agreeing ones, so such a heading word can"
                  " appear among an improvement paragraph's weights (it is not shown as a cue then).",
                  "- The long paragraphs (train-long-*.jsonl, dev-long.jsonl) are written for the corpus, not taken from"
                  " the press: they state their point more plainly than many real paragraphs, so the long-paragraph"
                  " figures above are likely optimistic. The glued proxy is harsher (random rows glued, mixed ones"
                  " labelled improvement) and shows what is left: one evaluative sentence among several context"
                  " sentences is often read as context.", ""]
        return "\n".join(lines)

    def _long_lines(self) -> list[str]:
        if not self.long_rule:
            return []
        r, cv = self.long_rule, self.long_cv
        lines = ["", "## Long paragraphs"]
        if r.get("stack"):
            lines.append(
                f"A paragraph of more than {r['words']} words is read whole and as windows of"
                f" {' and '.join(map(str, r['sizes']))} consecutive sentences, one every {r['step']} sentence(s), in the same"
                " batch. A small logistic layer (weights in long_rule.json) decides from the whole paragraph's"
                " probabilities and, per label, the windows' maximum, length-weighted mean, first and last value and"
                " the share of the words in windows where that label comes first; the"
                " cues come from the window (or whole paragraph) most typical of the label chosen.")
        else:
            lines.append(
                f"A paragraph of more than {r['words']} words is scored as windows of"
                f" {' and '.join(map(str, r['sizes']))} consecutive sentence(s), one every {r['step']} sentence(s), in the same batch{' together with the whole paragraph' if r['whole'] else ''}. If no window"
                f" gives success or improvement a probability of at least {r['threshold']}, the paragraph is context (score:"
                " 1 minus the strongest evaluative probability); otherwise success needs more than"
                f" {r['lean']} times the length-weighted improvement probability of those windows (ties go to improvement),"
                " the score is the deciding window's probability and the cues come from that window.")
        source = (f"{cv['written']} written training paragraphs of more than {LONG_WORDS} words and"
                  f" {cv['rows'] - cv['written']} paragraphs glued from 3-5 shorter held-out rows; the score is the mean of"
                  " the macro-F1 on each" if cv.get("written") else
                  f"{cv['rows']} paragraphs glued from 3-5 held-out rows (too few written long rows)")
        lines += ["", f"Chosen by {cv['folds']}-fold cross-validation on the training rows only, scored on held-out"
                  f" long paragraphs: {source}. Read whole {cv['whole']:.3f}; best hand rule {cv['best_rule']:.3f}"
                  + ("; stacked layer over windows of " + ", ".join(f"{k} {v:.3f}" for k, v in cv["stack_windows"].items())
                     if "stack_windows" in cv else "")
                  + f"; chosen: {cv['chosen']}."]
        if self.long_dev:
            lines += ["", "Held-out long paragraphs (evaluation only: dev-long.jsonl, written apart; and a proxy glued from"
                      " dev.jsonl rows, 100 paragraphs of each kind, seed 0):", "",
                      "| long paragraphs | accuracy | macro-F1 | " + " | ".join(f"F1 {label}" for label in LABELS) + " |",
                      "|---|---|---|" + "---|" * len(LABELS)]
            for name, rep in self.long_dev.items():
                f1s = " | ".join(f"{rep['per_class'][label]['f1']:.3f}" for label in LABELS)
                lines.append(f"| {name} | {rep['accuracy']:.3f} | {rep['macro_f1']:.3f} | {f1s} |")
        return lines
