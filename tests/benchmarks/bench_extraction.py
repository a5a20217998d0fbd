"""Main-text extraction: presswatch vs every trafilatura configuration, both shared benchmarks.

The bar, per benchmark: presswatch's F1 >= the best trafilatura configuration's F1 in the same
run, at no fewer pages per second than plain ``trafilatura``. The French subset of
trafilatura-eval is shown, not judged (26 pages are noise).

Quality: every extractor runs once over every page; F1/P/R come from the shared evaluator's own
scoring (``../shared/bench/extraction/evaluate.py``: page loading and decoding, ``score``,
bootstrap std), imported, not re-implemented. Outputs are deterministic; the script checks it
by comparing the outputs of every timed pass with those scored.

Speed: pages are decoded to ``str`` before timing (the evaluator's ``load_bench``); each
extractor is warmed up once (untimed); then ``--rounds`` rounds, each calling EVERY extractor
on a page before moving to the next page, in an order that rotates with the page and the round
(so no extractor systematically runs first, or in a quieter moment). Only the call is timed.
Per round and benchmark: pages/s = pages / summed call time, and the paired ratio
presswatch / trafilatura of that same round (load drift cancels within a round). Reported:
the median pages/s over rounds and the median of the paired ratios. With ``--sample N`` the
rounds use a fixed seeded sample of N pages per benchmark (quality still uses every page).

    .venv/bin/python tests/benchmarks/bench_extraction.py [--rounds 3] [--sample N] [--limit N]
        [--quick | --configs a,b] [--bench NAME] [--json FILE]

Exit code: 0 if every judged benchmark passes, 1 if one fails, 2 if the benchmark is missing.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import platform
import random
import signal
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO.parent / "shared" / "bench" / "extraction"
OURS = "presswatch.extract:main_text"
REFERENCE = "trafilatura"
CONFIGS = ("trafilatura", "trafilatura_default", "trafilatura_fast", "trafilatura_precision",
           "trafilatura_recall", "trafilatura_markdown")
QUICK = ("trafilatura", "trafilatura_fast", "trafilatura_precision")
BENCHES = ("scrapinghub-aeb", "trafilatura-eval")
SUBSET = "fr"
SEED = 12345
TINY_PAGE = "<html><head><title>t</title></head><body><p>warm up text.</p></body></html>"

Extractor = tuple[str, Callable[[str], Any]]


@dataclass
class Bench:
    name: str
    metric: str
    pages: list[Any]
    speed_idx: list[int]
    outputs: dict[str, list[str | None]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    round_times: list[dict[str, list[float]]] = field(default_factory=list)
    mismatches: dict[str, int] = field(default_factory=dict)


class _Timeout(Exception):
    pass


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise _Timeout()


def _load_evaluator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("shared_bench_evaluate", BENCH / "evaluate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _call(fn: Callable[[str], Any], html: str, timeout: float) -> tuple[str | None, float, str | None]:
    """One timed call, as the evaluator times it: exception or timeout = empty output."""
    error = None
    t0 = time.perf_counter()
    try:
        if timeout:
            signal.setitimer(signal.ITIMER_REAL, timeout)
        out = fn(html)
    except _Timeout:
        out, error = None, f"timeout>{timeout}s"
    except Exception as exc:  # noqa: BLE001 - a crash is an empty output, as in the evaluator
        out, error = None, f"{type(exc).__name__}: {str(exc)[:200]}"
    finally:
        if timeout:
            signal.setitimer(signal.ITIMER_REAL, 0)
    elapsed = time.perf_counter() - t0
    if out is not None and not isinstance(out, str):
        out = out.decode("utf-8", "replace") if isinstance(out, bytes) else str(out)
    return out, elapsed, error


def _interleaved_pass(extractors: Sequence[Extractor], bench: Bench, indices: Sequence[int], shift: int,
                      timeout: float) -> tuple[dict[str, dict[int, str | None]], dict[str, list[float]], dict[str, list[str]]]:
    """Every extractor on each page in turn, the order rotating with page and pass."""
    k = len(extractors)
    outputs: dict[str, dict[int, str | None]] = {name: {} for name, _ in extractors}
    times: dict[str, list[float]] = {name: [] for name, _ in extractors}
    errors: dict[str, list[str]] = {name: [] for name, _ in extractors}
    for pos, i in enumerate(indices):
        offset = (shift + pos) % k
        html = bench.pages[i].html
        for name, fn in (*extractors[offset:], *extractors[:offset]):
            out, elapsed, error = _call(fn, html, timeout)
            outputs[name][i] = out
            times[name].append(elapsed)
            if error:
                errors[name].append(f"{bench.pages[i].id}: {error}")
    return outputs, times, errors


def _measure(extractors: Sequence[Extractor], benches: Sequence[Bench], rounds: int, timeout: float) -> None:
    names = [name for name, _ in extractors]
    for bench in benches:
        everything = list(range(len(bench.pages)))
        sampled = bench.speed_idx != everything
        if sampled:
            gc.collect()
            t0 = time.perf_counter()
            outs, _, errs = _interleaved_pass(extractors, bench, everything, 0, timeout)
            bench.outputs = {n: [outs[n][i] for i in everything] for n in names}
            bench.errors = errs
            _log(f"{bench.name}: quality pass over {len(everything)} pages in {time.perf_counter() - t0:.0f} s")
        bench.mismatches = {n: 0 for n in names}
        for r in range(rounds):
            gc.collect()
            t0 = time.perf_counter()
            outs, times, errs = _interleaved_pass(extractors, bench, bench.speed_idx, r, timeout)
            if not bench.outputs:
                bench.outputs = {n: [outs[n][i] for i in everything] for n in names}
                bench.errors = errs
            else:
                for n in names:
                    bench.mismatches[n] += sum(outs[n][i] != bench.outputs[n][i] for i in bench.speed_idx)
            bench.round_times.append(times)
            _log(f"{bench.name}: round {r + 1}/{rounds} over {len(bench.speed_idx)} pages "
                 f"in {time.perf_counter() - t0:.0f} s (load {_load()})")


def _speed(bench: Bench, names: Sequence[str], positions: Sequence[int]) -> dict[str, dict[str, Any]]:
    """Per extractor: pages/s of each round over the given positions of the speed sample, median,
    and the paired per-round ratio to the reference."""
    result: dict[str, dict[str, Any]] = {}
    n = len(positions)
    for name in names:
        per_round = [n / sum(times[name][p] for p in positions) for times in bench.round_times]
        result[name] = {"pages_per_s_rounds": per_round, "pages_per_s": statistics.median(per_round)}
    for name in names:
        ratios = [a / b for a, b in zip(result[name]["pages_per_s_rounds"], result[REFERENCE]["pages_per_s_rounds"])]
        result[name]["speed_ratio_rounds"] = ratios
        result[name]["speed_ratio"] = statistics.median(ratios)
    return result


def _report(evaluator: ModuleType, benches: Sequence[Bench], names: Sequence[str], bootstrap: int,
            sampled: bool) -> tuple[list[str], dict[str, Any], bool]:
    lines: list[str] = []
    data: dict[str, Any] = {}
    verdicts: list[bool] = []
    configs = [n for n in names if n != OURS]
    for bench in benches:
        scores = {n: evaluator.score(bench.metric, bench.pages, bench.outputs[n], [SUBSET], bootstrap) for n in names}
        for subset in ("all", SUBSET):
            if subset not in scores[OURS]:
                continue
            wanted = {i for i, p in enumerate(bench.pages) if subset == "all" or p.lang == subset}
            positions = [pos for pos, i in enumerate(bench.speed_idx) if i in wanted]
            speed = _speed(bench, names, positions) if positions else {}
            rows = {n: scores[n][subset] for n in names}
            best = max(configs, key=lambda n: rows[n]["f1"])
            label = bench.name if subset == "all" else f"{bench.name} [{subset}]"
            lines.append(f"\n== {label}: {rows[OURS]['pages']} pages scored ({bench.metric}), speed over "
                         f"{len(positions)} pages{' (seeded sample)' if sampled else ''}; "
                         f"best trafilatura configuration: {best}")
            lines.append(f"{'extractor':<30} {'F1':>7} {'P':>7} {'R':>7} {'pages/s':>8} {'F1/best':>8} "
                         f"{'speed/traf':>10}  {'speed/traf per round':<22} {'err':>3}")
            table = {}
            for n in names:
                row, s = rows[n], speed.get(n)
                per_round = ",".join(f"{x:.2f}" for x in s["speed_ratio_rounds"]) if s else "-"
                lines.append(f"{n:<30} {row['f1']:>7.4f} {row['precision']:>7.4f} {row['recall']:>7.4f} "
                             f"{_num(s and s['pages_per_s'], '.1f'):>8} {row['f1'] / rows[best]['f1']:>8.4f} "
                             f"{_num(s and s['speed_ratio'], '.3f'):>10}  {per_round:<22} "
                             f"{len(bench.errors[n]) if subset == 'all' else '':>3}")
                table[n] = {**evaluator._rounded(row), **(s or {}),
                            "f1_vs_best": row["f1"] / rows[best]["f1"]}
            ours = rows[OURS]
            f1_ok = ours["f1"] >= rows[best]["f1"]
            ratio = speed[OURS]["speed_ratio"] if speed else None
            speed_ok = ratio is not None and ratio >= 1.0
            verdict = "PASS" if f1_ok and speed_ok else "FAIL"
            if subset == "all":
                verdicts.append(f1_ok and speed_ok)
            else:
                verdict = f"(reported, not judged) {verdict}"
            lines.append(
                f"{verdict} {label}: F1 {ours['f1']:.4f} {'>=' if f1_ok else '<'} {rows[best]['f1']:.4f} ({best}; "
                f"presswatch ± {_num(ours.get('f1_std'), '.4f')} bootstrap std); speed median paired ratio "
                f"{_num(ratio, '.3f')} {'>=' if speed_ok else '<'} 1.000 vs {REFERENCE} (median pages/s "
                f"{_num(speed and speed[OURS]['pages_per_s'], '.1f')} vs "
                f"{_num(speed and speed[REFERENCE]['pages_per_s'], '.1f')}, {len(bench.round_times)} rounds)")
            data[label] = {"best": best, "f1_ok": f1_ok, "speed_ok": speed_ok, "judged": subset == "all",
                           "speed_pages": len(positions), "extractors": table}
        data[bench.name]["errors"] = {n: bench.errors[n][:5] for n in names if bench.errors[n]}
        data[bench.name]["outputs_differing_between_passes"] = bench.mismatches
    return lines, data, bool(verdicts) and all(verdicts)


def _num(value: float | None, spec: str) -> str:
    return "-" if value is None or not isinstance(value, float) else format(value, spec)


def _sample(n: int, size: int | None) -> list[int]:
    if not size or size >= n:
        return list(range(n))
    return sorted(random.Random(SEED).sample(range(n), size))


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds (>= 3; default 3)")
    parser.add_argument("--sample", type=int,
                        help="time a fixed seeded sample of N pages per benchmark (default: every page)")
    parser.add_argument("--limit", type=int, help="only the first N pages of each benchmark (smoke test)")
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)} as configurations")
    parser.add_argument("--configs", help="comma-separated trafilatura configurations to run instead")
    parser.add_argument("--bench", choices=BENCHES, action="append", help="one benchmark only (repeatable)")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for the F1 std")
    parser.add_argument("--page-timeout", type=float, default=120.0, help="seconds per call (0 = none)")
    parser.add_argument("--json", type=Path, help="write the full results (per-round figures included) here")
    args = parser.parse_args(argv)
    if args.rounds < 3:
        parser.error("--rounds must be at least 3 (the medians need them)")
    if not (BENCH / "evaluate.py").is_file():
        _log(f"error: benchmark not found: {BENCH / 'evaluate.py'} (expected ../shared/bench/extraction)")
        return 2
    started, load_before, stamp = time.perf_counter(), _load(), time.strftime("%Y-%m-%dT%H:%M:%S%z")
    sys.path.insert(0, str(REPO / "src"))
    evaluator = _load_evaluator()
    configs = args.configs.split(",") if args.configs else list(QUICK if args.quick else CONFIGS)
    if REFERENCE not in configs:
        configs.insert(0, REFERENCE)
    extractors: list[Extractor] = [evaluator.resolve(spec)[:2] for spec in (OURS, *configs)]
    names = [name for name, _ in extractors]
    benches = []
    for name in args.bench or BENCHES:
        metric, pages = evaluator.load_bench(name, limit=args.limit)
        benches.append(Bench(name, metric, pages, _sample(len(pages), args.sample)))
    sampled = any(b.speed_idx != list(range(len(b.pages))) for b in benches)
    if args.page_timeout:
        signal.signal(signal.SIGALRM, _on_alarm)
    for _, fn in extractors:
        _call(fn, TINY_PAGE, args.page_timeout)
    _log(f"{len(names)} extractors, {sum(len(b.pages) for b in benches)} pages, {args.rounds} rounds; "
         f"load {load_before}")
    _measure(extractors, benches, args.rounds, args.page_timeout)
    lines, data, passed = _report(evaluator, benches, names, args.bootstrap, sampled)
    runtime, load_after = time.perf_counter() - started, _load()
    import trafilatura

    header = (f"presswatch extraction bench: python {platform.python_version()}, trafilatura "
              f"{trafilatura.__version__}, {args.rounds} interleaved rounds, speed over "
              f"{'a seeded sample of ' + str(args.sample) + ' pages per benchmark' if sampled else 'every page'}"
              f"{', first ' + str(args.limit) + ' pages only' if args.limit else ''}; "
              f"load average (1/5/15 min) {load_before} at start, {load_after} at end; runtime {runtime:.0f} s")
    print(header)
    print("\n".join(lines))
    differing = {f"{b.name}/{n}": c for b in benches for n, c in b.mismatches.items() if c}
    print("\noutputs identical in every pass" if not differing else f"\nWARNING outputs differ between passes: {differing}")
    print(f"\nOVERALL {'PASS' if passed else 'FAIL'}")
    if args.json:
        meta = {"python": platform.python_version(), "trafilatura": trafilatura.__version__, "rounds": args.rounds,
                "sample": args.sample if sampled else None, "limit": args.limit, "load_start": load_before,
                "load_end": load_after, "runtime_s": round(runtime, 1), "passed": passed,
                "started": stamp}
        args.json.write_text(json.dumps({"meta": meta, "results": data}, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
