"""Web sources through the real ``ingest`` flow: faults, a fixed server, an unchanged one, a revision."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from presswatch.digest import build_digest
from presswatch.models import Period
from presswatch.store import open_store
from configfile import write_config as write_base
from webserver import ARTICLES, BOMB, WebServer, article_html, rss

FETCH = """[fetch]
connect_timeout = 0.5
read_timeout = 0.5
retries = 1
backoff = 0.05
host_delay = 0.0
max_bytes = 1048576
allow_hosts = ["127.0.0.1"]
contact = "https://presswatch.example/contact"
"""

pytestmark = pytest.mark.usefixtures("prefect_api")

DAY = "Wed, 14 Sep 2022 08:00:00 GMT"
METADATA = "http://169.254.169.254/latest/meta-data/"
KEPT = ("articles", "revisions", "paragraphs", "classifications", "facts")


@pytest.fixture
def server():
    with WebServer() as s:
        yield s


@pytest.fixture
def logs(caplog):
    """The run loggers' records; Prefect configures logging (replacing handlers) on first import."""
    import prefect.main  # noqa: F401

    loggers = [logging.getLogger(name) for name in ("prefect.flow_runs", "prefect.task_runs")]
    for logger in loggers:
        logger.addHandler(caplog.handler)
    try:
        yield caplog
    finally:
        for logger in loggers:
            logger.removeHandler(caplog.handler)


def write_config(tmp_path: Path, sources: str) -> Path:
    return write_base(tmp_path, FETCH + sources)


def source(name: str, kind: str, where: str | list[str]) -> str:
    key = f'urls = {where!r}'.replace("'", '"') if isinstance(where, list) else f'url = "{where}"'
    return f'\n[[sources]]\nname = "{name}"\nkind = "{kind}"\n{key}\n'


def open_failures(store) -> set[tuple[str, str, str, str]]:
    digest = build_digest(store, Period.containing("week", datetime.now(timezone.utc).date()))
    return {(f.source, f.uri, f.stage, f.reason) for f in digest.quality.failures}


def stored(store) -> dict[str, int]:
    counts = store.counts()
    return {k: counts[k] for k in KEPT}


def test_faults_then_fixed_server_then_unchanged_then_revised(tmp_path, server, logs):
    from presswatch_flows.ingest import ingest

    url = server.url
    server.page("/robots.txt", "User-agent: *\nDisallow: /abonnes/\n", content_type="text/plain")
    server.page("/mes.html", article_html("mes"))
    server.page("/ins.html", article_html("ins"))
    server.page("/abonnes/hdh.html", article_html("hdh"))
    server.slow("/lent.html", 1.5)
    done = threading.Event()

    def endless(request):
        try:
            request.stream((b"<p>" + b"x" * 65533 for _ in range(800)), {"Content-Type": "text/html"})
        finally:
            done.set()

    server.routes["/enorme.html"] = endless
    items = ["/mes.html", "/segur.html", "/abonnes/hdh.html", METADATA, "/lent.html", "/enorme.html"]
    server.page("/flux.xml", rss([(p if p.startswith("http") else url(p), DAY) for p in items]),
                content_type="application/rss+xml")
    server.page("/piege.xml", BOMB, content_type="application/rss+xml")
    config = write_config(tmp_path, source("actu", "feed", url("/flux.xml"))
                          + source("pages", "url", [url("/ins.html")])
                          + source("piege", "feed", url("/piege.xml")))

    first = ingest(config_path=str(config))
    assert done.wait(5) and server.sent["/enorme.html"] < 12 * 1024 * 1024
    assert (first["new"], first["failed"]) == (2, 6)
    expected = {
        ("actu", url("/segur.html"), "fetch", "HTTP 404 Not Found"),
        ("actu", url("/abonnes/hdh.html"), "robots", "disallowed by robots.txt (robots.txt)"),
        ("actu", METADATA, "safety", "refused: 169.254.169.254 is a link-local address"),
        ("actu", url("/lent.html"), "fetch", "timed out (ReadTimeout)"),
        ("actu", url("/enorme.html"), "fetch", "response too large: more than 1048576 bytes"),
        ("piege", url("/piege.xml"), "feed", "XML entity declarations refused (EntitiesForbidden)"),
    }
    with open_store(tmp_path / "state" / "presswatch.db") as store:
        assert open_failures(store) == expected
        assert {a.article.url for a in store.articles_in(Period.parse("2022-09"))} == {url("/mes.html"), url("/ins.html")}
        assert stored(store)["articles"] == 2
    for src, uri, stage, reason in expected:
        assert f"{src}: {uri} refused ({stage}): {reason}" in logs.text
    assert server.hits("/abonnes/hdh.html") == 0 and server.hits("/segur.html") == 1
    assert server.headers("/mes.html")[0]["user-agent"].endswith("; https://presswatch.example/contact)")

    server.page("/segur.html", article_html("segur"))
    server.page("/lent.html", article_html("tele"))
    server.page("/enorme.html", article_html("ecps"))
    server.page("/libre.html", article_html("hdh"))
    server.page("/piege.xml", rss([(url("/libre.html"), DAY)]), content_type="application/rss+xml")
    second = ingest(config_path=str(config))
    assert (second["new"], second["revised"], second["unchanged"], second["failed"]) == (4, 0, 0, 2)
    with open_store(tmp_path / "state" / "presswatch.db") as store:
        assert open_failures(store) == {f for f in expected if f[2] in ("robots", "safety")}
        titles = {a.article.url: a.article.title for a in store.articles_in(Period.parse("2022-09"))}
        assert titles == {url(p): ARTICLES[k][0] for p, k in [("/mes.html", "mes"), ("/ins.html", "ins"),
                          ("/segur.html", "segur"), ("/lent.html", "tele"), ("/enorme.html", "ecps"),
                          ("/libre.html", "hdh")]}
        before = stored(store)
    assert before["articles"] == before["revisions"] == 6
    for path in ("/mes.html", "/ins.html"):
        assert server.headers(path)[-1].get("if-none-match"), path
    assert server.hits("/mes.html") == 2 and server.hits("/ins.html") == 2

    seen = len(server.seen)
    third = ingest(config_path=str(config))
    assert (third["new"], third["revised"], third["unchanged"], third["failed"]) == (0, 0, 0, 2)
    third_requests = server.seen[seen:]
    conditional = [s.path for s in third_requests if "if-none-match" in s.headers]
    assert sorted(conditional) == ["/enorme.html", "/ins.html", "/lent.html", "/mes.html", "/piege.xml", "/segur.html"]
    assert all("if-modified-since" in s.headers for s in third_requests if s.path in conditional)
    with open_store(tmp_path / "state" / "presswatch.db") as store:
        assert stored(store) == before

    server.page("/mes.html", article_html("mes", extra="<p>Le ministère annonce une campagne d'information "
                                                       "pour faire connaître le service aux patients.</p>"))
    fourth = ingest(config_path=str(config))
    assert (fourth["new"], fourth["revised"], fourth["failed"]) == (0, 1, 2)
    with open_store(tmp_path / "state" / "presswatch.db") as store:
        after = stored(store)
        (mes,) = [a for a in store.articles_in(Period.parse("2022-09")) if a.article.url == url("/mes.html")]
    assert (after["articles"], after["revisions"]) == (6, 7) and mes.revision == 2
    assert len(mes.article.paragraphs) == 4


def test_transient_feed_failure_retried_by_the_task_then_recorded(tmp_path, server, logs):
    from presswatch_flows.ingest import ingest

    server.reply("/flux.xml", 503)
    server.page("/ins.html", article_html("ins"))
    config = write_config(tmp_path, source("panne", "feed", server.url("/flux.xml"))
                          + source("pages", "url", [server.url("/ins.html")]))
    start = time.monotonic()
    report = ingest(config_path=str(config))
    assert time.monotonic() - start >= 5
    assert (report["new"], report["failed"]) == (1, 1)
    assert server.hits("/flux.xml") == 4
    assert "source panne failed: HTTP 503 Service Unavailable" in logs.text
    with open_store(tmp_path / "state" / "presswatch.db") as store:
        assert open_failures(store) == {("panne", server.url("/flux.xml"), "feed", "HTTP 503 Service Unavailable")}

    server.page("/mes.html", article_html("mes"))
    server.page("/flux.xml", rss([(server.url("/mes.html"), DAY)]), content_type="application/rss+xml")
    report = ingest(config_path=str(config))
    assert (report["new"], report["failed"]) == (1, 0)
    with open_store(tmp_path / "state" / "presswatch.db") as store:
        assert open_failures(store) == set()
        assert store.counts()["articles"] == 2
