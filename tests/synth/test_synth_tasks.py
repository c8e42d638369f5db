"""The knowledge-distillation, multi-turn and persona tasks against the real test server, on real
inputs: Debian documentation pages, ShareGPT conversations, personas."""

from __future__ import annotations

import orjson
from recipes import ROOT, endpoint_for

from winnow import read_output, run

DOCS = ROOT / "examples" / "data" / "debian-docs-sample.jsonl.zst"
CHATS = ROOT / "examples" / "data" / "sft" / "sharegpt-sample.json"


def synth_recipe(tmp_path, base_url: str, source: dict, step: str, params: dict, fraction: float) -> dict:
    return {
        "input": source,
        "steps": [
            {"sample": {"fraction": fraction, "seed": 2}},
            {step: {"endpoint": endpoint_for(base_url, timeout_s=60.0, max_concurrency=2), **params}},
        ],
        "output": {"path": str(tmp_path / "out"), "format": "jsonl"},
    }


def test_document_qa_writes_pairs_traced_to_their_document(proxy, tmp_path):
    source = {"path": str(DOCS), "source": "debian-docs", "license": "GPL-2.0-or-later"}
    # The bounds are the schema's maxLength: the tiny random model never closes a string on its own, so
    # without them each call runs to max_tokens (~20 s here).
    bounds = {"max_question_chars": 120, "max_answer_chars": 200}
    params = {"questions": 1, "max_chars": 100, "max_reasks": 0, **bounds, "sampling": {"max_tokens": 600}}
    manifest = run(synth_recipe(tmp_path, proxy.base_url, source, "document_qa", params, 0.02), workers=1)
    step = manifest.steps[1]
    kept = read_output(str(tmp_path / "out")).to_pylist()
    docs = {orjson.loads(line)["id"] for line in _lines(DOCS)}
    assert step.records_in >= 2 and kept
    assert (
        step.counters["rows_failed"] + len({orjson.loads(r["meta"])["synth"]["document_qa"]["from"] for r in kept})
        == step.records_in
    )
    for record in kept:
        meta = orjson.loads(record["meta"])["synth"]["document_qa"]
        assert meta["from"] in docs and meta["template_sha"]
        assert record["kind"] == "conversation" and [m["role"] for m in record["messages"]] == ["user", "assistant"]
        assert record["source"] == "synthetic:tiny" and record["license"] == "GPL-2.0-or-later"
        question, answer = (m["content"] for m in record["messages"])
        assert 0 < len(question) <= 120 and 0 < len(answer) <= 200
    assert step.counters["records_generated"] == len(kept) <= step.records_in


def test_summaries_carry_the_passage_in_the_user_turn(proxy, tmp_path):
    source = {"path": str(DOCS), "source": "debian-docs", "license": "GPL-2.0-or-later"}
    params = {"max_chars": 300, "sampling": {"max_tokens": 32}}
    manifest = run(synth_recipe(tmp_path, proxy.base_url, source, "summarize_documents", params, 0.01), workers=1)
    step = manifest.steps[1]
    kept = read_output(str(tmp_path / "out")).to_pylist()
    by_id = {orjson.loads(line)["id"]: orjson.loads(line)["text"] for line in _lines(DOCS)}
    assert len(kept) + step.counters["rows_failed"] == step.records_in >= 2
    for record in kept:
        origin = orjson.loads(record["meta"])["synth"]["summarize_documents"]["from"]
        user, answer = record["messages"]
        assert by_id[origin][:300].strip() in user["content"] and "Summarize" in user["content"]
        assert answer["role"] == "assistant" and answer["content"]


def test_continue_conversation_adds_user_and_assistant_turns(proxy, tmp_path):
    source = {"path": str(CHATS), "format": "chat", "source": "sharegpt", "license": "Apache-2.0"}
    params = {"turns": 2, "sampling": {"max_tokens": 16}}
    manifest = run(synth_recipe(tmp_path, proxy.base_url, source, "continue_conversation", params, 0.02), workers=1)
    step = manifest.steps[1]
    kept = read_output(str(tmp_path / "out")).to_pylist()
    originals = {c["id"]: c["conversations"] for c in orjson.loads(CHATS.read_bytes())}
    assert kept and len(kept) + step.counters["rows_failed"] == step.records_in
    for record in kept:
        origin = orjson.loads(record["meta"])["synth"]["continue_conversation"]["from"]
        turns = [m["role"] for m in record["messages"]]
        before = len(originals[origin.split("/")[-1]]) if origin.split("/")[-1] in originals else None
        assert turns[-4:] == ["user", "assistant", "user", "assistant"]
        if before is not None:
            assert len(turns) in (before + 4, before + 5)  # + an answer first when it ended on a user turn


def test_persona_prompts_are_distinct_requests_with_their_persona(proxy, tmp_path):
    personas = tmp_path / "personas.jsonl"
    personas.write_bytes(
        b"".join(
            orjson.dumps({"id": f"persona-{i}", "text": text}) + b"\n"
            for i, text in enumerate(
                [
                    "A retired nurse who keeps bees and sells honey at a farmers' market.",
                    "A first-year civil engineering student who struggles with statics.",
                    "A small-town librarian organising a local history archive.",
                    "A night-shift warehouse worker learning Python to change careers.",
                ]
            )
        )
    )
    source = {"path": str(personas), "source": "personas", "license": "CC0-1.0"}
    params = {"prompts": 2, "max_reasks": 0, "max_prompt_chars": 150, "sampling": {"max_tokens": 500}}
    manifest = run(synth_recipe(tmp_path, proxy.base_url, source, "persona_prompts", params, 1.0), workers=1)
    step = manifest.steps[1]
    kept = read_output(str(tmp_path / "out")).to_pylist()
    assert step.records_in == 4 and kept
    by_persona: dict[str, list[str]] = {}
    for record in kept:
        meta = orjson.loads(record["meta"])
        assert meta["persona"] and record["messages"][0]["role"] == "user" and len(record["messages"]) == 1
        by_persona.setdefault(meta["persona"], []).append(record["messages"][0]["content"])
        assert 0 < len(record["messages"][0]["content"]) <= 150
    for prompts in by_persona.values():
        assert len(prompts) == len(set(prompts)) <= 2


def _lines(path):
    import zstandard

    return zstandard.ZstdDecompressor().decompress(path.read_bytes(), max_output_size=1 << 28).splitlines()
