"""The mix stage and split step through real runs (winnow.run) on real corpus documents."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow as pa
import pytest

from winnow import RecipeError, WinnowError, read_output, run
from winnow.export.tokenize import tokenize
from winnow.export.tokenizer import load_tokenizer
from winnow.records import make_batch
from winnow.report.card import write_card
from winnow.stages.mixing import CLUSTER_COLUMN, Split
from winnow.steps.registry import build_step


@pytest.fixture(scope="module")
def two_inputs(corpus_docs: list[dict], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """HTML pages as one input, everything else (man pages, code, Debian files, translations) as another."""
    folder = tmp_path_factory.mktemp("inputs")
    pages, other = folder / "pages.jsonl", folder / "other.jsonl"
    with open(pages, "w") as p, open(other, "w") as o:
        for d in corpus_docs:
            (p if d["kind"] == "html-page" else o).write(json.dumps({"id": d["id"], "text": d["text"]}) + "\n")
    return pages, other


def mix_recipe(two_inputs, out: Path, mix: dict, split: dict | None = None, weights=(0.7, 0.3)) -> dict:
    pages, other = two_inputs
    recipe = {
        "input": [
            {"path": str(pages), "source": "pages", "weight": weights[0]},
            {"path": str(other), "source": "other", "weight": weights[1]},
        ],
        "steps": [{"length_filter": {"min_words": 20}}],
        "mix": mix,
        "output": {"path": str(out)},
    }
    if split:
        recipe["split"] = split
    return recipe


def tokens_by_source(table: pa.Table, tokenizer: Path) -> Counter:
    tok = load_tokenizer(str(tokenizer))
    counts: Counter = Counter()
    encodings = tok.encode_batch(table.column("text").to_pylist(), add_special_tokens=False)
    for source, encoding in zip(table.column("source").to_pylist(), encodings, strict=True):
        counts[source] += len(encoding.ids)
    return counts


def test_weights_by_tokens_within_one_percent(two_inputs, tokenizer_file: Path, tmp_path: Path) -> None:
    recipe = mix_recipe(two_inputs, tmp_path / "a", {"by": "tokens", "tokenizer": str(tokenizer_file), "seed": 1})
    manifest = run(recipe, workers=2)
    kept = read_output(str(tmp_path / "a"))
    measured = tokens_by_source(kept, tokenizer_file)
    share = measured["pages"] / (measured["pages"] + measured["other"])
    assert abs(share - 0.7) < 0.01 * 0.7, measured
    mix = next(s for s in manifest["steps"] if s["name"] == "mix")
    # the manifest's counts are the real token counts of the output
    assert mix["counters"]["tokens.pages"] == measured["pages"] and mix["counters"]["tokens.other"] == measured["other"]
    assert mix["counters"]["documents.pages"] + mix["counters"]["documents.other"] == kept.num_rows
    # without a total, the largest mixture that needs no up-sampling: one source is taken whole
    assert kept.num_rows == len(set(kept.column("id").to_pylist()))
    dropped = mix["dropped"].get("not_sampled", 0)
    assert dropped > 0 and mix["in"] == mix["out"] + dropped
    # same seed, same records; another seed, another sample
    run(recipe, workers=1, overwrite=True)
    assert sorted(read_output(str(tmp_path / "a")).column("id").to_pylist()) == sorted(kept.column("id").to_pylist())
    recipe["mix"]["seed"] = 2
    run(recipe, workers=2, overwrite=True)
    assert sorted(read_output(str(tmp_path / "a")).column("id").to_pylist()) != sorted(kept.column("id").to_pylist())


def test_upsampling_to_a_total_keeps_copies_in_one_split(two_inputs, tokenizer_file: Path, tmp_path: Path) -> None:
    first = mix_recipe(two_inputs, tmp_path / "probe", {"by": "tokens", "tokenizer": str(tokenizer_file)})
    probe = next(s for s in run(first, workers=2)["steps"] if s["name"] == "mix")["counters"]
    total = 2 * (probe["tokens.pages"] + probe["tokens.other"])  # more than the smaller source can give: copies
    recipe = mix_recipe(
        two_inputs,
        tmp_path / "b",
        {"by": "tokens", "tokenizer": str(tokenizer_file), "total": total, "seed": 5},
        split={"val": 0.1, "test": 0.1},
    )
    run(recipe, workers=2)
    kept = read_output(str(tmp_path / "b"))
    measured = tokens_by_source(kept, tokenizer_file)
    assert abs(sum(measured.values()) - total) < 0.01 * total
    assert abs(measured["pages"] / sum(measured.values()) - 0.7) < 0.007
    ids, copies, splits = (kept.column(c).to_pylist() for c in ("id", "mix.copy", "split"))
    assert len(set(ids)) == len(ids) and max(copies) >= 1
    by_original = defaultdict(set)
    for i, k, s in zip(ids, copies, splits, strict=True):
        by_original[i.removesuffix(f"#{k}") if k else i].add(s)
    assert all(len(s) == 1 for s in by_original.values())  # a copy never lands in another split than its original
    assert {"train", "val", "test"} == set(splits)
    assert {p.name for p in (tmp_path / "b" / "data").iterdir()} == {"train", "val", "test"}

    # the same tokens counted three times: the manifest (mix), the shards' header and the data card
    header = tokenize([str(tmp_path / "b")], str(tokenizer_file), str(tmp_path / "tokens"), workers=2)
    manifest = json.loads((tmp_path / "b" / "_winnow" / "manifest.json").read_text())
    counters = next(s for s in manifest["steps"] if s["name"] == "mix")["counters"]
    assert header["text_tokens"] == counters["tokens.pages"] + counters["tokens.other"] == sum(measured.values())
    assert {k: v["documents"] for k, v in header["splits"].items()} == dict(Counter(splits))
    write_card(str(tmp_path / "b"), str(tmp_path / "card.md"))
    card = (tmp_path / "card.md").read_text()
    for source in ("pages", "other"):
        weight, before, after = (
            0.7 if source == "pages" else 0.3,
            counters[f"available.{source}"],
            counters[f"documents.{source}"],
        )
        assert f"| {source} | {weight} | {before:,} |" in card
        assert f"| {after:,} | {counters[f'tokens.{source}']:,} |" in card
    assert f"Text tokens (without end-of-document): {header['text_tokens']:,}" in card


def test_a_copy_never_takes_the_id_of_an_input_record(corpus_docs: list[dict], tmp_path: Path) -> None:
    """Copies are named <id>#<k>: when the input already holds 'a' and 'a#1' and 'a' must be copied,
    the run fails before writing anything, instead of writing two records with one id."""
    pages, other = tmp_path / "pages.jsonl", tmp_path / "other.jsonl"
    docs = [d for d in corpus_docs if len(d["text"].split()) >= 20]
    rows = [{"id": d["id"], "text": d["text"]} for d in docs[:10]]
    rows.append({"id": f"{docs[0]['id']}#1", "text": docs[10]["text"]})
    pages.write_text("".join(json.dumps(r) + "\n" for r in rows))
    other.write_text("".join(json.dumps({"id": d["id"], "text": d["text"]}) + "\n" for d in docs[11:60]))
    upsampled = mix_recipe((pages, other), tmp_path / "up", {"by": "documents", "total": 100, "seed": 1})
    with pytest.raises(WinnowError, match="already have such an id"):
        run(upsampled, workers=2)
    assert not (tmp_path / "up" / "data").exists()
    # without up-sampling no copy is made, so the same ids are fine
    downsampled = mix_recipe((pages, other), tmp_path / "down", {"by": "documents", "total": 10, "seed": 1})
    run(downsampled, workers=2)
    assert len(read_output(str(tmp_path / "down"))) == 10


def test_weights_by_documents_are_exact(two_inputs, tmp_path: Path) -> None:
    recipe = mix_recipe(two_inputs, tmp_path / "c", {"by": "documents", "total": 100, "seed": 3})
    manifest = run(recipe, workers=2)
    assert Counter(read_output(str(tmp_path / "c")).column("source").to_pylist()) == {"pages": 70, "other": 30}
    # the counters count each document once (by: documents once counted documents.<source> twice)
    mix = next(s for s in manifest["steps"] if s["name"] == "mix")
    counters = mix["counters"]
    assert (counters["documents.pages"], counters["documents.other"]) == (70, 30)
    assert counters["available.pages"] + counters["available.other"] == mix["in"]
    assert counters["dropped.pages"] + counters["dropped.other"] == mix["dropped"]["not_sampled"] == mix["in"] - 100
    write_card(str(tmp_path / "c"), str(tmp_path / "card.md"))
    card = (tmp_path / "card.md").read_text()
    assert f"| pages | 0.7 | {counters['available.pages']:,} |" in card
    assert "| 70 | 0.7000 |" in card and "| 30 | 0.3000 |" in card


def test_mix_parameters_are_checked(two_inputs, tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match="tokenizer"):
        run(mix_recipe(two_inputs, tmp_path / "d", {"by": "tokens"}))
    with pytest.raises(RecipeError, match="tokenizer not found"):
        run(mix_recipe(two_inputs, tmp_path / "d", {"by": "tokens", "tokenizer": str(tmp_path / "none.json")}))
    with pytest.raises(RecipeError, match="needs a column"):
        build_step("mix", {"by": "documents", "weights": {"pages": 1, "*": 1}})
    with pytest.raises(RecipeError, match="column 'nothing.here' is not in the records"):
        run(mix_recipe(two_inputs, tmp_path / "d", {"by": "documents", "column": "nothing.here", "weights": {"*": 1}}))
    with pytest.raises(RecipeError, match="val \\+ test"):
        build_step("split", {"val": 0.6, "test": 0.5})


def test_split_by_id_hash_is_stable_and_follows_clusters(corpus_docs: list[dict]) -> None:
    step = Split(val=0.1, test=0.1)
    docs = corpus_docs[:300]
    batch = make_batch({"id": [d["id"] for d in docs], "text": [d["text"] for d in docs]})
    splits = dict(
        zip(batch.column("id").to_pylist(), step.process(batch).kept.column("split").to_pylist(), strict=True)
    )
    counts = Counter(splits.values())
    assert 12 <= counts["val"] <= 48 and 12 <= counts["test"] <= 48  # 10% of 300, well inside binomial noise
    # the data grows: no document moves
    half = make_batch({"id": [d["id"] for d in docs[::2]], "text": [d["text"] for d in docs[::2]]})
    again = step.process(half).kept
    assert all(
        splits[i] == s for i, s in zip(again.column("id").to_pylist(), again.column("split").to_pylist(), strict=True)
    )
    # near-duplicates (one minhash cluster, named by its representative) share their representative's split
    val_doc = next(i for i, s in splits.items() if s == "val")
    train_docs = [i for i, s in splits.items() if s == "train"][:5]
    clustered = make_batch({"id": [val_doc, *train_docs], "text": ["x"] * 6, CLUSTER_COLUMN: [val_doc] * 6})
    assert set(step.process(clustered).kept.column("split").to_pylist()) == {"val"}


@pytest.mark.ray
def test_ray_and_local_make_the_same_mixture_and_splits(two_inputs, tokenizer_file: Path, tmp_path: Path) -> None:
    """One recipe (mix by tokens 0.7/0.3 to a total that up-samples the pages, then split) on Ray and
    on the local executor with 2 workers: the same records, copies, splits and manifest counts."""
    pages, _ = two_inputs
    texts = [json.loads(line)["text"] for line in pages.read_text().splitlines()]
    page_tokens = sum(
        len(e.ids) for e in load_tokenizer(str(tokenizer_file)).encode_batch(texts, add_special_tokens=False)
    )
    total = int(1.25 * page_tokens / 0.7)  # more than the pages can give at 70%: every page, then a quarter again
    recipe = mix_recipe(
        two_inputs,
        tmp_path / "local",
        {"by": "tokens", "tokenizer": str(tokenizer_file), "total": total, "seed": 11},
        split={"val": 0.1, "test": 0.1},
    )
    for spec in recipe["input"]:
        spec["shard_mb"] = 0.5  # several shards per input: the stage's parts are spread over the workers
    local = run(recipe, workers=2)
    recipe["output"]["path"] = str(tmp_path / "ray")
    on_ray = run(recipe, executor="ray", workers=2)
    assert (local["executor"], on_ray["executor"]) == ("local", "ray")

    def records(out: Path) -> list[tuple]:
        t = read_output(str(out))
        columns = ("id", "text", "source", "split", "mix.copy")
        return sorted(zip(*(t.column(c).to_pylist() for c in columns), strict=True))

    kept, kept_on_ray = records(tmp_path / "local"), records(tmp_path / "ray")
    only_local, only_ray = set(kept) - set(kept_on_ray), set(kept_on_ray) - set(kept)
    assert kept == kept_on_ray, (
        f"{len(only_local)} records only local, {len(only_ray)} only on Ray, e.g. "
        f"{[r[:1] + r[2:] for r in sorted(only_local)[:3]]} vs {[r[:1] + r[2:] for r in sorted(only_ray)[:3]]}"
    )
    # what the comparison covers: pages up-sampled (copies), the other input down-sampled, all three splits
    copies = Counter(source for _, _, source, _, copy in kept if copy > 0)
    assert copies["pages"] > 0 and copies["other"] == 0
    assert {split for *_, split, _ in kept} == {"train", "val", "test"}
    assert local["shards"] == on_ray["shards"] > 2 and on_ray["workers"] == 2

    def counts(manifest: dict) -> list:
        steps = [{k: s[k] for k in ("name", "in", "out", "dropped", "counters")} for s in manifest["steps"]]
        return [manifest["counts"], steps, manifest["by_source"], manifest["outputs"]]

    assert counts(on_ray) == counts(local)
    mix = next(s for s in local["steps"] if s["name"] == "mix")
    assert mix["dropped"]["not_sampled"] > 0 and mix["out"] == len(kept) == local["counts"]["kept"]
    # the plan's per-source summary (available, target, selected tokens) too
    local_plan, ray_plan = (
        next((tmp_path / out / "_winnow" / "work").glob("*-mix/plan.json")) for out in ("local", "ray")
    )
    assert json.loads(local_plan.read_text()) == json.loads(ray_plan.read_text())
