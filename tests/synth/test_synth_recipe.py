"""The must-hold recipe, examples/synthetic.yaml: self-instruct -> answers -> judge -> preference pairs,
deduplicated and decontaminated, against the real test server, with faults injected along the way."""

from __future__ import annotations

import orjson
import pyarrow.parquet as pq
import yaml
from recipes import ROOT, endpoint_for

from winnow import Recipe, read_output, run
from winnow.feedback.service import Feedback
from winnow.report.card import write_card

LLM_STEPS = ("self_instruct", "generate_answers", "judge")


def example_against(base_url: str, out, **endpoint) -> Recipe:
    data = yaml.safe_load((ROOT / "examples" / "synthetic.yaml").read_text())
    for item in data["steps"]:
        ((name, params),) = item.items()
        if name in LLM_STEPS:
            params["endpoint"] = endpoint_for(base_url, max_retries=8, **endpoint)
            if name != "generate_answers":  # room for the random model's JSON strings to end
                params["sampling"]["max_tokens"] = 700
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
    # a client limit no real answer reaches on a loaded machine (only the injected timeout may time
    # out: the counts below are exact), and the injected hang past it
    proxy.hang_s = 9.0
    manifest = run(example_against(proxy.base_url, out, timeout_s=8.0), workers=1)
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

    # the pairs go straight into the feedback app: a pairwise project serves each as a task
    fb = Feedback.open(f"sqlite:///{tmp_path / 'feedback.db'}", create=True)
    try:
        fb.projects.create("synthetic-pairs", task="pairwise", overlap=1)
        alice, _ = fb.users.add("alice", "annotator")
        fb.projects.add_member("synthetic-pairs", "alice", "annotator")
        assert fb.import_records("synthetic-pairs", out).added == len(kept)
        assert fb.import_records("synthetic-pairs", out).added == 0  # re-importing adds nothing
        task = fb.tasks.next(fb.projects.get("synthetic-pairs"), alice)
        assert task is not None and task.external_id in {r["id"] for r in kept}
        assert len(task.candidates) == 2
    finally:
        fb.close()


def test_pairwise_judge_asks_in_both_orders_and_keeps_only_consistent_verdicts(proxy, tmp_path):
    pairs = ROOT / "examples" / "data" / "sft" / "hh-rlhf-harmless-sample.jsonl.gz"
    recipe = {
        "input": {"path": str(pairs), "format": "chat", "source": "hh-rlhf", "license": "MIT"},
        "steps": [
            {"sample": {"fraction": 0.05, "seed": 3}},
            {
                "judge": {
                    "endpoint": endpoint_for(proxy.base_url),
                    "mode": "pairwise",
                    "sampling": {"temperature": 0.7, "max_tokens": 400, "seed": 0},
                }
            },
        ],
        "output": {"path": str(tmp_path / "out"), "format": "jsonl"},
    }
    manifest = run(recipe, workers=1)
    judge = manifest.steps[1]
    assert judge.records_in > 5 and judge.counters["requests"] >= 2 * judge.records_in
    assert judge.out + sum(judge.dropped.values()) == judge.records_in
    assert set(judge.dropped) <= {"position_bias", "tie", "invalid_output"}
    for record in read_output(str(tmp_path / "out")).to_pylist():
        verdicts = orjson.loads(record["meta"])["judge"]["verdicts"]
        assert verdicts in (["A", "B"], ["B", "A"])  # the same answer won in both orders
    judged = [row for row in rejected_rows(tmp_path / "out") if row["reason"].startswith("judge:")]
    assert len(judged) == sum(judge.dropped.values())
    for row in judged:
        assert row["judge.cause"] and orjson.loads(row["judge.raw"])  # cause and raw replies kept


def test_a_record_whose_answers_never_parse_is_rejected_with_its_raw_replies(proxy, tmp_path):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_bytes(b'{"id": "p1", "text": "Is the sky blue?"}\n')
    recipe = {
        "input": {"path": str(prompts)},
        "steps": [
            {"generate_answers": {"endpoint": endpoint_for(proxy.base_url), "sampling": {"max_tokens": 8}}},
            {
                "judge": {
                    "endpoint": endpoint_for(proxy.base_url, structured="none"),
                    "max_reasks": 1,
                    "template": "Score this answer: {{ answer }} (request: {{ prompt }})",
                    "sampling": {"max_tokens": 8},
                }
            },
        ],
        "output": {"path": str(tmp_path / "out"), "format": "jsonl"},
    }
    manifest = run(recipe, workers=1)
    assert manifest.counts.kept == 0 and manifest.steps[1].dropped == {"invalid_output": 1}
    (row,) = rejected_rows(tmp_path / "out")
    assert row["reason"] == "judge: invalid_output" and "after 2 replies" in row["judge.cause"]
    assert len(orjson.loads(row["judge.raw"])) == 2  # both replies, never a silent None
    counters = manifest.steps[1].counters
    assert counters["reasks"] == 1 and counters["requests"] == 2
    assert any(k.startswith("template.") for k in counters)


def test_evolve_instructions_rewrites_each_prompt_by_one_operation(proxy, tmp_path):
    seeds = ROOT / "examples" / "data" / "sft" / "self-instruct-seeds.jsonl"
    recipe = {
        "input": {"path": str(seeds), "text_field": "instruction", "license": "Apache-2.0"},
        "steps": [
            {"sample": {"fraction": 0.25, "seed": 1}},
            {
                "evolve_instructions": {
                    "endpoint": endpoint_for(proxy.base_url),
                    "sampling": {"temperature": 0.7, "max_tokens": 700},
                }
            },
        ],
        "output": {"path": str(tmp_path / "out"), "format": "jsonl"},
    }
    manifest = run(recipe, workers=1)
    evolve = manifest.steps[1]
    assert evolve.records_in > 3 and evolve.out + sum(evolve.dropped.values()) == evolve.records_in
    for record in read_output(str(tmp_path / "out")).to_pylist():
        assert record["kind"] == "conversation" and record["messages"][0]["role"] == "user"
        suffix = record["id"].rsplit("-", 1)[1]
        assert suffix in {"constraints", "deepen", "concretize", "reasoning", "breadth"}
        assert orjson.loads(record["meta"])["synth"]["evolve_instructions"]["template_sha"]


def test_the_endpoint_limits_hold_for_the_whole_run_across_worker_processes(proxy, tmp_path):
    """max_concurrency is the server's limit, not each worker's: two workers share 4 requests in flight."""
    rows = [
        orjson.loads(line)
        for line in (ROOT / "tests" / "data" / "shared" / "sft" / "mt_bench" / "question.jsonl")
        .read_bytes()
        .splitlines()
    ]
    folder = tmp_path / "prompts"
    folder.mkdir()
    for part in (0, 1):  # one input file per worker
        chosen = rows[part::2][:24]
        (folder / f"part-{part}.jsonl").write_bytes(
            b"".join(orjson.dumps({"id": f"mt-{r['question_id']}", "text": r["turns"][0]}) + b"\n" for r in chosen)
        )
    recipe = {
        "input": {"path": str(folder / "*.jsonl"), "source": "mt-bench", "license": "Apache-2.0"},
        "steps": [
            {
                "generate_answers": {
                    "endpoint": endpoint_for(proxy.base_url, max_concurrency=4),
                    "n": 2,
                    "sampling": {"temperature": 0.8, "max_tokens": 24, "seed": 1},
                }
            }
        ],
        "output": {"path": str(tmp_path / "out"), "format": "jsonl"},
    }
    proxy.reset()
    manifest = run(recipe, workers=2)
    assert manifest.steps[0].counters["requests"] == 2 * 48
    assert 2 <= proxy.most_in_flight <= 4
