"""Collecting web sources against a real server on 127.0.0.1: each fault on its own."""

from __future__ import annotations

import gzip
import socket
import threading
import time
from datetime import date, datetime, timezone

import pytest

from presswatch.config import FetchSettings, SourceSpec
from presswatch.errors import TransientFetchError
from presswatch.extract import extract_article
from presswatch.models import Failure
from presswatch.store import FetchState, open_store
from presswatch.web import Harvest, collect_web, retry_uris, states_to_save
from webserver import ARTICLES, BOMB, WebServer, article_html, rss

SETTINGS = FetchSettings(
    connect_timeout=0.5, read_timeout=0.5, retries=1, backoff=0.05, host_delay=0.0,
    allow_hosts=("127.0.0.1",), max_bytes=1024 * 1024,
)
DAY = "Wed, 14 Sep 2022 08:00:00 GMT"


@pytest.fixture
def server():
    with WebServer() as s:
        yield s


def feed(server, paths, path="/flux.xml", days=None):
    server.page(path, rss([(server.url(p), (days or {}).get(p, DAY)) for p in paths]),
                content_type="application/rss+xml")
    return SourceSpec("exemple", "feed", server.url(path))


def collect(spec, known=None, **kw) -> Harvest:
    return collect_web(spec, kw.pop("settings", SETTINGS), known or {}, **kw)


def reasons(harvest):
    return [(f.source, f.uri, f.stage, f.reason) for f in harvest.failures]


def test_feed_pages_collected_with_states(server):
    server.page("/mes.html", article_html("mes"))
    server.page("/segur.html", article_html("segur"))
    spec = feed(server, ["/mes.html", "/segur.html"])
    harvest = collect(spec)
    assert [d.uri for d in harvest.documents] == [server.url("/mes.html"), server.url("/segur.html")]
    assert all(d.source == "exemple" and d.content_type == "text/html; charset=utf-8" for d in harvest.documents)
    assert harvest.failures == () and harvest.not_modified == 0
    assert set(harvest.states) == {server.url(p) for p in ("/flux.xml", "/mes.html", "/segur.html")}
    assert harvest.listings == (server.url("/flux.xml"),)
    article = extract_article(harvest.documents[0])
    assert article.title == ARTICLES["mes"][0] and len(article.paragraphs) == 3


def test_timeout_reported_and_other_pages_collected(server):
    server.slow("/lent.html", 3.0)  # two attempts cut at 0.5 s each, against 6 s if the timeout did not work
    server.page("/mes.html", article_html("mes"))
    start = time.monotonic()
    harvest = collect(feed(server, ["/lent.html", "/mes.html"]))
    assert time.monotonic() - start < 5  # room for a loaded machine, below one full wait plus a second
    assert reasons(harvest) == [("exemple", server.url("/lent.html"), "fetch", "timed out (ReadTimeout)")]
    assert [d.uri for d in harvest.documents] == [server.url("/mes.html")]
    assert server.hits("/lent.html") == 2
    assert server.url("/lent.html") not in harvest.states


def test_500_then_success_is_retried(server):
    server.sequence("/instable.html", lambda r: r.send(500, b"erreur"),
                    lambda r: r.send(200, article_html("ins").encode(), {"Content-Type": "text/html"}))
    harvest = collect(feed(server, ["/instable.html"]))
    assert harvest.failures == ()
    assert [d.uri for d in harvest.documents] == [server.url("/instable.html")]
    assert server.hits("/instable.html") == 2


def test_404_is_not_retried(server):
    harvest = collect(feed(server, ["/disparu.html"]))
    assert reasons(harvest) == [("exemple", server.url("/disparu.html"), "fetch", "HTTP 404 Not Found")]
    assert server.hits("/disparu.html") == 1


def test_429_retry_after_is_honoured(server):
    server.sequence("/occupe.html", lambda r: r.send(429, b"", {"Retry-After": "1"}),
                    lambda r: r.send(200, article_html("hdh").encode(), {"Content-Type": "text/html"}))
    start = time.monotonic()
    harvest = collect(feed(server, ["/occupe.html"]))
    assert time.monotonic() - start >= 1.0
    assert harvest.failures == () and len(harvest.documents) == 1
    assert server.hits("/occupe.html") == 2


def test_redirect_loop_reported(server):
    server.reply("/a", 301, headers={"Location": "/b"})
    server.reply("/b", 302, headers={"Location": "/a"})
    harvest = collect(feed(server, ["/a"]))
    ((_, uri, stage, reason),) = reasons(harvest)
    assert (uri, stage) == (server.url("/a"), "fetch")
    assert reason == f"redirect loop: {server.url('/a')} -> {server.url('/b')} -> {server.url('/a')}"


def test_wrong_charset_header_loses_to_meta(server):
    body = article_html("segur", charset="windows-1252").encode("cp1252")
    server.page("/latin.html", body, content_type="text/html; charset=utf-8")
    (doc,) = collect(feed(server, ["/latin.html"])).documents
    assert doc.content_type == "text/html; charset=utf-8" and doc.body == body
    article = extract_article(doc)
    assert article.title == ARTICLES["segur"][0]
    assert [p.text for p in article.paragraphs] == ARTICLES["segur"][2]


def test_gzip_page(server):
    raw = article_html("ins").encode("utf-8")
    server.routes["/gz.html"] = lambda r: r.send(
        200, gzip.compress(raw), {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"})
    (doc,) = collect(feed(server, ["/gz.html"])).documents
    assert doc.body == raw
    assert [p.text for p in extract_article(doc).paragraphs] == ARTICLES["ins"][2]


def test_gzipped_sitemap_under_a_sitemap_index(server):
    server.page("/mes.html", article_html("mes"))
    server.page("/ins.html", article_html("ins"))
    child = (f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>{server.url("/mes.html")}</loc>'
             f'<lastmod>2022-09-14</lastmod></url><url><loc>/ins.html</loc><lastmod>2022-08-01</lastmod></url></urlset>')
    server.page("/sitemap-1.xml.gz", gzip.compress(child.encode()), content_type="application/x-gzip")
    server.page("/sitemap.xml", '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                '<sitemap><loc>/sitemap-1.xml.gz</loc></sitemap>'
                '<sitemap><loc>/sitemap-old.xml</loc><lastmod>2021-01-01</lastmod></sitemap></sitemapindex>',
                content_type="application/xml")
    harvest = collect(SourceSpec("plan", "sitemap", server.url("/sitemap.xml")), since=date(2022, 9, 1))
    assert [d.uri for d in harvest.documents] == [server.url("/mes.html")]
    assert harvest.listings == (server.url("/sitemap.xml"), server.url("/sitemap-1.xml.gz"))
    assert server.hits("/ins.html") == 0 and server.hits("/sitemap-old.xml") == 0


def test_invalid_xml_feed(server):
    server.page("/flux.xml", "<rss><channel><item><link>/a</link></channel>", content_type="text/xml")
    harvest = collect(SourceSpec("exemple", "feed", server.url("/flux.xml")))
    ((source, uri, stage, reason),) = reasons(harvest)
    assert (source, uri, stage) == ("exemple", server.url("/flux.xml"), "feed")
    assert reason.startswith("invalid XML: mismatched tag")
    assert harvest.documents == () and harvest.states == {}


def test_entity_expansion_bomb_refused(server):
    server.page("/bombe.xml", BOMB, content_type="application/rss+xml")
    harvest = collect(SourceSpec("exemple", "feed", server.url("/bombe.xml")))
    assert reasons(harvest) == [
        ("exemple", server.url("/bombe.xml"), "feed", "XML entity declarations refused (EntitiesForbidden)")]
    assert harvest.documents == () and harvest.states == {}


def huge(server, path, done: threading.Event):
    def route(request):
        try:
            request.stream((b"<p>" + b"x" * 65533 for _ in range(800)), {"Content-Type": "text/html"})
        finally:
            done.set()

    server.routes[path] = route


def test_50_mb_body_stopped_early(server):
    done = threading.Event()
    huge(server, "/enorme.html", done)
    server.page("/mes.html", article_html("mes"))
    harvest = collect(feed(server, ["/enorme.html", "/mes.html"]))
    assert done.wait(5)
    assert reasons(harvest) == [
        ("exemple", server.url("/enorme.html"), "fetch", "response too large: more than 1048576 bytes")]
    assert [d.uri for d in harvest.documents] == [server.url("/mes.html")]
    assert server.sent["/enorme.html"] < 12 * 1024 * 1024


def test_robots_disallowed_page_never_requested(server):
    server.page("/robots.txt", "User-agent: *\nDisallow: /abonnes/\n", content_type="text/plain")
    server.page("/abonnes/hdh.html", article_html("hdh"))
    server.page("/mes.html", article_html("mes"))
    harvest = collect(feed(server, ["/abonnes/hdh.html", "/mes.html"]))
    assert reasons(harvest) == [
        ("exemple", server.url("/abonnes/hdh.html"), "robots", "disallowed by robots.txt (robots.txt)")]
    assert server.hits("/abonnes/hdh.html") == 0 and len(harvest.documents) == 1


def test_link_to_metadata_address_refused_without_connecting(server, monkeypatch):
    opened: list[str] = []
    real = socket.create_connection
    monkeypatch.setattr(socket, "create_connection", lambda a, *x, **k: opened.append(a[0]) or real(a, *x, **k))
    server.page("/mes.html", article_html("mes"))
    server.page("/flux.xml", rss([("http://169.254.169.254/latest/meta-data/", DAY), (server.url("/mes.html"), DAY)]),
                content_type="application/rss+xml")
    harvest = collect(SourceSpec("exemple", "feed", server.url("/flux.xml")))
    assert reasons(harvest) == [("exemple", "http://169.254.169.254/latest/meta-data/", "safety",
                                 "refused: 169.254.169.254 is a link-local address")]
    assert len(harvest.documents) == 1
    assert "169.254.169.254" not in opened and opened.count("127.0.0.1") >= 3


def test_unchanged_feed_answers_304_and_its_pages_are_left_alone(server):
    server.page("/mes.html", article_html("mes"))
    server.page("/ins.html", article_html("ins"))
    spec = feed(server, ["/mes.html", "/ins.html"])
    first = collect(spec)
    second = collect(spec, first.states)
    assert second.documents == () and second.failures == () and second.not_modified == 1
    sent = server.headers("/flux.xml")[-1]
    assert sent["if-none-match"] == first.states[server.url("/flux.xml")].etag
    assert sent["if-modified-since"] == "Wed, 14 Sep 2022 08:00:00 GMT"
    assert server.hits("/mes.html") == 1 and server.hits("/ins.html") == 1


def test_changed_feed_rechecks_its_pages_conditionally(server):
    server.page("/mes.html", article_html("mes"))
    spec = feed(server, ["/mes.html"])
    first = collect(spec)
    server.page("/ins.html", article_html("ins"))
    spec = feed(server, ["/mes.html", "/ins.html"])
    second = collect(spec, first.states)
    assert [d.uri for d in second.documents] == [server.url("/ins.html")]
    assert second.not_modified == 1
    assert server.headers("/mes.html")[-1]["if-none-match"] == first.states[server.url("/mes.html")].etag


def test_second_run_of_url_source_is_conditional(server):
    server.page("/mes.html", article_html("mes"))
    server.page("/ins.html", article_html("ins"))
    spec = SourceSpec("liste", "url", (server.url("/mes.html"), server.url("/ins.html")))
    first = collect(spec)
    second = collect(spec, first.states)
    assert second.documents == () and second.failures == () and second.not_modified == 2
    for path in ("/mes.html", "/ins.html"):
        assert server.headers(path)[-1]["if-none-match"] == first.states[server.url(path)].etag
    assert second.states[server.url("/mes.html")].content_hash == first.states[server.url("/mes.html")].content_hash


def test_same_body_without_validators_counts_as_not_modified(server):
    server.page("/mes.html", article_html("mes"), validators=False)
    server.page("/ins.html", article_html("ins"), validators=False)
    spec = SourceSpec("liste", "url", (server.url("/mes.html"), server.url("/ins.html")))
    first = collect(spec)
    server.page("/ins.html", article_html("ins", extra="<p>Mise à jour : le décret est paru.</p>"), validators=False)
    second = collect(spec, first.states)
    assert second.not_modified == 1 and [d.uri for d in second.documents] == [server.url("/ins.html")]
    assert "if-none-match" not in server.headers("/mes.html")[-1]


def test_since_skips_older_entries_without_fetching(server):
    server.page("/ancien.html", article_html("hdh"))
    server.page("/recent.html", article_html("mes"))
    spec = feed(server, ["/ancien.html", "/recent.html"], days={"/ancien.html": "Mon, 01 Aug 2022 08:00:00 GMT"})
    harvest = collect(spec, since=date(2022, 9, 1))
    assert [d.uri for d in harvest.documents] == [server.url("/recent.html")]
    assert server.hits("/ancien.html") == 0


def test_failed_pages_retried_even_when_the_feed_is_unchanged(server):
    server.page("/mes.html", article_html("mes"))
    spec = feed(server, ["/mes.html"])
    first = collect(spec)
    server.page("/ins.html", article_html("ins"))
    second = collect(spec, first.states, retry=[server.url("/ins.html"), server.url("/flux.xml")])
    assert [d.uri for d in second.documents] == [server.url("/ins.html")]
    assert server.hits("/flux.xml") == 2 and second.not_modified == 1


def test_selector_option_reaches_extraction(server):
    extra = '<div class="encart"><p>Abonnez-vous à notre lettre pour recevoir toute l\'actualité.</p></div>'
    page = article_html("hdh").replace("<article>", '<article><div class="corps">').replace(
        "</article>", f"</div>{extra}</article>")
    server.page("/hdh.html", page)
    spec = SourceSpec("choisi", "url", (server.url("/hdh.html"),), options={"selector": "div.corps"})
    (doc,) = collect(spec).documents
    assert doc.meta == {"selector": "div.corps"}
    assert [p.text for p in extract_article(doc).paragraphs] == ARTICLES["hdh"][2]


def test_listing_failures(server):
    harvest = collect(SourceSpec("exemple", "feed", server.url("/absent.xml")))
    assert reasons(harvest) == [("exemple", server.url("/absent.xml"), "feed", "HTTP 404 Not Found")]
    server.page("/page.xml", article_html("mes"))
    harvest = collect(SourceSpec("exemple", "feed", server.url("/page.xml")))
    assert reasons(harvest) == [
        ("exemple", server.url("/page.xml"), "feed", "unsupported content type text/html for a feed")]
    harvest = collect(SourceSpec("exemple", "feed", "http://10.0.0.1/flux.xml"))
    assert reasons(harvest)[0][2:] == ("feed", "refused: 10.0.0.1 is a private address")


def test_transient_listing_failure_is_raised_for_the_source_to_retry(server):
    server.reply("/flux.xml", 503)
    with pytest.raises(TransientFetchError) as info:
        collect(SourceSpec("exemple", "feed", server.url("/flux.xml")))
    assert info.value.status == 503 and server.hits("/flux.xml") == 2


def test_states_to_save_and_retry_uris():
    now = datetime(2022, 9, 20, tzinfo=timezone.utc)
    state = {u: FetchState(u, None, None, "h", 200, now) for u in ("f", "a", "b", "c")}
    harvest = Harvest((), (Failure("s", "c", "fetch", "HTTP 404", now),), state, 0, ("f",))
    assert set(states_to_save(harvest, [])) == {"a", "b"}
    assert set(states_to_save(harvest, ["b"])) == {"a"}
    clean = Harvest((), (), state, 0, ("f",))
    assert set(states_to_save(clean, [])) == {"f", "a", "b", "c"}
    assert set(states_to_save(clean, ["a"])) == {"b", "c"}
    failures = [Failure("s", u, stage, "x", now) for u, stage in
                [("http://x/f", "feed"), ("http://x/a", "fetch"), ("http://x/b", "extract"), ("/tmp/c", "read"),
                 ("http://x/a", "robots"), ("http://x/d", "source")]]
    assert retry_uris(failures) == ["http://x/a", "http://x/b"]


def test_store_fetch_states_and_open_failures(tmp_path):
    now = datetime(2022, 9, 20, 8, tzinfo=timezone.utc)
    with open_store(tmp_path / "s.db") as store:
        store.set_fetch_state("http://x/a", etag='"1"', content_hash="h", status=200, fetched_at=now)
        store.set_fetch_state("http://x/b", last_modified=DAY, status=200, fetched_at=now)
        assert store.fetch_states(["http://x/a", "http://x/z"]) == {
            "http://x/a": FetchState("http://x/a", '"1"', None, "h", 200, now)}
        assert set(store.fetch_states()) == {"http://x/a", "http://x/b"}
        store.record_failure(Failure("s", "http://x/c", "fetch", "HTTP 404 Not Found", now))
        store.record_failure(Failure("t", "http://x/d", "fetch", "HTTP 404 Not Found", now))
        store.record_failure(Failure("s", "http://x/e", "fetch", "timed out", now))
        store.resolve_failures("http://x/e")
        assert store.open_failures("s") == [Failure("s", "http://x/c", "fetch", "HTTP 404 Not Found", now)]
