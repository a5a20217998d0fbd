"""The flows end to end under a real Prefect API (test harness), a real SQLite file and real templates."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from presswatch.models import Period
from presswatch.store import open_store

from configfile import write_config as write_base
from conftest import SEED

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples" / "articles"

pytestmark = pytest.mark.usefixtures("prefect_api")


def write_config(tmp_path: Path, articles: Path) -> Path:
    return write_base(tmp_path, f'[[sources]]\nname = "local"\nkind = "folder"\npath = "{articles}"\n')


def seed_body(seed: Path) -> list[str]:
    """The seed's distinct body paragraphs in source order, read from the file itself."""
    seen: list[str] = []
    for line in seed.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if len(line.split()) < 30 or line.endswith("©DR") or line in seen:
            continue
        seen.append(line)
    return seen


@pytest.fixture(scope="module")
def seed_stored(prefect_api, tmp_path_factory):
    """The seed article run once through the real ingest flow, read back from the store."""
    from presswatch_flows.ingest import ingest

    if not SEED.is_file():
        pytest.skip("the seed article (../shared/seeds) is not available")
    tmp_path = tmp_path_factory.mktemp("seed")
    folder = tmp_path / "articles"
    folder.mkdir()
    shutil.copy(SEED, folder / SEED.name)
    report = ingest(config_path=str(write_config(tmp_path, folder)))
    with open_store(tmp_path / "state" / "presswatch.db") as store:
        (stored,) = store.articles_in(Period.containing("month", datetime.now(timezone.utc).date()))
    return report, stored


def test_seed_through_the_ingest_flow(seed_stored):
    report, stored = seed_stored
    assert report["new"] == 1 and report["failed"] == 0
    art = stored.article
    body = [p.text for p in art.paragraphs]
    assert body == seed_body(SEED)
    assert len(body) == 7
    assert [s.heading for s in art.sections if s.heading] == [
        "Des actions marquées par la crise sanitaire",
        "Plusieurs succès…",
        "… et d’autres points à approfondir",
    ]
    assert not any("©DR" in t or t.startswith("Article publié") for t in body)
    reasons = [r.reason for r in art.removals]
    assert reasons.count("duplicate") == 3
    boilerplate = [r.text for r in art.removals if r.reason.startswith("boilerplate")]
    assert sum(t.startswith("Article publié") for t in boilerplate) == 2
    assert any(t.endswith("©DR") for t in boilerplate)
    assert art.language == "fr" and art.relevant is True


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("Sur le banc des réussites", "success"),
        ("Mais si le lancement de Mon Espace Santé", "improvement"),
        ("« En matière de gouvernance", "improvement"),
    ],
)
def test_seed_paragraph_labels_after_the_flow(seed_stored, start, expected):
    _, stored = seed_stored
    labels = {p.text[:40]: stored.classifications[p.id].label for p in stored.article.paragraphs}
    assert _label(labels, start) == expected


def _label(labels: dict[str, str], start: str) -> str:
    (label,) = [v for k, v in labels.items() if k.startswith(start[:40])]
    return label


def test_monitor_on_samples_writes_digests_and_is_idempotent(tmp_path):
    from presswatch_flows.monitor import monitor

    config = write_config(tmp_path, SAMPLES)
    result = monitor(config_path=str(config), all_periods=True)
    paths = [Path(p) for p in result["paths"]]
    assert paths and all(p.is_file() for p in paths)
    weeks = {k for k in result["periods"] if "-W" in k}
    months = set(result["periods"]) - weeks
    assert len(weeks) >= 6 and len(months) >= 2
    assert {p.suffix for p in paths} == {".html", ".md", ".json"}

    db = tmp_path / "state" / "presswatch.db"
    with open_store(db) as store:
        before = store.counts()
        month = max(months)
        articles = store.articles_in(Period.parse(month))
    in_digest = [a for a in articles if a.article.language == "fr" and a.article.relevant]

    data = json.loads((tmp_path / "reports" / f"presswatch-{month}.json").read_text(encoding="utf-8"))
    assert data["period"]["key"] == month
    assert data["counts"]["articles"] == len(articles)
    assert data["counts"]["relevant"] == len(in_digest)
    labels = [c.label for a in in_digest for c in a.classifications.values()]
    assert data["counts"]["successes"] <= labels.count("success")
    assert all(item["label"] == "success" for item in data["successes"])
    assert all(item["label"] == "improvement" for item in data["improvements"])
    for item in data["successes"] + data["improvements"]:
        assert item["url"].startswith("http") and item["paragraph_id"] and item["link"].startswith(item["url"])

    everything = json.loads((tmp_path / "reports" / f"presswatch-{min(months)}.json").read_text(encoding="utf-8"))
    all_json = [json.loads(p.read_text(encoding="utf-8")) for p in paths if p.suffix == ".json" and "-W" not in p.name]
    failures = [f for d in all_json for f in d["quality"]["failures"]]
    assert {Path(f["uri"]).name for f in failures} >= {"broken-empty.txt", "broken-page.html"}
    assert sum(d["counts"]["non_french"] for d in all_json) >= 1
    assert sum(d["counts"]["off_topic"] for d in all_json) >= 1
    assert everything["counts"]["duplicates_removed"] >= 1

    html = BeautifulSoup((tmp_path / "reports" / f"presswatch-{month}.html").read_text(encoding="utf-8"), "lxml")
    assert html.html["lang"] == "fr"
    headings = " ".join(h.get_text(" ", strip=True) for h in html.find_all(["h1", "h2"]))
    for title in ("Ce qui a avancé", "Ce qui reste à améliorer", "Qualité des données"):
        assert title in headings

    again = monitor(config_path=str(config), all_periods=True)
    assert again["ingest"]["new"] == 0 and again["ingest"]["revised"] == 0
    with open_store(db) as store:
        after = store.counts()
    assert after["runs"] == before["runs"] + 1 == 2  # each ingest is recorded with its stats
    assert {k: v for k, v in after.items() if k != "runs"} == {k: v for k, v in before.items() if k != "runs"}


def test_digest_flow_for_an_empty_period_still_writes_files(tmp_path):
    from presswatch_flows.digest import digest

    config = write_config(tmp_path, SAMPLES)
    paths = digest("2030-W01", config_path=str(config))
    data = json.loads(Path([p for p in paths if p.endswith(".json")][0]).read_text(encoding="utf-8"))
    assert data["counts"]["articles"] == 0 and data["successes"] == []


def test_serve_builds_one_deployment_per_schedule_in_paris_time():
    from presswatch_flows.serve import build_deployments

    deployments = build_deployments(str(REPO / "samples" / "presswatch.toml"))
    assert [d.name for d in deployments] == ["weekly", "monthly"]
    crons = [(d.schedules[0].schedule.cron, d.schedules[0].schedule.timezone) for d in deployments]
    assert crons == [("0 7 * * 1", "Europe/Paris"), ("0 7 1 * *", "Europe/Paris")]
    assert [d.parameters["period_kind"] for d in deployments] == ["week", "month"]


def test_a_missing_configured_model_stops_the_run_with_a_clear_error(tmp_path, seed_path):
    from presswatch.errors import ModelError
    from presswatch_flows.ingest import ingest

    folder = tmp_path / "articles"
    folder.mkdir()
    shutil.copy(seed_path, folder / "seed.txt")
    config = write_config(tmp_path, folder)
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("[presswatch]\n", f'[presswatch]\nmodel = "{tmp_path / "none.bin"}"\n'),
                      encoding="utf-8")
    with pytest.raises(ModelError, match="presswatch train"):
        ingest(config_path=str(config))
