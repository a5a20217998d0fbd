"""``presswatch``: a thin command line over the library and the flows.

Any ``PresswatchError`` becomes one clean line on stderr and exit code 1 (2 for usage errors);
never a traceback. Flows are imported lazily so that quick commands stay quick.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from presswatch import __version__
from presswatch.config import Config, resolve_config
from presswatch.errors import ConfigError, PresswatchError, SourceError

PREFECT_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_LOGGING_EXTRA_LOGGERS": "presswatch",
    "PREFECT_LOGGING_SERVER_LEVEL": "CRITICAL",  # the temporary server's shutdown noise
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("trafilatura").setLevel(logging.DEBUG if args.verbose else logging.ERROR)
    for key, value in {**PREFECT_DEFAULTS, "PREFECT_LOGGING_LEVEL": "INFO" if args.verbose else "WARNING"}.items():
        os.environ.setdefault(key, value)
    try:
        return int(args.handler(args) or 0)
    except PresswatchError as exc:
        print(f"presswatch: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("presswatch: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="presswatch",
        description="Watch the French press on digital health and write digests.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"presswatch {__version__}")
    parser.add_argument("-c", "--config", help="configuration file (default: ./presswatch.toml if present)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_: str, example: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=f"{help_}\n\nExample:\n  {example}",
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        return p

    p = command("ingest", "Ingest a file or folder, or the configured sources, into the store.",
                "presswatch -c samples/presswatch.toml ingest samples/articles")
    p.add_argument("path", nargs="?", help="file or folder to ingest (default: the configured sources)")
    p.add_argument("--source", action="append", dest="sources", metavar="NAME", help="only this configured source (repeatable)")
    p.add_argument("--since", type=date.fromisoformat, metavar="YYYY-MM-DD", help="skip articles published before this day")
    p.set_defaults(handler=cmd_ingest)

    p = command("digest", "Write the digest of an ISO week or a month.", "presswatch digest --week 2022-W38")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--week", metavar="YYYY-Www")
    group.add_argument("--month", metavar="YYYY-MM")
    p.add_argument("--out", metavar="DIR", help="output folder (default: reports_dir of the configuration)")
    p.set_defaults(handler=cmd_digest)

    p = command("run", "Run the monitor flow: ingest the configured sources, then write digests.",
                "presswatch -c samples/presswatch.toml run --all-periods")
    p.add_argument("--week", action="append", default=[], metavar="YYYY-Www", help="digest this week (repeatable)")
    p.add_argument("--month", action="append", default=[], metavar="YYYY-MM", help="digest this month (repeatable)")
    p.add_argument("--all-periods", action="store_true", help="digest every week and month the store covers")
    p.add_argument("--period-kind", choices=("week", "month"), default="week",
                   help="without periods: the last complete week or month (default: week)")
    p.set_defaults(handler=cmd_run)

    p = command("serve", "Serve the monitor flow on the cron schedules of the configuration.",
                "presswatch -c presswatch.toml serve")
    p.set_defaults(handler=cmd_serve)

    p = command("inspect", "Show what presswatch sees in one document, without storing it.",
                "presswatch inspect samples/articles/some-article.txt --json")
    p.add_argument("target", help="file path or http(s) URL")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_inspect)

    p = command("classify", "Classify JSON Lines {id, text, heading?} from stdin; write {id, label, score, cues}.",
                "echo '{\"id\": \"1\", \"text\": \"Le déploiement progresse.\"}' | presswatch classify")
    p.set_defaults(handler=cmd_classify)

    p = command("train", "Train the paragraph classifier on the packaged corpus and write the model card.",
                "presswatch train")
    p.add_argument("--corpus", type=Path, help="folder with train-*.jsonl (default: packaged corpus)")
    p.add_argument("--out", type=Path, help="model folder (default: packaged model folder)")
    p.set_defaults(handler=cmd_train)

    p = command("evaluate", "Evaluate the classifier on labelled JSON Lines {text, label, heading?}.",
                "presswatch evaluate src/presswatch/data/corpus/dev.jsonl")
    p.add_argument("file", type=Path)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_evaluate)

    p = command("dedup", "Find near-duplicate paragraphs in JSON Lines {id, text}; streams.",
                "presswatch dedup paragraphs.jsonl > duplicates.jsonl")
    p.add_argument("file", help="JSON Lines file, or - for stdin")
    p.add_argument("--workers", type=_positive, default=None,
                   help="threads (default: 2 when two CPUs are available, else 1); the output does not depend on it")
    p.set_defaults(handler=cmd_dedup)

    p = command("sources", "List the configured sources with their last fetch status.", "presswatch sources")
    p.set_defaults(handler=cmd_sources)
    return parser


def _config(args: argparse.Namespace) -> Config:
    return resolve_config(args.config)


def _flows() -> Any:
    import presswatch_flows.digest as digest
    import presswatch_flows.ingest as ingest
    import presswatch_flows.monitor as monitor

    return ingest, digest, monitor


def cmd_ingest(args: argparse.Namespace) -> int:
    config = _config(args)
    if args.path and not Path(args.path).exists():
        raise SourceError(f"no such file or directory: {args.path}")
    if not args.path and not config.sources:
        raise ConfigError("no sources configured: give a PATH or a configuration with [[sources]]")
    ingest, _, _ = _flows()
    report = ingest.ingest(config_path=args.config, sources=args.sources,
                           path=str(Path(args.path).resolve()) if args.path else None, since=args.since)
    print(json.dumps(report, sort_keys=True))
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    period = _period(args.week or args.month)
    _, digest, _ = _flows()
    for path in digest.digest(period.key, config_path=args.config, out_dir=args.out):
        print(path)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    periods = [_period(p).key for p in [*args.week, *args.month]]
    config = _config(args)
    if not config.sources:
        raise ConfigError("no sources configured: add [[sources]] to the configuration")
    _, _, monitor = _flows()
    result = monitor.monitor(config_path=args.config, periods=periods or None,
                             period_kind=args.period_kind, all_periods=args.all_periods)
    print(f"ingest: {json.dumps(result['ingest'], sort_keys=True)}", file=sys.stderr)
    for path in result["paths"]:
        print(path)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from presswatch_flows.serve import serve_schedules

    serve_schedules(args.config)
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    from presswatch.inspect import inspect_target, render_text

    reports = inspect_target(args.target, _config(args))
    if args.json:
        out: Any = reports[0] if len(reports) == 1 else reports
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        print("\n\n".join(render_text(r) for r in reports))
    return 0


def cmd_classify(args: argparse.Namespace) -> int:
    from presswatch.classify import ParagraphInput, load_model

    model = load_model(_config(args).model_path)
    batch: list[ParagraphInput] = []
    for number, row in _jsonl(sys.stdin, "stdin"):
        if not isinstance(row.get("text"), str) or "id" not in row:
            raise PresswatchError(f"stdin line {number}: needs 'id' and 'text'")
        batch.append(ParagraphInput(str(row["id"]), row["text"], row.get("heading")))
        if len(batch) >= 2000:
            _write_classifications(batch, model)
            batch = []
    _write_classifications(batch, model)
    return 0


def _write_classifications(batch: list[Any], model: Any) -> None:
    from presswatch.classify import classify_paragraphs

    for item, result in zip(batch, classify_paragraphs(batch, model)):
        row = {"id": item.id, "label": result.label, "score": round(result.score, 4), "cues": list(result.cues)}
        sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")


def cmd_train(args: argparse.Namespace) -> int:
    from presswatch.classify import train_model

    print(train_model(args.corpus, args.out).to_markdown())
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from presswatch.classify import load_model
    from presswatch.evaluation import evaluate_model, format_report

    if not args.file.is_file():
        raise SourceError(f"no such file: {args.file}")
    with args.file.open(encoding="utf-8") as handle:
        rows = [row for _, row in _jsonl(handle, str(args.file))]
    report = evaluate_model(rows, load_model(_config(args).model_path))
    print(json.dumps(report.to_dict(), indent=2) if args.json else format_report(report))
    return 0


def cmd_dedup(args: argparse.Namespace) -> int:
    from presswatch.dedup import iter_duplicates

    handle = sys.stdin if args.file == "-" else _open(args.file)
    with handle:
        for pid, duplicate_of, similarity in iter_duplicates(dedup_pairs(handle, args.file), workers=args.workers):
            sim = None if similarity is None else round(similarity, 4)
            sys.stdout.write(json.dumps({"id": pid, "duplicate_of": duplicate_of, "similarity": sim}) + "\n")
    return 0


def dedup_pairs(handle: TextIO, name: str) -> Iterator[tuple[str, str]]:
    """``(id, text)`` of each JSON line of ``handle``; a line without them is an error."""
    for number, row in _jsonl(handle, name):
        if row.get("id") is None or not isinstance(row.get("text"), str):
            raise PresswatchError(f"{name} line {number}: expected {{\"id\": ..., \"text\": \"...\"}}")
        yield str(row["id"]), row["text"]


def cmd_sources(args: argparse.Namespace) -> int:
    from presswatch.store import open_store

    config = _config(args)
    if not config.sources:
        print("no sources configured")
        return 0
    with open_store(config.database) as store:
        for spec in config.sources:
            location = spec.location if isinstance(spec.location, str) else f"{len(spec.location)} URLs"
            status = store.source_status(spec.name, spec.location if isinstance(spec.location, str) else None)
            tags = ",".join(spec.tags) or "-"
            print(f"{spec.name}\t{spec.kind}\t{location}\ttags={tags}\t{status}")
    return 0


def _period(text: str) -> Any:
    from presswatch.models import Period

    try:
        return Period.parse(text)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text}")
    return value


def _open(path: str) -> TextIO:
    try:
        return open(path, encoding="utf-8")
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror}") from None


def _jsonl(handle: TextIO, name: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(handle, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise PresswatchError(f"{name} line {number}: invalid JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise PresswatchError(f"{name} line {number}: expected a JSON object")
        yield number, row


if __name__ == "__main__":
    sys.exit(main())
