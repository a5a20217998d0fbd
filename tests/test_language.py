from __future__ import annotations

import pytest

from presswatch.language import detect_language
from presswatch.models import Article, Paragraph, Section

FRENCH = (
    "Les médecins généralistes de la région utilisent désormais la messagerie sécurisée pour "
    "échanger avec l'hôpital. Selon l'agence régionale, le nombre de comptes ouverts a doublé "
    "depuis le début de l'année, mais les pharmaciens restent encore peu équipés."
)
ENGLISH = (
    "General practitioners in the region now use the secure messaging service to exchange with "
    "the hospital. According to the regional agency, the number of accounts has doubled since "
    "the beginning of the year, but pharmacists are still poorly equipped."
)
GERMAN = (
    "Die Hausärzte der Region nutzen inzwischen den sicheren Nachrichtendienst, um sich mit dem "
    "Krankenhaus auszutauschen. Laut der regionalen Behörde hat sich die Zahl der Konten seit "
    "Jahresbeginn verdoppelt, aber die Apotheker sind noch schlecht ausgestattet."
)


def article(*paragraphs: str, title: str = "", declared: str | None = None) -> Article:
    return Article(
        id="a1", url="https://presse.example/a1", title=title, source="test", published=None,
        sections=(Section(None, tuple(Paragraph(f"p{i}", t, i) for i, t in enumerate(paragraphs))),),
        declared_language=declared,
    )


@pytest.mark.parametrize(
    ("text", "expected"), [(FRENCH, "fr"), (ENGLISH, "en"), (GERMAN, "de")]
)
def test_language_is_detected(text: str, expected: str) -> None:
    assert detect_language(article(text)).language == expected


def test_title_counts_with_the_body() -> None:
    assert detect_language(article(title=FRENCH)).language == "fr"


@pytest.mark.parametrize(
    "text",
    ["", "   ", "12 345 678 — 2022 / 2023", "!!! ??? ... «»", "🙂🙂🙂 👍", "\x00\x01\x02", "\ud800 texte"],
)
def test_odd_input_never_raises(text: str) -> None:
    result = detect_language(article(text))
    assert result.language is None or result.language.isalpha()


@pytest.mark.parametrize("text", ["", "   ", "12 345 678 — 2022", "!!! ??? ..."])
def test_text_without_letters_has_no_language(text: str) -> None:
    assert detect_language(article(text, declared="fr")).language is None


def test_a_few_words_trust_the_declared_language() -> None:
    assert detect_language(article("Mon Espace Santé", declared="fr-FR")).language == "fr"


def test_only_the_start_of_the_body_is_sampled() -> None:
    body = [FRENCH] * 10 + [ENGLISH] * 40
    assert detect_language(article(*body)).language == "fr"


def test_detection_is_deterministic() -> None:
    mixed = article("Le patient and the doctor parlent de la télésanté with the nurse.")
    first = detect_language(mixed).language
    assert all(detect_language(mixed).language == first for _ in range(5))


def test_other_fields_are_untouched() -> None:
    source = article(FRENCH, title="Un titre")
    result = detect_language(source)
    assert result.sections == source.sections and result.title == source.title
    assert source.language is None
