from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from presswatch.errors import StoreError
from presswatch.models import (
    Article, Classification, Failure, Paragraph, ParagraphFacts, Period, Removal, Section,
    article_id, paragraph_id,
)
from presswatch.store import SCHEMA_VERSION, Store, open_store

PARIS = timezone(timedelta(hours=2))
SEEN = datetime(2022, 9, 20, 8, 30, tzinfo=PARIS)
URL = "https://www.exemple-sante.fr/actualites/mon-espace-sante-un-an"


def make_article(
    url: str = URL,
    sections: list[tuple[str | None, list[str]]] | None = None,
    *,
    title: str = "Mon Espace Santé, un an après : des chiffres et des doutes",
    published: date | None = date(2022, 9, 20),
    source: str = "Journal des hôpitaux",
    **extra: object,
) -> Article:
    sections = sections if sections is not None else [
        (None, [
            "Un an après son ouverture à tous les assurés, Mon Espace Santé revendique plus de "
            "douze millions de profils activés, selon l'Assurance maladie.",
            "Le service regroupe le dossier médical partagé, une messagerie sécurisée et un agenda.",
        ]),
        ("Des médecins encore réticents", [
            "Seuls 38 % des cabinets équipés d'un logiciel référencé Ségur alimentent le DMP "
            "chaque semaine, un rythme jugé insuffisant par la Cnam.",
        ]),
    ]
    position = 0
    built = []
    for heading, texts in sections:
        paragraphs = []
        for text in texts:
            paragraphs.append(Paragraph(paragraph_id(url, text), text, position))
            position += 1
        built.append(Section(heading, tuple(paragraphs)))
    fields: dict[str, object] = {"language": "fr", "relevant": True, "topics": ("mon-espace-sante",)}
    fields.update(extra)
    return Article(article_id(url), url, title, source, published, tuple(built), **fields)  # type: ignore[arg-type]


def labels_for(article: Article) -> tuple[Classification, ...]:
    kinds = ["success", "context", "improvement", "context", "context", "context"]
    return tuple(
        Classification(p.id, kinds[i % len(kinds)], 0.9 - i / 10, ("revendique",) if i == 0 else ())  # type: ignore[arg-type]
        for i, p in enumerate(article.paragraphs)
    )


def facts_for(article: Article) -> tuple[ParagraphFacts, ...]:
    first = article.paragraphs[0]
    return (ParagraphFacts(first.id, ("Mon Espace Santé",), ("douze millions",), ()),)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with open_store(tmp_path / "state" / "presswatch.db") as opened:
        yield opened


def test_open_creates_folders_and_a_wal_database_of_the_current_version(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "presswatch.db"
    with open_store(path) as store:
        assert store.counts()["articles"] == 0
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    conn.close()
    with open_store(path) as store:  # reopening an up-to-date store migrates nothing
        assert store.counts()["articles"] == 0


def test_a_newer_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "presswatch.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 7")
    conn.close()
    with pytest.raises(StoreError, match="schema version 7"):
        open_store(path)


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "presswatch.db"
    path.write_bytes(b"ceci n'est pas une base SQLite" * 200)
    with pytest.raises(StoreError):
        open_store(path)


def test_saving_twice_changes_nothing(store: Store) -> None:
    article = make_article()
    assert store.save_article(article, labels_for(article), facts_for(article), seen_at=SEEN) == "new"
    before = store.counts()
    later = SEEN + timedelta(days=1)
    assert store.save_article(article, labels_for(article), facts_for(article), seen_at=later) == "unchanged"
    assert store.counts() == before
    assert before["articles"] == 1 and before["revisions"] == 1 and before["paragraphs"] == 3
    assert before["classifications"] == 3 and before["facts"] == 1
    [stored] = store.articles_in(Period.parse("2022-W38"))
    assert stored.revision == 1
    assert stored.first_seen == SEEN and stored.last_seen == later


def test_stored_article_reads_back_equal(store: Store) -> None:
    article = make_article(
        author="Claire Martin",
        canonical_url=URL + "?amp=0",
        date_source="meta",
        declared_language="fr-FR",
        relevant=None,
        topics=("dmp", "mon-espace-sante"),
        removals=(
            Removal("Photo : le siège de l'Assurance maladie ©DR", "caption"),
            Removal("Le service regroupe le dossier médical partagé.", "near-duplicate", "abc123", 0.93),
        ),
    )
    store.save_article(article, labels_for(article), facts_for(article), seen_at=SEEN)
    [stored] = store.articles_in(Period.parse("2022-09"))
    assert stored.article == article
    assert stored.article.content_hash == article.content_hash
    assert stored.classifications == {c.paragraph_id: c for c in labels_for(article)}
    assert stored.facts == {f.paragraph_id: f for f in facts_for(article)}
    assert stored.day == date(2022, 9, 20)


def test_changed_content_is_a_new_revision_not_a_new_article(store: Store) -> None:
    first = make_article()
    store.save_article(first, labels_for(first), (), seen_at=SEEN)
    second = make_article(sections=[(None, [
        "Un an après son ouverture, Mon Espace Santé revendique désormais treize millions de "
        "profils activés, corrige l'Assurance maladie.",
    ])])
    assert store.save_article(second, labels_for(second), (), seen_at=SEEN + timedelta(hours=5)) == "revised"
    counts = store.counts()
    assert (counts["articles"], counts["revisions"], counts["paragraphs"]) == (1, 2, 4)
    [stored] = store.articles_in(Period.parse("2022-W38"))
    assert stored.revision == 2
    assert stored.article == second
    assert stored.first_seen == SEEN
    assert set(stored.classifications) == {second.paragraphs[0].id}
    assert store.save_article(second, labels_for(second), (), seen_at=SEEN + timedelta(hours=6)) == "unchanged"
    assert store.counts()["revisions"] == 2


def test_a_new_label_for_the_same_text_updates_without_a_revision(store: Store) -> None:
    article = make_article()
    store.save_article(article, labels_for(article), (), seen_at=SEEN)
    relabelled = [replace(c, label="improvement", score=0.61) for c in labels_for(article)]
    assert store.save_article(article, relabelled, (), seen_at=SEEN, model_version="2") == "unchanged"
    [stored] = store.articles_in(Period.parse("2022-W38"))
    assert {c.label for c in stored.classifications.values()} == {"improvement"}
    assert store.counts()["classifications"] == 3


def test_a_crash_in_the_middle_of_a_save_leaves_nothing(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    article = make_article()
    real = Store._insert_revision

    def insert_then_crash(self: Store, *args: object) -> None:
        real(self, *args)
        raise RuntimeError("disque plein")

    monkeypatch.setattr(Store, "_insert_revision", insert_then_crash)
    with pytest.raises(RuntimeError, match="disque plein"):
        store.save_article(article, labels_for(article), facts_for(article), seen_at=SEEN)
    assert all(n == 0 for n in store.counts().values())
    monkeypatch.undo()
    assert store.save_article(article, labels_for(article), facts_for(article), seen_at=SEEN) == "new"


def test_a_bad_value_rolls_back_the_whole_article(store: Store) -> None:
    article = make_article()
    labels = list(labels_for(article))
    labels[-1] = Classification(labels[-1].paragraph_id, "peut-être", 0.5)  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="rolled back"):
        store.save_article(article, labels, facts_for(article), seen_at=SEEN)
    assert all(n == 0 for n in store.counts().values())


def test_a_failed_revision_keeps_the_previous_one(store: Store) -> None:
    first = make_article()
    store.save_article(first, labels_for(first), (), seen_at=SEEN)
    second = make_article(sections=[(None, ["Le texte a été entièrement réécrit par la rédaction."])])
    bad = [Classification(second.paragraphs[0].id, "success", 1.7)]
    with pytest.raises(StoreError):
        store.save_article(second, bad, (), seen_at=SEEN)
    [stored] = store.articles_in(Period.parse("2022-W38"))
    assert stored.revision == 1 and stored.article == first
    assert store.counts()["paragraphs"] == 3


def test_labels_for_paragraphs_not_in_the_article_are_refused(store: Store) -> None:
    article = make_article()
    stray = Classification(paragraph_id(URL, "Un paragraphe qui n'existe pas."), "success", 0.8)
    with pytest.raises(StoreError, match="unknown paragraphs"):
        store.save_article(article, [stray], ())
    assert store.counts()["articles"] == 0


def test_failures_are_resolved_by_a_later_success(store: Store) -> None:
    week = Period.parse("2022-W38")
    store.record_failure(Failure("hospitalia", URL, "fetch", "HTTP 503", SEEN))
    store.record_failure(Failure("hospitalia", URL, "fetch", "délai dépassé", SEEN + timedelta(hours=2)))
    store.record_failure(Failure("hospitalia", "https://ex.fr/autre", "extract", "page vide", SEEN))
    store.record_failure(Failure("hospitalia", "https://ex.fr/vieux", "extract", "page vide", SEEN - timedelta(days=30)))
    store.record_failure(Failure("hospitalia", "https://ex.fr/apres", "read", "illisible", SEEN + timedelta(days=15)))
    failures = store.failures_in(week)
    assert [(f.uri, f.reason) for f in failures] == [
        ("https://ex.fr/apres", "illisible"),
        ("https://ex.fr/autre", "page vide"),
        (URL, "délai dépassé"),
    ]
    assert failures[2].at == SEEN + timedelta(hours=2)
    article = make_article()
    store.save_article(article, labels_for(article), (), seen_at=SEEN + timedelta(days=1))
    assert [f.uri for f in store.failures_in(week)] == ["https://ex.fr/apres", "https://ex.fr/autre"]
    assert store.counts()["failures"] == 5  # kept, only marked resolved
    assert store.counts()["open_failures"] == 3
    assert store.resolve_failures("https://ex.fr/autre") == 1
    assert store.resolve_failures("https://ex.fr/autre") == 0
    assert [f.uri for f in store.failures_in(week)] == ["https://ex.fr/apres"]
    assert store.failures_in(Period.parse("2022-W41")) == []


def test_a_recurring_failure_is_one_row_until_resolved(store: Store) -> None:
    failure = Failure("fichiers", "/data/press/vide.txt", "extract", "document vide", SEEN)
    store.record_failure(failure)
    store.record_failure(replace(failure, at=SEEN + timedelta(days=7)))
    assert store.counts()["failures"] == 1
    [latest] = store.failures_in(Period.parse("2022-W39"))
    assert latest.at == SEEN + timedelta(days=7)
    store.resolve_failures(failure.uri, SEEN + timedelta(days=8))
    store.record_failure(replace(failure, at=SEEN + timedelta(days=9)))  # broken again: a new row
    assert (store.counts()["failures"], store.counts()["open_failures"]) == (2, 1)


def test_a_failure_under_the_raw_uri_is_resolved_too(store: Store) -> None:
    uri = "/data/press/lot.jsonl#L3"
    store.record_failure(Failure("fichiers", uri, "read", "JSON invalide", SEEN))
    article = make_article()
    store.save_article(article, (), (), seen_at=SEEN, uri=uri)
    assert store.counts()["open_failures"] == 0


@pytest.mark.parametrize(
    ("published", "week"),
    [
        (date(2022, 9, 18), "2022-W37"),  # Sunday
        (date(2022, 9, 19), "2022-W38"),  # Monday
        (date(2022, 9, 25), "2022-W38"),  # Sunday
        (date(2022, 9, 26), "2022-W39"),  # Monday
        (date(2023, 1, 1), "2022-W52"),  # ISO week of the previous year
    ],
)
def test_articles_fall_in_their_iso_week(store: Store, published: date, week: str) -> None:
    article = make_article(published=published)
    store.save_article(article, (), (), seen_at=SEEN)
    period = Period.parse(week)
    assert [s.article.id for s in store.articles_in(period)] == [article.id]
    assert store.articles_in(period.previous()) == []
    assert store.articles_in(Period.containing("week", period.end)) == []


def test_an_undated_article_takes_the_day_it_was_first_seen(store: Store) -> None:
    article = make_article(published=None)
    store.save_article(article, (), (), seen_at=datetime(2022, 9, 25, 23, 30, tzinfo=PARIS))
    store.save_article(article, (), (), seen_at=datetime(2022, 10, 3, 9, 0, tzinfo=PARIS))
    assert [s.day for s in store.articles_in(Period.parse("2022-W38"))] == [date(2022, 9, 25)]
    assert store.articles_in(Period.parse("2022-W40")) == []
    assert store.covered_periods() == ["2022-W38", "2022-09"]


def test_marks_are_idempotent_and_reported_paragraphs_are_dated(store: Store) -> None:
    article = make_article()
    store.save_article(article, labels_for(article), (), seen_at=SEEN)
    first, second, third = (p.id for p in article.paragraphs)
    for _ in range(2):
        store.mark_paragraph(second, "duplicate", other_id="f00d", similarity=0.97, at=SEEN)
        store.mark_reported([first, third], "2022-W37", date(2022, 9, 12))
    store.mark_reported([first], "2022-W38", date(2022, 9, 19))
    assert store.counts()["paragraph_marks"] == 4
    assert store.reported_before(date(2022, 9, 19)) == {first: date(2022, 9, 12), third: date(2022, 9, 12)}
    assert store.reported_before(date(2022, 9, 12)) == {}
    [stored] = store.articles_in(Period.parse("2022-W38"))
    assert [(m.kind, m.other_id, m.similarity) for m in stored.marks[second]] == [("duplicate", "f00d", 0.97)]


def test_stories_list_the_other_outlets(store: Store) -> None:
    one = make_article()
    two = make_article("https://www.autre-journal.fr/dmp", source="Le Quotidien du numérique")
    three = make_article("https://www.troisieme.fr/dmp", source="Journal des hôpitaux")
    for article in (one, two, three):
        store.save_article(article, (), (), seen_at=SEEN)
    for article in (one, two, three):
        store.set_story(article.id, "story-dmp", one.id)
    by_id = {s.article.id: s for s in store.articles_in(Period.parse("2022-W38"))}
    assert by_id[one.id].also_in == ("Le Quotidien du numérique",)
    assert by_id[two.id].also_in == ("Journal des hôpitaux",)
    assert (by_id[two.id].story_id, by_id[two.id].canonical_id) == ("story-dmp", one.id)


def test_fetch_state_round_trip(store: Store) -> None:
    assert store.get_fetch_state(URL) is None
    store.set_fetch_state(URL, etag='W/"42"', last_modified="Tue, 20 Sep 2022 08:00:00 GMT",
                          content_hash="abc", status=200, fetched_at=SEEN)
    store.set_fetch_state(URL, etag='W/"43"', status=304, fetched_at=SEEN + timedelta(days=1))
    state = store.get_fetch_state(URL)
    assert state is not None
    assert (state.etag, state.last_modified, state.status) == ('W/"43"', None, 304)
    assert state.fetched_at == SEEN + timedelta(days=1)
    assert store.counts()["fetch_state"] == 1


def test_runs_and_source_status(store: Store) -> None:
    run = store.start_run(SEEN)
    store.finish_run(run, {"new": 1, "failed": 1}, SEEN + timedelta(minutes=3))
    assert store.counts()["runs"] == 1
    assert store.source_status("hopitaux-rss") == "0 article(s), never ingested, 0 open failure(s)"
    store.save_article(replace(make_article(), origin="hopitaux-rss"), (), (), seen_at=SEEN)
    store.record_failure(Failure("hopitaux-rss", "https://ex.fr/x", "fetch", "HTTP 404", SEEN))
    store.set_fetch_state("https://ex.fr/rss", etag=None, last_modified=None, content_hash="h", status=200,
                          fetched_at=SEEN)
    assert store.source_status("hopitaux-rss", "https://ex.fr/rss") == (
        "1 article(s), last seen 2022-09-20 08:30, last fetch 2022-09-20 08:30 (HTTP 200), 1 open failure(s)"
    )
    assert store.source_status("Journal des hôpitaux").startswith("0 article(s)")  # the outlet is not the source


def test_a_version_1_store_is_migrated_in_place_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with open_store(path) as store:
        store.record_failure(Failure("s", "u", "read", "r", datetime(2022, 9, 1, tzinfo=timezone.utc)))
    conn = sqlite3.connect(path)
    conn.executescript("DROP TABLE dedup_state; DROP TABLE dedup_seen; DROP INDEX articles_origin;"
                       " ALTER TABLE articles DROP COLUMN origin; PRAGMA user_version = 1;")
    conn.close()
    with open_store(path) as store:
        assert store.counts()["failures"] == 1 and store.dedup_index() is None
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    conn.close()


def test_one_packaged_sql_script_per_schema_version() -> None:
    from presswatch.store import _migrations

    assert len(_migrations()) == SCHEMA_VERSION
