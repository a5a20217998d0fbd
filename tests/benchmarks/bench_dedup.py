"""Near-duplicate benchmark: presswatch.dedup (batch and streaming) vs datasketch MinHashLSH.

    python tests/benchmarks/bench_dedup.py [--sizes 10000,100000,1000000] [--runs 3]
                                           [--single-run-above 100000] [--skip-datasketch-above N]

For each size a seeded labelled corpus (corpus_gen.py) is written to a temporary JSONL file;
each method then runs in its own subprocess so peak memory is its own: peak RSS (ru_maxrss)
minus the RSS just before the method starts (batch: after the records are loaded; streaming
methods read the file line by line with the same reader, parsing included in their time). datasketch is used as
documented: MinHash(num_perm=128) with shared permutations, update_batch over the same word
3-shingles, query then insert into MinHashLSH(threshold=0.8, num_perm=128); a line is flagged
when the query returns an earlier line (linked to the earliest one). No exact verification.
presswatch runs with its default threads (2 on a machine with two CPUs: the next blocks are
hashed in the background while one is decided) and again with ``workers=1`` (rows marked
"1 thread"); datasketch is single-threaded.

Each method runs ``--runs`` times at sizes up to ``--single-run-above`` and once above; the
table gives the median paragraphs/s and the largest peak of those runs (quality figures are
deterministic). The load average of the machine is printed with the table.

Metrics, per line in stream order: precision = flagged duplicates linked to their own family /
flagged; recall = correct flags / lines whose family appeared before; hard-negative false
merges = duplicate links between a figure variant or same-programme paragraph and the family
it must stay apart from; figure updates = figure variants reported as figure_update linked to
their parent family (presswatch only).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _lines(path: Path):
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            yield row["id"], row["text"]


def _run_presswatch(path: Path, mode: str) -> tuple[list[tuple[int, int, str]], float, int]:
    from presswatch.dedup import ParagraphRecord, find_duplicates, iter_matches

    workers = 1 if mode.endswith("-1") else None  # None: the default (2 threads on two CPUs)
    if mode.startswith("batch"):
        records = [ParagraphRecord(i, t, (k,)) for k, (i, t) in enumerate(_lines(path))]
        base = _rss_kb()
        start = time.perf_counter()
        matches = find_duplicates(records, workers=workers)
    else:
        base = _rss_kb()
        start = time.perf_counter()
        matches = list(iter_matches(_lines(path), workers=workers))
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base
    links = [(int(m.id[1:]), int(m.duplicate_of[1:]), m.kind) for m in matches if m.duplicate_of]
    return links, elapsed, peak


def _run_datasketch(path: Path) -> tuple[list[tuple[int, int, str]], float, int]:
    from datasketch import MinHash, MinHashLSH

    from presswatch.models import normalise_text

    word = re.compile(r"\w+")
    base = _rss_kb()
    start = time.perf_counter()
    template = MinHash(num_perm=128)
    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    links = []
    for k, (pid, text) in enumerate(_lines(path)):
        tokens = word.findall(normalise_text(text))
        shingles = [" ".join(tokens[i : i + 3]).encode() for i in range(max(len(tokens) - 2, 1))]
        m = MinHash(num_perm=128, permutations=template.permutations, scheme=template.scheme)
        m.update_batch(shingles)
        found = lsh.query(m)
        if found:
            links.append((k, int(min(found)[1:]), "duplicate"))
        lsh.insert(pid, m)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base
    return links, elapsed, peak


def _score(links, labels) -> dict:
    family = [f for f, _, _ in labels]
    hard = [h for _, h, _ in labels]
    role = [r for _, _, r in labels]
    seen, expected = set(), 0
    for f in family:
        expected += f in seen
        seen.add(f)
    dups = [(i, k) for i, k, kind in links if kind == "duplicate"]
    correct = sum(family[i] == family[k] for i, k in dups)
    false_merge = sum(family[i] != family[k] and (hard[i] == family[k] or hard[k] == family[i]) for i, k in dups)
    variants = [i for i, r in enumerate(role) if r == "figure_variant"]
    fig_links = {i: k for i, k, kind in links if kind == "figure_update"}
    fig_ok = sum(i in fig_links and family[fig_links[i]] == hard[i] for i in variants)
    return {
        "precision": correct / max(len(dups), 1), "recall": correct / max(expected, 1),
        "flagged": len(dups), "expected": expected, "false_merges": false_merge,
        "hard_negatives": sum(h >= 0 for h in hard), "figure_updates": fig_ok, "figure_variants": len(variants),
    }


def _worker(method: str, path: Path, labels_path: Path) -> None:
    if method == "datasketch":
        links, elapsed, peak = _run_datasketch(path)
    else:
        links, elapsed, peak = _run_presswatch(path, method)
    labels = json.loads(labels_path.read_text())
    result = _score(links, labels)
    result.update(method=method, n=len(labels), seconds=elapsed, per_second=len(labels) / elapsed, peak_mb=peak / 1024)
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--skip-datasketch-above", type=int, default=None)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--single-run-above", type=int, default=100000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--labels", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.worker, args.file, args.labels)
        return
    sys.path.insert(0, str(HERE))
    import corpus_gen

    rows = []
    load = [os.getloadavg()]
    with tempfile.TemporaryDirectory() as tmp:
        for n in [int(s) for s in args.sizes.split(",")]:
            path, labels_path = Path(tmp) / f"corpus-{n}.jsonl", Path(tmp) / f"labels-{n}.json"
            labels_path.write_text(json.dumps(corpus_gen.write_jsonl(path, n, seed=args.seed)))
            methods = ["batch", "stream", "batch-1", "stream-1"]
            if args.skip_datasketch_above is None or n <= args.skip_datasketch_above:
                methods.append("datasketch")
            runs = args.runs if n <= args.single_run_above else 1
            for method in methods:
                results = []
                for _ in range(runs):
                    out = subprocess.run([sys.executable, __file__, "--worker", method, "--file", str(path),
                                          "--labels", str(labels_path)], stdout=subprocess.PIPE, text=True, check=True)
                    results.append(json.loads(out.stdout.strip().splitlines()[-1]))
                    print(f"# {n} {method}: {results[-1]['per_second']:.0f}/s P={results[-1]['precision']:.4f} "
                          f"R={results[-1]['recall']:.4f} peak={results[-1]['peak_mb']:.0f} MB", file=sys.stderr, flush=True)
                row = dict(results[0], runs=len(results),
                           per_second=statistics.median(r["per_second"] for r in results),
                           peak_mb=max(r["peak_mb"] for r in results))
                rows.append(row)
            load.append(os.getloadavg())
    print(_table(rows))
    print()
    print(_growth(rows))
    print(f"Machine: {os.cpu_count()} CPUs; load average (1, 5, 15 min) at start {_load(load[0])}, "
          f"after each size {'; '.join(_load(x) for x in load[1:])}.")


def _load(values: tuple[float, float, float]) -> str:
    return "/".join(f"{v:.2f}" for v in values)


def _growth(rows: list[dict]) -> str:
    """MB per 1k paragraphs at the largest size over the same at the smallest, per method
    (about 1 or below when memory grows linearly)."""
    parts = []
    for method in _NAMES:
        mine = sorted((r["n"], r["peak_mb"] / r["n"] * 1000) for r in rows if r["method"] == method)
        if len(mine) >= 2:
            (n0, k0), (n1, k1) = mine[0], mine[-1]
            parts.append(f"{_NAMES[method]} {k1 / k0:.2f} ({k0:.2f} → {k1:.2f} MB/1k, {n0:,} → {n1:,})")
    return "Memory growth (MB per 1k paragraphs, largest size / smallest size): " + "; ".join(parts)


_NAMES = {"batch": "presswatch find_duplicates", "stream": "presswatch iter_duplicates",
          "batch-1": "presswatch find_duplicates, 1 thread", "stream-1": "presswatch iter_duplicates, 1 thread",
          "datasketch": "datasketch MinHashLSH"}


def _table(rows: list[dict]) -> str:
    names = _NAMES
    ds = {r["n"]: r["per_second"] for r in rows if r["method"] == "datasketch"}
    out = ["| paragraphs | method | runs | precision | recall | paragraphs/s (median) | × datasketch | peak MB "
           "| MB / 1k paragraphs | hard-neg. false merges | figure updates found |",
           "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        speed = f"{r['per_second'] / ds[r['n']]:.1f}" if r["n"] in ds else "n/a"
        per_k = r["peak_mb"] / r["n"] * 1000
        figs = f"{r['figure_updates']}/{r['figure_variants']}" if r["method"] != "datasketch" else "n/a"
        out.append(f"| {r['n']:,} | {names[r['method']]} | {r['runs']} | {r['precision']:.4f} | {r['recall']:.4f} "
                   f"| {r['per_second']:,.0f} | {speed} | {r['peak_mb']:,.0f} | {per_k:.2f} "
                   f"| {r['false_merges']}/{r['hard_negatives']} | {figs} |")
    return "\n".join(out)


if __name__ == "__main__":
    main()
