"""The must-hold recipe, examples/synthetic.yaml: self-instruct -> answers -> judge -> preference pairs,
deduplicated and decontaminated, against the real test server, with faults injected along the way."""

from __future__ import annotations

import orjson
import pyarrow.parquet as pq
import yaml
from recipes import ROOT, endpoint_for

from winnow import Recipe, read_output, run
from winnow.report.card import write_card

LLM_STEPS = ("self_instruct", "generate_answers", "judge")


def example_against(base_url: str, out) -> Recipe:
    data = yaml.safe_load((ROOT / "examples" / "synthetic.yaml").read_text())
    for item in data["steps"]:
        ((name, params),) = item.items()
        if name in LLM_STEPS:
            params["endpoint"] = endpoint_for(base_url, max_retries=8)
    data["steps"][0]["self_instruct"]["instructions"] = 12
    data["output"]["path"] = str(out)
    return Recipe.from_dict(data)


def rejected_rows(out) -> list[dict]:
    rows = []
    for path in sorted((out / "rejected").glob("*")):
        if path.suffix == ".parquet":
            rows += pq.read_table(path).to_pylist()
        else:
            rows += [orjson.loads(line) for line in path.read_bytes().splitlines()]
    return rows


def test_synthetic_example_end_to_end_with_faults(proxy, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "synthetic"
    faults = ["429", "500", "truncated", "nonjson", "drop", "timeout"]
    proxy.inject(*faults)
    manifest = run(example_against(proxy.base_url, out), workers=1)
    steps = {s.name: s for s in manifest.steps}

    # every injected fault was a failed attempt that a retry turned into a success: none vanished
    errors = sum(v for s in steps.values() for k, v in s.counters.items() if k.startswith("attempt_errors."))
    given_up = sum(v for s in steps.values() for k, v in s.counters.items() if k.startswith("failed."))
    assert errors == len(faults) and not proxy.faults
    assert given_up == steps["self_instruct"].counters.get("failed.not_novel", 0)

    instructions = steps["self_instruct"].counters["records_generated"]
    assert 0 < instructions <= 12
    assert steps["generate_answers"].out == instructions
    for name in LLM_STEPS:
        c = steps[name].counters
        assert c["input_tokens"] > 0 and c["output_tokens"] > 0 and c["usd"] > 0
    # requests the server answered = the calls counted (a truncated body reached the server, then was retried)
    counted = sum(int(steps[n].counters["requests"]) for n in LLM_STEPS)
    assert len(proxy.answered()) == counted + 1

    kept = read_output(str(out)).to_pylist()
    rejected = rejected_rows(out)
    reasons = {r["reason"].split(":")[0] for r in rejected}
    assert {"self_instruct"} <= reasons  # the seeds, consumed
    assert all(r["kind"] == "preference" and r["source"] == "synthetic:tiny" for r in kept)
    for record in kept:
        meta = orjson.loads(record["meta"])
        assert meta["judge"]["rationales"] and meta["synth"]["generate_answers"]["model"] == "tiny"
        assert meta["synth"]["self_instruct"]["template_sha"]
        assert record["chosen_score"] > record["rejected_score"]
    ties = [r for r in rejected if r["reason"] == "rated_to_pairs: no_pair"]
    assert len(kept) + len(ties) == instructions  # every rated record became a pair or was dropped with its reason

    card = tmp_path / "DATACARD.md"
    write_card(str(out), str(card))
    text = card.read_text()
    assert "## Synthetic data" in text and "`tiny`" in text
    assert f"{len(kept):,} of {len(kept):,} kept records (100.0%)" in text
