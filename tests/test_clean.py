from __future__ import annotations

import unicodedata
from dataclasses import replace
from pathlib import Path

import pytest

from presswatch.clean import clean_article, fold_text
from presswatch.models import Article, Paragraph, Removal, Section, article_id, paragraph_id

URL = "https://presse.example/sante/2024/bilan"


def make_article(blocks: list[str | tuple[str]], title: str = "Un bilan d'étape", url: str = URL) -> Article:
    """Paragraph strings; a 1-tuple ``("Heading",)`` starts a new section."""
    sections: list[tuple[str | None, list[Paragraph]]] = [(None, [])]
    position = 0
    for block in blocks:
        if isinstance(block, tuple):
            sections.append((block[0], []))
            continue
        sections[-1][1].append(Paragraph(paragraph_id(url, block), block, position))
        position += 1
    return Article(
        id=article_id(url), url=url, title=title, source="test", published=None,
        sections=tuple(Section(h, tuple(ps)) for h, ps in sections if h is not None or ps),
    )


def seed_article(path: Path) -> tuple[Article, list[str]]:
    """One Section per heading; a heading is a short line that does not end with a full stop."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    blocks: list[str | tuple[str]] = [
        (line,) if len(line) < 80 and not line.rstrip().endswith(".") else line for line in lines
    ]
    return make_article(blocks, title="Feuille de route du numérique en santé : le bilan"), lines


LEAD = "La nouvelle plateforme a été ouverte à tous les assurés au début de l'année, sans démarche préalable."
SECOND = "Les éditeurs de logiciels ont reçu un financement pour mettre leurs produits à niveau."
THIRD = "Les hôpitaux attendent désormais des outils plus simples à utiliser au quotidien."


def test_seed_article_is_cleaned_to_seven_paragraphs_and_three_headings(seed_path: Path) -> None:
    article, lines = seed_article(seed_path)
    cleaned = clean_article(article)

    expected_bodies = [lines[i] for i in (1, 2, 5, 6, 9, 10, 13)]
    assert [p.text for p in cleaned.paragraphs] == expected_bodies
    assert [p.position for p in cleaned.paragraphs] == list(range(7))
    assert [p.id for p in cleaned.paragraphs] == [paragraph_id(URL, t) for t in expected_bodies]
    assert [s.heading for s in cleaned.sections] == [None, lines[4], lines[8], lines[12]]
    assert [len(s.paragraphs) for s in cleaned.sections] == [2, 2, 2, 1]

    reasons = [r.reason for r in cleaned.removals]
    assert reasons == [
        "boilerplate:caption", "duplicate", "duplicate", "duplicate",
        "boilerplate:published_in", "boilerplate:published_in",
    ]
    assert cleaned.removals[0].text == lines[0]
    assert [r.text for r in cleaned.removals if r.reason.startswith("boilerplate:published")] == lines[14:16]
    duplicates = [r for r in cleaned.removals if r.reason == "duplicate"]
    assert [r.kept_id for r in duplicates] == [cleaned.paragraphs[i].id for i in (1, 3, 5)]
    assert {r.similarity for r in duplicates} == {1.0}
    assert [r.text for r in duplicates] == [lines[3], lines[7], lines[11]]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("Le directeur de l'hôpital devant le nouveau bâtiment. ©DR", "caption"),
        ("La ministre lors de sa visite à Lille, en mars. © AFP / Jeanne Martin", "caption"),
        ("Une infirmière consulte le dossier d'un patient. © Photo Paul Durand", "caption"),
        ("Le centre de données du groupement. Crédit photo : Studio Nord", "caption"),
        ("Une salle de téléconsultation (Photo : CHU de Nantes)", "caption"),
        ("Photo d'illustration.", "caption"),
        ("Le siège de l'agence à Paris - Getty Images", "caption"),
        ("Lire aussi : Le DMP change de nom", "read_also"),
        ("LIRE AUSSI >> Cyberattaque : l'hôpital reprend ses consultations", "read_also"),
        ("À lire également", "read_also"),
        ("A lire egalement : notre dossier sur la télésanté", "read_also"),
        ("» Lire aussi notre enquête sur les éditeurs", "read_also"),
        ("Sur le même sujet", "read_also"),
        ("Pour aller plus loin :", "read_also"),
        ("Cliquez ici pour télécharger le rapport complet.", "read_also"),
        ("Article publié dans le numéro de mai 2023 de la revue, à lire ici.", "published_in"),
        ("Cet article est paru dans notre édition du 12 mars.", "published_in"),
        ("Cet article a été initialement publié sur le site de nos confrères.", "published_in"),
        ("Publié le 12/05/2023 à 10h45, mis à jour le 13/05/2023 à 08h00", "dateline"),
        ("Publié le 3 juin 2024", "dateline"),
        ("Par Jeanne Martin", "byline"),
        ("Par la rédaction", "byline"),
        ("Temps de lecture : 4 min", "reading_time"),
        ("Abonnez-vous pour lire la suite", "subscribe"),
        ("Inscrivez-vous à notre newsletter", "subscribe"),
        ("Recevez chaque matin l'essentiel de l'actualité santé", "subscribe"),
        ("Réservé aux abonnés", "paywall"),
        ("Il vous reste 72 % de cet article à lire.", "paywall"),
        ("Déjà abonné ? Connectez-vous", "paywall"),
        ("Partager sur Facebook Twitter LinkedIn", "share"),
        ("Partager cet article", "share"),
        ("Suivez-nous sur LinkedIn et X", "share"),
        ("Publicité", "advertisement"),
        ("PUBLICITÉ", "advertisement"),
        ("Ce site utilise des cookies pour mesurer l'audience. Vous pouvez les accepter ou les refuser.", "cookies"),
        ("En poursuivant votre navigation, vous acceptez nos conditions.", "cookies"),
        ("© 2024 Éditions Santé Pro. Tous droits réservés.", "rights"),
        ("Toute reproduction, même partielle, est interdite.", "rights"),
        ("Accueil > Actualités > Numérique", "navigation"),
        ("Mots-clés : DMP, INS, télésanté", "tags"),
        ("3 commentaires", "comments"),
        ("Vidéo", "media_label"),
        ("Avec AFP.", "wire_credit"),
        ("(avec Agence Presse Santé)", "wire_credit"),
    ],
)
def test_boilerplate_lines_are_removed_with_their_pattern_name(line: str, reason: str) -> None:
    cleaned = clean_article(make_article([LEAD, line, SECOND]))
    assert [p.text for p in cleaned.paragraphs] == [LEAD, SECOND]
    assert cleaned.removals == (Removal(text=line, reason=f"boilerplate:{reason}"),)


@pytest.mark.parametrize(
    "text",
    [
        "Comme on peut le lire aussi dans le rapport annuel, la moitié des établissements ont été audités.",
        "Le rapport, que l'on peut lire également en ligne, détaille les retards des éditeurs.",
        "Par ailleurs, la messagerie sécurisée est désormais utilisée par la plupart des officines.",
        "Publié le 23 juin, le bilan fait état de 670 millions d'euros investis en trois ans.",
        "Il résume l'image : un système à bout de souffle.",
        "Le service est disponible ici, en Bretagne, depuis le mois de mai.",
        "La DNS publie une newsletter mensuelle à destination des éditeurs.",
        "Le recours aux traceurs dans les applications exige le consentement des patients.",
        "Un article publié dans une revue scientifique montre l'intérêt de la télésurveillance.",
        "Accueil des patients, prise de rendez-vous et suivi : tout passe par l'application.",
        "Publicité mensongère : la CNIL sanctionne une plateforme de téléconsultation.",
        "Le ministre a été interrogé par Reuters sur le calendrier du déploiement.",
        "Avec quel budget ?",
        "Avec l'agence régionale, les hôpitaux ont signé une convention sur la télésanté.",
    ],
)
def test_real_paragraphs_that_mention_boilerplate_words_are_kept(text: str) -> None:
    cleaned = clean_article(make_article([LEAD, text]))
    assert [p.text for p in cleaned.paragraphs] == [LEAD, text]
    assert cleaned.removals == ()


def test_long_paragraph_starting_like_a_link_is_kept() -> None:
    text = "Lire aussi les recommandations de la HAS, " + "qui détaillent les usages attendus, " * 8 + "reste utile."
    cleaned = clean_article(make_article([text]))
    assert [p.text for p in cleaned.paragraphs] == [text]


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Le DMP\u00a0: un outil\u202futile  pour   tous.", "Le DMP : un outil utile pour tous."),
        ("  Le patient accède à son espace.\t", "Le patient accède à son espace."),
        (unicodedata.normalize("NFD", "Télésanté et sécurité"), "Télésanté et sécurité"),
        ("Cyber\u200bsécurité des hôpitaux\ufeff", "Cybersécurité des hôpitaux"),
        ("Première ligne\r\n  seconde ligne  ", "Première ligne\nseconde ligne"),
    ],
)
def test_text_is_nfc_with_spaces_folded(raw: str, clean: str) -> None:
    cleaned = clean_article(make_article([raw]))
    assert [p.text for p in cleaned.paragraphs] == [clean]
    assert unicodedata.is_normalized("NFC", cleaned.paragraphs[0].text)


def test_interleaved_duplicates_are_matched_across_case_spaces_and_apostrophes() -> None:
    first = "L’Agence a publié un « guide » pour les éditeurs."
    again = "l'agence a  publié un \"guide\" pour les éditeurs."
    cleaned = clean_article(make_article([first, SECOND, again, SECOND, THIRD]))
    assert [p.text for p in cleaned.paragraphs] == [first, SECOND, THIRD]
    kept = {p.text: p.id for p in cleaned.paragraphs}
    assert cleaned.removals == (
        Removal(text=again.replace("  ", " "), reason="duplicate", kept_id=kept[first], similarity=1.0),
        Removal(text=SECOND, reason="duplicate", kept_id=kept[SECOND], similarity=1.0),
    )


def test_duplicate_across_sections_keeps_the_first_and_drops_the_empty_section() -> None:
    cleaned = clean_article(make_article([LEAD, ("Les chiffres",), SECOND, ("Rappel",), LEAD, ("Suite",), THIRD]))
    assert [s.heading for s in cleaned.sections] == [None, "Les chiffres", "Suite"]
    assert [p.text for p in cleaned.paragraphs] == [LEAD, SECOND, THIRD]
    assert [r.reason for r in cleaned.removals] == ["duplicate"]


def test_boilerplate_runs_before_duplicates() -> None:
    footer = "Article publié dans l'édition de juin de notre magazine."
    cleaned = clean_article(make_article([LEAD, footer, footer]))
    assert [r.reason for r in cleaned.removals] == ["boilerplate:published_in"] * 2


def test_heading_repeating_the_title_is_dropped_and_its_paragraphs_kept() -> None:
    article = make_article([("Un bilan d’étape.",), LEAD, ("Les suites",), SECOND], title="Un bilan d'étape")
    cleaned = clean_article(article)
    assert [s.heading for s in cleaned.sections] == [None, "Les suites"]
    assert [p.text for p in cleaned.paragraphs] == [LEAD, SECOND]
    assert cleaned.removals == (Removal(text="Un bilan d’étape.", reason="heading:title"),)


def test_boilerplate_heading_merges_its_paragraphs_into_the_previous_section() -> None:
    cleaned = clean_article(make_article([("Contexte",), LEAD, ("Publicité",), SECOND]))
    assert [(s.heading, len(s.paragraphs)) for s in cleaned.sections] == [("Contexte", 2)]
    assert [r.reason for r in cleaned.removals] == ["boilerplate:advertisement"]


def test_boilerplate_line_inside_a_multi_line_paragraph_is_removed() -> None:
    cleaned = clean_article(make_article([f"{LEAD}\nLire aussi : notre dossier"]))
    assert [p.text for p in cleaned.paragraphs] == [LEAD]
    assert [r.reason for r in cleaned.removals] == ["boilerplate:read_also"]


def test_positions_are_renumbered_ids_kept_and_input_untouched() -> None:
    article = make_article(["Publicité", LEAD, LEAD, ("Suite",), "", SECOND])
    cleaned = clean_article(article)
    assert [(p.position, p.id) for p in cleaned.paragraphs] == [
        (0, paragraph_id(URL, LEAD)), (1, paragraph_id(URL, SECOND))
    ]
    assert [p.text for p in article.paragraphs] == ["Publicité", LEAD, LEAD, "", SECOND]
    assert clean_article(article) == cleaned


def test_existing_removals_are_kept_first() -> None:
    earlier = Removal(text="menu", reason="extract:nav")
    cleaned = clean_article(replace(make_article([LEAD, "Publicité"]), removals=(earlier,)))
    assert cleaned.removals == (earlier, Removal(text="Publicité", reason="boilerplate:advertisement"))


def test_fold_text_keeps_length_and_case() -> None:
    text = "Œuvre – « Télé-expertise » à l’hôpital\u00a0: ÉTÉ"
    folded = fold_text(text)
    assert folded == "Ouvre - \" Tele-expertise \" a l'hopital : ETE"
    assert len(folded) == len(text)
