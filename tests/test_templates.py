"""The digest templates as a reader sees them: labels, badges, sources, data quality, print, escaping.

Digests are built directly from the ``models`` dataclasses (the contract the builder fills) and
rendered with the real templates through ``render_digest``.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from presswatch.digest import render_digest, source_link
from presswatch.models import (
    DataQuality, Digest, DigestArticle, DigestItem, Failure, Period, article_id, paragraph_id,
)

NOW = datetime(2022, 10, 3, 6, 0, tzinfo=timezone.utc)
PERIOD = Period.parse("2022-W39")
DMP_URL = "https://www.exemple-sante.fr/2022/09/dmp-cabinets-de-ville"
DMP_TEXT = ("Le dossier médical partagé reste peu alimenté par les cabinets de ville, "
            "faute d'intégration dans les logiciels métier.")
MES_URL = "https://www.journal-exemple.fr/mon-espace-sante/" + "tres-long-segment-" * 12 + "fin"
MES_TEXT = "Mon Espace Santé compte désormais 14 millions de profils activés, contre 10 millions en juin."


def item(text: str, url: str, **fields: object) -> DigestItem:
    base = DigestItem(
        paragraph_id=paragraph_id(url, text), article_id=article_id(url), label="success", score=0.91,
        cues=("désormais",), text=text, excerpt=text, heading=None, article_title="Titre de l'article",
        outlet="Journal Exemple", published=date(2022, 9, 28), url=url, link=source_link(url, text),
    )
    return replace(base, **fields)


def article(title: str, outlet: str, url: str) -> DigestArticle:
    return DigestArticle(id=article_id(url), title=title, outlet=outlet,
                         published=date(2022, 9, 27), url=url, successes=0, improvements=0)


def digest(**quality: object) -> Digest:
    success = item(MES_TEXT, MES_URL, heading="Des usages en hausse", programmes=("Mon Espace Santé",),
                   figures=("14 millions de profils", "10 millions"), also_in=("Le Quotidien", "Hospimedia"),
                   updates="précédemment 13 millions de profils le 20 septembre 2022", score=0.7996)
    seen = item("La messagerie sécurisée de santé a transmis 18 millions de messages en août.", MES_URL,
                first_reported=date(2022, 9, 19), score=0.6, cues=())
    todo = item(DMP_TEXT, DMP_URL, label="improvement", score=0.59, cues=("reste", "faute"),
                quotes=("On ne l'ouvre presque jamais",), programmes=("DMP",))
    dq = DataQuality(
        duplicates_removed=4, boilerplate_removed=5,
        non_french=(article("Health data in France", "Health Weekly", "https://health.example.com/fr"),),
        off_topic=(article("Fête de la châtaigne", "La Gazette", "https://gazette.example.fr/chataigne"),),
        failures=(Failure("flux-sante", "https://www.exemple-sante.fr/" + "x" * 150 + ".html", "fetch",
                          "HTTP 503 Service Unavailable", NOW),),
        removals_by_reason=(("boilerplate:caption", 3), ("corpus-duplicate", 2), ("near-duplicate", 1),
                            ("duplicate", 1), ("boilerplate:weather", 1), ("heading:title", 1)),
    )
    counts = {"articles": 5, "french": 4, "relevant": 3, "successes": 2, "improvements": 1,
              "already_reported": 1, "non_french": 1, "off_topic": 1, "failures": 1}
    return Digest(
        period=PERIOD, generated_at=NOW, successes=(success, seen), improvements=(todo,),
        articles=(article("Titre de l'article", "Journal Exemple", MES_URL),),
        quality=replace(dq, **quality), counts=counts,
        programmes=(("DMP", (), (todo,)), ("Mon Espace Santé", (success,), ())),
    )


def render(d: Digest, tmp_path: Path) -> tuple[BeautifulSoup, str, str]:
    html, md = render_digest(d, tmp_path, ["html", "md"])
    raw = html.read_text(encoding="utf-8")
    return BeautifulSoup(raw, "lxml"), raw, md.read_text(encoding="utf-8")


def text_of(node: object) -> str:
    return " ".join(node.get_text(" ", strip=True).split())  # type: ignore[attr-defined]


def test_page_is_self_contained_responsive_and_printable(tmp_path: Path) -> None:
    soup, raw, _ = render(digest(), tmp_path)
    assert soup.html["lang"] == "fr"
    assert soup.find("meta", attrs={"name": "viewport"})["content"] == "width=device-width, initial-scale=1"
    assert soup.find_all(["script", "link", "img", "iframe", "object", "embed"]) == []
    [style] = soup.find_all("style")
    css = style.string
    assert not re.search(r"@import|url\(|https?:", css)
    print_css = css[css.index("@media print"):]
    assert re.search(r"\.item[^{]*\{[^}]*break-inside: avoid", print_css)
    assert re.search(r"nav, details \{ display: none; \}", print_css)
    assert 'attr(data-url)' in print_css
    assert [h.name for h in soup.find_all(["h1", "h2"])][:2] == ["h1", "h2"]
    assert "onclick" not in raw and "javascript:" not in raw


def test_items_carry_a_text_label_badges_and_a_clear_source(tmp_path: Path) -> None:
    d = digest()
    soup, _, _ = render(d, tmp_path)
    success, seen = d.successes
    block = soup.find(id=f"p-{success.paragraph_id}")
    assert text_of(block.find(class_="kicker")) == "Avancée Mon Espace Santé"
    assert text_of(block.find(class_="update")) == "Mise à jour : précédemment 13 millions de profils le 20 septembre 2022"
    assert text_of(block.find(class_="source")) == (
        "Source : Titre de l'article Journal Exemple, 28 septembre 2022 · partie « Des usages en hausse » "
        "Aussi dans : Le Quotidien, Hospimedia")
    assert block.find("a", class_="source-link")["href"] == success.link
    assert text_of(block.find(class_="meta")) == "pourquoi : désormais · score 0,80 (certitude forte)"
    assert block.find(class_="badge") is None
    old = soup.find(id=f"p-{seen.paragraph_id}")
    assert "seen" in old["class"]
    assert text_of(old.find(class_="badge")) == "Déjà signalé le 19 septembre 2022"
    assert text_of(old.find(class_="meta")) == "pourquoi : aucun indice explicite · score 0,60 (certitude moyenne)"
    todo = soup.find(id="ameliorations").find("article")
    assert text_of(todo.find(class_="kicker")) == "À améliorer DMP"
    assert text_of(todo.find(class_="certainty")) == "(certitude faible)"
    assert text_of(todo.find(class_="facts")) == "Citation : « On ne l'ouvre presque jamais »"
    assert text_of(soup.find(class_="counts-note")) == (
        "Dont 1 passage déjà signalé dans une revue précédente, placé en fin de section.")
    assert soup.find(id="count-successes").a["href"] == "#succes"


def test_programme_lines_name_the_kind_and_point_at_the_items(tmp_path: Path) -> None:
    d = digest()
    soup, _, md = render(d, tmp_path)
    lines = [text_of(li) for li in soup.find(id="programmes").find_all("li")]
    assert lines == [f"À améliorer : {DMP_TEXT} (Journal Exemple)", f"Avancée : {MES_TEXT} (Journal Exemple)"]
    for a in soup.find(id="programmes").find_all("a"):
        assert soup.find(id=a["href"][1:]) is not None
    assert "### DMP · 0 avancée, 1 à améliorer" in md.splitlines()


def test_quality_section_speaks_french(tmp_path: Path) -> None:
    soup, _, md = render(digest(), tmp_path)
    rows = [[text_of(td) for td in tr.find_all("td")] for tr in soup.find("table", class_="reasons").tbody.find_all("tr")]
    assert rows == [
        ["Légende ou crédit photo boilerplate:caption", "3"],
        ["Paragraphe déjà paru dans un autre article corpus-duplicate", "2"],
        ["Paragraphe quasi identique dans le même article near-duplicate", "1"],
        ["Paragraphe répété dans le même article duplicate", "1"],
        ["Passage parasite boilerplate:weather", "1"],
        ["Titre répété dans le corps de l’article heading:title", "1"],
    ]
    failure = soup.find("table", class_="failures").tbody.tr
    assert [(td["data-label"], text_of(td)) for td in failure.find_all("td")] == [
        ("Source", "flux-sante"), ("Document", "https://www.exemple-sante.fr/" + "x" * 150 + ".html"),
        ("Étape", "Téléchargement"), ("Raison", "HTTP 503 Service Unavailable")]
    assert [text_of(li) for li in soup.find_all("ul", class_="offlist")[0].find_all("li")] == [
        "Health data in France — Health Weekly, 27 septembre 2022"]
    assert "| Légende ou crédit photo (`boilerplate:caption`) | 3 |" in md
    assert "| Passage parasite (boilerplate:weather) | 1 |" in md
    assert "| flux-sante | https://www.exemple-sante.fr/" + "x" * 150 + ".html | Téléchargement | HTTP 503 Service Unavailable |" in md


def test_an_unknown_stage_or_reason_is_shown_as_given(tmp_path: Path) -> None:
    odd = Failure("src", "file:///tmp/a.txt", "transcode", "bad bytes", NOW)
    soup, _, md = render(digest(failures=(odd,), removals_by_reason=(("menu-latéral", 2),)), tmp_path)
    assert [text_of(td) for td in soup.find("table", class_="failures").tbody.find_all("td")][2] == "transcode"
    assert [text_of(td) for td in soup.find("table", class_="reasons").tbody.find_all("td")] == ["menu-latéral", "2"]
    assert "| menu-latéral | 2 |" in md


def test_markdown_item_reads_top_down(tmp_path: Path) -> None:
    _, _, md = render(digest(), tmp_path)
    success = digest().successes[0]
    start = md.index("**Avancée** · Mon Espace Santé")
    block = md[start:md.index("\n\n**", start)].splitlines()
    assert block == [
        "**Avancée** · Mon Espace Santé",
        "",
        f"> {MES_TEXT}",
        "",
        "- **Mise à jour :** précédemment 13 millions de profils le 20 septembre 2022",
        "- Chiffres : 14 millions de profils ; 10 millions",
        f"- Source : [Titre de l'article]({success.link}) — Journal Exemple, 28 septembre 2022 · "
        "partie « Des usages en hausse »",
        "- Aussi dans : Le Quotidien, Hospimedia",
        "- pourquoi : **désormais** · score 0,80 (certitude forte)",
    ]
    assert "**Avancée** · **Déjà signalé le 19 septembre 2022**" in md
    assert "\n\n\n" not in md


@pytest.mark.parametrize("field", ["heading", "updates", "programmes", "also_in", "quotes", "cues", "outlet"])
def test_untrusted_text_is_escaped_everywhere(tmp_path: Path, field: str) -> None:
    evil = "<script>alert(1)</script>"
    d = digest()
    value = (evil,) if isinstance(getattr(d.successes[0], field), tuple) else evil
    d = replace(d, successes=(replace(d.successes[0], **{field: value}),) + d.successes[1:])
    soup, raw, md = render(d, tmp_path)
    assert soup.find_all("script") == []
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
    assert "\\<script\\>alert(1)\\</script\\>" in md
