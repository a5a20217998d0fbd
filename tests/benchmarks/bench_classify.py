"""Throughput of classify_paragraphs and load time of the packaged model (one process, one core).

Paragraphs are the labelled corpus rows (train, dev, with their headings), cycled up to
``--n`` items (``--join 4`` glues rows into press-length paragraphs); each run classifies
all of them in one call. Prints medians over ``--runs``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import time
from pathlib import Path

from presswatch.classify import MODEL_PATH, ParagraphInput, _load, classify_paragraphs
from presswatch.evaluation import CORPUS_DIR, read_corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--model", type=Path, default=MODEL_PATH)
    parser.add_argument("--join", type=int, default=1, help="glue N corpus rows into one paragraph (longer text)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    rows = read_corpus(sorted(CORPUS_DIR.glob("*.jsonl")))
    if not rows:
        raise SystemExit(f"no corpus rows in {CORPUS_DIR}")
    texts = itertools.cycle(rows)
    items = []
    for i in range(args.n):
        group = [next(texts) for _ in range(args.join)]
        items.append(ParagraphInput(str(i), " ".join(r.text for r in group), group[0].heading))
    loads = []
    for _ in range(args.runs):
        start = time.perf_counter()
        model = _load(args.model)
        loads.append(time.perf_counter() - start)
    classify_paragraphs(items[:50], model)
    runs = []
    for _ in range(args.runs):
        start = time.perf_counter()
        out = classify_paragraphs(items, model)
        runs.append(time.perf_counter() - start)
    assert len(out) == len(items)
    chars = sum(len(i.text) for i in items) / len(items)
    median = statistics.median(runs)
    print(f"paragraphs: {len(items)} ({len(rows)} distinct corpus rows, mean {chars:.0f} chars)")
    print(f"classify: median {median:.3f} s over {args.runs} runs = {len(items) / median:,.0f} paragraphs/s")
    print(f"model load: median {statistics.median(loads) * 1000:.0f} ms over {args.runs} loads "
          f"({args.model.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
