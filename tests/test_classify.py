import json
import re
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pytest

from presswatch.classify import (
    MODEL_PATH,
    ParagraphInput,
    SectionLabel,
    classify_article,
    classify_paragraphs,
    label_sections,
    windows,
    load_model,
    read_header,
    train_model,
)
from presswatch.errors import ModelError
from presswatch.reading import tokenize
from presswatch.evaluation import evaluate_model, evaluate_predictions, format_report, lexicon_baseline, read_corpus
from presswatch.models import Article, Classification, Paragraph, Section, normalise_text

SEED = Path(__file__).parents[2] / "shared" / "seeds" / "000_f3189f94bcb30073.txt"
CORPUS = Path(__file__).parents[1] / "src" / "presswatch" / "data" / "corpus"

HARD_CASES = [
    ("concession", None, "improvement",
     "Si la messagerie sécurisée a conquis les hôpitaux, les cabinets de ville l'utilisent encore très peu et "
     "continuent d'envoyer leurs courriers par la poste."),
    ("negation", None, "improvement",
     "La connexion des centres de radiologie au dossier du patient n'est toujours pas effective, deux ans après "
     "l'échéance fixée par le ministère."),
    ("heading says success", "Des réussites en série", "improvement",
     "Les éditeurs de logiciels dénoncent cependant des délais intenables et des règles modifiées en cours de route."),
    ("heading says problem", "Des retards qui s'accumulent", "success",
     "Le raccordement des laboratoires a, lui, été achevé en avance, et tous transmettent désormais leurs "
     "résultats par voie électronique."),
    ("quoted criticism", None, "improvement",
     "« Nous ne pouvons pas demander aux patients de faire confiance à un outil qui tombe en panne chaque "
     "semaine », regrette le président d'une association d'usagers."),
    ("figure only", None, "context",
     "Le programme dispose d'une enveloppe de 450 millions d'euros répartie sur trois ans entre les régions."),
    ("figures of progress", None, "success",
     "Plus de huit pharmacies sur dix lisent désormais l'ordonnance numérique, et le nombre de prescriptions "
     "dématérialisées a triplé en un an."),
    ("negated problem", None, "success",
     "Aucun incident n'a perturbé la bascule des hôpitaux vers le nouveau système d'identification, qui s'est "
     "faite en un week-end."),
    ("announcement", None, "context",
     "Le ministère présentera sa nouvelle stratégie pour les données de santé lors d'un conseil prévu au mois de mars."),
    ("biography", None, "context",
     "Médecin de formation, il a dirigé pendant dix ans le service informatique d'un grand hôpital parisien avant "
     "de rejoindre l'agence."),
]


@pytest.mark.parametrize(("case", "heading", "expected", "text"), HARD_CASES, ids=[c[0] for c in HARD_CASES])
def test_hard_cases(case, heading, expected, text):
    [result] = classify_paragraphs([ParagraphInput("p1", text, heading)])
    assert result.label == expected


def test_order_ids_scores_and_cues_come_from_the_text():
    items = [ParagraphInput(f"id{i}", text, heading) for i, (_, heading, _, text) in enumerate(HARD_CASES)]
    results = classify_paragraphs(list(reversed(items)))
    assert [r.paragraph_id for r in results] == [i.id for i in reversed(items)]
    for item, result in zip(reversed(items), results):
        assert 1 / 3 < result.score <= 1.0
        assert 2 <= len(result.cues) <= 5
        for cue in result.cues:
            if cue.startswith("titre: "):
                assert cue.removeprefix("titre: ") in normalise_text(item.heading)
            else:
                assert cue in item.text


def _cue_rows():
    rows = [json.loads(line) for name in ("train-a.jsonl", "train-e.jsonl")
            for line in (CORPUS / name).read_text(encoding="utf-8").splitlines()[:250]]
    return [ParagraphInput(str(i), r["text"], r.get("heading")) for i, r in enumerate(rows)]


def _elided(text, start):
    j = start - 1
    while j > 0 and text[j - 1].isalpha():
        j -= 1
    return text[j:start - 1].casefold() in {"l", "d", "n", "s", "c", "j", "m", "t", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu"}


def _whole(text, start, end):
    before, after = text[start - 1:start] if start else "", text[end:end + 1]
    return (not before.isalnum() and not after.isalnum() and (not after or after not in "'’-")
            and (not before or before not in "'’-" or _elided(text, start)))


def test_cues_are_whole_words_of_the_text_never_only_function_words():
    display = tomllib.loads((CORPUS.parent / "cues.toml").read_text(encoding="utf-8"))["display"]
    quiet = {normalise_text(w) for w in display["stopwords"] + display["neutral"]}
    items = _cue_rows()
    results = classify_paragraphs(items)
    assert len(results) == 395
    for item, result in zip(items, results):
        words = [c for c in result.cues if not c.startswith("titre: ")]
        assert len(result.cues) <= 5
        if len(item.text.split()) >= 40:
            assert len(result.cues) >= 2, (item.text, result.cues)
        for cue in words:
            assert cue in item.text, (cue, item.text)
            assert any(_whole(item.text, m.start(), m.start() + len(cue))
                       for m in re.finditer(re.escape(cue), item.text)), (cue, item.text)
            tokens = tokenize(normalise_text(cue))
            assert any(t not in quiet and sum(c.isalpha() for c in t) >= 3 for t in tokens), cue
        low = [c.casefold() for c in words]
        assert not any(a != b and a in b for a in low for b in low), result.cues
        assert len(set(low)) == len(low)


def test_cues_show_whole_phrases_and_negations():
    texts = [
        "Trois ans après son lancement, la plateforme régionale de rendez-vous n'a pas encore fait ses preuves : "
        "les médecins l'ignorent et les patients ne s'y connectent presque jamais.",
        "Aujourd'hui, la messagerie sécurisée a trouvé sa place dans les cabinets du Morbihan, et les courriers "
        "papier ont quasiment disparu.",
        "Les téléconsultations ont connu une hausse de 62 % en un an dans les Ehpad du Jura, selon l'agence régionale.",
    ]
    results = classify_paragraphs([ParagraphInput(str(i), t) for i, t in enumerate(texts)])
    assert [r.label for r in results] == ["improvement", "success", "success"]
    assert results[0].cues[0] == "n'a pas encore fait ses preuves"
    assert "trouvé sa place" in results[1].cues
    assert all("hui" not in c.casefold().split("aujourd") for c in results[1].cues)
    assert "hausse de 62 %" in results[2].cues


def test_windows_are_runs_of_sentences():
    text = "Le DMP progresse. M. Durand le dit. « Tout va bien. » Mais il reste 3 mois… Fin!"
    assert [text[a:b] for a, b in windows(text, (2,), 2)] == [
        "Le DMP progresse. M. Durand le dit. ", "« Tout va bien. » Mais il reste 3 mois… ", "Mais il reste 3 mois… Fin!"]
    assert [text[a:b] for a, b in windows(text, (1,), 1)][1:3] == ["M. Durand le dit. ", "« Tout va bien. » "]
    assert windows("Une seule phrase, sans point final", (2,), 2) == []


def _glued(*names):
    texts = {case: text for case, _, _, text in HARD_CASES}
    return " ".join(texts[name] for name in names)


def test_a_long_paragraph_is_decided_by_its_evaluative_window():
    text = _glued("announcement", "figures of progress", "figure only", "biography")
    assert len(text.split()) > load_model().rule.words
    [result] = classify_paragraphs([ParagraphInput("p", text)])
    assert result.label == "success"
    assert 0.0 <= result.score <= 1.0
    window = text[:text.index("Le programme dispose")]
    assert result.cues and all(cue in window for cue in result.cues)
    [context] = classify_paragraphs([ParagraphInput("c", _glued("announcement", "figure only", "biography", "announcement"))])
    assert context.label == "context" and 0.0 <= context.score <= 1.0


@pytest.mark.xfail(strict=True, reason="one improvement sentence among three context ones is still read as "
                   "context by the long-paragraph layer (see MODEL_CARD.md, known limits)")
def test_a_long_paragraph_with_one_problem_among_context():
    [result] = classify_paragraphs([ParagraphInput("p", _glued("announcement", "negation", "figure only", "biography"))])
    assert result.label == "improvement"


def test_one_batch_equals_one_by_one():
    items = [ParagraphInput(f"id{i}", text, heading) for i, (_, heading, _, text) in enumerate(HARD_CASES)]
    items.append(ParagraphInput("long", _glued("announcement", "figures of progress", "figure only", "biography")))
    together = classify_paragraphs(items)
    alone = [classify_paragraphs([item])[0] for item in items]
    assert together == alone
    assert classify_paragraphs([]) == []


def _seed_paragraphs():
    if not SEED.exists():
        pytest.skip("seed article not available")
    headings = {"Des actions marquées par la crise sanitaire", "Plusieurs succès…", "… et d’autres points à approfondir"}
    heading, items = None, []
    for line in SEED.read_text(encoding="utf-8").splitlines():
        if line.strip() in headings:
            heading = line.strip()
        elif line.strip():
            items.append(ParagraphInput(f"s{len(items)}", line.strip(), heading))
    return items


@pytest.mark.parametrize(
    ("start", "heading", "expected"),
    [
        ("Sur le banc des réussites", "Plusieurs succès…", "success"),
        ("Mais si le lancement de Mon Espace Santé", "Plusieurs succès…", "improvement"),
        ("« En matière de gouvernance", "… et d’autres points à approfondir", "improvement"),
    ],
)
def test_seed_paragraphs(start, heading, expected):
    item = next(i for i in _seed_paragraphs() if i.text.startswith(start))
    assert item.heading == heading
    [result] = classify_paragraphs([item])
    assert result.label == expected


def _article(*sections):
    built = tuple(
        Section(heading, tuple(Paragraph(f"{k}-{j}", text, j) for j, text in enumerate(texts)))
        for k, (heading, texts) in enumerate(sections)
    )
    return Article("a1", "https://example.org/a", "Titre", "test", None, built)


def test_classify_article_uses_section_headings():
    article = _article(("Des réussites en série", [HARD_CASES[2][3]]), (None, [HARD_CASES[5][3]]))
    expected = classify_paragraphs([
        ParagraphInput("0-0", HARD_CASES[2][3], "Des réussites en série"),
        ParagraphInput("1-0", HARD_CASES[5][3], None),
    ])
    assert classify_article(article) == tuple(expected)


def test_label_sections_keeps_both_kinds():
    article = _article(("Bilan", ["a", "b", "c"]), ("Contexte", ["d"]), ("Vide", []))
    results = [
        Classification("0-0", "success", 0.9), Classification("0-1", "improvement", 0.7),
        Classification("0-2", "context", 0.6), Classification("1-0", "context", 0.8),
    ]
    assert label_sections(article, results) == (
        SectionLabel("Bilan", "mixed", 0.8, ("0-0",), ("0-1",)),
        SectionLabel("Contexte", "context", 0.8),
        SectionLabel("Vide", "context", 0.0),
    )


def test_evaluation_numbers_on_a_hand_computed_example():
    gold = ["success", "success", "success", "improvement", "context", "context", "context"]
    predicted = ["success", "success", "improvement", "improvement", "context", "success", "improvement"]
    report = evaluate_predictions(gold, predicted)
    assert report.confusion == ((2, 1, 0), (0, 1, 0), (1, 1, 1))
    assert report.accuracy == 0.5714
    assert [(c.precision, c.recall, c.f1, c.support) for c in report.per_class] == [
        (0.6667, 0.6667, 0.6667, 3), (0.3333, 1.0, 0.5, 1), (1.0, 0.3333, 0.5, 3)]
    assert report.macro_f1 == 0.5556
    assert report.to_dict()["per_class"]["improvement"]["recall"] == 1.0
    assert "macro-F1=0.556" in format_report(report)


def test_evaluate_model_and_lexicon_baseline_on_rows():
    rows = [{"text": text, "label": expected, "heading": heading} for _, heading, expected, text in HARD_CASES]
    assert evaluate_model(rows).n == len(HARD_CASES)
    assert lexicon_baseline([{"text": "Un succès et un record.", "label": "success"},
                             {"text": "Des retards et des pannes.", "label": "success"},
                             {"text": "La réunion a lieu mardi.", "label": "context"}]) == ["success", "improvement", "context"]


def test_read_corpus_skips_a_partial_last_line(tmp_path):
    path = tmp_path / "train-x.jsonl"
    path.write_text('{"text": "Un.", "label": "context"}\n{"text": "Deux", "label": "succ', encoding="utf-8")
    assert [r.text for r in read_corpus([path])] == ["Un."]


def test_missing_and_corrupt_models_raise_model_error(tmp_path):
    with pytest.raises(ModelError, match="presswatch train"):
        load_model(tmp_path / "absent.bin")
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"not a model at all")
    with pytest.raises(ModelError, match="not a presswatch model"):
        load_model(garbage)
    blob = MODEL_PATH.read_bytes()
    truncated = tmp_path / "truncated.bin"
    truncated.write_bytes(blob[:-100])
    with pytest.raises(ModelError, match="corrupt"):
        load_model(truncated)
    header, payload = read_header(MODEL_PATH)
    old = tmp_path / "old.bin"
    old.write_bytes(b"presswatch-model\n" + json.dumps(header | {"sklearn": "0.24.2"}).encode() + b"\n" + payload)
    with pytest.raises(ModelError, match="scikit-learn 0.24.2"):
        load_model(old)


def test_training_is_reproducible_and_writes_a_card(tmp_path):
    rows = [json.loads(line) for line in (CORPUS / "train-c.jsonl").read_text(encoding="utf-8").splitlines()]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "train-z.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[:90]), encoding="utf-8")
    (corpus / "dev.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[80:]), encoding="utf-8")
    cards = [train_model(corpus, tmp_path / name, seed=0) for name in ("one", "two")]
    assert cards[0].data_hash == cards[1].data_hash
    assert cards[0].dropped_as_in_dev == 10
    assert sum(cards[0].train_sizes.values()) == 80
    assert sum(cards[0].dev_sizes.values()) == len(rows) - 80
    assert set(cards[0].baselines) == {"lexicon baseline", "plain TF-IDF baseline"}
    assert (tmp_path / "one" / "MODEL_CARD.md").read_text(encoding="utf-8").startswith("# presswatch paragraph classifier")
    assert json.loads((tmp_path / "one" / "model_card.json").read_text(encoding="utf-8"))["cv_folds"] == cards[0].cv_folds
    assert (tmp_path / "one" / "long_rule.json").read_text() == (tmp_path / "two" / "long_rule.json").read_text()
    items = [ParagraphInput(str(i), r["text"], r.get("heading")) for i, r in enumerate(rows[80:])]
    first, second = (classify_paragraphs(items, load_model(tmp_path / n / "classifier.bin")) for n in ("one", "two"))
    assert first == second
    shutil.rmtree(corpus)


def _stack_rule(weights_of_label):
    """A stacked rule whose layer copies one feature per label (a readable, hand-made layer)."""
    from presswatch.classify import STACK_FEATURES, LongRule
    stack = tuple(tuple(10.0 if j == feature else 0.0 for j in range(STACK_FEATURES)) for feature in weights_of_label)
    return LongRule((2,), 0.5, True, 1.0, 70, 1, stack, (0.0, 0.0, 0.0))


def test_the_stacked_layer_reads_whole_and_window_probabilities():
    from presswatch.classify import decide, stack_features
    labels = ("context", "improvement", "success")
    parts = np.array([[0.8, 0.1, 0.1], [0.2, 0.1, 0.7], [0.6, 0.3, 0.1]])
    lengths = np.array([30.0, 10.0, 20.0])
    whole = np.array([0.5, 0.3, 0.2])
    features = stack_features(parts, lengths, whole)
    assert features.shape == (18,)
    assert features[:3].tolist() == whole.tolist()
    assert features[3:6].tolist() == [0.8, 0.3, 0.7]
    assert np.allclose(features[6:9], (30 * parts[0] + 10 * parts[1] + 20 * parts[2]) / 60)
    assert features[9:12].tolist() == parts[0].tolist() and features[12:15].tolist() == parts[-1].tolist()
    assert np.allclose(features[15:], [50 / 60, 0.0, 10 / 60])
    # following the windows' maxima: context (0.8); whole context vs last window's improvement vs whole
    # success: context, shown from the most context-like window; whole context vs maxima of improvement
    # and success: success (0.7), shown from the second window
    assert decide(parts, lengths, _stack_rule((3, 4, 5)), labels, whole)[::2] == (0, 0)
    k, score, row = decide(parts, lengths, _stack_rule((0, 13, 2)), labels, whole)
    assert (k, row) == (0, 0) and 0.0 < score < 1.0
    k, _, row = decide(parts, lengths, _stack_rule((0, 4, 5)), labels, whole)
    assert k == 2 and row == 1


def test_a_malformed_stacked_layer_is_a_model_error(tmp_path):
    model = tmp_path / "classifier.bin"
    shutil.copy(MODEL_PATH, model)
    rule = {"sizes": [2], "threshold": 0.5, "whole": True, "lean": 1.0, "words": 70, "step": 1,
            "stack": [[1.0] * 18, [1.0] * 18, [1.0] * 17], "stack_bias": [0.0, 0.0, 0.0]}
    (tmp_path / "long_rule.json").write_text(json.dumps(rule), encoding="utf-8")
    with pytest.raises(ModelError, match="long_rule.json"):
        load_model(model)
    rule["stack"][2].append(1.0)
    (tmp_path / "long_rule.json").write_text(json.dumps(rule), encoding="utf-8")
    assert len(load_model(model).rule.stack) == 3


def test_windows_cut_from_one_tokenisation_equal_windows_prepared_alone():
    from presswatch.reading import prepare, prepare_spans
    texts = [r.text for r in read_corpus(sorted(CORPUS.glob("train-long-*.jsonl")))][:150]
    texts += [_glued("announcement", "negation", "figure only"), "Le DMP progresse. M. Durand le dit. « Tout va bien. » Mais il reste 3 mois… Fin!",
              "Une phrase\u00a0; puis l’œuvre d’art. Une autre, enfin."]
    checked = 0
    for text in texts:
        for sizes, step in (((2,), 1), ((1,), 1)):
            spans = windows(text, sizes, step)
            if spans:
                spans = [(0, len(text)), *spans]
                assert prepare_spans(text, "Un titre", spans) == prepare([(text[a:b], "Un titre") for a, b in spans])
                checked += 1
    assert checked >= 250


def test_a_heading_word_of_the_other_side_is_never_shown_as_a_cue():
    cases = [
        ("Plusieurs succès", "succès", "Des succès, sans doute, mais les centres de santé alimentent peu le dossier."),
        ("Des réussites", "réussites", "Des réussites, oui. Mais l'ordonnance numérique n'a pas encore atteint les "
         "officines rurales."),
    ]
    for heading, word, text in cases:
        [result] = classify_paragraphs([ParagraphInput("p", text, heading)])
        assert result.label == "improvement"
        assert f"titre: {word}" not in result.cues
