from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import unquote

import pytest
from bs4 import BeautifulSoup

from presswatch.digest import (
    SCHEMA, build_digest, excerpt, french_date, period_label, render_digest, source_link,
)
from presswatch.errors import RenderError
from presswatch.models import (
    Article, Classification, Failure, Paragraph, ParagraphFacts, Period, Removal, Section,
    article_id, paragraph_id,
)
from presswatch.store import Store, open_store

SEEN = datetime(2022, 9, 26, 6, 0, tzinfo=timezone.utc)
NOW = datetime(2022, 9, 26, 7, 0, tzinfo=timezone.utc)
WEEK = Period.parse("2022-W38")
SEED = Path(__file__).parents[2] / "shared" / "seeds" / "000_f3189f94bcb30073.txt"

MES_URL = "https://www.journal-hopitaux.fr/2022/09/mon-espace-sante-bilan"
MES_SUCCESS = (
    "Un an après son ouverture à tous les assurés, Mon Espace Santé revendique plus de douze "
    "millions de profils activés, un cap que la Caisse nationale d'Assurance maladie qualifie de "
    "réussite."
)
MES_TODO = (
    "Les médecins de ville restent peu nombreux à alimenter le dossier médical partagé : seuls "
    "38 % des cabinets équipés d'un logiciel référencé Ségur y déposent des documents chaque "
    "semaine, un rythme que la Cnam juge encore insuffisant pour rendre le service utile aux "
    "patients et qu'elle compte relever grâce à une nouvelle vague de financements incitatifs "
    "versés aux éditeurs comme aux cabinets d'ici la fin de l'année prochaine, au plus tard."
)
MES_CONTEXT = "Le calendrier de déploiement a été rappelé mardi lors d'une conférence de presse à Paris."
HDH_URL = "https://www.sante-numerique.fr/health-data-hub-hebergement"
HDH_TODO = (
    "« La migration du Health Data Hub vers un hébergeur européen prend du retard », admet un "
    "responsable du ministère, qui évoque désormais l'horizon 2025."
)
HDH_SUCCESS = (
    "Le Ségur du numérique a déjà financé l'équipement de 1 800 établissements, et l'INS est "
    "désormais intégrée dans la plupart des logiciels hospitaliers."
)
HDH_DUPLICATE = "La feuille de route 2019-2022 a été présentée au printemps par le ministère."


def make_article(url: str, title: str, source: str, published: date | None,
                 sections: list[tuple[str | None, list[str]]], **extra: object) -> Article:
    built, position = [], 0
    for heading, texts in sections:
        paragraphs = []
        for text in texts:
            paragraphs.append(Paragraph(paragraph_id(url, text), text, position))
            position += 1
        built.append(Section(heading, tuple(paragraphs)))
    fields: dict[str, object] = {"language": "fr", "relevant": True}
    fields.update(extra)
    return Article(article_id(url), url, title, source, published, tuple(built), **fields)  # type: ignore[arg-type]


def label(url: str, text: str, kind: str, score: float, *cues: str) -> Classification:
    return Classification(paragraph_id(url, text), kind, score, cues)  # type: ignore[arg-type]


def facts(url: str, text: str, programmes: tuple[str, ...], figures: tuple[str, ...] = (),
          quotes: tuple[str, ...] = ()) -> ParagraphFacts:
    return ParagraphFacts(paragraph_id(url, text), programmes, figures, quotes)


def fill(store: Store, *, mes_title: str = "Mon Espace Santé : douze millions de profils, et après ?") -> None:
    mes = make_article(
        MES_URL, mes_title, "Journal des hôpitaux", date(2022, 9, 20),
        [(None, [MES_SUCCESS]), ("Des usages encore timides", [MES_TODO, MES_CONTEXT])],
        removals=(Removal("Photo : la façade de la Cnam ©DR", "caption"),
                  Removal(MES_SUCCESS, "duplicate", paragraph_id(MES_URL, MES_SUCCESS), 1.0)),
    )
    store.save_article(mes, [
        label(MES_URL, MES_SUCCESS, "success", 0.91, "revendique", "réussite"),
        label(MES_URL, MES_TODO, "improvement", 0.74, "peu nombreux", "insuffisant"),
        label(MES_URL, MES_CONTEXT, "context", 0.66),
    ], [
        facts(MES_URL, MES_SUCCESS, ("Mon Espace Santé",), ("douze millions de profils",)),
        facts(MES_URL, MES_TODO, ("DMP", "Ségur du numérique"), ("38 %",)),
    ], seen_at=SEEN)
    hdh = make_article(
        HDH_URL, "Health Data Hub : l'hébergement souverain attendra", "Santé numérique", date(2022, 9, 23),
        [(None, [HDH_TODO, HDH_SUCCESS, HDH_DUPLICATE])],
    )
    store.save_article(hdh, [
        label(HDH_URL, HDH_TODO, "improvement", 0.88, "prend du retard"),
        label(HDH_URL, HDH_SUCCESS, "success", 0.91, "a déjà financé"),
        label(HDH_URL, HDH_DUPLICATE, "success", 0.95, "présentée"),
    ], [
        facts(HDH_URL, HDH_TODO, ("Health Data Hub",), ("2025",),
              ("La migration du Health Data Hub vers un hébergeur européen prend du retard",)),
        facts(HDH_URL, HDH_SUCCESS, ("Ségur du numérique", "INS"), ("1 800 établissements",)),
    ], seen_at=SEEN)
    store.mark_paragraph(paragraph_id(HDH_URL, HDH_DUPLICATE), "duplicate", other_id="0123456789abcdef",
                         similarity=0.96, at=SEEN)
    english = make_article("https://healthtech.example.com/france-ehr", "France's health record turns one",
                           "Health Tech Weekly", date(2022, 9, 21),
                           [(None, ["France says twelve million people now use its health record app."])],
                           language="en")
    offtopic = make_article("https://www.journal-hopitaux.fr/parking", "Le parking du CHU rouvre",
                            "Journal des hôpitaux", date(2022, 9, 22),
                            [(None, ["Le parking souterrain du CHU rouvre après six mois de travaux."])],
                            relevant=False)
    older = make_article("https://www.journal-hopitaux.fr/ancien", "Un article de la semaine précédente",
                         "Journal des hôpitaux", date(2022, 9, 18),
                         [(None, ["La e-CPS a été adoptée par de nombreux pharmaciens cet été."])])
    for article in (english, offtopic, older):  # labels that must never reach the digest
        store.save_article(article, [Classification(article.paragraphs[0].id, "success", 0.99, ("now",))], (),
                           seen_at=SEEN)
    store.record_failure(Failure("santé-rss", "https://www.sante-numerique.fr/flux", "fetch", "HTTP 503 <script>",
                                 datetime(2022, 9, 24, 3, 0, tzinfo=timezone.utc)))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with open_store(tmp_path / "presswatch.db") as opened:
        fill(opened)
        yield opened


def test_build_digest_keeps_french_relevant_statements_in_score_order(store: Store) -> None:
    digest = build_digest(store, WEEK, now=NOW)
    assert digest.generated_at == NOW
    assert [i.text for i in digest.successes] == [HDH_SUCCESS, MES_SUCCESS]  # same score: newer first
    assert [i.text for i in digest.improvements] == [HDH_TODO, MES_TODO]
    assert dict(digest.counts) == {
        "articles": 4, "french": 3, "relevant": 2, "paragraphs": 6, "successes": 2, "improvements": 2,
        "context": 1, "already_reported": 0, "duplicates_removed": 2, "boilerplate_removed": 1,
        "non_french": 1, "off_topic": 1, "failures": 1,
    }
    todo = digest.improvements[1]
    assert todo.heading == "Des usages encore timides"
    assert todo.cues == ("peu nombreux", "insuffisant")
    assert todo.programmes == ("DMP", "Ségur du numérique") and todo.figures == ("38 %",)
    assert (todo.article_title, todo.outlet, todo.published, todo.url) == (
        "Mon Espace Santé : douze millions de profils, et après ?", "Journal des hôpitaux",
        date(2022, 9, 20), MES_URL)
    assert todo.link == MES_URL + "#:~:text=Les%20m%C3%A9decins%20de%20ville%20restent%20peu"
    assert todo.excerpt.endswith("…") and len(todo.excerpt) <= 301
    assert MES_TODO.startswith(todo.excerpt[:-1])


def test_an_article_of_unknown_language_is_not_french(tmp_path: Path) -> None:
    url = "https://www.exemple.fr/sans-langue"
    text = "Le dossier médical partagé progresse dans les Ehpad de la région."
    article = make_article(url, "Sans langue détectée", "Exemple", date(2022, 9, 21), [(None, [text])], language=None)
    with open_store(tmp_path / "db.sqlite") as store:
        store.save_article(article, [label(url, text, "success", 0.9, "progresse")], (), seen_at=SEEN)
        digest = build_digest(store, WEEK, now=NOW)
    assert digest.successes == ()
    assert [a.title for a in digest.quality.non_french] == ["Sans langue détectée"]
    assert (digest.counts["articles"], digest.counts["french"], digest.counts["non_french"]) == (1, 0, 1)


def test_programmes_articles_and_quality(store: Store) -> None:
    digest = build_digest(store, WEEK, now=NOW)
    assert [(name, len(ok), len(todo)) for name, ok, todo in digest.programmes] == [
        ("Ségur du numérique", 1, 1), ("DMP", 0, 1), ("Health Data Hub", 0, 1), ("INS", 1, 0),
        ("Mon Espace Santé", 1, 0),
    ]
    assert [(a.title, a.successes, a.improvements) for a in digest.articles] == [
        ("Mon Espace Santé : douze millions de profils, et après ?", 1, 1),
        ("Health Data Hub : l'hébergement souverain attendra", 1, 1),
    ]
    q = digest.quality
    assert q.removals_by_reason == (("caption", 1), ("corpus-duplicate", 1), ("duplicate", 1))
    assert [a.title for a in q.non_french] == ["France's health record turns one"]
    assert [a.title for a in q.off_topic] == ["Le parking du CHU rouvre"]
    assert [(f.source, f.stage) for f in q.failures] == [("santé-rss", "fetch")]


def test_already_reported_statements_are_flagged_and_placed_last(store: Store) -> None:
    hdh_success = paragraph_id(HDH_URL, HDH_SUCCESS)
    store.mark_reported([hdh_success], "2022-W37", date(2022, 9, 12))
    store.mark_reported([paragraph_id(MES_URL, MES_SUCCESS)], "2022-W38", WEEK.start)  # this period: not "before"
    digest = build_digest(store, WEEK, now=NOW)
    assert [(i.text, i.first_reported) for i in digest.successes] == [
        (MES_SUCCESS, None), (HDH_SUCCESS, date(2022, 9, 12))]
    assert digest.counts["already_reported"] == 1
    html = render_digest(digest, store.path.parent / "out", ["html"])[0].read_text(encoding="utf-8")
    block = BeautifulSoup(html, "lxml").find(id=f"p-{hdh_success}")
    assert block.find(class_="badge").get_text(" ", strip=True) == "Déjà signalé le 12 septembre 2022"


def test_a_duplicate_of_a_reported_paragraph_is_shown_as_already_reported(store: Store) -> None:
    twin = "0123456789abcdef"  # the twin HDH_DUPLICATE is marked against in fill()
    store.mark_reported([twin], "2022-W36", date(2022, 9, 5))
    digest = build_digest(store, WEEK, now=NOW)
    item = next(i for i in digest.successes if i.text == HDH_DUPLICATE)
    assert item.first_reported == date(2022, 9, 5)
    assert digest.counts["duplicates_removed"] == 1 and digest.counts["already_reported"] == 1


def test_weekly_reports_do_not_count_as_repeats_in_a_monthly_digest(store: Store) -> None:
    pid = paragraph_id(HDH_URL, HDH_SUCCESS)
    store.mark_reported([pid], "2022-W35", date(2022, 8, 29))
    month = build_digest(store, Period.parse("2022-09"), now=NOW)
    assert next(i for i in month.successes if i.paragraph_id == pid).first_reported is None
    week = build_digest(store, WEEK, now=NOW)
    assert next(i for i in week.successes if i.paragraph_id == pid).first_reported == date(2022, 8, 29)


def test_figure_update_marks_and_stories_reach_the_items(store: Store) -> None:
    pid = paragraph_id(MES_URL, MES_SUCCESS)
    store.mark_paragraph(pid, "figure_update", other_id="feedbeefcafe0000",
                         detail="onze millions de profils annoncés en juillet", at=SEEN)
    other = make_article("https://www.autre.fr/mes", "Douze millions de profils", "Le Quotidien", date(2022, 9, 21),
                         [(None, ["Mon Espace Santé dépasse les douze millions de profils activés."])])
    store.save_article(other, (), (), seen_at=SEEN)
    store.set_story(article_id(MES_URL), "mes-12m", article_id(MES_URL))
    store.set_story(other.id, "mes-12m", article_id(MES_URL))
    digest = build_digest(store, WEEK, now=NOW)
    item = next(i for i in digest.successes if i.paragraph_id == pid)
    assert item.updates == "onze millions de profils annoncés en juillet"
    assert item.also_in == ("Le Quotidien",)


def test_render_html_has_the_sections_counts_and_source_links(store: Store, tmp_path: Path) -> None:
    digest = build_digest(store, WEEK, now=NOW)
    paths = render_digest(digest, tmp_path / "reports", ("html", "md", "json"))
    assert [p.name for p in paths] == ["presswatch-2022-W38.html", "presswatch-2022-W38.md", "presswatch-2022-W38.json"]
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == sorted(p.name for p in paths)
    soup = BeautifulSoup(paths[0].read_text(encoding="utf-8"), "lxml")
    assert soup.html["lang"] == "fr"
    assert soup.find("meta", attrs={"name": "viewport"}) is not None
    assert "@media print" in soup.style.string
    assert soup.find_all(["script", "link", "img", "iframe"]) == []
    assert soup.h1.get_text(strip=True) == "Le numérique en santé dans la presse"
    assert soup.find(class_="period").get_text() == "Semaine 38 de 2022 (du 19 au 25 septembre 2022)"
    assert [h.get_text(strip=True) for h in soup.find_all("h2")] == [
        "Ce qui a avancé", "Ce qui reste à améliorer", "Par programme", "Articles de la période",
        "Qualité des données"]
    assert soup.find(id="count-successes").strong.get_text() == "2"
    assert soup.find(id="count-improvements").strong.get_text() == "2"
    assert soup.find(id="count-articles").strong.get_text() == "4"
    succes = soup.find(id="succes")
    links = [a["href"] for a in succes.find_all("a", class_="source-link")]
    assert links == [i.link for i in digest.successes]
    assert [q.get_text(strip=True) for q in succes.find_all("blockquote")] == [i.excerpt for i in digest.successes]
    first = succes.find("article")
    assert first.find(class_="why").get_text(" ", strip=True) == "pourquoi : a déjà financé · score 0,91"
    assert "23 septembre 2022" in first.find(class_="source").get_text()
    assert soup.find(id="q-duplicates").strong.get_text() == "2"
    assert soup.find(id="q-failures").strong.get_text() == "1"
    assert "HTTP 503 <script>" in soup.find("table", class_="failures").get_text()
    for name, ok, todo in digest.programmes:  # programme lists point at items that exist
        for item in ok + todo:
            assert soup.find(id=f"p-{item.paragraph_id}") is not None


def test_markdown_has_the_same_content(store: Store, tmp_path: Path) -> None:
    digest = build_digest(store, WEEK, now=NOW)
    [path] = render_digest(digest, tmp_path, ["md"])
    text = path.read_text(encoding="utf-8")
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == ["## Ce qui a avancé", "## Ce qui reste à améliorer", "## Par programme",
                        "## Articles de la période", "## Qualité des données"]
    for item in digest.successes + digest.improvements:
        assert f"]({item.link})" in text
    assert "pourquoi : **peu nombreux**, **insuffisant** · score 0,74" in text
    assert "- Doublons retirés : 2" in text
    assert "HTTP 503 \\<script\\>" in text


def test_titles_are_escaped(tmp_path: Path) -> None:
    with open_store(tmp_path / "db.sqlite") as store:
        fill(store, mes_title="Alerte <script>alert('dmp')</script> & co")
        digest = build_digest(store, WEEK, now=NOW)
    html_path, md_path = render_digest(digest, tmp_path / "out", ["html", "md"])
    raw = html_path.read_text(encoding="utf-8")
    assert "<script>" not in raw
    assert "Alerte &lt;script&gt;alert(&#39;dmp&#39;)&lt;/script&gt; &amp; co" in raw
    soup = BeautifulSoup(raw, "lxml")
    assert soup.find_all("script") == []
    assert "[Alerte \\<script\\>alert('dmp')\\</script\\> & co]" in md_path.read_text(encoding="utf-8")


def test_json_follows_the_schema(store: Store, tmp_path: Path) -> None:
    digest = build_digest(store, WEEK, now=NOW)
    [path] = render_digest(digest, tmp_path, ["json"])
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["schema"] == SCHEMA == "presswatch.digest/1"
    assert list(doc) == ["schema", "period", "generated_at", "counts", "successes", "improvements",
                         "programmes", "articles", "stories", "quality"]
    assert doc["period"] == {"key": "2022-W38", "kind": "week", "start": "2022-09-19", "end": "2022-09-26"}
    assert doc["generated_at"] == "2022-09-26T07:00:00+00:00"
    assert doc["counts"] == dict(digest.counts)
    assert set(doc["successes"][0]) == {
        "paragraph_id", "article_id", "label", "score", "cues", "text", "excerpt", "heading",
        "article_title", "outlet", "published", "url", "link", "programmes", "figures", "quotes",
        "also_in", "first_reported", "updates"}
    first = doc["successes"][0]
    assert (first["url"], first["label"], first["score"], first["cues"], first["published"]) == (
        HDH_URL, "success", 0.91, ["a déjà financé"], "2022-09-23")
    assert first["link"] == digest.successes[0].link
    assert doc["programmes"][0] == {"name": "Ségur du numérique",
                                    "successes": [paragraph_id(HDH_URL, HDH_SUCCESS)],
                                    "improvements": [paragraph_id(MES_URL, MES_TODO)]}
    assert set(doc["articles"][0]) == {"id", "title", "outlet", "published", "url", "successes",
                                       "improvements", "also_in", "story_id", "canonical_id"}
    assert set(doc["quality"]) == {"duplicates_removed", "boilerplate_removed", "removals_by_reason",
                                   "non_french", "off_topic", "failures"}
    assert doc["quality"]["failures"] == [{"source": "santé-rss", "uri": "https://www.sante-numerique.fr/flux",
                                           "stage": "fetch", "reason": "HTTP 503 <script>",
                                           "at": "2022-09-24T03:00:00+00:00"}]
    assert doc["quality"]["removals_by_reason"][0] == {"reason": "caption", "count": 1}


def test_an_empty_period_renders(tmp_path: Path) -> None:
    with open_store(tmp_path / "db.sqlite") as store:
        digest = build_digest(store, Period.parse("2022-02"), now=NOW)
    assert all(v == 0 for v in digest.counts.values())
    html, md = render_digest(digest, tmp_path, ["html", "md"])
    soup = BeautifulSoup(html.read_text(encoding="utf-8"), "lxml")
    assert soup.find(id="succes").find(class_="empty").get_text() == "Aucune avancée relevée dans la presse de la période."
    assert md.read_text(encoding="utf-8").splitlines()[2] == "Février 2022"


def test_writes_are_atomic(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "reports"
    digest = build_digest(store, WEEK, now=NOW)
    [path] = render_digest(digest, out, ["md"])
    before = path.read_text(encoding="utf-8")

    def refuse(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(RenderError, match="No space left"):
        render_digest(replace(digest, generated_at=NOW + timedelta(days=1)), out, ["md"])
    assert [p.name for p in out.iterdir()] == ["presswatch-2022-W38.md"]
    assert path.read_text(encoding="utf-8") == before


def test_template_errors_become_render_errors(store: Store, tmp_path: Path) -> None:
    digest = build_digest(store, WEEK, now=NOW)
    broken = replace(digest, counts={"articles": 4})
    with pytest.raises(RenderError, match="digest.html.j2"):
        render_digest(broken, tmp_path, ["html"])
    assert list(tmp_path.glob("presswatch-*")) == []
    with pytest.raises(RenderError, match="unknown digest format"):
        render_digest(digest, tmp_path, ["pdf"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Un texte court reste entier.", "Un texte court reste entier."),
        ("Des   espaces\n en trop", "Des espaces en trop"),
        ("mot " * 100, ("mot " * 75).strip() + "…"),
        ("a" * 400, "a" * 300 + "…"),
        ("Ségur, " * 50, ("Ségur, " * 43).rstrip(" ,") + "…"),
    ],
)
def test_excerpt(text: str, expected: str) -> None:
    assert excerpt(text) == expected


@pytest.mark.parametrize(
    ("url", "text", "expected"),
    [
        ("https://ex.fr/a", "« Nous avons montré que la France était capable",
         "https://ex.fr/a#:~:text=Nous%20avons%20montr%C3%A9%20que%20la%20France"),
        ("https://ex.fr/a", "La feuille de route 2019-2022, enfin bouclée",
         "https://ex.fr/a#:~:text=La%20feuille%20de%20route%202019%2D2022%2C%20enfin"),
        ("https://ex.fr/a#haut", "Deux mots", "https://ex.fr/a#haut:~:text=Deux%20mots"),
        ("https://ex.fr/a#:~:text=vieux", "Texte & suite", "https://ex.fr/a#:~:text=Texte%20%26%20suite"),
        ("https://ex.fr/a", "– — …", "https://ex.fr/a"),
    ],
)
def test_source_link(url: str, text: str, expected: str) -> None:
    assert source_link(url, text) == expected


def test_source_links_of_real_paragraphs_quote_their_first_words() -> None:
    if not SEED.exists():
        pytest.skip("seed article not available")
    lines = [line for line in SEED.read_text(encoding="utf-8").splitlines() if len(line.split()) >= 6]
    assert lines
    for line in lines:
        link = source_link("https://www.hospitalia.fr/article", line)
        fragment = link.split("#:~:text=", 1)[1]
        assert all(ch not in fragment for ch in " ,&-#")
        tokens = line.split()
        while not any(ch.isalnum() for ch in tokens[0]):
            tokens.pop(0)
        assert unquote(fragment).split(" ") == tokens[:6]


@pytest.mark.parametrize(
    ("day", "text"),
    [(date(2022, 9, 14), "14 septembre 2022"), (date(2022, 10, 1), "1er octobre 2022"),
     (date(2023, 8, 31), "31 août 2023"), (None, "")],
)
def test_french_date(day: date | None, text: str) -> None:
    assert french_date(day) == text


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("2022-W38", "semaine 38 de 2022 (du 19 au 25 septembre 2022)"),
        ("2022-W35", "semaine 35 de 2022 (du 29 août au 4 septembre 2022)"),
        ("2022-W52", "semaine 52 de 2022 (du 26 décembre 2022 au 1er janvier 2023)"),
        ("2022-W01", "semaine 1 de 2022 (du 3 au 9 janvier 2022)"),
        ("2022-09", "septembre 2022"),
    ],
)
def test_period_label(key: str, text: str) -> None:
    assert period_label(Period.parse(key)) == text
