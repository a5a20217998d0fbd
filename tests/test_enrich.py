from __future__ import annotations

from pathlib import Path

import pytest

from presswatch.clean import clean_article
from presswatch.enrich import enrich_paragraphs, find_figures, find_quotes
from presswatch.models import Article, Paragraph, ParagraphFacts, Section


def article(*paragraphs: str) -> Article:
    return Article(
        id="a1", url="https://presse.example/a1", title="Titre", source="test", published=None,
        sections=(Section(None, tuple(Paragraph(f"p{i}", t, i) for i, t in enumerate(paragraphs))),),
    )


@pytest.mark.parametrize(
    ("text", "figures"),
    [
        ("Au total, 67 millions d'usagers ont reçu un courrier.", ("67 millions d'usagers",)),
        ("Le plan mobilise 2 milliards d’euros sur cinq ans.", ("2 milliards d’euros", "cinq ans")),
        ("Le bilan compte 33 ordonnances et décrets, ainsi qu'une loi.", ("33 ordonnances et décrets",)),
        ("Le taux atteint 45 %, contre 30 % l'an passé.", ("45 %", "30 %")),
        ("Le taux atteint 45\u00a0% des médecins.", ("45\u00a0% des médecins",)),
        ("Une enveloppe de 670 millions d'euros supplémentaires.", ("670 millions d'euros supplémentaires",)),
        ("Le projet a été monté en trois semaines.", ("trois semaines",)),
        ("Soit 1 200 patients hospitalisés et 3,5 M€ investis.", ("1 200 patients hospitalisés", "3,5 M€")),
        ("Près de 12\u202f000 professionnels de santé sont équipés.", ("12\u202f000 professionnels",)),
        ("Une vingtaine de projets ont vu le jour.", ("Une vingtaine de projets",)),
        ("Plusieurs milliers de comptes ont été ouverts.", ("Plusieurs milliers de comptes",)),
        ("Une hausse de +12 % en un an.", ("+12 %",)),
        ("Le service a ouvert le 31 janvier 2022 à 14h30.", ()),
        ("Lancé en 2019, le programme a été revu en 2023.", ()),
        ("Le 1er mars, la Covid-19 a été évoquée au titre de l'article 51 de la loi.", ()),
        ("Le format HL7 et la norme ISO 27001 sont cités.", ()),
        ("Tous deux ont quitté leurs fonctions.", ()),
        ("L'édition de septembre 2022 d'une revue.", ()),
        ("Environ 3 millions de Français sont concernés, soit 3 millions.", ("3 millions",)),
        ("Les 10 hôpitaux et rencontré les équipes.", ("10 hôpitaux",)),
        ("Les 5 CHU de la région.", ("5 CHU",)),
    ],
)
def test_figures_are_numbers_with_their_unit_or_noun(text: str, figures: tuple[str, ...]) -> None:
    assert find_figures(text) == figures


@pytest.mark.parametrize(
    ("text", "quotes"),
    [
        ("« Nous avons tenu les délais prévus », a déclaré la directrice.", ("Nous avons tenu les délais prévus",)),
        ("Il évoque “un chantier de plusieurs années” pour les éditeurs.", ("un chantier de plusieurs années",)),
        ("Ouvrir « leur » espace et « obtenir des moyens » ne suffit pas.", ()),
        ("« adapter les structures organisationnelles », puis « changer la culture de recrutement ».",
         ("adapter les structures organisationnelles", "changer la culture de recrutement")),
        ("« Le chantier, dit-il, reste “très largement devant nous” pour tous »",
         ("Le chantier, dit-il, reste “très largement devant nous” pour tous",)),
        ("« Nous poursuivrons le travail avec les régions l'an prochain", ("Nous poursuivrons le travail avec les régions l'an prochain",)),
        ("Aucune citation dans ce paragraphe.", ()),
        ("« Première phrase citée ici. » Puis « Première phrase citée ici. »", ("Première phrase citée ici.",)),
    ],
)
def test_quotes_are_the_text_inside_french_or_curly_quotes(text: str, quotes: tuple[str, ...]) -> None:
    assert find_quotes(text) == quotes


def test_one_facts_record_per_paragraph_in_order() -> None:
    source = article(
        "Le DMP est intégré à Mon Espace Santé depuis 2022.",
        "Aucune donnée chiffrée ici.",
        "« Le virage de la télésanté est pris », estime le président, qui vise 50 % des médecins.",
    )
    assert enrich_paragraphs(source) == (
        ParagraphFacts("p0", programmes=("Dossier médical partagé", "Mon Espace Santé")),
        ParagraphFacts("p1"),
        ParagraphFacts(
            "p2", programmes=("Télésanté",), figures=("50 % des médecins",),
            quotes=("Le virage de la télésanté est pris",),
        ),
    )


def test_empty_article_has_no_facts() -> None:
    assert enrich_paragraphs(Article("a", "u", "t", "s", None, ())) == ()


def test_enrichment_is_deterministic() -> None:
    source = article("Les 2 milliards d'euros du Ségur numérique, « un effort sans précédent pour tous ».")
    assert enrich_paragraphs(source) == enrich_paragraphs(source)


def test_seed_article_facts(seed_path: Path) -> None:
    lines = [line for line in seed_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    cleaned = clean_article(article(*lines))
    facts = enrich_paragraphs(cleaned)
    assert [f.paragraph_id for f in facts] == [p.id for p in cleaned.paragraphs]
    by_text = {p.text: f for p, f in zip(cleaned.paragraphs, facts)}
    budget = next(f for line, f in by_text.items() if "ordonnances" in line)
    assert budget.figures == ("33 ordonnances et décrets", "670 millions d’euros", "2 milliards d’euros")
    assert "Ségur du numérique en santé" in budget.programmes
    launch = next(f for line, f in by_text.items() if "d’usagers" in line)
    assert launch.figures[0] == "67 millions d’usagers"
    assert launch.programmes[:2] == ("Feuille de route du numérique en santé", "e-CPS")
    covid = next(f for line, f in by_text.items() if "TousAntiCovid" in line)
    assert covid.figures == ("Une vingtaine de projets", "trois semaines", "huit ans")
    assert len(covid.quotes) == 2
