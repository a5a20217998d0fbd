"""Throughput of classify_paragraphs and load time of the packaged model (one process, one core).

Paragraphs are the labelled corpus rows (train, dev, with their headings), cycled up to
``--n`` items (``--join 4`` glues rows into longer paragraphs); each run classifies all of them
in one call. Three populations are timed side by side: rows of at most ``LONG_WORDS`` words
(read whole), press-length rows (longer: read whole and as sentence windows for the
long-paragraph layer) and all rows. Prints medians over ``--runs``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import time
from pathlib import Path

from presswatch.classify import LONG_WORDS, MODEL_PATH, ParagraphInput, _load, classify_paragraphs
from presswatch.evaluation import CORPUS_DIR, Example, read_corpus


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
    loads = []
    for _ in range(args.runs):
        start = time.perf_counter()
        model = _load(args.model)
        loads.append(time.perf_counter() - start)
    populations = {
        f"rows of at most {LONG_WORDS} words": [r for r in rows if len(r.text.split()) <= LONG_WORDS],
        f"press-length rows (more than {LONG_WORDS} words)": [r for r in rows if len(r.text.split()) > LONG_WORDS],
        "all rows": rows,
    }
    items = {name: _items(group, args.n, args.join) for name, group in populations.items() if group}
    classify_paragraphs(items[next(iter(items))][:50], model)
    runs: dict[str, list[float]] = {name: [] for name in items}
    for _ in range(args.runs):
        for name, batch in items.items():
            start = time.perf_counter()
            out = classify_paragraphs(batch, model)
            runs[name].append(time.perf_counter() - start)
            assert len(out) == len(batch)
    for name, batch in items.items():
        chars = sum(len(i.text) for i in batch) / len(batch)
        median = statistics.median(runs[name])
        print(f"{name}: {len(batch)} paragraphs ({len(populations[name])} distinct, mean {chars:.0f} chars), "
              f"median {median:.3f} s over {args.runs} runs = {len(batch) / median:,.0f} paragraphs/s")
    print(f"model load: median {statistics.median(loads) * 1000:.0f} ms over {args.runs} loads "
          f"({args.model.stat().st_size / 1e6:.2f} MB)")


def _items(rows: list[Example], n: int, join: int) -> list[ParagraphInput]:
    texts = itertools.cycle(rows)
    items = []
    for i in range(n):
        group = [next(texts) for _ in range(join)]
        items.append(ParagraphInput(str(i), " ".join(r.text for r in group), group[0].heading))
    return items


if __name__ == "__main__":
    main()
