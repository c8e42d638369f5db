"""Conversation inputs through a whole local run: the conversation columns reach data/ and
rejected/ intact (Parquet and JSONL), bad rows fail or are quarantined naming file + line + why."""

from __future__ import annotations

import gzip
import json

import pytest

from winnow.errors import InputError
from winnow.exec.runner import run
from winnow.io.output import read_output

pytestmark = pytest.mark.core  # needs only the core dependencies

SHAREGPT = "sft/sharegpt/dummy_conversation.json"
HH = "sft/hh-rlhf/harmless-base-test.jsonl.gz"
ROLE = {"human": "user", "gpt": "assistant"}


def _pairs(messages):
    return [(m["role"], m["content"]) for m in messages or []]


def _hh_text(messages) -> str:
    names = {"user": "Human", "assistant": "Assistant"}
    return "".join(f"\n\n{names[m['role']]}: {m['content']}" for m in messages)


@pytest.mark.parametrize("output_format", ["parquet", "jsonl"])
def test_sharegpt_sample_through_a_run(sample_data, tmp_path, output_format):
    source = json.loads((sample_data / SHAREGPT).read_text())
    out = tmp_path / "out"
    manifest = run(
        {
            "input": {"path": str(sample_data / SHAREGPT), "format": "chat", "shard_mb": 0.01},
            "steps": [{"length_filter": {"min_words": 25}}],
            "output": {"path": str(out), "format": output_format},
        },
        workers=2,
    )
    # A JSON array file cannot be cut into byte ranges: one shard, whatever shard_mb says.
    assert len(json.loads((out / "_winnow" / "plan.json").read_text())) == 1
    assert manifest["counts"]["input"] == 500
    kept, rejected = read_output(str(out)), read_output(str(out), rejected=True)
    assert kept.num_rows + rejected.num_rows == 500 and kept.num_rows > 0 and rejected.num_rows > 0
    expected = {row["id"]: [(ROLE[t["from"]], t["value"]) for t in row["conversations"]] for row in source}
    for table in (kept, rejected):
        for record in table.to_pylist():
            assert record["kind"] == "conversation"
            assert _pairs(record["messages"]) == expected[record["id"]]
            assert record["text"].startswith("<|user|>\n")
    assert set(kept.column("id").to_pylist()) | set(rejected.column("id").to_pylist()) == set(expected)


def test_hh_sample_through_a_run(sample_data, tmp_path):
    with gzip.open(sample_data / HH, "rt") as f:
        source = [json.loads(line) for line in f]
    out = tmp_path / "out"
    manifest = run(
        {
            # a small shard size: the gzip file is cut into pieces, whose records keep their real lines
            "input": {"path": str(sample_data / HH), "format": "chat", "shard_mb": 0.05},
            "steps": [{"length_filter": {"max_words": 300}}],
            "output": {"path": str(out)},
        },
        workers=2,
    )
    assert manifest["counts"]["input"] == len(source) == 400
    assert len(json.loads((out / "_winnow" / "plan.json").read_text())) > 1
    kept, rejected = read_output(str(out)), read_output(str(out), rejected=True)
    assert kept.num_rows and rejected.num_rows and kept.num_rows + rejected.num_rows == 400
    for table in (kept, rejected):
        for record in table.to_pylist():
            line = int(record["id"].rsplit(":", 1)[1])  # derived ids name the real line of the file
            row = source[line - 1]
            assert record["kind"] == "preference"
            assert record["chosen"][-1]["role"] == "assistant" and len(record["chosen"]) == 1
            # prompt + chosen (+ rejected) give back the original transcripts, byte for byte
            assert _hh_text((record["messages"] or []) + record["chosen"]) == row["chosen"]
            assert _hh_text((record["messages"] or []) + record["rejected"]) == row["rejected"]


def test_bad_rows_fail_naming_file_line_and_cause(test_data, tmp_path):
    path = test_data / "chat" / "bad_rows.jsonl"
    with pytest.raises(InputError) as caught:
        run({"input": {"path": str(path), "format": "chat"}, "output": {"path": str(tmp_path / "out")}}, workers=1)
    error = caught.value
    assert error.file.endswith("bad_rows.jsonl") and error.location == "line 2"
    assert "role is 'human'" in error.cause


def test_bad_rows_quarantined_with_their_line_and_reason(test_data, tmp_path):
    path = test_data / "chat" / "bad_rows.jsonl"
    out = tmp_path / "out"
    manifest = run(
        {"input": {"path": str(path), "format": "chat"}, "on_error": "skip", "output": {"path": str(out)}},
        workers=1,
    )
    assert manifest["counts"] == {"input": 6, "kept": 2, "rejected": 0, "quarantined": 4}
    kept = read_output(str(out))
    assert kept.column("id").to_pylist() == ["ok-1", "ok-2"]
    assert _pairs(kept.column("messages").to_pylist()[1]) == [("user", "Name a colour."), ("assistant", "Blue.")]
    bad = {row["location"]: row for row in read_output(str(out), quarantine=True).to_pylist()}
    assert sorted(bad) == ["line 2", "line 3", "line 5", "line 6"]
    assert "messages[0].role is 'human'" in bad["line 2"]["reason"] and bad["line 2"]["id"] == "bad-role"
    assert "invalid JSON" in bad["line 3"]["reason"]
    assert "cannot tell the conversation format" in bad["line 5"]["reason"]
    assert "prompt[0].content is int" in bad["line 6"]["reason"]
    assert all(row["file"].endswith("bad_rows.jsonl") and row["raw"] for row in bad.values())


def test_a_forced_format_names_what_is_missing(test_data, tmp_path):
    path = test_data / "chat" / "bad_rows.jsonl"
    with pytest.raises(InputError) as caught:
        run({"input": {"path": str(path), "format": "sharegpt"}, "output": {"path": str(tmp_path / "o")}}, workers=1)
    assert caught.value.location == "line 1" and "sharegpt: missing 'conversations'" in caught.value.cause
