"""exact_dedup on real corpus documents with injected variants; representatives, determinism, resume."""

from __future__ import annotations

import re
import shutil

import pyarrow.compute as pc
import pytest
from dedup_helpers import batch_of, corpus_docs, dedup, tags

from winnow.errors import RecipeError
from winnow.stages.exact import ExactDedup, normalise
from winnow.steps.registry import build_step


@pytest.fixture(scope="module")
def docs(sample_data):
    """400 real documents plus variants of three of them: a byte copy, a case/whitespace variant and a
    punctuation/digit variant."""
    docs = corpus_docs(sample_data, 400)
    base = [d for d in docs if len(d["text"]) > 500][:3]
    variants = []
    for k, d in enumerate(base):
        text = d["text"]
        variants.append({"id": f"zz-copy-{k}", "text": text})
        variants.append({"id": f"zz-case-{k}", "text": "  " + re.sub(r" ", "   ", text.upper()) + "\n"})
        variants.append({"id": f"zz-punct-{k}", "text": re.sub(r"[.,:;]", "!", re.sub(r"\d", "7", text))})
    return docs + variants, base


def _cluster_of(stage, kept, rejected, doc_id):
    return tags(stage, kept, rejected)[doc_id]


@pytest.mark.parametrize(
    "mode, caught",
    [("none", {"copy"}), ("whitespace_case", {"copy", "case"}), ("fineweb", {"copy", "case", "punct"})],
)
def test_normalisation_modes(docs, tmp_path, mode, caught):
    records, base = docs
    stage = ExactDedup(normalization=mode)
    kept, rejected = dedup(stage, batch_of(records), tmp_path)
    found = tags(stage, kept, rejected)
    assert kept.num_rows + rejected.num_rows == len(records)
    for k, original in enumerate(base):
        for kind in ("copy", "case", "punct"):
            variant = f"zz-{kind}-{k}"
            cluster_id, size, duplicate_of = found[variant]
            if kind in caught:
                # the original's id sorts before "zz-…", so the original is the representative
                assert (cluster_id, duplicate_of) == (original["id"], original["id"]) and size >= len(caught) + 1
            else:
                assert duplicate_of is None or duplicate_of != original["id"]
    assert set(pc.unique(rejected.column("reason")).to_pylist()) == {"exact_dedup: duplicate"}
    # every rejected record points at a kept representative of its own cluster
    kept_ids = set(kept.column("id").to_pylist())
    assert set(rejected.column("exact_dedup.duplicate_of").to_pylist()) <= kept_ids
    assert stage.counters["duplicates"] == rejected.num_rows


def test_natural_duplicates_of_the_corpus(sample_data, tmp_path):
    records = corpus_docs(sample_data, 3000)
    texts = [d["text"] for d in records]
    expected = len(texts) - len(set(texts))
    stage = ExactDedup(normalization="none")
    kept, rejected = dedup(stage, batch_of(records), tmp_path, n_parts=4)
    assert rejected.num_rows == expected > 0
    assert len(set(kept.column("text").to_pylist())) == kept.num_rows


def test_representative_longest_and_priority(docs, tmp_path):
    records, base = docs
    batch = batch_of(records, rank=[5 if d["id"].startswith("zz-case") else 9 for d in records])
    longest = ExactDedup(normalization="whitespace_case", representative="longest")
    kept, rejected = dedup(longest, batch, tmp_path / "longest")
    for k in range(len(base)):
        assert longest.tag("cluster_id") in kept.column_names
        assert tags(longest, kept, rejected)[f"zz-copy-{k}"][0] == f"zz-case-{k}"  # the padded variant is longest
    by_rank = build_step(
        "exact_dedup", {"normalization": "none", "representative": "priority", "priority_column": "rank"}
    )
    kept, rejected = dedup(by_rank, batch, tmp_path / "priority")
    for k, original in enumerate(base):
        assert tags(by_rank, kept, rejected)[f"zz-copy-{k}"] == (original["id"], 2, original["id"])


def test_priority_needs_its_column():
    with pytest.raises(RecipeError, match="priority_column"):
        ExactDedup(representative="priority").check()


def test_same_result_whatever_the_parts_and_batches(docs, tmp_path):
    records, _ = docs
    batch = batch_of(records)
    reference = None
    for n_parts, batch_rows, reverse in ((1, 1000, False), (5, 37, False), (3, 100, True)):
        stage = ExactDedup(normalization="fineweb")
        data = batch_of(records[::-1]) if reverse else batch
        kept, rejected = dedup(stage, data, tmp_path / f"{n_parts}-{reverse}", n_parts=n_parts, batch_rows=batch_rows)
        result = tags(stage, kept, rejected)
        assert reference is None or result == reference
        reference = result


@pytest.mark.parametrize("killed_in", ["keys", "buckets", "clusters"])
def test_resume_after_a_phase_was_killed(docs, tmp_path, killed_in):
    """A run killed inside a phase leaves some of its item outputs and no marker: resuming finishes the
    phase from there and gives the same clusters."""
    records, _ = docs
    stage = ExactDedup()
    kept, rejected = dedup(stage, batch_of(records), tmp_path, n_parts=4)
    expected = tags(stage, kept, rejected)
    work = tmp_path / "work"
    order = ["keys", "buckets", "verify", "clusters"]
    for phase in order[order.index(killed_in) :]:
        (work / f"_{phase}.done").unlink()
    if killed_in == "keys":
        (work / "keys" / "part-00002.npy").unlink()
        shutil.rmtree(work / "edges")
    elif killed_in == "buckets":
        for path in sorted((work / "edges").glob("*.npy"))[1:]:
            path.unlink()
    else:
        (work / "clusters.parquet").unlink()
    resumed = ExactDedup()
    kept, rejected = dedup(resumed, batch_of(records), tmp_path, n_parts=4)
    assert tags(resumed, kept, rejected) == expected


def test_changed_parameters_do_not_reuse_old_phases(docs, tmp_path):
    records, _ = docs
    first = ExactDedup(normalization="none")
    kept_none, _ = dedup(first, batch_of(records), tmp_path)
    second = ExactDedup(normalization="fineweb")
    kept_fineweb, _ = dedup(second, batch_of(records), tmp_path)
    assert kept_fineweb.num_rows < kept_none.num_rows


def test_fineweb_normalisation():
    import pyarrow as pa

    assert normalise(pa.array(["Héllo,  WORLD! 2024\n"]), "fineweb").to_pylist() == ["hello world 0"]
    assert normalise(pa.array(["Héllo,  WORLD!"]), "whitespace_case").to_pylist() == ["héllo, world!"]
