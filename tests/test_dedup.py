import importlib.util
import io
import json
import random
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from presswatch.dedup import (
    ArticleRecord,
    DedupIndex,
    DuplicateMatch,
    ParagraphRecord,
    drop_duplicate_paragraphs,
    find_duplicates,
    group_stories,
    iter_duplicates,
    iter_matches,
)
from presswatch.errors import StoreError
from presswatch.models import Article, Paragraph, Section, paragraph_id

SEED = Path(__file__).parents[2] / "shared" / "seeds" / "000_f3189f94bcb30073.txt"

MES = (
    "Lancée au début de l'année 2022, Mon Espace Santé a été ouverte d'office pour chaque assuré "
    "qui ne s'y était pas opposé. Les caisses primaires ont envoyé des courriers d'information "
    "pendant plusieurs semaines. Selon l'Assurance maladie, 15 millions d'utilisateurs l'ont activée."
)
MES_EDITED = MES.replace("plusieurs semaines", "plusieurs mois")
MES_FIGURE = MES.replace("15 millions", "16 millions")
MES_OTHER = (
    "Mon Espace Santé accueille désormais un catalogue d'applications référencées par l'État. "
    "Les éditeurs doivent respecter des exigences d'interopérabilité et de sécurité avant d'y figurer. "
    "Une trentaine de services étaient proposés à la fin de la première année."
)
SEGUR = (
    "Le Ségur du numérique finance la mise à jour des logiciels utilisés par les hôpitaux et les "
    "cabinets de ville. Les éditeurs doivent être référencés avant de toucher le forfait prévu. "
    "La deuxième vague vise aussi les laboratoires et les centres de radiologie."
)
SEGUR_EDITED = SEGUR.replace("’", "'").replace("Ségur du numérique", "« Ségur du numérique »") + " ! "


def _corpus_gen():
    path = Path(__file__).parent / "benchmarks" / "corpus_gen.py"
    spec = importlib.util.spec_from_file_location("corpus_gen", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["corpus_gen"] = module
    spec.loader.exec_module(module)
    return module


def _article(texts, url="https://example.org/a"):
    paragraphs = tuple(Paragraph(paragraph_id(url, t), t, k) for k, t in enumerate(texts))
    return Article(id="a1", url=url, title="Titre", source="test", published=date(2024, 3, 1),
                   sections=(Section(None, paragraphs),))


def test_one_word_changed_is_a_duplicate_other_paragraph_on_same_programme_is_not():
    matches = find_duplicates([ParagraphRecord("a", MES), ParagraphRecord("b", MES_EDITED), ParagraphRecord("c", MES_OTHER)])
    assert [(m.id, m.duplicate_of, m.kind) for m in matches] == [
        ("a", None, "unique"), ("b", "a", "duplicate"), ("c", None, "unique")]
    assert 0.8 <= matches[1].similarity < 1.0


def test_figure_update_is_kept_and_linked():
    matches = find_duplicates([ParagraphRecord("old", MES, (date(2024, 1, 5),)),
                               ParagraphRecord("new", MES_FIGURE, (date(2024, 2, 5),)),
                               ParagraphRecord("copy", MES_FIGURE + " ", (date(2024, 2, 6),))])
    assert [(m.id, m.duplicate_of, m.kind) for m in matches] == [
        ("old", None, "unique"), ("new", "old", "figure_update"), ("copy", "new", "duplicate")]
    assert matches[1].similarity >= 0.8
    assert matches[2].similarity == 1.0


SHORT_15 = ("Mon Espace Santé compte désormais 15 millions d'utilisateurs actifs, selon l'Assurance maladie, "
            "qui se félicite d'une adoption plus rapide que prévu dans toutes les régions.")


def test_one_changed_figure_in_a_short_paragraph_is_a_figure_update_not_unique():
    newer = SHORT_15.replace("15 millions", "16 millions")
    other_facts = ("Mon Espace Santé compte désormais 16 applications référencées, selon la délégation au "
                   "numérique, qui regrette une intégration plus lente que prévu dans les hôpitaux.")
    matches = find_duplicates([ParagraphRecord("old", SHORT_15, (1,)), ParagraphRecord("new", newer, (2,)),
                               ParagraphRecord("other", other_facts, (3,))])
    assert [(m.id, m.duplicate_of, m.kind) for m in matches] == [
        ("old", None, "unique"), ("new", "old", "figure_update"), ("other", None, "unique")]
    assert matches[1].similarity == 1.0
    written = SHORT_15.replace("15 millions", "1,6 million")
    assert find_duplicates([ParagraphRecord("old", SHORT_15), ParagraphRecord("w", written)])[1].kind == "figure_update"


def test_a_chain_of_figure_updates_links_each_to_the_closest_earlier_version():
    v1 = SHORT_15.replace("toutes les régions", "12 régions sur 13")
    v2 = v1.replace("15 millions", "16 millions")
    v3 = v2.replace("12 régions", "13 régions")
    matches = find_duplicates([ParagraphRecord(k, t, (i,)) for i, (k, t) in enumerate((("v1", v1), ("v2", v2), ("v3", v3)))])
    assert [(m.id, m.duplicate_of, m.kind) for m in matches] == [
        ("v1", None, "unique"), ("v2", "v1", "figure_update"), ("v3", "v2", "figure_update")]


def test_figure_multiset_gaps_count_replaced_figures_only():
    from presswatch.candidates import multiset_gaps

    rows = (np.array([5, 7, 7, 5, 7, 9, 5], dtype=np.uint32), np.array([0, 3, 5, 7, 7]))
    left, right = np.array([0, 1, 0, 1, 2]), np.array([1, 2, 2, 1, 3])
    assert multiset_gaps(rows, left, rows, right).tolist() == [0, 2, 3, 0, 0]


def test_sentence_dropped_is_a_duplicate_even_when_it_carried_a_figure():
    shorter = MES.rsplit(". ", 1)[0] + "."
    matches = find_duplicates([ParagraphRecord("full", MES), ParagraphRecord("short", shorter)])
    assert (matches[1].duplicate_of, matches[1].kind) == ("full", "duplicate")
    assert matches[1].similarity < 0.8


def test_interleaved_near_duplicates_in_one_article_are_removed_with_kept_ids():
    article = _article([MES, SEGUR, MES_EDITED, SEGUR_EDITED])
    cleaned = drop_duplicate_paragraphs(article)
    assert [p.text for p in cleaned.paragraphs] == [MES, SEGUR]
    kept = {p.text: p.id for p in article.paragraphs}
    assert [(r.text, r.reason, r.kept_id) for r in cleaned.removals] == [
        (MES_EDITED, "near-duplicate", kept[MES]), (SEGUR_EDITED, "near-duplicate", kept[SEGUR])]
    assert cleaned.removals[1].similarity == 1.0
    assert drop_duplicate_paragraphs(_article([MES, MES_FIGURE])).removals == ()


def test_seed_article_repeated_paragraphs_are_found():
    if not SEED.exists():
        pytest.skip("seed article not available")
    lines = [line for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]
    cleaned = drop_duplicate_paragraphs(_article(lines))
    assert len(cleaned.removals) == 4
    assert len(cleaned.paragraphs) == len(lines) - 4
    assert all(r.similarity == 1.0 for r in cleaned.removals)


def test_story_from_two_outlets_grouped_with_earliest_canonical():
    body = (MES, SEGUR, MES_OTHER)
    articles = [
        ArticleRecord("late", "Outlet B", date(2024, 3, 4), (MES, SEGUR_EDITED, MES_OTHER)),
        ArticleRecord("early", "Outlet A", date(2024, 3, 2), body),
        ArticleRecord("alone", "Outlet C", date(2024, 3, 1), ("Un tout autre sujet sur la cybersécurité des hôpitaux publics.",)),
    ]
    stories = group_stories(articles)
    assert [(s.canonical_id, s.member_ids, s.outlets) for s in stories] == [
        ("alone", (), ("Outlet C",)), ("early", ("late",), ("Outlet A", "Outlet B"))]
    assert stories[0].similarity is None
    assert 0.8 <= stories[1].similarity <= 1.0


def test_same_date_story_prefers_the_most_complete_article():
    articles = [ArticleRecord("short", "B", date(2024, 3, 2), (MES, SEGUR)),
                ArticleRecord("long", "A", date(2024, 3, 2), (MES, SEGUR, "Une phrase ajoutée sur le calendrier du programme."))]
    [story] = group_stories(articles)
    assert (story.canonical_id, story.member_ids) == ("long", ("short",))


def _labelled(n=3000, seed=11):
    return list(_corpus_gen().generate(n, seed=seed))


def test_any_input_order_gives_the_same_result():
    items = _labelled()
    records = [ParagraphRecord(it.id, it.text, (k // 50,)) for k, it in enumerate(items)]
    reference = find_duplicates(records)
    assert sum(m.kind == "duplicate" for m in reference) > 500
    for seed in range(5):
        shuffled = records[:]
        random.Random(seed).shuffle(shuffled)
        assert find_duplicates(shuffled) == reference


def test_persisted_index_then_add_equals_one_batch():
    records = [ParagraphRecord(it.id, it.text, (k,)) for k, it in enumerate(_labelled())]
    first = DedupIndex()
    head = first.add(records[:1800])
    restored = DedupIndex.from_bytes(first.to_bytes())
    assert len(restored) == len(first) and restored.ids == first.ids
    tail = restored.add(records[1800:])
    assert head + tail == find_duplicates(records)


def test_streaming_in_chunks_equals_one_batch_in_input_order():
    items = _labelled()
    batch = find_duplicates(ParagraphRecord(it.id, it.text, (k,)) for k, it in enumerate(items))
    assert list(iter_matches(((it.id, it.text) for it in items), chunk=700)) == batch
    assert list(iter_matches(((it.id, it.text) for it in items), chunk=10**9)) == batch  # read in blocks of 65,536 at most


def test_background_threads_give_the_same_answer_as_one_thread():
    items = _labelled(5000, seed=5)
    records = [ParagraphRecord(it.id, it.text, (k,)) for k, it in enumerate(items)]
    alone = find_duplicates(records, workers=1)
    assert sum(m.kind == "duplicate" for m in alone) > 800
    assert find_duplicates(records, workers=2) == alone  # 3 chunks of texts, hashed on 2 threads
    assert find_duplicates(records, workers=3) == alone
    lines = [(it.id, it.text) for it in items]
    streamed, helpers = [], set()
    for match in iter_matches(iter(lines), chunk=600, workers=2):  # 9 blocks hashed ahead
        streamed.append(match)
        helpers |= {t.name for t in threading.enumerate() if t.name.startswith("presswatch-dedup")}
    assert streamed == alone and helpers  # the background thread did run
    assert not [t for t in threading.enumerate() if t.name.startswith("presswatch-dedup")]  # and is gone


def _threads_started_by(run):
    started = set()
    threading.setprofile(lambda *_: started.add(threading.current_thread().name))  # runs in each new thread
    try:
        run()
    finally:
        threading.setprofile(None)
    return {name for name in started if name.startswith("presswatch-dedup")}


def test_a_few_paragraphs_start_no_thread():
    few = [ParagraphRecord("a", MES), ParagraphRecord("b", MES_EDITED)]
    assert not _threads_started_by(lambda: find_duplicates(few, workers=2))
    many = [ParagraphRecord(it.id, it.text) for it in _labelled(2500)]
    assert _threads_started_by(lambda: find_duplicates(many, workers=2))


def test_a_reader_error_comes_after_the_answers_to_every_line_before_it():
    def lines():
        for k, it in enumerate(_labelled(2000)):
            if k == 1300:
                raise ValueError("line 1301: not JSON")
            yield it.id, it.text

    for workers in (1, 2):
        out = []
        with pytest.raises(ValueError, match="line 1301"):
            for match in iter_matches(lines(), chunk=400, workers=workers):
                out.append(match)
        assert [m.id for m in out] == [it.id for it in _labelled(2000)[:1300]]  # every line before the bad one


def test_an_index_saved_with_other_hashing_is_refused():
    blob = DedupIndex().to_bytes()
    with np.load(io.BytesIO(blob)) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(arrays["meta"].tobytes())
    del meta["format"]
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    with pytest.raises(StoreError, match="rebuild"):
        DedupIndex.from_bytes(buf.getvalue())


def test_streaming_matches_labels_on_a_generated_file(tmp_path):
    path = tmp_path / "paras.jsonl"
    labels = _corpus_gen().write_jsonl(path, 20000, seed=3)

    def lines():
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                yield row["id"], row["text"]

    out = list(iter_duplicates(lines()))
    assert [i for i, _, _ in out] == [f"p{k:07d}" for k in range(20000)]
    family = {f"p{k:07d}": lab[0] for k, lab in enumerate(labels)}
    seen, expected = set(), 0
    for fam, _, _ in labels:
        expected += fam in seen
        seen.add(fam)
    flagged = [(i, d) for i, d, _ in out if d is not None]
    correct = sum(family[i] == family[d] for i, d in flagged)
    assert correct / len(flagged) >= 0.99
    assert correct / expected >= 0.97
    hard = {f"p{k:07d}": lab[1] for k, lab in enumerate(labels) if lab[1] >= 0}
    assert sum(family[d] == hard.get(i) for i, d in flagged) <= len(hard) // 100
    assert out == list(iter_duplicates(lines()))


def test_stream_reports_figure_updates_in_iter_matches():
    out = list(iter_matches([("a", MES), ("b", MES_FIGURE), ("c", MES_EDITED)], chunk=1))
    assert out == [DuplicateMatch("a", None, None, "unique"),
                   DuplicateMatch("b", "a", out[1].similarity, "figure_update"),
                   DuplicateMatch("c", "a", out[2].similarity, "duplicate")]


def test_result_does_not_depend_on_python_hash_seed():
    code = ("from presswatch.dedup import find_duplicates, ParagraphRecord as R; import sys; "
            f"print(find_duplicates([R('a', {MES!r}), R('b', {MES_EDITED!r}), R('c', {MES_FIGURE!r})]))")
    outputs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={"PYTHONHASHSEED": seed, "PATH": ""}).stdout for seed in ("1", "2")}
    assert len(outputs) == 1
