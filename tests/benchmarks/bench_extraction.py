"""Main-text extraction: presswatch vs every trafilatura configuration, both shared benchmarks.

Runs ``../shared/bench/extraction/evaluate.py`` (relative to the repository) once, on
``presswatch.extract:main_text`` and the trafilatura configurations the evaluator knows,
one extractor after another in one process (timings are comparable), and prints F1, P, R
and pages/s side by side with ratios to the best trafilatura configuration of each
benchmark and to plain ``trafilatura``. The bar, per benchmark: presswatch F1 >= the best
configuration's F1 in the same run, at pages/s >= ``trafilatura``'s; a PASS/FAIL line says
whether it holds (the French subset is reported, not judged: 26 pages are noise).

    .venv/bin/python tests/benchmarks/bench_extraction.py [--limit N] [--quick] [--configs a,b]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO.parent / "shared" / "bench" / "extraction"
OURS = "presswatch.extract:main_text"
REFERENCE = "trafilatura"
CONFIGS = ("trafilatura", "trafilatura_default", "trafilatura_fast", "trafilatura_precision",
           "trafilatura_recall", "trafilatura_markdown")
QUICK = ("trafilatura", "trafilatura_fast", "trafilatura_precision")
BENCHES = ("scrapinghub-aeb", "trafilatura-eval")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="only the first N pages of each benchmark")
    parser.add_argument("--quick", action="store_true",
                        help=f"only {', '.join(QUICK)} (skip the slower, weaker configurations)")
    parser.add_argument("--configs", help="comma-separated trafilatura configurations to run instead")
    parser.add_argument("--bench", choices=BENCHES, action="append", help="one benchmark only (repeatable)")
    parser.add_argument("--json", type=Path, help="also write the evaluator's JSON lines here")
    args = parser.parse_args(argv)
    evaluate = BENCH / "evaluate.py"
    if not evaluate.is_file():
        print(f"error: benchmark not found: {evaluate} (expected ../shared/bench/extraction next to the repo)",
              file=sys.stderr)
        return 2
    configs = args.configs.split(",") if args.configs else list(QUICK if args.quick else CONFIGS)
    if REFERENCE not in configs:
        configs.insert(0, REFERENCE)
    specs = [OURS, *configs]
    command = [sys.executable, str(evaluate), *specs, "--jobs", "1", "--bootstrap", "200"]
    for bench in args.bench or ():
        command += ["--bench", bench]
    if args.limit:
        command += ["--limit", str(args.limit)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(command, cwd=BENCH, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
        return done.returncode
    if args.json:
        args.json.write_text(done.stdout, encoding="utf-8")
    lines = {row["extractor"]: row for row in map(json.loads, filter(None, done.stdout.splitlines()))}
    report, passed = _report(lines, specs)
    print(report)
    return 0 if passed else 1


def _report(lines: dict[str, dict], specs: list[str]) -> tuple[str, bool]:
    out: list[str] = []
    verdicts: list[bool] = []
    for bench in next(iter(lines.values()))["benchmarks"]:
        for subset in ("all", "fr"):
            rows = {s: lines[s]["benchmarks"][bench].get(subset) for s in specs}
            if any(r is None for r in rows.values()):
                continue
            best = max((s for s in specs if s != OURS), key=lambda s: rows[s]["f1"])
            ref = rows[REFERENCE]
            out.append(f"\n== {bench}" + ("" if subset == "all" else f" [{subset}]") +
                       f"  ({ref['pages']} pages; best trafilatura configuration: {best})")
            out.append(f"{'extractor':<32} {'F1':>7} {'P':>7} {'R':>7} {'pages/s':>8} "
                       f"{'F1/best':>8} {'F1/traf':>8} {'speed/traf':>10}")
            for spec in specs:
                res = rows[spec]
                out.append(f"{spec:<32} {res['f1']:>7.4f} {res['precision']:>7.4f} {res['recall']:>7.4f} "
                           f"{res['pages_per_s']:>8.1f} {res['f1'] / rows[best]['f1']:>8.4f} "
                           f"{res['f1'] / ref['f1']:>8.4f} {res['pages_per_s'] / ref['pages_per_s']:>10.2f}")
            ours = rows[OURS]
            f1_ok = ours["f1"] >= rows[best]["f1"]
            speed_ok = ours["pages_per_s"] >= ref["pages_per_s"]
            verdict = "PASS" if f1_ok and speed_ok else "FAIL"
            if subset == "all":
                verdicts.append(f1_ok and speed_ok)
            else:
                verdict = f"(reported only) {verdict}"
            out.append(f"{verdict} {bench}{'' if subset == 'all' else f'[{subset}]'}: "
                       f"F1 {ours['f1']:.4f} {'>=' if f1_ok else '<'} {rows[best]['f1']:.4f} ({best}), "
                       f"{ours['pages_per_s']:.1f} pages/s {'>=' if speed_ok else '<'} {ref['pages_per_s']:.1f} ({REFERENCE})")
    return "\n".join(out), all(verdicts)


if __name__ == "__main__":
    sys.exit(main())
