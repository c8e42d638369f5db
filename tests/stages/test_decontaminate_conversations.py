"""`decontaminate` on conversations: on prompts (roles: [user]), on responses (roles: [assistant]) or on the
whole rendering — real GSM8K questions and answers pasted into real HH-RLHF turns, through winnow.run."""

from __future__ import annotations

import gzip
import json

import pytest

from winnow import read_output, run

HH = "sft/hh-rlhf/harmless-base-test.jsonl.gz"


@pytest.fixture(scope="module")
def pairs(sample_data, tmp_path_factory):
    """200 real HH pairs; in 10 the user asks a GSM8K question, in 10 others the chosen answer is a GSM8K
    solution (the benchmark's answer field)."""
    with gzip.open(sample_data / HH, "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines][:200]
    bench = [json.loads(line) for line in (sample_data / "bench" / "gsm8k" / "test.jsonl").open()][:20]
    asked, answered = set(), set()
    for n, item in enumerate(bench[:10]):
        k = n * 20
        rows[k] = {key: rows[k][key].replace("\n\nHuman: ", f"\n\nHuman: {item['question']} ", 1) for key in rows[k]}
        asked.add(k)
    for n, item in enumerate(bench[10:]):
        k = n * 20 + 10
        chosen = rows[k]["chosen"]
        cut = chosen.rindex("\n\nAssistant: ") + len("\n\nAssistant: ")
        rows[k] = {"chosen": chosen[:cut] + item["answer"], "rejected": rows[k]["rejected"]}
        answered.add(k)
    path = tmp_path_factory.mktemp("decontam") / "pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    bench_spec = {"path": str(sample_data / "bench" / "gsm8k" / "test.jsonl"), "fields": ["question", "answer"]}
    return path, bench_spec, asked, answered


def _flagged(pairs, tmp_path, params) -> set[int]:
    path, bench_spec, _, _ = pairs
    out = tmp_path / "out"
    run(
        {
            "input": {"path": str(path), "format": "chat"},
            "steps": [{"decontaminate": {"benchmarks": [bench_spec], "n": 8, **params}}],
            "output": {"path": str(out)},
        },
        workers=2,
    )
    rejected = read_output(str(out), rejected=True).to_pylist()
    assert all(r["reason"].startswith("decontaminate: contaminated:") for r in rejected)
    assert all(r["decontaminate.items"] for r in rejected)
    # The kept records keep their own text: the rendering, not the roles' text that was judged.
    for r in read_output(str(out)).to_pylist():
        assert r["text"].startswith("<|user|>\n")
    return {int(r["id"].rsplit(":", 1)[1]) - 1 for r in rejected}


def test_on_prompts(pairs, tmp_path):
    assert _flagged(pairs, tmp_path, {"roles": ["user"]}) == pairs[2]


def test_on_responses(pairs, tmp_path):
    assert _flagged(pairs, tmp_path, {"roles": ["assistant"]}) == pairs[3]


def test_on_the_whole_conversation(pairs, tmp_path):
    assert _flagged(pairs, tmp_path, {}) == pairs[2] | pairs[3]
