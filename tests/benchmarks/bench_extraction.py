"""Main-text extraction: presswatch vs trafilatura on the two shared benchmarks, one run.

Runs ``../shared/bench/extraction/evaluate.py`` (relative to the repository) on
``presswatch.extract:main_text``, ``trafilatura`` and ``trafilatura_precision`` and prints
F1 and pages/s side by side, with presswatch / trafilatura ratios.

    .venv/bin/python tests/benchmarks/bench_extraction.py [--limit N] [--skip-precision]
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
SUBSETS = (("scrapinghub-aeb", "all"), ("trafilatura-eval", "all"), ("trafilatura-eval", "fr"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="only the first N pages of each benchmark")
    parser.add_argument("--skip-precision", action="store_true", help="do not run trafilatura_precision")
    args = parser.parse_args(argv)
    evaluate = BENCH / "evaluate.py"
    if not evaluate.is_file():
        print(f"error: benchmark not found: {evaluate} (expected ../shared/bench/extraction next to the repo)",
              file=sys.stderr)
        return 2
    specs = [OURS, "trafilatura"] + ([] if args.skip_precision else ["trafilatura_precision"])
    command = [sys.executable, str(evaluate), *specs, "--jobs", "1", "--bootstrap", "200"]
    if args.limit:
        command += ["--limit", str(args.limit)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(command, cwd=BENCH, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
        return done.returncode
    lines = {row["extractor"]: row for row in map(json.loads, filter(None, done.stdout.splitlines()))}
    print(_table(lines, specs))
    return 0


def _table(lines: dict[str, dict], specs: list[str]) -> str:
    rows = [f"{'extractor':<32} {'bench':<22} {'F1':>7} {'P':>7} {'R':>7} {'pages/s':>8} {'F1/traf':>8} {'speed/traf':>10}"]
    for spec in specs:
        for bench, subset in SUBSETS:
            res = lines[spec]["benchmarks"][bench].get(subset)
            base = lines["trafilatura"]["benchmarks"][bench].get(subset)
            if not res or not base:
                continue
            label = bench if subset == "all" else f"{bench}[{subset}]"
            rows.append(
                f"{spec:<32} {label:<22} {res['f1']:>7.4f} {res['precision']:>7.4f} {res['recall']:>7.4f} "
                f"{res['pages_per_s']:>8.1f} {res['f1'] / base['f1']:>8.3f} {res['pages_per_s'] / base['pages_per_s']:>10.2f}"
            )
    return "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())
