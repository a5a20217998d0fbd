import json
from pathlib import Path

import pytest

from presswatch.errors import SourceError
from presswatch.models import Failure, RawDocument
from presswatch.sources import RECORD_TYPE, read_local

TEXT = "Le programme Mon Espace Santé compte des millions de profils actifs.\n"


def _write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path


def test_missing_path_raises_source_error(tmp_path):
    missing = tmp_path / "absent"
    with pytest.raises(SourceError, match=r"^no such file or directory: .*absent$"):
        list(read_local(missing, "local"))


def test_folder_is_walked_recursively_sorted_skipping_hidden_and_sidecar(tmp_path):
    _write(tmp_path / "b.txt", TEXT)
    _write(tmp_path / "a" / "z.html", "<html><body><p>Texte.</p></body></html>")
    _write(tmp_path / "a" / "notes.md", "ignored")
    _write(tmp_path / ".cache" / "c.txt", TEXT)
    _write(tmp_path / ".hidden.txt", TEXT)
    _write(tmp_path / "index.jsonl", json.dumps({"file": "b.txt", "title": "Titre"}) + "\n")
    _write(tmp_path / "empty.txt", b"")
    docs = list(read_local(tmp_path, "presse"))
    assert [Path(d.uri).relative_to(tmp_path).as_posix() for d in docs] == ["a/z.html", "b.txt", "empty.txt"]
    assert all(isinstance(d, RawDocument) and d.source == "presse" for d in docs)
    assert [d.content_type for d in docs] == ["text/html", "text/plain", "text/plain"]
    assert docs[2].body == b""
    assert docs[1].meta == {"title": "Titre"}


def test_single_file_of_unsupported_type_raises_source_error(tmp_path):
    file = _write(tmp_path / "notes.md", TEXT)
    with pytest.raises(SourceError, match=r"^unsupported file type \.md: "):
        list(read_local(file, "local"))


def test_single_file_is_read(tmp_path):
    file = _write(tmp_path / "seul.txt", TEXT)
    (doc,) = read_local(file, "local")
    assert doc.uri == str(file)
    assert doc.body == TEXT.encode("utf-8")


def test_jsonl_bad_line_is_a_failure_and_good_lines_still_yielded(tmp_path):
    good1 = {"url": "https://ex.fr/a", "title": "A", "text": "Premier paragraphe."}
    good2 = {"url": "https://ex.fr/b", "title": "B", "html": "<p>Second.</p>"}
    file = _write(tmp_path / "lot.jsonl", "\n".join([json.dumps(good1), "{pas du json", "", "[1, 2]", json.dumps(good2)]) + "\n")
    items = list(read_local(file, "flux"))
    assert [type(i).__name__ for i in items] == ["RawDocument", "Failure", "Failure", "RawDocument"]
    assert [i.uri for i in items] == [f"{file}#L1", f"{file}#L2", f"{file}#L4", f"{file}#L5"]
    assert items[0].content_type == RECORD_TYPE
    assert json.loads(items[0].body) == good1
    assert json.loads(items[3].body) == good2
    bad: Failure = items[1]
    assert (bad.stage, bad.source) == ("read", "flux")
    assert bad.reason.startswith("bad JSON line:")
    assert items[2].reason == "bad JSON line: not an object"


def test_sidecar_index_json_maps_file_names(tmp_path):
    _write(tmp_path / "x.txt", TEXT)
    _write(tmp_path / "index.json", json.dumps({"x.txt": {"title": "Titre X", "published": "2022-09-14", "source": "Hospitalia", "other": "ignored"}}))
    (doc,) = read_local(tmp_path, "local")
    assert doc.meta == {"title": "Titre X", "published": "2022-09-14", "source": "Hospitalia"}


def test_malformed_sidecar_is_a_failure_and_files_still_read(tmp_path):
    _write(tmp_path / "x.txt", TEXT)
    _write(tmp_path / "index.jsonl", '{"title": "sans clé file"}\n')
    items = list(read_local(tmp_path, "local"))
    assert isinstance(items[0], Failure)
    assert items[0].reason.startswith("bad metadata index:")
    assert isinstance(items[1], RawDocument) and items[1].meta == {}


def test_unreadable_file_is_a_failure(tmp_path):
    file = _write(tmp_path / "verrou.txt", TEXT)
    file.chmod(0)
    try:
        if file.stat().st_mode and _readable(file):
            pytest.skip("running with privileges that ignore file permissions")
        (item,) = read_local(tmp_path, "local")
        assert isinstance(item, Failure)
        assert item.stage == "read" and item.reason.startswith("cannot read file:")
    finally:
        file.chmod(0o644)


def _readable(file: Path) -> bool:
    try:
        file.read_bytes()
    except OSError:
        return False
    return True
