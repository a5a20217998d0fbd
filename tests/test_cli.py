"""The command line, invoked as a user would: a real process, real files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXE = Path(sys.executable).parent / "presswatch"


def run(*args: str, stdin: str | None = None, env: dict[str, str] | None = None, cwd: Path | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(EXE), *args], input=stdin, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})}, cwd=cwd,
    )


def test_ingest_missing_path_is_one_clean_line(tmp_path):
    result = run("ingest", str(tmp_path / "no" / "such" / "path"), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [f"presswatch: error: no such file or directory: {tmp_path}/no/such/path"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("digest", "--week", "2022-38"), "not a period"),
        (("-c", "missing.toml", "sources"), "configuration file not found"),
        (("evaluate", "nope.jsonl"), "no such file"),
    ],
)
def test_user_errors_never_print_a_traceback(tmp_path, args, message):
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and message in result.stderr


def test_classify_reads_jsonl_and_answers_in_input_order():
    rows = [
        {"id": "a", "text": "Le déploiement de la e-CPS est un succès : 400 000 professionnels l'utilisent déjà."},
        {"id": "b", "text": "Les retards s'accumulent et les éditeurs dénoncent un calendrier intenable.", "heading": "Des difficultés"},
        {"id": "c", "text": "La messagerie sécurisée MSSanté permet aux professionnels d'échanger des documents."},
    ]
    result = run("classify", stdin="".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", "b", "c"]
    assert all(set(o) == {"id", "label", "score", "cues"} for o in out)
    assert out[0]["label"] == "success" and out[1]["label"] == "improvement"
    assert all(0.0 <= o["score"] <= 1.0 and o["cues"] for o in out)


def test_classify_rejects_a_bad_line_with_its_number():
    result = run("classify", stdin='{"id": "1", "text": "Bonjour."}\nnot json\n')
    assert result.returncode == 1 and "stdin line 2: invalid JSON" in result.stderr


def test_inspect_json_shows_sections_labels_and_removals(seed_path):
    result = run("inspect", str(seed_path), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["language"] == "fr" and report["relevant"] is True
    assert {"title", "published", "author", "sections", "removed"} <= set(report)
    paragraphs = [p for s in report["sections"] for p in s["paragraphs"]]
    assert len(paragraphs) == 7
    assert all(p["label"] in {"success", "improvement", "context"} and p["cues"] for p in paragraphs)
    reasons = [r["reason"] for r in report["removed"]]
    assert reasons.count("duplicate") == 3 and sum(r.startswith("boilerplate") for r in reasons) == 3


def test_inspect_text_output_is_readable(seed_path):
    result = run("inspect", str(seed_path))
    assert result.returncode == 0, result.stderr
    assert "## Plusieurs succès…" in result.stdout and "Removed:" in result.stdout


def test_dedup_streams_one_line_per_input(tmp_path):
    base = ("Le téléservice INSi est désormais appelé par la grande majorité des établissements de santé de "
            "la région, selon l'agence régionale de santé, qui y voit le signe d'une identitovigilance mieux "
            "outillée. Les cliniques privées et les centres de santé suivent avec quelques mois de retard, "
            "faute d'une mise à jour de leurs logiciels.")
    lines = [
        {"id": "1", "text": base},
        {"id": "2", "text": "La télésurveillance entre dans le droit commun au 1er juillet après quatre ans d'expérimentation."},
        {"id": "3", "text": base.replace("désormais", "aujourd'hui")},
    ]
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines), encoding="utf-8")
    result = run("dedup", str(path))
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(o["id"], o["duplicate_of"]) for o in out] == [("1", None), ("2", None), ("3", "1")]
    assert out[2]["similarity"] > 0.5


def test_dedup_answers_every_line_before_a_broken_one_then_fails_in_one_line(tmp_path):
    good = [json.dumps({"id": f"p{k}", "text": f"Paragraphe numéro {k} sur la messagerie sécurisée de santé."}) for k in range(5)]
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join([*good[:3], "{not json", *good[3:]]) + "\n", encoding="utf-8")
    for workers in ("1", "2"):
        result = run("dedup", str(path), "--workers", workers)
        assert result.returncode == 1
        assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["p0", "p1", "p2"]
        assert result.stderr.strip().splitlines() == [f"presswatch: error: {path} line 4: invalid JSON (Expecting property name enclosed in double quotes)"]


def test_dedup_names_a_line_without_id_or_text():
    lines = '{"id": "a", "text": "Un premier paragraphe sur la e-CPS."}\n{"id": "b"}\n'
    result = run("dedup", "-", stdin=lines)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["a"]
    assert result.stderr.strip() == 'presswatch: error: - line 2: expected {"id": ..., "text": "..."}'


def test_evaluate_prints_metrics_and_json(tmp_path):
    rows = [
        {"text": "Le nombre d'ordonnances numériques a triplé en un an, un vrai succès.", "label": "success"},
        {"text": "La cyberattaque a paralysé l'hôpital pendant trois semaines.", "label": "improvement"},
        {"text": "Le décret fixe le cadre de la télésurveillance.", "label": "context"},
    ]
    path = tmp_path / "dev.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    text = run("evaluate", str(path))
    assert text.returncode == 0, text.stderr
    assert "macro" in text.stdout.lower() and "accuracy" in text.stdout.lower()
    data = json.loads(run("evaluate", str(path), "--json").stdout)
    assert data["n"] == 3 and 0.0 <= data["macro_f1"] <= 1.0


def test_ingest_then_digest_through_the_cli(tmp_path, prefect_api, seed_path):
    articles = tmp_path / "articles"
    articles.mkdir()
    shutil.copy(seed_path, articles / "seed.txt")
    (articles / "empty.txt").write_bytes(b"")
    config = tmp_path / "presswatch.toml"
    config.write_text(
        f'[presswatch]\nwork_dir = "state"\nreports_dir = "out"\n\n'
        f'[[sources]]\nname = "local"\nkind = "folder"\npath = "articles"\n',
        encoding="utf-8",
    )
    env = {"PREFECT_API_URL": prefect_api}
    first = run("-c", str(config), "ingest", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert (report["new"], report["failed"]) == (1, 1)
    second = run("-c", str(config), "ingest", env=env, cwd=tmp_path)
    assert json.loads(second.stdout)["new"] == 0 and json.loads(second.stdout)["unchanged"] == 1

    from datetime import datetime, timezone

    month = datetime.now(timezone.utc).strftime("%Y-%m")
    result = run("-c", str(config), "digest", "--month", month, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    paths = result.stdout.split()
    assert sorted(Path(p).suffix for p in paths) == [".html", ".json", ".md"]
    data = json.loads(Path([p for p in paths if p.endswith(".json")][0]).read_text(encoding="utf-8"))
    assert [Path(f["uri"]).name for f in data["quality"]["failures"]] == ["empty.txt"]


def test_inspect_a_url_served_on_loopback(tmp_path):
    sys.path.insert(0, str(Path(__file__).parent))
    from webserver import ARTICLES, WebServer, article_html

    config = tmp_path / "presswatch.toml"
    config.write_text('[fetch]\nallow_hosts = ["127.0.0.1"]\nhost_delay = 0.0\n', encoding="utf-8")
    key = next(iter(ARTICLES))
    with WebServer() as server:
        server.page("/article.html", article_html(key))
        result = run("-c", str(config), "inspect", server.url("/article.html"), "--json", cwd=tmp_path)
        refused = run("inspect", "http://169.254.169.254/latest/meta-data", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["url"] == server.url("/article.html") and report["title"] == ARTICLES[key][0]
    assert [p["text"] for s in report["sections"] for p in s["paragraphs"]] == list(ARTICLES[key][2])
    assert refused.returncode == 1 and "Traceback" not in refused.stderr and "169.254.169.254" in refused.stderr
