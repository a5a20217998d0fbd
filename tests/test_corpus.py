"""Corpus-level duplicates written to a real SQLite store, and what the digests make of them."""

from __future__ import annotations

import random
from datetime import date, datetime, timezone
from pathlib import Path

from presswatch.corpus import update_corpus
from presswatch.digest import build_digest
from presswatch.models import Article, Classification, Paragraph, Period, Section, article_id, paragraph_id
from presswatch.store import Store, open_store

SEEN = datetime(2022, 11, 9, 6, 0, tzinfo=timezone.utc)

LEAD = (
    "La deuxième vague du Ségur du numérique s'ouvre aux éditeurs de logiciels de radiologie, de "
    "biologie et de dossier patient informatisé, a indiqué mardi la Délégation au numérique en santé."
)
FUNDING = (
    "L'enveloppe réservée à cette vague atteint 150 millions d'euros, versés aux éditeurs qui "
    "feront référencer une version conforme de leur logiciel avant la fin de l'année 2023."
)
DELAY = (
    "Les éditeurs dénoncent toutefois un calendrier très serré : plusieurs d'entre eux jugent "
    "impossible de livrer les nouvelles fonctions dans les délais fixés par l'agence."
)
MES_15 = (
    "Mon Espace Santé compte désormais 15 millions d'utilisateurs actifs, selon l'Assurance "
    "maladie, qui se félicite d'une adoption plus rapide que prévu dans toutes les régions."
)
TELE = (
    "La télésurveillance des patients insuffisants cardiaques entre dans le droit commun, "
    "après quatre années d'expérimentation dans le cadre du programme Etapes."
)


def article(url: str, outlet: str, day: date, texts: list[str]) -> Article:
    paragraphs = tuple(Paragraph(paragraph_id(url, t), t, i) for i, t in enumerate(texts))
    return Article(article_id(url), url, f"Article {outlet}", outlet, day, (Section(None, paragraphs),),
                   language="fr", relevant=True)


def save(store: Store, art: Article, label: str = "success") -> None:
    store.save_article(art, [Classification(p.id, label, 0.9, ("cue",)) for p in art.paragraphs], (), seen_at=SEEN)


AGENCY = article("https://agence.example.fr/segur-vague-2", "Agence Santé Presse", date(2022, 11, 7),
                 [LEAD, FUNDING, DELAY])
COPY = article("https://hebdo.example.fr/segur-editeurs", "e-Santé Hebdo", date(2022, 11, 8),
               [LEAD.replace("a indiqué", "a annoncé"), FUNDING.replace("réservée", "consacrée"),
                DELAY + " Une réunion de concertation est prévue la semaine prochaine."])
FIRST = article("https://hebdo.example.fr/mes-15", "e-Santé Hebdo", date(2022, 10, 4), [MES_15, TELE])
UPDATE = article("https://mag.example.fr/mes-16", "Hospitalis Mag", date(2022, 10, 11),
                 [MES_15.replace("15 millions", "16 millions")])


def marks(store: Store) -> list[tuple[str, str, str | None]]:
    rows = store._read("SELECT paragraph_id, kind, other_id FROM paragraph_marks WHERE kind != 'reported'"
                       " ORDER BY paragraph_id, kind")
    return [(r["paragraph_id"], r["kind"], r["other_id"]) for r in rows]


def test_syndicated_copy_is_grouped_and_its_paragraphs_marked(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.db") as store:
        for art in (COPY, AGENCY):
            save(store, art)
        report = update_corpus(store)
        assert (report.indexed, report.duplicates, report.stories) == (6, 3, 1)
        kept = {p.text[:30]: p.id for p in AGENCY.paragraphs}
        assert marks(store) == sorted(
            (p.id, "duplicate", kept[t[:30]] if t[:30] in kept else None)
            for p, t in zip(COPY.paragraphs, (LEAD, FUNDING, DELAY))
        )
        digest = build_digest(store, Period.parse("2022-W45"))
        assert [i.article_id for i in digest.successes] == [AGENCY.id] * 3
        assert digest.successes[0].also_in == ("e-Santé Hebdo",)
        assert update_corpus(store).indexed == 0


def test_a_figure_update_is_kept_and_linked_to_the_older_figure(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.db") as store:
        save(store, FIRST)
        update_corpus(store)
        save(store, UPDATE)
        report = update_corpus(store)
        assert (report.indexed, report.duplicates, report.figure_updates) == (1, 0, 1)
        assert marks(store) == [(UPDATE.paragraphs[0].id, "figure_update", FIRST.paragraphs[0].id)]
        item = build_digest(store, Period.parse("2022-W41")).successes[0]
        assert item.paragraph_id == UPDATE.paragraphs[0].id
        assert item.updates == "précédemment 15 millions d'utilisateurs actifs le 4 octobre 2022"


def test_the_same_articles_in_any_order_give_the_same_marks(tmp_path: Path) -> None:
    results = []
    for seed in range(4):
        arts = [AGENCY, COPY, FIRST, UPDATE]
        random.Random(seed).shuffle(arts)
        with open_store(tmp_path / f"s{seed}.db") as store:
            for art in arts:
                save(store, art)
            update_corpus(store)
            results.append(marks(store))
    assert all(r == results[0] for r in results) and len(results[0]) == 4


def test_a_story_republished_next_week_is_not_new_in_that_weeks_digest(tmp_path: Path) -> None:
    late = article("https://mag.example.fr/segur-rappel", "Hospitalis Mag", date(2022, 11, 15),
                   [LEAD.replace("a indiqué", "a précisé"), TELE.replace("Etapes", "ETAPES")])
    with open_store(tmp_path / "s.db") as store:
        save(store, AGENCY)
        update_corpus(store)
        first = build_digest(store, Period.parse("2022-W45"))
        store.mark_reported([i.paragraph_id for i in first.successes], "2022-W45", date(2022, 11, 7))
        save(store, late)
        update_corpus(store)
        second = build_digest(store, Period.parse("2022-W46"))
    new = [i for i in second.successes if i.first_reported is None]
    assert [i.text for i in new] == [late.paragraphs[1].text]
    repeated = [i for i in second.successes if i.first_reported is not None]
    assert [(i.paragraph_id, i.first_reported) for i in repeated] == [(late.paragraphs[0].id, date(2022, 11, 7))]


def test_an_index_saved_without_any_figure_grows_after_reloading(tmp_path: Path) -> None:
    plain = article("https://ex.fr/a", "Le Journal du SIH", date(2022, 10, 3), [TELE.replace("quatre", "plusieurs")])
    with open_store(tmp_path / "s.db") as store:
        save(store, plain)
        update_corpus(store)
        save(store, FIRST)
        assert update_corpus(store).indexed == 2


def test_a_month_with_both_figures_shows_only_the_update(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.db") as store:
        for art in (FIRST, UPDATE):
            save(store, art)
        update_corpus(store)
        month = build_digest(store, Period.parse("2022-10"))
    shown = [i.text for i in month.successes]
    assert UPDATE.paragraphs[0].text in shown and FIRST.paragraphs[0].text not in shown
    assert FIRST.paragraphs[1].text in shown


def test_the_json_digest_lists_each_story_once_with_its_outlets(tmp_path: Path) -> None:
    from presswatch.digest import digest_document

    with open_store(tmp_path / "s.db") as store:
        for art in (COPY, AGENCY):
            save(store, art)
        update_corpus(store)
        document = digest_document(build_digest(store, Period.parse("2022-W45")))
    assert document["stories"] == [{
        "story_id": AGENCY.id, "canonical_article_id": AGENCY.id, "title": AGENCY.title,
        "outlets": ["Agence Santé Presse", "e-Santé Hebdo"], "articles": [AGENCY.id, COPY.id],
    }]


def test_an_index_of_an_older_format_is_rebuilt_from_the_stored_paragraphs(tmp_path: Path) -> None:
    import io
    import json

    import numpy as np

    with open_store(tmp_path / "s.db") as store:
        save(store, AGENCY)
        update_corpus(store)
        with np.load(io.BytesIO(store.dedup_index()), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(arrays["meta"].tobytes().decode("utf-8"))
        meta["format"] = 1
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        store.save_corpus_state(buf.getvalue(), [], [], [])
        save(store, COPY)
        report = update_corpus(store)
        assert (report.indexed, report.duplicates) == (6, 3)
