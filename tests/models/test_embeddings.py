"""Static embeddings trained here (train-embeddings), the embed step, and semantic_dedup with planted paraphrases."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "stages"))
from dedup_helpers import batch_of, corpus_docs, dedup  # noqa: E402

from winnow.cli import main  # noqa: E402
from winnow.models.metrics import roc_auc  # noqa: E402
from winnow.models.static import StaticEmbeddings  # noqa: E402
from winnow.steps.base import TaskRunner  # noqa: E402
from winnow.steps.embed import vectors_of  # noqa: E402
from winnow.steps.registry import build_step  # noqa: E402


def msrp(sample_data: Path) -> list[tuple[int, str, str]]:
    with open(sample_data / "paraphrase" / "msrp-train.tsv", encoding="utf-8-sig", newline="") as f:
        rows = [r for r in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE) if r[0] in ("0", "1")]
    return [(int(r[0]), r[3], r[4]) for r in rows]


@pytest.fixture(scope="module")
def corpus(sample_data) -> list[dict]:
    return corpus_docs(sample_data, 200)


@pytest.fixture(scope="module")
def model(sample_data, corpus, tmp_path_factory) -> Path:
    """A model trained on 200 corpus documents and the MSRP excerpt's sentences (no labels)."""
    folder = tmp_path_factory.mktemp("emb")
    texts = [d["text"] for d in corpus] + [s for _, a, b in msrp(sample_data) for s in (a, b)]
    source = folder / "texts.jsonl"
    source.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    assert main(["train-embeddings", str(source), "-o", str(folder / "emb"), "--dim", "32", "--min-count", "2"]) == 0
    return folder / "emb"


def test_train_embeddings_writes_a_model2vec_directory(model):
    assert {"tokenizer.json", "model.safetensors", "config.json", "card.json"} <= {p.name for p in model.iterdir()}
    loaded = StaticEmbeddings(model)
    vectors = loaded.encode(["The cat sat on the mat.", "", "zzzzqqqq"])
    assert vectors.shape == (3, 32) and vectors.dtype == np.float32
    assert np.linalg.norm(vectors[0]) == pytest.approx(1.0, abs=1e-5)
    assert not vectors[1].any() and not vectors[2].any()  # no known token: the zero vector


def test_skipgram_method_trains_the_same_model_twice(sample_data, corpus, tmp_path):
    """fastText skip-gram (one thread): a model2vec directory, unit vectors, the same vectors from the
    same corpus, and on MSRP a cosine that orders paraphrases above chance."""
    pytest.importorskip("fasttext", reason="the [models] extra")
    pairs = msrp(sample_data)
    source = tmp_path / "texts.jsonl"
    texts = [d["text"] for d in corpus] + [s for _, a, b in pairs for s in (a, b)]
    source.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    argv = ["train-embeddings", str(source), "--method", "skipgram", "--dim", "32", "--min-count", "2"]
    assert main([*argv, "-o", str(tmp_path / "a")]) == 0 and main([*argv, "-o", str(tmp_path / "b")]) == 0
    first, again = StaticEmbeddings(tmp_path / "a"), StaticEmbeddings(tmp_path / "b")
    a, b = first.encode([p[1] for p in pairs]), first.encode([p[2] for p in pairs])
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(a, again.encode([p[1] for p in pairs]))
    auc = roc_auc((a * b).sum(axis=1), np.array([p[0] for p in pairs]))
    print(f"MSRP excerpt, skipgram: cosine ROC AUC {auc:.3f}")
    assert auc > 0.55


def test_a_sentence_transformers_directory_is_not_read_as_a_static_model(model, tmp_path):
    """A BERT-like sentence-transformers directory also holds tokenizer.json and model.safetensors;
    what tells it apart is the tensors: a static model has one ``embeddings`` table."""
    import shutil

    from safetensors.numpy import save_file

    from winnow.models.registry import model_kind

    assert model_kind(model) == "static"
    bert = tmp_path / "bert"
    bert.mkdir()
    shutil.copy(model / "tokenizer.json", bert / "tokenizer.json")
    save_file(
        {"embeddings.word_embeddings.weight": np.zeros((4, 8), np.float32), "embeddings.position_ids": np.arange(4)},
        str(bert / "model.safetensors"),
    )
    (bert / "modules.json").write_text("[]")
    assert model_kind(bert) == "sentence-transformers"
    (bert / "modules.json").unlink()
    with pytest.raises(Exception, match="neither a model2vec nor a sentence-transformers model"):
        model_kind(bert)


def test_cosine_separates_msrp_paraphrases(model, sample_data):
    pairs = msrp(sample_data)
    loaded = StaticEmbeddings(model)
    a, b = loaded.encode([p[1] for p in pairs]), loaded.encode([p[2] for p in pairs])
    auc = roc_auc((a * b).sum(axis=1), np.array([p[0] for p in pairs]))
    print(f"MSRP excerpt: cosine ROC AUC {auc:.3f}")
    assert auc > 0.6  # measured ~0.7 on the excerpt; benchmarks/embeddings_msrp.py on the whole set


def test_embed_step_writes_a_vector_column(model, corpus):
    batch = batch_of(corpus[:50])
    out = build_step("embed", {"model": str(model)}).process(batch).kept
    assert out.schema.field("embed.vector").type == pa.list_(pa.float32(), 32)
    vectors = vectors_of(out.column("embed.vector"))
    assert np.allclose(vectors, StaticEmbeddings(model).encode([d["text"] for d in corpus[:50]]))


@pytest.fixture(scope="module")
def planted(sample_data, corpus) -> tuple[pa.Table, list[tuple[str, str]]]:
    """The corpus documents plus every MSRP paraphrase pair of the excerpt as two records."""
    docs = list(corpus)
    pairs = []
    for k, (label, a, b) in enumerate(msrp(sample_data)):
        if label == 1:
            docs += [{"id": f"msrp/{k}/a", "text": a}, {"id": f"msrp/{k}/b", "text": b}]
            pairs.append((f"msrp/{k}/a", f"msrp/{k}/b"))
    return batch_of(docs), pairs


def _caught(rejected: pa.Table, pairs: list[tuple[str, str]], step: str) -> int:
    if rejected.num_rows == 0:
        return 0
    dropped = dict(
        zip(rejected.column("id").to_pylist(), rejected.column(f"{step}.duplicate_of").to_pylist(), strict=True)
    )
    return sum(1 for a, b in pairs if dropped.get(b) == a or dropped.get(a) == b)


def test_semantic_dedup_catches_paraphrases_that_exact_and_minhash_miss(model, planted, tmp_path):
    batch, pairs = planted
    _, exact_rejected = dedup(build_step("exact_dedup", {}), batch, tmp_path / "exact")
    _, minhash_rejected = dedup(build_step("minhash_dedup", {}), batch, tmp_path / "minhash")
    semantic = build_step("semantic_dedup", {"model": str(model), "threshold": 0.9, "clusters": 8})
    kept, rejected = dedup(semantic, batch, tmp_path / "semantic")
    caught = {
        s: _caught(r, pairs, s) for s, r in (("exact_dedup", exact_rejected), ("minhash_dedup", minhash_rejected))
    }
    caught["semantic_dedup"] = _caught(rejected, pairs, "semantic_dedup")
    planted_ids = {i for p in pairs for i in p}
    corpus_dropped = sum(1 for i in rejected.column("id").to_pylist() if i not in planted_ids)
    print(f"{len(pairs)} planted pairs caught: {caught}; corpus documents dropped by semantic_dedup: {corpus_dropped}")
    assert caught["exact_dedup"] == 0 and caught["minhash_dedup"] <= 0.05 * len(pairs)
    # Measured: 66 of 277 with this tiny model (32 dimensions, 1,000 texts); it also merges many of the
    # templated corpus pages (printed above) — see docs/models.md for what a real model does.
    assert caught["semantic_dedup"] >= 0.2 * len(pairs) and caught["semantic_dedup"] >= 10 * max(
        1, caught["minhash_dedup"]
    )
    # Every record leaves with a reason; the representative is the smallest id of its cluster.
    assert kept.num_rows + rejected.num_rows == batch.num_rows
    assert set(rejected.column("reason").to_pylist()) == {"semantic_dedup: duplicate"}
    for row in rejected.select(["id", "semantic_dedup.duplicate_of"]).to_pylist():
        assert row["semantic_dedup.duplicate_of"] < row["id"]


def test_semantic_dedup_same_result_whatever_the_parts_and_resumes(model, planted, tmp_path):
    batch, _ = planted
    params = {"model": str(model), "threshold": 0.9, "clusters": 8}
    outcome = []
    for n_parts in (1, 4):
        kept, rejected = dedup(build_step("semantic_dedup", params), batch, tmp_path / f"p{n_parts}", n_parts=n_parts)
        outcome.append((sorted(kept.column("id").to_pylist()), sorted(rejected.column("id").to_pylist())))
    assert outcome[0] == outcome[1]
    # Resume: a finished workdir is reused (the phases are not run again).
    stage = build_step("semantic_dedup", params)
    work = tmp_path / "p4" / "work"
    (work / "vectors").rename(work / "vectors-moved")  # would fail if the embed phase ran again and read it
    stage.prepare(sorted(str(p) for p in (tmp_path / "p4" / "parts").glob("*.parquet")), str(work), TaskRunner())
    assert sorted(stage.process(batch).kept.column("id").to_pylist()) == outcome[0][0]


def test_semantic_dedup_needs_a_model_or_a_column():
    from winnow import RecipeError

    with pytest.raises(RecipeError, match="one of model or vector_column"):
        build_step("semantic_dedup", {}).check()


@pytest.fixture(scope="module")
def planted_file(planted, tmp_path_factory) -> Path:
    batch, _ = planted
    path = tmp_path_factory.mktemp("planted") / "docs.jsonl"
    rows = batch.select(["id", "text"]).to_pylist()
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _semantic_recipe(model: Path, source: Path, out: Path) -> dict:
    return {
        "input": {"path": str(source), "shard_mb": 0.2},
        "steps": [
            {"embed": {"model": str(model)}},
            {"semantic_dedup": {"vector_column": "embed.vector", "threshold": 0.9, "clusters": 8, "seed": 3}},
        ],
        "output": {"path": str(out)},
    }


def _semantic_outcome(out: Path) -> tuple[list, list]:
    from winnow import read_output

    kept, rejected = read_output(str(out)), read_output(str(out), rejected=True)
    clusters = sorted(
        zip(kept.column("id").to_pylist(), kept.column("semantic_dedup.cluster_size").to_pylist(), strict=True)
    )
    dropped = sorted(
        zip(rejected.column("id").to_pylist(), rejected.column("semantic_dedup.duplicate_of").to_pylist(), strict=True)
    )
    return clusters, dropped


@pytest.fixture(scope="module")
def semantic_local(model, planted_file, tmp_path_factory) -> Path:
    from winnow import run

    out = tmp_path_factory.mktemp("semlocal") / "out"
    run(_semantic_recipe(model, planted_file, out), workers=2)
    return out


def test_semantic_dedup_in_a_recipe_and_the_dedup_report(semantic_local):
    from winnow.report.dedup import dedup_report

    clusters, dropped = _semantic_outcome(semantic_local)
    assert dropped and all(reason is not None for _, reason in dropped)
    assert "semantic_dedup:" in dedup_report(str(semantic_local))


@pytest.mark.ray
def test_semantic_dedup_same_clusters_and_kept_records_on_ray(model, planted_file, semantic_local, tmp_path):
    from winnow import run

    manifest = run(_semantic_recipe(model, planted_file, tmp_path / "ray"), executor="ray", workers=2)
    assert manifest["executor"] == "ray"
    assert _semantic_outcome(tmp_path / "ray") == _semantic_outcome(semantic_local)


def test_topics_named_by_top_terms_and_the_domain_step(model, corpus, tmp_path):
    source = tmp_path / "corpus.jsonl"
    source.write_text("".join(json.dumps({"text": d["text"]}) + "\n" for d in corpus))
    topics = tmp_path / "topics"
    argv = ["train-topics", str(source), "--embeddings", str(model), "-o", str(topics), "--clusters", "6"]
    assert main(argv) == 0
    meta = json.loads((topics / "topics.json").read_text())
    assert sum(t["documents"] for t in meta["topics"]) == len(corpus)
    assert all(t["name"] and t["terms"] for t in meta["topics"])
    step = build_step("domain", {"topics": str(topics)})
    tagged = step.process(batch_of(corpus)).kept
    # The training documents land in the cluster they were counted in: same centroids, same vectors.
    counts = {t["name"]: t["documents"] for t in meta["topics"]}
    assert dict(step.counters) == {f"domain.{name}": n for name, n in counts.items() if n}
    assert set(tagged.column("domain.domain").to_pylist()) <= set(counts)
    # Same seed, same topics.
    assert main([*argv[:-4], "-o", str(tmp_path / "again"), "--clusters", "6"]) == 0
    assert json.loads((tmp_path / "again" / "topics.json").read_text())["topics"] == meta["topics"]


@pytest.mark.parametrize("block_rows", [64, 1])
def test_pairs_become_a_forest_with_the_same_groups(monkeypatch, block_rows):
    """A dense cluster's pairs grow with its size squared; the stage keeps a spanning forest of them,
    which gives exactly the groups of all the pairs (checked across several row blocks, and with one
    row a block: what a cluster larger than PAIR_BLOCK_CELLS gets)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    import winnow.stages.semantic as semantic

    monkeypatch.setattr(semantic, "PAIR_BLOCK_CELLS", block_rows * 300)
    rng = np.random.default_rng(0)
    vectors = np.repeat(rng.standard_normal((50, 16)), 6, axis=0) + 0.01 * rng.standard_normal((300, 16))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    order = rng.permutation(300)  # the copies spread over the blocks
    vectors, docs = vectors[order], np.arange(1000, 1300, dtype=np.uint64)

    def groups(edges: np.ndarray) -> np.ndarray:
        graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(300, 300))
        labels = connected_components(graph, directed=False)[1]
        return labels[:, None] == labels[None, :]

    i, j = np.nonzero(np.triu(vectors @ vectors.T >= 0.95, 1))
    forest = semantic.similar_pairs(vectors, docs, 0.95).astype(np.int64) - 1000
    assert len(i) == 750 and len(forest) == 250  # 50 groups of 6: 15 pairs each, 5 forest edges each
    assert (groups(forest) == groups(np.stack([i, j], axis=1))).all()
