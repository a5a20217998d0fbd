"""The HTTP client against a real server on 127.0.0.1: safety, robots, limits, redirects, retries."""

from __future__ import annotations

import gzip
import ipaddress
import socket
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from presswatch.config import FetchSettings
from presswatch.errors import FetchError, TransientFetchError
from presswatch.fetch import Fetcher, RobotsDisallowedError, fetch_document, retry_after, user_agent
from presswatch.urlsafety import UnsafeURLError, address_kind, check_url
from webserver import WebServer, article_html

SETTINGS = FetchSettings(
    contact="https://presswatch.example/contact", connect_timeout=0.5, read_timeout=0.5, retries=1,
    backoff=0.05, host_delay=0.0, allow_hosts=("127.0.0.1",), max_bytes=1024 * 1024,
)


@pytest.fixture
def server():
    with WebServer() as s:
        yield s


@pytest.fixture
def connections(monkeypatch):
    """Every address a TCP connection is opened to during the test."""
    opened: list[str] = []
    real = socket.create_connection

    def spy(address, *args, **kwargs):
        opened.append(address[0])
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", spy)
    return opened


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "refused: 169.254.169.254 is a link-local address"),
        ("http://127.0.0.1:8080/", None),
        ("http://127.0.0.2/", "refused: 127.0.0.2 is a loopback address"),
        ("http://10.1.2.3/", "refused: 10.1.2.3 is a private address"),
        ("http://192.168.1.1/", "refused: 192.168.1.1 is a private address"),
        ("http://[::1]/", "refused: ::1 is a loopback address"),
        ("http://[::ffff:169.254.169.254]/", "refused: ::ffff:169.254.169.254 (::ffff:a9fe:a9fe) is a link-local address"),
        ("http://[fe80::1]/", "refused: fe80::1 is a link-local address"),
        ("http://0.0.0.0/", "refused: 0.0.0.0 is an unspecified address"),
        ("http://224.0.0.1/", "refused: 224.0.0.1 is a multicast address"),
        ("http://240.0.0.1/", "refused: 240.0.0.1 is a reserved address"),
        ("http://100.64.0.1/", "refused: 100.64.0.1 is a non-public address"),
        ("ftp://www.exemple-sante.fr/a", "refused: scheme 'ftp' is not http or https"),
        ("file:///etc/passwd", "refused: scheme 'file' is not http or https"),
        ("http://user:secret@93.184.216.34/", "refused: credentials in URL"),
        ("http://93.184.216.34:99999/", "refused: malformed URL (Port out of range 0-65535)"),
        ("http:///chemin", "refused: no host in URL"),
    ],
)
def test_check_url(url, reason):
    if reason is None:
        check_url(url, ("127.0.0.1",))
        return
    with pytest.raises(UnsafeURLError) as info:
        check_url(url, ("127.0.0.1",))
    assert str(info.value) == reason


def test_names_are_resolved_before_the_check():
    with pytest.raises(UnsafeURLError, match=r"^refused: localhost \((127\.0\.0\.1|::1)\) is a loopback address$"):
        check_url("http://localhost/")


def test_allow_hosts_accepts_names_and_networks_only_when_listed():
    check_url("http://10.1.2.3/", ("10.0.0.0/8",))
    check_url("http://LOCALHOST/", ("localhost",))
    with pytest.raises(UnsafeURLError):
        check_url("http://10.1.2.3/", ("192.168.0.0/16",))
    with pytest.raises(UnsafeURLError):
        check_url("http://169.254.169.254/", ("127.0.0.1",))


def test_public_address_passes():
    assert address_kind(ipaddress.ip_address("93.184.216.34")) is None
    check_url("https://93.184.216.34/article")


def test_user_agent_names_presswatch_and_contact():
    assert user_agent(SETTINGS) == "presswatch/0.1 (+https://github.com/presswatch/presswatch; https://presswatch.example/contact)"
    assert user_agent(FetchSettings(user_agent="presswatch-test")) == "presswatch-test"
    assert user_agent(FetchSettings(user_agent="presswatch", contact="mailto:veille@exemple.fr")) == (
        "presswatch (+mailto:veille@exemple.fr)"
    )


def test_retry_after_seconds_and_date():
    assert retry_after("3") == 3.0
    assert retry_after(None) is None and retry_after("bientôt") is None
    later = datetime.now(timezone.utc) + timedelta(seconds=30)
    assert 28 <= retry_after(format_datetime(later, usegmt=True)) <= 30


def test_fetch_document_sends_user_agent_and_reads_page(server):
    server.page("/a.html", article_html("mes"))
    doc = fetch_document(server.url("/a.html"), SETTINGS)
    assert doc.uri == server.url("/a.html") and doc.source == "127.0.0.1"
    assert doc.content_type == "text/html; charset=utf-8"
    assert "Mon Espace Santé" in doc.body.decode("utf-8")
    assert server.headers("/a.html")[0]["user-agent"] == user_agent(SETTINGS)
    assert server.headers("/robots.txt")[0]["user-agent"] == user_agent(SETTINGS)


def test_redirect_to_metadata_address_refused_before_connecting(server, connections):
    server.reply("/go", 302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    with pytest.raises(UnsafeURLError) as info:
        fetch_document(server.url("/go"), SETTINGS)
    assert str(info.value) == "refused: 169.254.169.254 is a link-local address"
    assert "127.0.0.1" in connections and "169.254.169.254" not in connections


def test_redirects_followed_and_counted(server):
    server.reply("/r1", 301, headers={"Location": "/r2"})
    server.reply("/r2", 307, headers={"Location": server.url("/fin")})
    server.page("/fin", article_html("ins"))
    with Fetcher(SETTINGS) as fetcher:
        response = fetcher.fetch(server.url("/r1"))
    assert response.url == server.url("/r1") and response.final_url == server.url("/fin")
    with pytest.raises(FetchError, match="more than 1 redirects"):
        fetch_document(server.url("/r1"), FetchSettings(**{**_kw(), "max_redirects": 1}))


def test_redirect_loop_is_a_fetch_error(server):
    server.reply("/boucle-a", 302, headers={"Location": "/boucle-b"})
    server.reply("/boucle-b", 302, headers={"Location": "/boucle-a"})
    with pytest.raises(FetchError) as info:
        fetch_document(server.url("/boucle-a"), SETTINGS)
    assert str(info.value) == "redirect loop: {0}/boucle-a -> {0}/boucle-b -> {0}/boucle-a".format(server.url(""))
    assert server.hits("/boucle-a") == 1 and server.hits("/boucle-b") == 1


def test_robots_disallow_is_obeyed_and_read_once(server):
    server.page("/robots.txt", "User-agent: *\nDisallow: /prive/\n", content_type="text/plain", validators=False)
    server.page("/prive/a.html", article_html("mes"))
    server.page("/public/a.html", article_html("mes"))
    with Fetcher(SETTINGS) as fetcher:
        with pytest.raises(RobotsDisallowedError, match="disallowed by robots.txt"):
            fetcher.fetch(server.url("/prive/a.html"))
        assert fetcher.fetch(server.url("/public/a.html")).status == 200
    assert server.hits("/prive/a.html") == 0 and server.hits("/robots.txt") == 1


def test_robots_5xx_disallows_the_host_for_the_run(server):
    server.reply("/robots.txt", 503)
    server.page("/a.html", article_html("mes"))
    with pytest.raises(RobotsDisallowedError, match=r"robots.txt unavailable \(HTTP 503"):
        fetch_document(server.url("/a.html"), SETTINGS)
    assert server.hits("/a.html") == 0


def test_robots_can_be_switched_off(server):
    server.reply("/robots.txt", 503)
    server.page("/a.html", article_html("mes"))
    fetch_document(server.url("/a.html"), FetchSettings(**{**_kw(), "obey_robots": False}))
    assert server.hits("/robots.txt") == 0 and server.hits("/a.html") == 1


@pytest.mark.parametrize("content_type", ["image/png", "application/pdf", "application/octet-stream"])
def test_wrong_content_type_refused_for_a_page(server, content_type):
    server.page("/fichier", b"\x89PNG" + b"\x00" * 100, content_type=content_type)
    with pytest.raises(FetchError, match=f"unsupported content type {content_type} for a page"):
        fetch_document(server.url("/fichier"), SETTINGS)


def test_gzip_body_is_decoded(server):
    raw = article_html("segur").encode("utf-8") * 20
    packed = gzip.compress(raw)
    server.routes["/gz.html"] = lambda r: r.send(
        200, packed, {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"}
    )
    doc = fetch_document(server.url("/gz.html"), SETTINGS)
    assert doc.body == raw
    assert server.sent["/gz.html"] == len(packed) < len(raw) // 5
    assert "gzip" in server.headers("/gz.html")[0]["accept-encoding"]


def test_gzip_bomb_stopped_at_the_size_cap(server):
    packed = gzip.compress(b"<p>" + b"a" * (20 * 1024 * 1024))
    server.routes["/bombe.html"] = lambda r: r.send(
        200, packed, {"Content-Type": "text/html", "Content-Encoding": "gzip"}
    )
    with pytest.raises(FetchError, match="response too large: more than 1048576 bytes"):
        fetch_document(server.url("/bombe.html"), SETTINGS)


def test_declared_length_over_the_cap_refused_before_reading(server):
    def route(request):
        request.stream((b"x" * 65536 for _ in range(800)), {"Content-Type": "text/html", "Content-Length": str(800 * 65536)})

    server.routes["/gros.html"] = route
    with pytest.raises(FetchError, match="response too large: 52428800 bytes declared, limit 1048576"):
        fetch_document(server.url("/gros.html"), SETTINGS)


def test_host_delay_spaces_requests_to_one_host(server):
    server.page("/a.html", article_html("mes"))
    with Fetcher(FetchSettings(**{**_kw(), "host_delay": 0.3, "obey_robots": False})) as fetcher:
        start = time.monotonic()
        for _ in range(3):
            fetcher.fetch(server.url("/a.html"))
        elapsed = time.monotonic() - start
    assert elapsed >= 0.6


def test_crawl_delay_from_robots_widens_the_gap(server):
    server.page("/robots.txt", "User-agent: presswatch\nCrawl-delay: 1\n", content_type="text/plain")
    server.page("/a.html", article_html("mes"))
    with Fetcher(SETTINGS) as fetcher:
        fetcher.fetch(server.url("/a.html"))
        start = time.monotonic()
        fetcher.fetch(server.url("/a.html"))
        assert time.monotonic() - start >= 1.0


def test_conditional_request_gets_304(server):
    server.page("/a.html", article_html("mes"))
    with Fetcher(SETTINGS) as fetcher:
        first = fetcher.fetch(server.url("/a.html"))
        second = fetcher.fetch(server.url("/a.html"), state=first.state())
    assert first.status == 200 and second.status == 304 and second.body == b""
    sent = server.headers("/a.html")[1]
    assert sent["if-none-match"] == first.etag and sent["if-modified-since"] == "Wed, 14 Sep 2022 08:00:00 GMT"
    assert second.state(first.state()).content_hash == first.content_hash


def test_transient_errors_retried_then_raised(server):
    server.reply("/panne.html", 502)
    with pytest.raises(TransientFetchError) as info:
        fetch_document(server.url("/panne.html"), FetchSettings(**{**_kw(), "retries": 2}))
    assert info.value.status == 502 and str(info.value) == "HTTP 502 Bad Gateway"
    assert server.hits("/panne.html") == 3


def test_retry_after_beyond_the_cap_gives_up_at_once(server):
    server.reply("/occupe.html", 429, headers={"Retry-After": "3600"})
    with pytest.raises(TransientFetchError) as info:
        fetch_document(server.url("/occupe.html"), SETTINGS)
    assert info.value.retry_after == 3600.0 and server.hits("/occupe.html") == 1


def test_connection_refused_is_transient():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(TransientFetchError, match="connection error"):
        fetch_document(f"http://127.0.0.1:{port}/a.html", FetchSettings(**{**_kw(), "obey_robots": False}))


def _kw() -> dict:
    return {name: getattr(SETTINGS, name) for name in FetchSettings.__slots__}
