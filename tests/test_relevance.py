from __future__ import annotations

from pathlib import Path

import pytest

from presswatch.models import Article, Paragraph, Section
from presswatch.relevance import assess_relevance, load_taxonomy, match_topics


def article(title: str, *paragraphs: str, heading: str | None = None) -> Article:
    return Article(
        id="a1", url="https://presse.example/a1", title=title, source="test", published=None,
        sections=(Section(heading, tuple(Paragraph(f"p{i}", t, i) for i, t in enumerate(paragraphs))),),
    )


RELEVANT = {
    "programme": article(
        "Mon Espace Santé : l'activation progresse lentement",
        "Deux ans après son ouverture, le service public numérique compte encore peu d'utilisateurs "
        "actifs. Les médecins de ville y versent pourtant davantage de comptes rendus dans le DMP.",
    ),
    "hospital_cyberattack": article(
        "Le centre hospitalier de Vienne paralysé par un rançongiciel",
        "Depuis lundi, les urgences fonctionnent en mode dégradé et plusieurs opérations ont été "
        "reportées. Les soignants reviennent au papier pour les prescriptions des patients.",
    ),
    "telehealth": article(
        "La téléconsultation s'installe dans les zones rurales",
        "Dans la Creuse, une cabine connectée permet aux patients de consulter un médecin à "
        "distance. L'Assurance maladie rembourse l'acte comme une consultation classique.",
    ),
    "agency": article(
        "Identité : l'ANS publie un nouveau guide pour les établissements",
        "L'Agence du numérique en santé détaille comment qualifier l'INS à l'accueil des "
        "établissements de santé et rappelle l'usage de la carte CPS par les professionnels de santé.",
    ),
    "interop_heading": article(
        "Les éditeurs sous pression",
        "Les logiciels devront échanger des documents structurés au format HL7 FHIR.",
        heading="Ségur du numérique : la vague 2 est lancée",
    ),
}

NOT_RELEVANT = {
    "sports": article(
        "Le club lyonnais s'impose dans les dernières minutes",
        "Dans un stade plein, les joueurs ont ainsi renversé le match. L'entraîneur, 45 ans, a "
        "salué l'état d'esprit de son équipe, qui n'avait plus gagné à domicile depuis deux ans.",
    ),
    "cooking": article(
        "Tarte aux pommes : la recette de grand-mère",
        "Étalez la pâte, disposez les pommes en rosace et enfournez trente minutes à 180 degrés. "
        "Servez tiède, ainsi qu'une boule de glace à la vanille.",
    ),
    "politics_once_health": article(
        "Le gouvernement présente son budget pour l'an prochain",
        "Le texte prévoit des économies dans les ministères, une hausse des crédits de la défense "
        "et de l'éducation, ainsi qu'un effort modéré pour la santé. L'opposition dénonce un budget "
        "d'austérité et promet des amendements dans les ans à venir.",
    ),
    "bank_cyberattack": article(
        "Une banque régionale victime d'une cyberattaque",
        "Les clients n'ont pas pu accéder à leurs comptes pendant deux jours. La direction assure "
        "qu'aucun vol de fonds n'a eu lieu et a porté plainte.",
    ),
    "general_ai": article(
        "L'intelligence artificielle bouscule les cabinets d'avocats",
        "Les outils d'IA générative rédigent déjà des contrats types. Selon une étude, la santé et "
        "la finance seraient les prochains secteurs concernés.",
    ),
    "network_dns": article(
        "Une panne de serveurs DNS perturbe plusieurs sites",
        "Un incident chez un fournisseur d'accès a rendu de nombreux sites inaccessibles pendant "
        "une heure, le temps de rétablir la résolution des noms.",
    ),
}


@pytest.mark.parametrize("name", sorted(RELEVANT))
def test_trade_press_articles_are_relevant(name: str) -> None:
    assert assess_relevance(RELEVANT[name]).relevant is True


@pytest.mark.parametrize("name", sorted(NOT_RELEVANT))
def test_off_topic_articles_are_not_relevant(name: str) -> None:
    assert assess_relevance(NOT_RELEVANT[name]).relevant is False


@pytest.mark.parametrize(
    ("name", "topics"),
    [
        ("programme", ("Mon Espace Santé", "Dossier médical partagé")),
        ("hospital_cyberattack", ("Cybersécurité en santé",)),
        ("agency", ("Agence du numérique en santé", "Identité nationale de santé", "e-CPS")),
        ("interop_heading", ("Ségur du numérique en santé", "Interopérabilité")),
    ],
)
def test_topics_are_canonical_names_in_order_of_first_occurrence(name: str, topics: tuple[str, ...]) -> None:
    assert assess_relevance(RELEVANT[name]).topics == topics


@pytest.mark.parametrize(
    ("text", "topics"),
    [
        ("Il a ainsi rejoint l'INSERM, comme prévu.", ()),
        ("Dans dix ans, tout aura changé.", ()),
        ("Ans et mois passent sans que rien ne bouge.", ()),
        ("L'ANSM a suspendu le médicament.", ()),
        ("Les insulines et les transplantations.", ()),
        ("L'INS qualifiée devient obligatoire.", ("Identité nationale de santé",)),
        ("selon l'ANS, le guide est prêt", ("Agence du numérique en santé",)),
        ("la DNS et l'ANS ont signé", ("Délégation au numérique en santé", "Agence du numérique en santé")),
        ("le DMP du patient", ("Dossier médical partagé",)),
        ("le dmp en minuscules", ()),
        ("LE DMP A DIX ANS DANS TOUS LES HÔPITAUX", ()),
        ("la certification HDS des hébergeurs", ("Hébergement de données de santé",)),
        ("la messagerie sécurisée et MSSanté", ("MSSanté",)),
        ("les accords du Ségur de la santé sur les salaires", ()),
        ("les logiciels de la vague 2 du Ségur", ("Ségur du numérique en santé",)),
        ("téléconsultations, télé-expertise et telesurveillance", ("Télésanté",)),
        ("L'Agence du numérique en santé", ("Agence du numérique en santé",)),
        ("l'espace européen des données de santé", ("Espace européen des données de santé",)),
        ("la e-santé progresse, via une santé connectée", ("Santé numérique",)),
        ("Passer via le site, avec une aide", ()),
        ("l'IA générative en radiologie", ("Intelligence artificielle en santé",)),
        ("la carte eCPS et l'e-CPS", ("e-CPS",)),
        ("MON ESPACE SANTÉ", ("Mon Espace Santé",)),
        ("MonEspaceSanté", ("Mon Espace Santé",)),
        ("le SI-DEP puis SIDEP", ("SI-DEP",)),
    ],
)
def test_taxonomy_matches_and_short_acronym_false_positives(text: str, topics: tuple[str, ...]) -> None:
    assert match_topics(text) == topics


def test_relevance_is_deterministic_and_leaves_the_body_alone() -> None:
    source = RELEVANT["agency"]
    results = {assess_relevance(source) for _ in range(3)}
    assert len(results) == 1
    assert results.pop().sections == source.sections


def test_taxonomy_entries_are_well_formed() -> None:
    taxonomy = load_taxonomy()
    names = [t.name for t in taxonomy.entries]
    assert len(names) == len(set(names))
    assert {t.kind for t in taxonomy.entries} == {"programme", "organisation", "theme"}
    assert all(t.regexes or t.acronyms for t in taxonomy.entries + taxonomy.health)
    assert taxonomy.rules


def test_seed_article_is_relevant_with_its_programmes(seed_path: Path) -> None:
    lines = [line for line in seed_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    result = assess_relevance(article("", *lines))
    assert result.relevant is True
    assert result.topics[:4] == (
        "Feuille de route du numérique en santé", "SI-DEP", "Identité nationale de santé",
        "Délégation au numérique en santé",
    )
    for expected in ("Mon Espace Santé", "Health Data Hub", "Application Carte Vitale", "e-CPS", "MSSanté",
                     "Dossier médical partagé", "Ségur du numérique en santé",
                     "Espace européen des données de santé", "Interopérabilité"):
        assert expected in result.topics
    assert "Agence du numérique en santé" not in result.topics
