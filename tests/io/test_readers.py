"""Readers on real documents, and bad input: a clear error naming the file, the line and the
cause (on_error: fail), or quarantined and counted (on_error: skip)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from corpus_sample import corpus_lines
from winnow import read_output, run
from winnow.errors import InputError, RecipeError

pytestmark = pytest.mark.core  # needs only the core dependencies


@pytest.fixture(scope="module")
def docs(sample_data) -> list[dict]:
    return [orjson.loads(line) for line in corpus_lines(sample_data, 50)]


def _run(path: Path, out: Path, on_error: str = "fail", **input_extra):
    return run(
        {"input": {"path": str(path), **input_extra}, "steps": [], "output": {"path": str(out)}, "on_error": on_error},
        workers=1,
    )


def _bad_jsonl(docs: list[dict], path: Path) -> Path:
    lines = [orjson.dumps(d) for d in docs[:10]]
    lines[3] = b'{"id": "broken", "text": "unterminated'  # malformed JSON, line 4
    lines[6] = orjson.dumps({"id": "no-text", "title": "x"})  # no text field, line 7
    lines[8] = orjson.dumps({"id": "number", "text": 42})  # text is not a string, line 9
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_malformed_line_fails_naming_file_line_and_cause(docs, tmp_path):
    path = _bad_jsonl(docs, tmp_path / "bad.jsonl")
    with pytest.raises(InputError) as error:
        _run(path, tmp_path / "out")
    assert error.value.file == str(path) and error.value.location == "line 4"
    assert "invalid JSON" in error.value.cause


def test_cli_error_has_no_traceback_and_nonzero_exit(docs, tmp_path):
    path = _bad_jsonl(docs, tmp_path / "bad.jsonl")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"input: {{path: {path}}}\noutput: {{path: {tmp_path / 'out'}}}\n")
    result = subprocess.run(
        [sys.executable, "-m", "winnow.cli", "run", str(recipe), "--quiet"],
        capture_output=True,
        text=True,
        env={**os.environ},
    )
    assert result.returncode == 2
    assert f"{path}, line 4: invalid JSON" in result.stderr
    assert "Traceback" not in result.stderr


def test_skip_quarantines_and_counts_bad_rows(docs, tmp_path):
    path = _bad_jsonl(docs, tmp_path / "bad.jsonl")
    manifest = _run(path, tmp_path / "out", on_error="skip")
    assert manifest["counts"] == {"input": 10, "kept": 7, "rejected": 0, "quarantined": 3}
    quarantine = read_output(str(tmp_path / "out"), quarantine=True).to_pylist()
    causes = {q["location"]: q["reason"] for q in quarantine}
    assert causes["line 4"].startswith("invalid JSON")
    assert causes["line 7"] == "missing text field 'text'"
    assert causes["line 9"] == "text field 'text' is int, not a string"
    assert {q["file"] for q in quarantine} == {str(path)}
    assert next(q for q in quarantine if q["location"] == "line 9")["raw"] == '{"id":"number","text":42}'


def test_empty_files_are_not_errors(tmp_path):
    for name in ("empty.jsonl", "empty.csv"):
        (tmp_path / "in").mkdir(exist_ok=True)
        (tmp_path / "in" / name).write_bytes(b"")
    manifest = _run(tmp_path / "in", tmp_path / "out")
    assert manifest["counts"]["input"] == 0 and manifest["counts"]["kept"] == 0


def test_unreadable_compressed_file_names_the_file(docs, tmp_path):
    path = tmp_path / "corrupt.jsonl.zst"
    path.write_bytes(b"\x28\xb5\x2f\xfd" + os.urandom(64))  # zstd magic, then garbage
    with pytest.raises(Exception) as error:
        _run(path, tmp_path / "out")
    assert str(path) in str(error.value)


def test_missing_input_path_fails_before_reading(tmp_path):
    with pytest.raises(RecipeError, match="input path not found"):
        _run(tmp_path / "nowhere" / "*.jsonl", tmp_path / "out")


def test_parquet_csv_and_text_inputs_give_the_same_documents(docs, tmp_path):
    rows = [{"doc_id": d["id"], "body": d["text"], "url": d.get("url"), "title": d.get("title")} for d in docs]
    table = pa.Table.from_pylist(rows)
    pq.write_table(table, tmp_path / "docs.parquet")
    pcsv.write_csv(table, tmp_path / "docs.csv")
    (tmp_path / "texts").mkdir()
    for i, d in enumerate(docs[:5]):
        (tmp_path / "texts" / f"{i:02d}.txt").write_text(d["text"])
    fields = {"text_field": "body", "id_field": "doc_id", "meta_fields": ["title"]}
    _run(tmp_path / "docs.parquet", tmp_path / "pq", **fields)
    _run(tmp_path / "docs.csv", tmp_path / "csv", **fields)
    _run(tmp_path / "texts", tmp_path / "txt")
    want = sorted((d["id"], d["text"]) for d in docs)
    for out in ("pq", "csv"):
        table = read_output(str(tmp_path / out))
        assert sorted(zip(table.column("id").to_pylist(), table.column("text").to_pylist(), strict=True)) == want
        assert orjson.loads(table.column("meta")[0].as_py())["title"] == next(
            d["title"] for d in docs if d["id"] == table.column("id")[0].as_py()
        )
    texts = read_output(str(tmp_path / "txt"))
    assert sorted(texts.column("id").to_pylist()) == [f"{i:02d}.txt" for i in range(5)]
    assert sorted(texts.column("text").to_pylist()) == sorted(d["text"] for d in docs[:5])
