"""Feeds and sitemaps: every format read into entries, hostile or broken XML refused."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from presswatch.errors import ExtractError
from presswatch.feeds import Entry, parse_date, parse_listing

BASE = "https://www.exemple-sante.fr/rss/numerique.xml"
UTC = timezone.utc


def test_rss2_links_guids_dates_and_relative_urls():
    body = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Santé</title>
<item><title>Mon Espace Santé</title><link> /2022/09/14/mes.html </link>
  <pubDate>Wed, 14 Sep 2022 10:30:00 +0200</pubDate></item>
<item><title>Sans lien</title><guid>https://www.exemple-sante.fr/ins</guid><dc:date>2022-09-15T08:00:00Z</dc:date></item>
<item><title>Guid non permanent</title><guid isPermaLink="false">abc-123</guid></item>
<item><title>Doublon</title><link>https://www.exemple-sante.fr/2022/09/14/mes.html</link></item>
</channel></rss>""".encode()
    listing = parse_listing(body, BASE)
    assert listing.kind == "feed"
    assert listing.entries == (
        Entry("https://www.exemple-sante.fr/2022/09/14/mes.html", "Mon Espace Santé",
              datetime(2022, 9, 14, 10, 30, tzinfo=timezone(timedelta(hours=2)))),
        Entry("https://www.exemple-sante.fr/ins", "Sans lien", datetime(2022, 9, 15, 8, 0, tzinfo=UTC)),
    )


def test_rss091_latin1_feed():
    body = """<?xml version="1.0" encoding="iso-8859-1"?>
<rss version="0.91"><channel><title>Télésanté</title>
<item><title>Téléconsultation en hausse</title><link>https://www.exemple-sante.fr/tlc</link></item>
</channel></rss>""".encode("iso-8859-1")
    (entry,) = parse_listing(body, BASE).entries
    assert entry == Entry("https://www.exemple-sante.fr/tlc", "Téléconsultation en hausse", None)


def test_rss1_rdf_feed():
    body = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://www.exemple-sante.fr/"><title>DMP</title></channel>
<item rdf:about="https://www.exemple-sante.fr/dmp"><title>DMP</title><link>https://www.exemple-sante.fr/dmp</link>
<dc:date>2022-09-12</dc:date></item></rdf:RDF>"""
    listing = parse_listing(body, BASE)
    assert listing.entries == (Entry("https://www.exemple-sante.fr/dmp", "DMP", datetime(2022, 9, 12, tzinfo=UTC)),)


def test_atom_alternate_link_and_published_over_updated():
    body = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>e-CPS</title>
<entry><title>e-CPS</title><link rel="self" href="https://api.exemple-sante.fr/e/1"/>
<link rel="alternate" type="text/html" href="https://www.exemple-sante.fr/ecps"/>
<published>2022-09-10T07:00:00+02:00</published><updated>2022-09-11T07:00:00+02:00</updated></entry>
<entry><title>Sans rel</title><link href="/msante"/><updated>2022-09-11T07:00:00Z</updated></entry>
<entry><title>Sans lien</title></entry>
</feed>"""
    listing = parse_listing(body, BASE)
    assert [(e.url, e.published.isoformat()) for e in listing.entries] == [
        ("https://www.exemple-sante.fr/ecps", "2022-09-10T07:00:00+02:00"),
        ("https://www.exemple-sante.fr/msante", "2022-09-11T07:00:00+00:00"),
    ]


def test_news_sitemap_and_plain_sitemap():
    body = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://www.exemple-sante.fr/a</loc><lastmod>2022-09-20</lastmod>
  <news:news><news:publication><news:name>Exemple</news:name><news:language>fr</news:language></news:publication>
  <news:publication_date>2022-09-14T09:00:00+02:00</news:publication_date><news:title>Ségur</news:title></news:news></url>
<url><loc>https://www.exemple-sante.fr/b</loc><lastmod>2022-09</lastmod></url>
<url><loc>https://www.exemple-sante.fr/c</loc></url>
</urlset>""".encode()
    listing = parse_listing(body, "https://www.exemple-sante.fr/sitemap-news.xml")
    assert listing.kind == "sitemap"
    assert listing.entries == (
        Entry("https://www.exemple-sante.fr/a", "Ségur", datetime(2022, 9, 14, 9, tzinfo=timezone(timedelta(hours=2)))),
        Entry("https://www.exemple-sante.fr/b", None, datetime(2022, 9, 1, tzinfo=UTC)),
        Entry("https://www.exemple-sante.fr/c", None, None),
    )


def test_sitemap_index_lists_child_sitemaps():
    body = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://www.exemple-sante.fr/sitemap-2022-09.xml</loc><lastmod>2022-09-30</lastmod></sitemap>
<sitemap><loc>/sitemap-2022-08.xml.gz</loc></sitemap></sitemapindex>"""
    listing = parse_listing(body, "https://www.exemple-sante.fr/sitemap.xml")
    assert listing.kind == "sitemapindex"
    assert [e.url for e in listing.entries] == [
        "https://www.exemple-sante.fr/sitemap-2022-09.xml",
        "https://www.exemple-sante.fr/sitemap-2022-08.xml.gz",
    ]


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<rss version="2.0"><channel><title>&lol3;</title></channel></rss>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><item><title>&xxe;</title><link>https://x.fr/a</link></item></channel></rss>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE rss SYSTEM "http://169.254.169.254/evil.dtd">
<rss version="2.0"><channel><item><link>https://x.fr/a</link></item></channel></rss>"""


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (BILLION_LAUGHS, "XML entity declarations refused (EntitiesForbidden)"),
        (EXTERNAL, "XML entity declarations refused (EntitiesForbidden)"),
        (b"<rss><channel><item><link>https://x.fr/a</link></channel></rss>", "invalid XML: mismatched tag"),
        (b"", "invalid XML: no element found"),
        (b"<html><body>Pas un flux</body></html>", "not a feed or a sitemap (root element <html>)"),
    ],
)
def test_hostile_or_broken_xml_is_refused(body, reason):
    with pytest.raises(ExtractError) as info:
        parse_listing(body, BASE)
    assert str(info.value).startswith(reason)
    assert info.value.url == BASE


def test_external_dtd_is_never_loaded():
    listing = parse_listing(EXTERNAL_DTD, BASE)
    assert listing.entries == (Entry("https://x.fr/a"),)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Wed, 14 Sep 2022 08:00:00 GMT", datetime(2022, 9, 14, 8, tzinfo=UTC)),
        ("2022-09-14T10:00:00+02:00", datetime(2022, 9, 14, 8, tzinfo=UTC)),
        ("2022-09-14T08:00:00Z", datetime(2022, 9, 14, 8, tzinfo=UTC)),
        ("2022-09-14", datetime(2022, 9, 14, tzinfo=UTC)),
        ("2022-09", datetime(2022, 9, 1, tzinfo=UTC)),
        ("hier", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(text, expected):
    assert parse_date(text) == expected
