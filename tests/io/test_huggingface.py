"""Hugging Face layouts written by the real ``datasets`` library (the [hf] extra), offline: a save_to_disk
folder, a DatasetDict, a hub-style snapshot with a dataset card; and Winnow's export read back by
``datasets.load_dataset``. The rows are the GSM8K test excerpt (MIT) of tests/data/shared."""

from __future__ import annotations

import json
import os
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from winnow import read_output, run
from winnow.errors import RecipeError
from winnow.export.huggingface import export_hub_layout

GSM8K = Path(__file__).resolve().parents[1] / "data" / "shared" / "bench" / "gsm8k" / "test.jsonl"


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    home = tmp_path_factory.mktemp("hf-home")
    os.environ.update(HF_HOME=str(home), HF_DATASETS_OFFLINE="1", HF_HUB_OFFLINE="1")  # never the network
    import datasets

    return datasets


def rows(n: int = 40) -> list[dict]:
    lines = GSM8K.read_text(encoding="utf-8").splitlines()[:n]
    return [{"text": r["question"], "answer": r["answer"]} for r in map(json.loads, lines)]


def curate(path: Path, out: Path, **input_fields) -> list[dict]:
    recipe = {
        "input": {"path": str(path), "format": "huggingface", "meta_fields": ["answer"], **input_fields},
        "steps": [{"length_filter": {"min_chars": 1}}],
        "output": {"path": str(out)},
    }
    run(recipe, workers=1)
    found = read_output(out).to_pylist()
    for row in found:
        row["meta"] = orjson.loads(row["meta"])
    return found


def test_save_to_disk_folder_and_dataset_dict(datasets, tmp_path):
    info = datasets.DatasetInfo(license="mit", dataset_name="gsm8k-excerpt")
    datasets.Dataset.from_list(rows(), info=info).save_to_disk(tmp_path / "saved")
    found = curate(tmp_path / "saved", tmp_path / "out1")
    assert len(found) == 40 and {r["license"] for r in found} == {"MIT"}
    assert found[0]["meta"]["hf_dataset"] == "gsm8k-excerpt" and "answer" in found[0]["meta"]
    splits = datasets.DatasetDict(
        train=datasets.Dataset.from_list(rows()[:30], info=info),
        test=datasets.Dataset.from_list(rows()[30:], info=info),
    )
    splits.save_to_disk(tmp_path / "dict")
    found = curate(tmp_path / "dict", tmp_path / "out2")
    assert sorted(r["meta"]["hf_split"] for r in found) == ["test"] * 10 + ["train"] * 30


@pytest.mark.parametrize("kind", ["parquet", "jsonl"])
def test_hub_snapshot_with_a_dataset_card(datasets, tmp_path, kind):
    snapshot = tmp_path / "snapshot"
    (snapshot / "data").mkdir(parents=True)
    ds = datasets.Dataset.from_list(rows())
    for split, part in (("train", ds.select(range(25))), ("test", ds.select(range(25, 40)))):
        target = snapshot / "data" / f"{split}-00000-of-00001.{kind}"
        part.to_parquet(target) if kind == "parquet" else part.to_json(target)
    card = "---\nlicense: mit\npretty_name: GSM8K excerpt\n---\n# GSM8K excerpt\n"
    (snapshot / "README.md").write_text(card)
    assert datasets.load_dataset(str(snapshot))["train"].num_rows == 25  # a layout datasets itself reads
    found = curate(snapshot, tmp_path / "out")
    assert len(found) == 40 and {r["license"] for r in found} == {"MIT"}
    assert {r["meta"]["hf_split"] for r in found} == {"train", "test"}
    assert {r["meta"]["hf_dataset"] for r in found} == {"GSM8K excerpt"}
    declared = curate(snapshot, tmp_path / "out-declared", license="CC-BY-4.0")  # the input's licence wins
    assert {r["license"] for r in declared} == {"CC-BY-4.0"}


def test_export_is_read_by_load_dataset_with_provenance(datasets, tmp_path):
    source = tmp_path / "rows.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows()))
    recipe = {
        "input": {"path": str(source), "source": "gsm8k", "license": "MIT", "collected_at": "2024-01-01"},
        "steps": [{"length_filter": {"min_chars": 1}}],
        "output": {"path": str(tmp_path / "run")},
    }
    run(recipe, workers=1)
    done = export_hub_layout(str(tmp_path / "run"), str(tmp_path / "hub"))
    assert done.splits == {"train": 40} and done.license == "mit"
    loaded = datasets.load_dataset(str(tmp_path / "hub"))["train"]
    assert loaded.num_rows == 40
    assert {"id", "text", "source", "url", "license", "collected_at", "meta"} <= set(loaded.column_names)
    assert set(loaded["license"]) == {"MIT"} and set(loaded["source"]) == {"gsm8k"}
    shards = sorted((tmp_path / "hub" / "data").glob("*.parquet"))
    assert sum(pq.read_metadata(s).num_rows for s in shards) == 40
    with pytest.raises(RecipeError, match="exists"):
        export_hub_layout(str(tmp_path / "run"), str(tmp_path / "hub"))


def test_not_a_dataset_folder_is_refused(tmp_path):
    with pytest.raises(RecipeError, match="no state.json, dataset_dict.json or data files"):
        curate(tmp_path, tmp_path / "out")
