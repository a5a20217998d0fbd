import json
from datetime import date
from pathlib import Path

import pytest

from presswatch.errors import ExtractError
from presswatch.extract import extract_article, main_text
from presswatch.models import RawDocument, article_id, paragraph_id
from presswatch.sources import read_local

FIXTURES = Path(__file__).parent / "fixtures" / "extract"
SEED = Path(__file__).parents[2] / "shared" / "seeds" / "000_f3189f94bcb30073.txt"
RECORD = "application/x-presswatch-record+json"


def _one(path: Path, source: str = "local"):
    (doc,) = read_local(path, source)
    return extract_article(doc)


def test_seed_headings_and_body_lines_in_order():
    if not SEED.exists():
        pytest.skip("seed article not available")
    article = _one(SEED, "hospitalia")
    lines = [line for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert [s.heading for s in article.sections] == [
        None, lines[4], "Plusieurs succès…", "… et d’autres points à approfondir"
    ]
    assert lines[4] == "Des actions marquées par la crise sanitaire"
    assert [len(s.paragraphs) for s in article.sections] == [4, 3, 3, 3]
    headings = {4, 8, 12}
    assert [p.text for p in article.paragraphs] == [l for i, l in enumerate(lines) if i not in headings]
    assert article.paragraphs[0].text.endswith("©DR")
    assert article.title.startswith(lines[1][:40]) and "©" not in article.title
    assert [p.position for p in article.paragraphs] == list(range(13))
    assert article.url == SEED.resolve().as_uri()
    assert article.id == article_id(article.url)
    assert article.paragraphs[5].id == paragraph_id(article.url, lines[6])
    assert article.source == "hospitalia" and article.published is None
    assert article.removals == () and article.language is None


@pytest.mark.parametrize(
    ("line", "heading"),
    [
        ("Plusieurs succès…", True),
        ("… et d’autres points à approfondir", True),
        ("Une adoption encore inégale selon les régions", True),
        ("Le ministre lors de la présentation du bilan. ©DR", False),
        ("Le ministre lors de la présentation du bilan ©DR", False),
        ("Crédit photo : Agence Santé Images", False),
        ("Le dossier est ouvert.", False),
        ("« Nous irons plus loin »", False),
        ("Les chiffres clés :", False),
        ("2022", False),
        ("- premier point de la liste", False),
        ("Ce paragraphe sans point final est bien trop long pour un titre puisqu’il compte bien plus de seize mots en tout", False),
    ],
)
def test_heading_rule(line, heading):
    from presswatch.textlines import is_heading

    assert is_heading(line) is heading


def test_front_matter_sets_metadata_and_wins_over_sidecar(tmp_path):
    (tmp_path / "index.jsonl").write_text(json.dumps({"file": "a.txt", "title": "Titre du sidecar", "author": "Paul Roux"}) + "\n", encoding="utf-8")
    (tmp_path / "a.txt").write_text(
        "---\ntitle: L’INS enfin généralisée\nurl: https://presse.example/ins\npublished: 2022-09-14\n"
        "source: Hospitalia\nlanguage: fr\n---\nSous-titre sans point\nL’identité nationale de santé est désormais requise.\n",
        encoding="utf-8",
    )
    article = _one(tmp_path)
    assert (article.title, article.url, article.published, article.source) == (
        "L’INS enfin généralisée", "https://presse.example/ins", date(2022, 9, 14), "Hospitalia")
    assert (article.author, article.declared_language, article.date_source) == ("Paul Roux", "fr", "meta")
    assert [(s.heading, [p.text for p in s.paragraphs]) for s in article.sections] == [
        ("Sous-titre sans point", ["L’identité nationale de santé est désormais requise."])]


def test_sidecar_only_and_defaults_without_metadata(tmp_path):
    (tmp_path / "index.json").write_text(json.dumps({"a.txt": {"title": "Titre A", "published": "2023-01-31"}}), encoding="utf-8")
    (tmp_path / "a.txt").write_text("Premier paragraphe de A.\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("La e-CPS se diffuse. Les pharmaciens suivent.\n", encoding="utf-8")
    (tmp_path / "c.txt").write_text("Un titre en première ligne\nLe corps du texte.\n", encoding="utf-8")
    a, b, c = (extract_article(d) for d in read_local(tmp_path, "dossier"))
    assert (a.title, a.published, a.source) == ("Titre A", date(2023, 1, 31), "dossier")
    assert (b.title, b.published, b.url) == ("La e-CPS se diffuse.", None, (tmp_path / "b.txt").as_uri())
    assert (c.title, [s.heading for s in c.sections]) == ("Un titre en première ligne", [None])


def test_html_metadata_body_and_boilerplate():
    article = _one(FIXTURES / "article_fr.html", "local")
    assert article.title == "Ségur du numérique : les éditeurs pressés de livrer"
    assert (article.published, article.date_source) == (date(2023, 3, 6), "json-ld")
    assert (article.author, article.source, article.declared_language) == ("Claire Dubois", "Le Journal de la e-santé", "fr")
    assert article.canonical_url == "https://www.journal-esante.example/2023/03/07/segur-editeurs-livrer"
    assert article.url == article.canonical_url
    assert [s.heading for s in article.sections] == [None, "Un financement conditionné à l'usage", "Des hôpitaux inégalement prêts"]
    texts = [p.text for p in article.paragraphs]
    assert len(texts) == 5
    assert texts[0].startswith("La deuxième vague du Ségur du numérique en santé doit permettre")
    assert texts[3].startswith("« Nous voulons que les comptes rendus circulent")
    body = "\n".join(texts)
    for dropped in ("cookies", "Accueil", "Partager", "À lire aussi", "commentaire", "clinique", "Mentions légales", "Photo :"):
        assert dropped not in body


def _page(head: str = "", body: str = "", url: str = "file:///tmp/page.html") -> RawDocument:
    paragraph = "<p>Le déploiement de la messagerie sécurisée de santé se poursuit dans les établissements médico-sociaux du pays.</p>"
    html = f"<html><head>{head}<title>Messagerie sécurisée : le médico-social s’y met - Santé Mag</title></head><body><article><h1>Messagerie</h1>{body}{paragraph}</article></body></html>"
    return RawDocument(url, html.encode("utf-8"), "web", "text/html")


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (_page(head='<meta property="article:published_time" content="2022-09-14T10:00:00Z">'), (date(2022, 9, 14), "meta")),
        (_page(body='<time datetime="2022-10-03">3 octobre</time>'), (date(2022, 10, 3), "meta")),
        (_page(url="https://sante.example/2022/09/14/messagerie"), (date(2022, 9, 14), "url")),
        (_page(body="<p>Publié le 1er octobre 2022 à 9 h</p>"), (date(2022, 10, 1), "text")),
        (_page(body="<p>Mis en ligne le 14 septembre 2022</p>"), (date(2022, 9, 14), "text")),
        (_page(), (None, None)),
    ],
)
def test_html_date_sources(doc, expected):
    article = extract_article(doc)
    assert (article.published, article.date_source) == expected


def test_html_title_falls_back_to_title_tag_minus_site_and_h1():
    article = extract_article(_page())
    assert article.title == "Messagerie"
    doc = RawDocument("https://x.example/a", b"<html><head><title>Le DMP s'installe - Sante Mag</title></head><body><p>Le dossier m\xc3\xa9dical partag\xc3\xa9 est aliment\xc3\xa9 par les h\xc3\xb4pitaux depuis plusieurs mois d\xc3\xa9j\xc3\xa0.</p></body></html>", "web", "text/html")
    article = extract_article(doc)
    assert (article.title, article.url, article.source) == ("Le DMP s'installe", "https://x.example/a", "web")


def test_cp1252_html_file_accents():
    article = _one(FIXTURES / "page_cp1252.html")
    assert article.title == "Télésanté : les téléconsultations reculent d’un quart"
    assert (article.published, article.date_source) == (date(2023, 2, 2), "text")
    assert any("mettent en œuvre des cabines connectées" in p.text and "50 000 €" in p.text for p in article.paragraphs)
    assert [s.heading for s in article.sections] == [None, "Un cadre financier revu"]


def test_jsonl_records_text_and_html(tmp_path):
    rows = [
        {"url": "https://ex.fr/t", "title": "T", "published": "2022-06-23", "source": "Revue", "author": "A. B.",
         "text": "Bilan de la feuille de route\n\nLe bilan a été publié en juin.\nIl couvre trois années.\n\nUne autre phrase."},
        "{cassé",
        {"url": "https://ex.fr/h", "title": "H", "source": "Site", "html": "<html><body><article><h2>Intertitre</h2><p>Un paragraphe HTML assez long pour compter comme un vrai corps de texte ici.</p></article></body></html>"},
    ]
    file = tmp_path / "lot.jsonl"
    file.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    items = list(read_local(file, "flux"))
    assert [type(i).__name__ for i in items] == ["RawDocument", "Failure", "RawDocument"]
    text, html = extract_article(items[0]), extract_article(items[2])
    assert (text.url, text.title, text.published, text.source, text.author) == ("https://ex.fr/t", "T", date(2022, 6, 23), "Revue", "A. B.")
    assert [(s.heading, [p.text for p in s.paragraphs]) for s in text.sections] == [
        ("Bilan de la feuille de route", ["Le bilan a été publié en juin. Il couvre trois années.", "Une autre phrase."])]
    assert (html.url, html.title, html.source) == ("https://ex.fr/h", "H", "Site")
    assert [(s.heading, len(s.paragraphs)) for s in html.sections] == [("Intertitre", 1)]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (RawDocument("/tmp/vide.txt", b"", "local", "text/plain"), "empty document"),
        (RawDocument("/tmp/titres.txt", "Un titre\nUn autre titre\n".encode(), "local", "text/plain"), "empty document"),
        (RawDocument("/tmp/vide.html", b"<html><body><nav><a href='/'>Accueil</a></nav></body></html>", "local", "text/html"), "empty document"),
        (RawDocument("/tmp/blanc.html", b"   ", "local", "text/html"), "unparseable HTML"),
        (RawDocument("/tmp/x.jsonl#L3", b'{"url": "https://ex.fr"}', "local", RECORD), "neither 'text' nor 'html'"),
    ],
)
def test_extract_errors(doc, message):
    with pytest.raises(ExtractError, match=message) as info:
        extract_article(doc)
    assert info.value.url == doc.uri


def test_empty_file_from_folder_raises_extract_error(tmp_path):
    (tmp_path / "vide.txt").write_bytes(b"")
    (doc,) = read_local(tmp_path, "local")
    with pytest.raises(ExtractError, match="^empty document"):
        extract_article(doc)


def test_oversized_input():
    doc = RawDocument("https://ex.fr/big", b"<p>" + b"a" * 2048 + b"</p>", "web", "text/html")
    with pytest.raises(ExtractError, match="oversized"):
        extract_article(doc, max_bytes=1024)


def test_main_text_keeps_headings_on_their_own_lines():
    text = main_text((FIXTURES / "article_fr.html").read_text(encoding="utf-8"))
    lines = text.splitlines()
    assert "Un financement conditionné à l'usage" in lines
    assert "Des hôpitaux inégalement prêts" in lines
    assert lines.index("Un financement conditionné à l'usage") < lines.index("Des hôpitaux inégalement prêts")
    assert "cookies" not in text and "Mentions légales" not in text


def test_extract_article_and_main_text_share_one_engine():
    html = (FIXTURES / "article_fr.html").read_text(encoding="utf-8")
    article = extract_article(RawDocument("https://www.journal-esante.example/a", html.encode("utf-8"), "web", "text/html"))
    lines = main_text(html).splitlines()
    assert lines[0] == article.title
    lines = lines[1:]
    headings = [s.heading for s in article.sections if s.heading]
    assert [line for line in lines if line not in headings] == [p.text for p in article.paragraphs]
    assert [line for line in lines if line in headings] == headings


def test_main_text_body_with_inline_markup_and_short_page_fallback():
    html = (
        "<html><head><title>DMP</title></head><body><nav><a href='/'>Accueil</a> <a href='/s'>Santé</a></nav>"
        "<article><h1>Le DMP progresse</h1>"
        "<p>Le <b>dossier médical partagé</b> est désormais alimenté par <a href='/h'>les hôpitaux</a> de la région.</p>"
        "<h2>Les pharmaciens suivent</h2>"
        "<p>Les officines consultent le dossier avant chaque délivrance sensible, selon l’Assurance maladie.</p>"
        "</article><footer><p>Mentions légales et politique de cookies du site.</p></footer></body></html>"
    )
    assert main_text(html).splitlines() == [
        "Le DMP progresse",
        "Le dossier médical partagé est désormais alimenté par les hôpitaux de la région.",
        "Les pharmaciens suivent",
        "Les officines consultent le dossier avant chaque délivrance sensible, selon l’Assurance maladie.",
    ]


@pytest.mark.parametrize(
    ("body", "what"),
    [
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03R\xf2&e", "gzip data"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "a PDF file"),
        (b"<html>\x00\x00\x00\x01\x02</html>", "binary data"),
    ],
)
def test_binary_bodies_are_refused_with_what_they_are(body, what):
    doc = RawDocument("/tmp/page.html", body, "local", "text/html")
    with pytest.raises(ExtractError, match=f"not a text document: {what}"):
        extract_article(doc)


def test_utf16_with_bom_is_still_text():
    html = "<html><body><p>Le DMP progresse dans les hôpitaux de la région, selon l’ARS.</p></body></html>"
    doc = RawDocument("/tmp/page.html", html.encode("utf-16"), "local", "text/html")
    assert "DMP progresse" in extract_article(doc).paragraphs[0].text
