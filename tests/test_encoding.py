import codecs
from pathlib import Path

import pytest

from presswatch.encoding import Decoded, decode_bytes

FIXTURES = Path(__file__).parent / "fixtures" / "extract"
PAGE = "<html><head>{meta}</head><body><p>L’hôpital a reçu « 3 000 » dossiers déjà numérisés en été.</p></body></html>"
SENTENCE = "L’hôpital a reçu « 3 000 » dossiers déjà numérisés en été."


def test_cp1252_page_comes_out_with_correct_accents():
    body = (FIXTURES / "page_cp1252.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    decoded = decode_bytes(body, "text/html")
    assert decoded.encoding == "cp1252"
    assert decoded.how == "meta"
    assert "Télésanté : les téléconsultations reculent d’un quart" in decoded.text
    assert "œuvre" in decoded.text and "€" in decoded.text
    assert decoded.repaired == 0


def test_latin1_label_is_read_as_windows_1252():
    body = PAGE.format(meta='<meta charset="iso-8859-1">').encode("cp1252")
    decoded = decode_bytes(body)
    assert decoded.encoding == "cp1252"
    assert SENTENCE in decoded.text


@pytest.mark.parametrize(
    ("bom", "codec"),
    [(codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")],
)
def test_bom_wins_over_header_and_meta(bom, codec):
    body = bom + PAGE.format(meta='<meta charset="windows-1252">').encode(codec)
    decoded = decode_bytes(body, "text/html; charset=iso-8859-1")
    assert (decoded.encoding, decoded.how) == (codec, "bom")
    assert decoded.text.startswith("<html>")
    assert SENTENCE in decoded.text


def test_header_wins_over_meta_when_it_decodes():
    body = PAGE.format(meta='<meta charset="windows-1252">').encode("utf-8")
    decoded = decode_bytes(body, "text/html; charset=UTF-8")
    assert decoded == Decoded(body.decode("utf-8"), "utf-8", "http-header (meta said cp1252)", 0)


def test_meta_used_when_header_charset_fails_strictly():
    body = PAGE.format(meta='<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">').encode("cp1252")
    decoded = decode_bytes(body, "text/html; charset=utf-8")
    assert decoded.encoding == "cp1252"
    assert decoded.how == "meta (header charset utf-8 failed to decode)"
    assert SENTENCE in decoded.text


def test_undeclared_utf8_and_undeclared_cp1252():
    assert decode_bytes(SENTENCE.encode("utf-8")) == Decoded(SENTENCE, "utf-8", "utf-8", 0)
    text = "Les données de santé : une œuvre collective, selon l’Agence du numérique en santé."
    decoded = decode_bytes(text.encode("cp1252"))
    assert decoded.text == text
    assert decoded.encoding == "cp1252"
    assert decoded.how.startswith("detected")


def test_mojibake_repaired_and_counted_per_line():
    broken = "Le dossier mÃ©dical partagÃ© progresse.\nUne ligne déjà propre, sans défaut.\nLa tÃ©lÃ©santÃ© aussi."
    decoded = decode_bytes(broken.encode("utf-8"), "text/plain; charset=utf-8")
    assert decoded.text == (
        "Le dossier médical partagé progresse.\nUne ligne déjà propre, sans défaut.\nLa télésanté aussi."
    )
    assert decoded.repaired == 2


def test_utf8_bytes_labelled_latin1_are_repaired():
    decoded = decode_bytes(PAGE.format(meta="").encode("utf-8"), "text/html; charset=ISO-8859-1")
    assert decoded.encoding == "cp1252"
    assert SENTENCE in decoded.text
    assert decoded.repaired == 1


@pytest.mark.parametrize(
    "text",
    ["Ça coûte 5 € à l’État, «déjà» payé.", "Naïve façon d’écrire : Ã la carte n’est pas ici.", "Straße, Ørsted, Ærø"],
)
def test_clean_text_is_not_altered(text):
    decoded = decode_bytes(text.encode("utf-8"))
    assert decoded.text == text
    assert decoded.repaired == 0
