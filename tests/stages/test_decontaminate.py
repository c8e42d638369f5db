"""`decontaminate` with the real benchmarks of ../shared/data/bench pasted into real corpus documents."""

from __future__ import annotations

import gzip
import io
import json
import random
import re
from pathlib import Path

import pyarrow.compute as pc
import pytest
import zstandard

from corpus_sample import corpus_lines
from winnow import read_output, run
from winnow.errors import RecipeError, WinnowError
from winnow.records import make_batch
from winnow.steps.base import TaskRunner
from winnow.steps.registry import build_step


def read_zst_lines(path: Path) -> list[bytes]:
    with open(path, "rb") as raw:
        return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw)).read().splitlines()


def _bench_specs(sample_data: Path) -> list[dict]:
    bench = sample_data / "bench"
    return [
        {"path": str(bench / "gsm8k" / "test.jsonl"), "fields": ["question"], "name": "gsm8k"},
        {
            "path": str(bench / "humaneval" / "HumanEval.jsonl.gz"),
            "fields": ["prompt"],
            "id_field": "task_id",
            "name": "humaneval",
        },
        {"path": str(bench / "truthfulqa" / "TruthfulQA.csv"), "fields": ["Question"], "name": "truthfulqa"},
    ]


@pytest.fixture(scope="module")
def corpus_docs(sample_data) -> list[dict]:
    return [json.loads(line) for line in corpus_lines(sample_data, 2000)]


@pytest.fixture(scope="module")
def stage(sample_data, tmp_path_factory):
    step = build_step("decontaminate", {"benchmarks": _bench_specs(sample_data), "mode": "drop"})
    step.check()
    step.prepare([], str(tmp_path_factory.mktemp("decontam")), TaskRunner())
    return step


def _variants(question: str, rng: random.Random) -> dict[str, str]:
    return {
        "verbatim": question,
        "upper": question.upper(),
        "whitespace": re.sub(r"\s+", lambda m: rng.choice(["  ", "\n", "\t", " \n "]), question),
        "punctuation": re.sub(r"[.,?!;:'\"()]", lambda m: rng.choice(["", " - ", ";", "!"]), question),
    }


def test_pasted_benchmark_items_are_all_caught_and_named(sample_data, stage, corpus_docs):
    rng = random.Random(5)
    with open(sample_data / "bench" / "gsm8k" / "test.jsonl") as f:
        gsm8k = [json.loads(line) for line in f]
    with gzip.open(sample_data / "bench" / "humaneval" / "HumanEval.jsonl.gz", "rt") as f:
        humaneval = [json.loads(line) for line in f]
    pasted = [(f"gsm8k/{i}", gsm8k[i]["question"]) for i in rng.sample(range(len(gsm8k)), 40)]
    pasted += [(f"humaneval/{p['task_id']}", p["prompt"]) for p in rng.sample(humaneval, 20)]
    ids, texts, expected = [], [], []
    for k, (item, question) in enumerate(pasted):
        for name, variant in _variants(question, rng).items():
            host = corpus_docs[(k * 4 + len(ids)) % len(corpus_docs)]["text"]
            cut = rng.randrange(len(host) + 1)
            ids.append(f"{item}:{name}")
            texts.append(host[:cut] + "\n" + variant + "\n" + host[cut:])
            expected.append(item)
    result = stage.process(make_batch({"id": ids, "text": texts}))
    assert result.kept.num_rows == 0, result.kept.column("id").to_pylist()
    rejected = result.rejected
    assert rejected.num_rows == len(texts) == 240
    for item, items, reason in zip(
        expected, rejected.column("decontaminate.items").to_pylist(), rejected.column("reason").to_pylist(), strict=True
    ):
        assert item in items, (item, items)
        assert reason == f"decontaminate: contaminated:{item.split('/')[0]}"


def test_untouched_corpus_is_rarely_flagged_against_every_benchmark_item(tier, corpus_docs, tmp_path):
    """Against all 90,912 items of all_benchmarks.jsonl.zst (second tier), or the excerpt's."""
    items_file = tier.path / "bench" / "all_benchmarks.jsonl.zst"
    step = build_step(
        "decontaminate",
        {
            "benchmarks": [
                {
                    "path": str(items_file),
                    "name_field": "benchmark",
                    "id_field": "id",
                }
            ],
            "mode": "tag",
        },
    )
    step.prepare([], str(tmp_path), TaskRunner())
    info = json.loads((tmp_path / "items.json").read_text())
    assert len(info["items"]) == tier.pick(sample=len(read_zst_lines(items_file)), full=90912)
    out = step.process(
        make_batch({"id": [d["id"] for d in corpus_docs], "text": [d["text"] for d in corpus_docs]})
    ).kept
    flagged = [items for items in out.column("decontaminate.items").to_pylist() if items]
    assert len(flagged) < 0.002 * len(corpus_docs)
    assert all(all("#" in label for label in items) for items in flagged)  # each flag names its item


def test_missing_or_unreadable_benchmark_fails_before_reading_data(sample_data, tmp_path):
    missing = build_step("decontaminate", {"benchmarks": [{"path": str(tmp_path / "nope.jsonl")}]})
    with pytest.raises(RecipeError, match="nope.jsonl"):
        missing.check()
    broken = tmp_path / "broken.jsonl.zst"
    broken.write_bytes(b"this is not zstd at all")
    with pytest.raises(RecipeError, match="broken.jsonl.zst"):
        build_step("decontaminate", {"benchmarks": [{"path": str(broken)}]}).check()
    bad_line = tmp_path / "bad.jsonl"
    bad_line.write_text('{"text": "fine"}\n{not json\n')
    step = build_step("decontaminate", {"benchmarks": [{"path": str(bad_line)}]})
    step.check()
    with pytest.raises(WinnowError, match=r"bad.jsonl, line 2"):
        step.prepare([], str(tmp_path / "w"), TaskRunner())
    good = tmp_path / "good.jsonl"
    good.write_text('{"text": "fine"}\n')
    no_field = build_step("decontaminate", {"benchmarks": [{"path": str(good), "fields": ["question"]}]})
    with pytest.raises(WinnowError, match="missing field"):
        no_field.prepare([], str(tmp_path / "w2"), TaskRunner())
    with pytest.raises(RecipeError, match=r"good.jsonl has no field\(s\) \['question'\]"):
        no_field.check()


def test_end_to_end_run_drops_contaminated_documents(sample_data, corpus_docs, tmp_path):
    with open(sample_data / "bench" / "gsm8k" / "test.jsonl") as f:
        questions = [json.loads(line)["question"] for line in f][:5]
    docs = [dict(d) for d in corpus_docs[:300]]
    for k, q in enumerate(questions):
        docs[k * 50]["text"] += "\n\nHomework: " + q.lower()
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(d) + "\n" for d in docs))
    recipe = {
        "input": {"path": str(corpus), "source": "web", "shard_mb": 0.5},
        "steps": [{"decontaminate": {"benchmarks": _bench_specs(sample_data)[:1], "mode": "drop"}}],
        "output": {"path": str(tmp_path / "out")},
    }
    manifest = run(recipe, workers=2)
    rejected = read_output(str(tmp_path / "out"), rejected=True)
    assert sorted(rejected.column("id").to_pylist()) == sorted(docs[k * 50]["id"] for k in range(5))
    assert set(rejected.column("reason").to_pylist()) == {"decontaminate: contaminated:gsm8k"}
    step = next(s for s in manifest["steps"] if s["name"] == "decontaminate")
    assert step["dropped"] == {"contaminated:gsm8k": 5}
    assert step["counters"]["flagged.gsm8k"] == 5
    kept = read_output(str(tmp_path / "out"))
    assert kept.num_rows == 295
    assert pc.all(pc.equal(kept.column("source"), "web")).as_py()


@pytest.mark.ray
def test_ray_executor_finds_the_same_contaminated_documents(sample_data, corpus_docs, tmp_path):
    with open(sample_data / "bench" / "gsm8k" / "test.jsonl") as f:
        questions = [json.loads(line)["question"] for line in f][10:13]
    docs = [dict(d) for d in corpus_docs[:120]]
    for k, q in enumerate(questions):
        docs[k * 40]["text"] = q.upper() + "\n" + docs[k * 40]["text"]
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(d) + "\n" for d in docs))

    def recipe(out: str) -> dict:
        return {
            "input": {"path": str(corpus), "shard_mb": 0.2},
            "steps": [{"decontaminate": {"benchmarks": _bench_specs(sample_data)[:1], "mode": "drop"}}],
            "output": {"path": str(tmp_path / out)},
        }

    local = run(recipe("local"), workers=2)
    on_ray = run(recipe("ray"), executor="ray", workers=2)
    assert on_ray["executor"] == "ray"
    ids = {
        out: sorted(read_output(str(tmp_path / out), rejected=True).column("id").to_pylist())
        for out in ("local", "ray")
    }
    assert ids["local"] == ids["ray"] == sorted(docs[k * 40]["id"] for k in range(3))
    assert [s["dropped"] for s in local["steps"]] == [s["dropped"] for s in on_ray["steps"]]


def test_parquet_and_csv_benchmarks(sample_data, corpus_docs, tmp_path):
    import csv

    import pyarrow as pa
    import pyarrow.parquet as pq

    with open(sample_data / "bench" / "gsm8k" / "test.jsonl") as f:
        gsm8k = [json.loads(line) for line in f]
    table = pa.table({"qid": [f"q{i}" for i in range(len(gsm8k))], "question": [r["question"] for r in gsm8k]})
    pq.write_table(table, tmp_path / "gsm8k.parquet")
    with open(sample_data / "bench" / "truthfulqa" / "TruthfulQA.csv", encoding="utf-8-sig") as f:
        truthful = [row["Question"] for row in csv.DictReader(f)]
    long_question = next(q for q in truthful if len(q.split()) >= 15)
    step = build_step(
        "decontaminate",
        {
            "benchmarks": [
                {"path": str(tmp_path / "gsm8k.parquet"), "fields": ["question"], "id_field": "qid", "name": "gsm8k"},
                _bench_specs(sample_data)[2],
            ],
            "mode": "tag",
        },
    )
    step.check()
    step.prepare([], str(tmp_path / "w"), TaskRunner())
    texts = [
        corpus_docs[0]["text"] + "\n" + gsm8k[7]["question"],
        long_question + "\n" + corpus_docs[1]["text"],
        corpus_docs[2]["text"],
    ]
    out = step.process(make_batch({"id": ["a", "b", "c"], "text": texts})).kept
    items = out.column("decontaminate.items").to_pylist()
    assert items[0][0] == "gsm8k/q7"
    assert items[1][0] == f"truthfulqa/{truthful.index(long_question)}"
    assert items[2] == []
