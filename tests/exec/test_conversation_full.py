"""Second tier: the conversation curation on the whole HH-RLHF harmless test set (2,312 pairs) and the whole
ShareGPT sample, through winnow run, checked against counts made here from the files themselves."""

from __future__ import annotations

import gzip
import json
import re

import pytest

from conversation_samples import hh_messages
from winnow import read_output, run
from winnow.conversation import render_record

HH = "sft/hh-rlhf/harmless-base-test.jsonl.gz"
EMAIL = "maria.lopez84@gmail.com"


@pytest.mark.full
def test_whole_hh_set_curated_per_turn(full_data, tmp_path):
    with gzip.open(full_data / HH, "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    assert len(rows) == 2312
    # Real-looking personal data appended to every human turn of every pair.
    marked = [{k: v.replace("\n\nAssistant:", f" Mail {EMAIL}.\n\nAssistant:") for k, v in r.items()} for r in rows]
    path = tmp_path / "hh.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in marked))
    out = tmp_path / "out"
    manifest = run(
        {
            "input": {"path": str(path), "format": "chat"},
            "steps": [
                {"pii": {"types": ["EMAIL"]}},
                {"response_filter": {"drop_truncated": False}},
                {"preference_filter": {}},
                {"exact_dedup": {"field": "prompt"}},
            ],
            "output": {"path": str(out)},
        },
        workers=2,
    )
    counts = manifest["counts"]
    assert counts["input"] == 2312 == counts["kept"] + counts["rejected"]
    steps = {s["name"]: s for s in manifest["steps"]}
    empty = sum(
        any(not m["content"].strip() for m in hh_messages(r["chosen"])[-1:] + hh_messages(r["rejected"])[-1:])
        for r in rows
    )
    assert steps["response_filter"]["dropped"].get("empty_response", 0) == empty
    kept = read_output(str(out)).to_pylist()
    prompts = set()
    for r in kept:
        assert r["text"] == render_record(r)
        for m in r["messages"] + r["chosen"] + r["rejected"]:
            assert EMAIL not in m["content"]
            if m["role"] == "user":
                assert m["content"].endswith("Mail <EMAIL>.")
        prompt = re.sub(r"\s+", " ", "\n\n".join(m["content"] for m in r["messages"] if m["role"] == "user").lower())
        assert prompt.strip() not in prompts
        prompts.add(prompt.strip())
