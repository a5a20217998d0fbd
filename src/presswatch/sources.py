"""Local sources: read article files from a file or a folder into ``RawDocument``s.

Accepted files (a folder is walked recursively, in sorted order; hidden files and folders
are skipped): ``.txt`` (scraped text, one paragraph per line), ``.html``/``.htm``, and
``.jsonl`` (one article record per line; each line becomes its own document with uri
``<path>#L<n>``). An unreadable file or a bad JSON line gives a ``Failure(stage="read")``
and reading goes on.

Metadata for a file, two ways (keys: ``title``, ``url``, ``published`` as an ISO date
``2022-09-14``, ``source`` for the outlet, ``author``, ``language``):

1. front matter at the very top of a ``.txt`` file, read by ``extract``::

       ---
       title: Le bilan de la feuille de route du numérique en santé
       url: https://www.example.fr/articles/bilan-feuille-de-route
       published: 2022-09-14
       source: Hospitalia
       author: Jeanne Martin
       language: fr
       ---
       First paragraph...

2. a sidecar file in the same folder, ``index.jsonl`` (one object per line with a ``file``
   key naming the file, plus the keys above) or ``index.json`` (an object mapping file
   name to an object of the keys above). The sidecar itself is not an article.

Front matter wins over the sidecar, which wins over what is guessed from the document.
Without metadata: url is the file's URI, title the first line when it is a heading (else
the first sentence, truncated), source the configured source name, published unknown.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path

from presswatch.errors import SourceError
from presswatch.models import Failure, RawDocument

SUFFIXES = {".txt": "text/plain", ".html": "text/html", ".htm": "text/html", ".jsonl": None}
RECORD_TYPE = "application/x-presswatch-record+json"
SIDECARS = ("index.jsonl", "index.json")
META_KEYS = ("title", "url", "published", "source", "author", "language")


def read_local(path: Path, source: str) -> Iterator[RawDocument | Failure]:
    """Yield one document per article found at ``path`` (a file or a folder)."""
    path = Path(path)
    if not path.exists():
        raise SourceError(f"no such file or directory: {path}")
    if path.is_file() and path.suffix.lower() not in SUFFIXES:
        raise SourceError(f"unsupported file type {path.suffix or '(none)'}: {path} (use {', '.join(SUFFIXES)})")
    files = [path] if path.is_file() else _walk(path)
    sidecars: dict[Path, Mapping[str, Mapping[str, str]]] = {}
    for file in files:
        folder = file.parent
        if folder not in sidecars:
            index, failures = _read_sidecar(folder, source)
            sidecars[folder] = index
            yield from failures
        meta = sidecars[folder].get(file.name, {})
        try:
            body = file.read_bytes()
        except OSError as exc:
            yield _failure(source, str(file), f"cannot read file: {exc.strerror or exc}")
            continue
        if file.suffix.lower() == ".jsonl":
            yield from _records(file, body, source)
        else:
            yield RawDocument(str(file), body, source, SUFFIXES[file.suffix.lower()], dict(meta))


def _walk(folder: Path) -> list[Path]:
    found = []
    for file in sorted(folder.rglob("*")):
        relative = file.relative_to(folder).parts
        if any(part.startswith(".") for part in relative) or file.name in SIDECARS:
            continue
        if file.is_file() and file.suffix.lower() in SUFFIXES:
            found.append(file)
    return found


def _records(file: Path, body: bytes, source: str) -> Iterator[RawDocument | Failure]:
    for number, line in enumerate(body.splitlines(), start=1):
        uri = f"{file}#L{number}"
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            yield _failure(source, uri, f"bad JSON line: {exc}")
            continue
        if not isinstance(record, dict):
            yield _failure(source, uri, "bad JSON line: not an object")
            continue
        yield RawDocument(uri, line.strip(), source, RECORD_TYPE)


def _read_sidecar(folder: Path, source: str) -> tuple[dict[str, dict[str, str]], list[Failure]]:
    index: dict[str, dict[str, str]] = {}
    failures: list[Failure] = []
    for name in SIDECARS:
        file = folder / name
        if not file.is_file():
            continue
        try:
            text = file.read_text(encoding="utf-8-sig")
            entries = _sidecar_entries(text, jsonl=name.endswith(".jsonl"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            failures.append(_failure(source, str(file), f"bad metadata index: {exc}"))
            continue
        for key, value in entries:
            index.setdefault(key, {}).update({k: str(v) for k, v in value.items() if k in META_KEYS and v is not None})
    return index, failures


def _sidecar_entries(text: str, *, jsonl: bool) -> list[tuple[str, Mapping[str, object]]]:
    if jsonl:
        items = [json.loads(line) for line in text.splitlines() if line.strip()]
        if not all(isinstance(item, dict) and isinstance(item.get("file"), str) for item in items):
            raise ValueError("every line must be an object with a 'file' key")
        return [(item["file"], item) for item in items]
    data = json.loads(text)
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ValueError("expected an object mapping file names to objects")
    return list(data.items())


def _failure(source: str, uri: str, reason: str) -> Failure:
    return Failure(source=source, uri=uri, stage="read", reason=reason, at=datetime.now(timezone.utc))
