"""Dedup of conversations through winnow.run: by prompt (exact and MinHash on the user turns) and by whole
conversation, on the real ShareGPT and HH-RLHF excerpts read by the chat reader."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from conversation_samples import hh_messages
from winnow import read_output, run

SHAREGPT = "sft/sharegpt/dummy_conversation.json"
HH = "sft/hh-rlhf/harmless-base-test.jsonl.gz"


def _run(path: Path, steps: list, out: Path, workers: int = 2) -> dict:
    run({"input": {"path": str(path), "format": "chat"}, "steps": steps, "output": {"path": str(out)}}, workers=workers)
    kept = read_output(str(out)).to_pylist()
    rejected = read_output(str(out), rejected=True)
    return {"kept": kept, "rejected": rejected.to_pylist() if rejected.num_rows else []}


def _normal(text: str) -> str:  # exact_dedup's whitespace_case normalisation
    return re.sub(r"\s+", " ", text.lower()).strip()


def _prompt(record: dict) -> str:
    return "\n\n".join(m["content"] for m in record["messages"] or [] if m["role"] == "user")


def test_exact_dedup_by_prompt_keeps_one_conversation_per_prompt(sample_data, tmp_path):
    source = json.loads((sample_data / SHAREGPT).read_text())
    result = _run(sample_data / SHAREGPT, [{"exact_dedup": {"field": "prompt"}}], tmp_path / "out")
    groups: dict[str, list[str]] = {}
    for row in source:
        prompt = "\n\n".join(t["value"] for t in row["conversations"] if t["from"] == "human")
        groups.setdefault(_normal(prompt), []).append(row["id"])
    assert len(groups) < len(source)  # the sample repeats its prompts with other answers
    want = sorted(min(ids) for ids in groups.values())
    assert sorted(r["id"] for r in result["kept"]) == want
    for r in result["rejected"]:
        assert r["reason"] == "exact_dedup: duplicate"
        assert _normal(_prompt(r)) in groups and r["exact_dedup.duplicate_of"] == min(groups[_normal(_prompt(r))])
    # By text, the same answers to the same prompts differ: far fewer duplicates.
    by_text = _run(sample_data / SHAREGPT, [{"exact_dedup": {}}], tmp_path / "text")
    assert len(by_text["kept"]) > len(want)


def test_conversation_field_is_the_whole_rendering(sample_data, tmp_path):
    with gzip.open(sample_data / HH, "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    # 10 exact copies, and 10 pairs asking the same as another with a different rejected answer (real, from
    # the next record).
    copies = [dict(rows[k]) for k in range(0, 100, 10)]
    regraded = []
    for k in range(5, 105, 10):
        prompt = rows[k]["chosen"][: rows[k]["chosen"].rindex("\n\nAssistant: ")]
        other = rows[k + 1]["rejected"]
        regraded.append({"chosen": rows[k]["chosen"], "rejected": prompt + other[other.rindex("\n\nAssistant: ") :]})
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows + copies + regraded))
    by_text = _run(path, [{"exact_dedup": {}}], tmp_path / "text")
    by_conversation = _run(path, [{"exact_dedup": {"field": "conversation"}}], tmp_path / "conv")
    by_prompt = _run(path, [{"exact_dedup": {"field": "prompt"}}], tmp_path / "prompt")

    def ids(result):
        return sorted(r["id"] for r in result["kept"])

    distinct_pairs = {(r["chosen"], r["rejected"]) for r in rows + copies + regraded}
    distinct_prompts = {_normal(_prompt({"messages": hh_messages(r["chosen"])[:-1]})) for r in rows}
    assert ids(by_conversation) == ids(by_text)
    assert len(by_conversation["kept"]) == len(distinct_pairs) == len(rows) + len(regraded)
    assert len(by_prompt["kept"]) == len(distinct_prompts) <= len(rows)


def test_minhash_by_prompt_finds_reworded_prompts_with_other_answers(sample_data, tmp_path):
    with gzip.open(sample_data / HH, "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    long = [k for k, row in enumerate(rows) if len(hh_messages(row["chosen"])[0]["content"].split()) >= 25][:15]
    assert len(long) >= 10
    copies = []
    for n, k in enumerate(long):
        # The same first question with one word more, answered by another record's (real) answers.
        first = hh_messages(rows[k]["chosen"])[0]["content"]
        other = rows[(k + 7) % len(rows)]
        answer_c, answer_r = hh_messages(other["chosen"])[-1]["content"], hh_messages(other["rejected"])[-1]["content"]
        copies.append(
            {
                "id": f"copy-{n}",
                "chosen": f"\n\nHuman: {first} Please\n\nAssistant: {answer_c}",
                "rejected": f"\n\nHuman: {first} Please\n\nAssistant: {answer_r}",
            }
        )
    originals = [{"id": f"orig-{k}", **{key: rows[k][key] for key in ("chosen", "rejected")}} for k in long]
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in originals + copies))
    # Only multi-turn originals have more user turns than their copy: compare first prompts only.
    single = [o for o, k in zip(originals, long, strict=True) if len(hh_messages(rows[k]["chosen"])) == 2]
    assert single
    step = {"minhash_dedup": {"field": "prompt", "threshold": 0.7, "verify": True}}
    result = _run(path, [step], tmp_path / "prompt")
    dropped = {r["id"]: r["minhash_dedup.duplicate_of"] for r in result["rejected"]}
    for o in single:
        n = originals.index(o)
        assert dropped.get(o["id"]) == f"copy-{n}"  # the smallest id is kept: "copy-…" sorts first
    by_text = _run(path, [{"minhash_dedup": {"threshold": 0.7, "verify": True}}], tmp_path / "text")
    assert len(by_text["rejected"]) < len(result["rejected"])


@pytest.mark.parametrize("field", ["prompt", "conversation"])
def test_same_prompt_with_another_answer(tmp_path, field):
    path = tmp_path / "mixed.jsonl"
    rows = [
        {"id": "c1", "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]},
        {"id": "c2", "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hey."}]},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = _run(path, [{"exact_dedup": {"field": field}}], tmp_path / "out", workers=1)
    kept = {r["id"] for r in result["kept"]}
    assert kept == ({"c1"} if field == "prompt" else {"c1", "c2"})
