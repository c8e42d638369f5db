"""``mix`` balancing by a column a step tagged (``domain.domain``), on real corpus documents, through
``winnow.run``, with the mixture table in the HTML report and the data card."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "stages"))
from dedup_helpers import corpus_docs  # noqa: E402

from winnow import read_output, run  # noqa: E402
from winnow.cli import main  # noqa: E402
from winnow.report.card import write_card  # noqa: E402
from winnow.report.html import write_report  # noqa: E402


@pytest.fixture(scope="module")
def topics(sample_data, tmp_path_factory) -> tuple[Path, Path]:
    """A 32-dim static model and 4 topics trained on 300 corpus documents, and those documents as JSONL."""
    folder = tmp_path_factory.mktemp("domain-mix")
    source = folder / "corpus.jsonl"
    docs = corpus_docs(sample_data, 300)
    source.write_text("".join(json.dumps({"id": d["id"], "text": d["text"]}) + "\n" for d in docs))
    argv = ["train-embeddings", str(source), "-o", str(folder / "emb"), "--dim", "32", "--min-count", "2"]
    assert main(argv) == 0
    argv = ["train-topics", str(source), "--embeddings", str(folder / "emb"), "-o", str(folder / "topics")]
    assert main([*argv, "--clusters", "4"]) == 0
    return folder / "topics", source


def test_mix_balances_by_domain_and_reports_before_and_after(topics, tmp_path):
    topics_dir, source = topics
    names = [t["name"] for t in json.loads((topics_dir / "topics.json").read_text())["topics"]]
    out = tmp_path / "out"
    recipe = {
        "input": [{"path": str(source)}],
        "steps": [{"domain": {"topics": str(topics_dir)}}],
        "output": {"path": str(out)},
    }
    run(recipe, workers=2)
    before = Counter(read_output(str(out)).column("domain.domain").to_pylist())
    assert len(before) >= 3, before
    # the smallest domain weighted 0, every other domain ("*") the same: as many of each as the
    # smallest of them has, so the mix is balanced without up-sampling
    zero = min(before, key=lambda name: (before[name], name))
    others = {name: count for name, count in before.items() if name != zero}
    recipe["mix"] = {"by": "documents", "column": "domain.domain", "weights": {zero: 0, "*": 1}, "seed": 4}
    manifest = run(recipe, workers=2, overwrite=True)
    after = Counter(read_output(str(out)).column("domain.domain").to_pylist())
    assert after == dict.fromkeys(others, min(others.values()))
    rejected = read_output(str(out), rejected=True)
    reasons = Counter(
        zip(rejected.column("domain.domain").to_pylist(), rejected.column("reason").to_pylist(), strict=True)
    )
    assert reasons[(zero, "mix: zero_weight")] == before[zero]
    for name, count in others.items():
        assert reasons[(name, "mix: not_sampled")] == count - min(others.values())
    mix = next(s for s in manifest["steps"] if s["name"] == "mix")
    counters = mix["counters"]
    for name in before:
        assert counters[f"available.{name}"] == before[name]
        assert counters.get(f"documents.{name}", 0) == after.get(name, 0)
        assert counters.get(f"dropped.{name}", 0) == before[name] - after.get(name, 0)
    assert mix["dropped"] == {"zero_weight": before[zero], "not_sampled": sum(others.values()) - sum(after.values())}
    # the same seed, the same records; the names are the trained topics'
    kept = sorted(read_output(str(out)).column("id").to_pylist())
    run(recipe, workers=1, overwrite=True)
    assert sorted(read_output(str(out)).column("id").to_pylist()) == kept
    assert set(before) <= set(names)

    write_card(str(out), str(tmp_path / "card.md"))
    card = (tmp_path / "card.md").read_text()
    assert "By documents of each domain.domain" in card
    share = 1 / len(others)
    for name, count in others.items():
        assert f"| {name} | 1 | {count:,} |" in card
        assert f"| {min(others.values()):,} | {share:.4f} | {count - min(others.values()):,} |" in card
    assert f"| {zero} | 0 | {before[zero]:,} |" in card
    write_report(str(out), str(tmp_path / "report.html"))
    html = (tmp_path / "report.html").read_text()
    assert "Mixture by domain.domain: before and after" in html
    assert all(name in html for name in before)
