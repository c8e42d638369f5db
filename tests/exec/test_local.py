"""The local executor on real documents: counts add up, drops are explained, workers and
shards do not change the result, and a run killed with SIGKILL resumes exactly."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pyarrow.compute as pc
import pytest

from corpus_sample import write_corpus
from engine_helpers import cli_run, kill_and_resume, shards_done
from winnow import Recipe, read_output, run
from winnow.errors import WinnowError

pytestmark = pytest.mark.core  # needs only the core dependencies

ROOT = Path(__file__).resolve().parents[2]


def recipe(input_path: Path, out: Path, **extra) -> dict:
    return {
        "input": {
            "path": str(input_path),
            "source": "debian-docs",
            "license": "unknown",
            "meta_fields": ["url", "title"],
            **extra.pop("input", {}),
        },
        "steps": extra.pop(
            "steps", [{"normalize_whitespace": {}}, {"length_filter": {"min_words": 50}}, {"sample": {"fraction": 0.8}}]
        ),
        "output": {"path": str(out), **extra.pop("output", {})},
        **extra,
    }


def records(out: Path) -> list[tuple[str, str]]:
    table = read_output(str(out))
    return sorted(zip(table.column("id").to_pylist(), table.column("text").to_pylist(), strict=True))


@pytest.fixture(scope="module")
def corpus_2k(sample_data, tmp_path_factory) -> Path:
    return write_corpus(sample_data, tmp_path_factory.mktemp("corpus") / "web.jsonl", 2000)


def test_counts_add_up_and_every_drop_has_a_reason(corpus_2k, tmp_path):
    manifest = run(recipe(corpus_2k, tmp_path / "out"), workers=1)
    counts = manifest["counts"]
    assert counts["input"] == 2000
    assert counts["input"] == counts["kept"] + counts["rejected"] + counts["quarantined"]
    kept = read_output(str(tmp_path / "out"))
    rejected = read_output(str(tmp_path / "out"), rejected=True)
    assert kept.num_rows == counts["kept"] and rejected.num_rows == counts["rejected"]
    reasons = set(rejected.column("reason").to_pylist())
    assert reasons == {"length_filter: too_few_words", "sample: not_sampled"}
    # tags stay on rejected records, so a drop can be explained and re-thresholded
    short = rejected.filter(pc.equal(rejected.column("reason"), "length_filter: too_few_words"))
    assert max(short.column("length_filter.words").to_pylist()) < 50
    assert min(kept.column("length_filter.words").to_pylist()) >= 50
    # per-step counts chain: each step's out is the next one's in
    steps = manifest["steps"]
    assert [s["name"] for s in steps] == ["normalize_whitespace", "length_filter", "sample"]
    assert steps[0]["in"] == 2000
    for a, b in zip(steps, steps[1:], strict=False):
        assert a["out"] == b["in"]
    assert steps[1]["in"] - steps[1]["out"] == steps[1]["dropped"]["too_few_words"]
    # characters through each step: a filter loses exactly the characters of what it dropped
    assert steps[0]["chars_in"] == manifest["by_source"]["debian-docs"]["input_chars"]
    assert steps[0]["chars_out"] < steps[0]["chars_in"]  # normalize_whitespace rewrites
    short_chars = sum(pc.utf8_length(short.column("text")).to_pylist())
    assert steps[1]["chars_in"] - steps[1]["chars_out"] == short_chars
    assert steps[2]["chars_out"] == sum(pc.utf8_length(kept.column("text")).to_pylist())
    # provenance survives: source, url, licence, input file
    assert set(kept.column("source").to_pylist()) == {"debian-docs"}
    source_urls = {d["id"]: d.get("url") for d in map(orjson.loads, corpus_2k.read_bytes().splitlines())}
    assert dict(zip(kept.column("id").to_pylist(), kept.column("url").to_pylist(), strict=True)) == {
        i: source_urls[i] for i in kept.column("id").to_pylist()
    }
    assert sum(u is not None for u in kept.column("url").to_pylist()) > 0.9 * kept.num_rows
    assert set(kept.column("input_file").to_pylist()) == {str(corpus_2k)}
    assert manifest["by_source"]["debian-docs"]["input_docs"] == 2000
    assert manifest["by_source"]["debian-docs"]["kept_docs"] == counts["kept"]
    assert manifest["inputs"][0]["files"][0]["bytes"] == corpus_2k.stat().st_size
    saved = json.loads((tmp_path / "out" / "_winnow" / "manifest.json").read_text())
    assert saved["counts"] == counts and saved["versions"]["pyarrow"]


def test_same_records_whatever_the_workers_and_shard_size(corpus_2k, tmp_path):
    run(recipe(corpus_2k, tmp_path / "one"), workers=1)
    manifest = run(recipe(corpus_2k, tmp_path / "two", input={"shard_mb": 1}), workers=2)
    assert manifest["shards"] > 4  # the file really was cut into byte ranges
    assert records(tmp_path / "one") == records(tmp_path / "two")


def test_derived_ids_name_the_real_line_across_byte_range_shards(sample_data, tmp_path):
    lines = write_corpus(sample_data, tmp_path / "web.jsonl", 600).read_bytes().splitlines(keepends=True)
    no_ids = tmp_path / "no-ids.jsonl"
    no_ids.write_bytes(b"".join(orjson.dumps({"text": orjson.loads(line)["text"]}) + b"\n" for line in lines))
    run(recipe(no_ids, tmp_path / "out", input={"shard_mb": 0.5}, steps=[]), workers=2)
    table = read_output(str(tmp_path / "out"))
    by_id = dict(zip(table.column("id").to_pylist(), table.column("text").to_pylist(), strict=True))
    assert len(by_id) == 600
    for number in (1, 137, 599, 600):
        assert by_id[f"no-ids.jsonl:{number}"] == orjson.loads(lines[number - 1])["text"]


def test_python_steps_per_record(corpus_2k, tmp_path):
    steps = [
        {"python": {"function": "engine_helpers:add_first_word"}},
        {"python": {"function": "engine_helpers:drop_odd_length"}},
    ]
    manifest = run(recipe(corpus_2k, tmp_path / "out", steps=steps), workers=1)
    kept = read_output(str(tmp_path / "out"))
    assert all(len(t) % 2 == 0 for t in kept.column("text").to_pylist())
    assert kept.column("first_word").to_pylist()[0] == kept.column("text").to_pylist()[0].split()[0]
    assert manifest["steps"][1]["dropped"]["odd_length"] == manifest["counts"]["rejected"] > 0


def test_existing_output_needs_resume_or_overwrite(corpus_2k, tmp_path):
    run(recipe(corpus_2k, tmp_path / "out"), workers=1)
    with pytest.raises(WinnowError, match="already exists"):
        run(recipe(corpus_2k, tmp_path / "out"), workers=1)
    changed = recipe(corpus_2k, tmp_path / "out", steps=[{"sample": {"fraction": 0.5}}])
    with pytest.raises(WinnowError, match="recipe changed"):
        run(changed, workers=1, resume=True)
    run(changed, workers=1, overwrite=True)


def test_jsonl_zstd_output_reads_back_the_same(corpus_2k, tmp_path):
    run(recipe(corpus_2k, tmp_path / "pq"), workers=1)
    run(recipe(corpus_2k, tmp_path / "js", output={"format": "jsonl", "compression": "zstd"}), workers=1)
    assert list((tmp_path / "js" / "data").glob("part-*.jsonl.zst"))
    assert records(tmp_path / "pq") == records(tmp_path / "js")


def test_sigkill_at_any_moment_then_resume_loses_and_doubles_nothing(corpus_2k, tmp_path):
    steps = [
        {"python": {"function": "engine_helpers:slow_batch", "mode": "batch"}},
        {"length_filter": {"min_words": 50}},
    ]
    reference = recipe(corpus_2k, tmp_path / "reference", input={"shard_mb": 1}, steps=steps, batch_size=100)
    expected = run(reference, workers=2)
    killed = recipe(corpus_2k, tmp_path / "killed", input={"shard_mb": 1}, steps=steps, batch_size=100)
    recipe_path = tmp_path / "killed.yaml"
    Recipe.from_dict(killed).to_yaml(recipe_path)

    # Kill the first run, then resumed runs too, at points spread over the run's shards.
    kills = kill_and_resume(recipe_path, tmp_path / "killed", shards_done(tmp_path / "reference"), (0.15, 0.35, 0.6))
    assert kills >= 2, "the run finished before it could be killed; the test proves nothing"
    finish = cli_run(recipe_path, "--resume")
    _, err = finish.communicate(timeout=300)
    assert finish.returncode == 0, err.decode()

    assert records(tmp_path / "killed") == records(tmp_path / "reference")
    ids = read_output(str(tmp_path / "killed")).column("id").to_pylist()
    assert len(ids) == len(set(ids))  # nothing doubled
    manifest = json.loads((tmp_path / "killed" / "_winnow" / "manifest.json").read_text())
    assert manifest["counts"] == expected["counts"]
    assert sorted(read_output(str(tmp_path / "killed"), rejected=True).column("id").to_pylist()) == sorted(
        read_output(str(tmp_path / "reference"), rejected=True).column("id").to_pylist()
    )
    leftovers = [p for p in (tmp_path / "killed").rglob(".tmp-*")]
    assert not leftovers


def _zstd(path: Path, data: bytes) -> Path:
    import zstandard

    path.write_bytes(zstandard.ZstdCompressor(level=3).compress(data))
    return path


def test_a_large_compressed_file_is_cut_into_pieces_read_by_every_worker(corpus_2k, tmp_path):
    """One big .jsonl.zst would be one shard (one worker, resumed from scratch): the plan cuts it
    into pieces, and the records, derived ids and provenance are those of the whole file."""
    lines = corpus_2k.read_bytes().splitlines(keepends=True)
    no_ids = b"".join(orjson.dumps({"text": orjson.loads(line)["text"]}) + b"\n" for line in lines)
    packed = _zstd(tmp_path / "web.jsonl.zst", no_ids)
    plain = tmp_path / "web.jsonl"
    plain.write_bytes(no_ids)
    steps = [{"length_filter": {"min_words": 50}}]
    manifest = run(recipe(packed, tmp_path / "cut", input={"shard_mb": 1}, steps=steps), workers=2)
    run(recipe(plain, tmp_path / "whole", input={"shard_mb": 1000}, steps=steps), workers=1)
    assert manifest["shards"] > 4  # really cut
    assert len({p.name for p in (tmp_path / "cut" / "data").iterdir()}) == manifest["shards"]
    cut, whole = read_output(str(tmp_path / "cut")), read_output(str(tmp_path / "whole"))
    assert sorted(cut.column("text").to_pylist()) == sorted(whole.column("text").to_pylist())
    # ids name the line of the original file, as for the uncompressed copy
    by_id = dict(zip(cut.column("id").to_pylist(), cut.column("text").to_pylist(), strict=True))
    for line_id, text in by_id.items():
        number = int(line_id.rsplit(":", 1)[1])
        assert line_id.startswith("web.jsonl.zst:") and orjson.loads(lines[number - 1])["text"] == text
    assert set(cut.column("input_file").to_pylist()) == {str(packed)}
    assert [f["path"] for f in manifest["inputs"][0]["files"]] == [str(packed)]
    assert not (tmp_path / "cut" / "_winnow" / "input").exists()  # the pieces are gone after the run


def test_a_bad_line_in_a_cut_compressed_file_names_the_file_and_its_line(corpus_2k, tmp_path):
    lines = corpus_2k.read_bytes().splitlines(keepends=True)
    lines[1500] = b'{"id": "broken", "text": \n'
    packed = _zstd(tmp_path / "web.jsonl.zst", b"".join(lines))
    with pytest.raises(WinnowError, match=r"web\.jsonl\.zst.*line 1501.*invalid JSON"):
        run(recipe(packed, tmp_path / "fail", input={"shard_mb": 1}), workers=2)
    manifest = run(recipe(packed, tmp_path / "skip", input={"shard_mb": 1}, on_error="skip"), workers=2)
    quarantined = read_output(str(tmp_path / "skip"), quarantine=True)
    assert manifest["counts"]["quarantined"] == 1 and manifest["shards"] > 4
    assert quarantined.column("file").to_pylist() == [str(packed)]
    assert quarantined.column("location").to_pylist() == ["line 1501"]


def test_a_truncated_compressed_file_is_read_as_one_shard_and_keeps_what_it_can(corpus_2k, tmp_path):
    packed = _zstd(tmp_path / "web.jsonl.zst", corpus_2k.read_bytes())
    packed.write_bytes(packed.read_bytes()[: packed.stat().st_size // 2])  # cut off mid-stream
    manifest = run(recipe(packed, tmp_path / "skip", input={"shard_mb": 1}, steps=[], on_error="skip"), workers=2)
    assert manifest["shards"] == 1  # could not be cut: planned whole, so its reader reports the damage
    assert 0 < manifest["counts"]["input"] - manifest["counts"]["quarantined"] < 2000
    assert manifest["counts"]["quarantined"] == 1
    entry = read_output(str(tmp_path / "skip"), quarantine=True).to_pylist()[0]
    kept = manifest["counts"]["input"] - 1
    assert entry["file"].startswith(str(packed)) and entry["location"] == f"after record {kept}"
    assert "truncated" in entry["reason"]
    assert not list((tmp_path / "skip" / "_winnow").glob("input/*"))
    with pytest.raises(WinnowError, match=r"web\.jsonl\.zst.*truncated"):
        run(recipe(packed, tmp_path / "fail", input={"shard_mb": 1}, steps=[]), workers=2)


@pytest.mark.timeout(120)
def test_a_worker_error_pickle_cannot_rebuild_fails_the_run_instead_of_hanging_it(corpus_2k, tmp_path):
    steps = [{"python": {"function": "engine_helpers:fail_on_a_long_text", "mode": "batch"}}]
    with pytest.raises(WinnowError, match="NeedsTwoArguments: a long text: this step refuses it"):
        run(recipe(corpus_2k, tmp_path / "out", input={"shard_mb": 1}, steps=steps), workers=2)


def test_input_errors_survive_the_trip_from_a_worker():
    import pickle

    from winnow.errors import InputError

    error = pickle.loads(pickle.dumps(InputError("web.jsonl", "line 7", "invalid JSON")))
    assert (error.file, error.location, error.cause, str(error)) == (
        "web.jsonl",
        "line 7",
        "invalid JSON",
        "web.jsonl, line 7: invalid JSON",
    )
