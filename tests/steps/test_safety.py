"""`toxicity` and `bias_audit` on real documents: the corpus and the labelled multilingual set."""

from __future__ import annotations

import io
import json
import re
from collections import Counter

import pytest
import zstandard

from corpus_sample import corpus_lines
from winnow import read_output, run
from winnow.errors import RecipeError
from winnow.records import make_batch
from winnow.steps.registry import build_step

# The test's own lists (Winnow ships none): words that are common enough in technical text to be found.
EN_WORDS = ["kill", "abort", "crash", "fatal error", "die"]
FR_WORDS = ["erreur", "fichier"]


@pytest.fixture(scope="module")
def docs(sample_data) -> list[dict]:
    return [json.loads(line) for line in corpus_lines(sample_data, 1500)]


@pytest.fixture(scope="module")
def multilingual(sample_data) -> list[dict]:
    out = []
    with open(sample_data / "langid" / "labeled-dev.jsonl.zst", "rb") as raw:
        for line in io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(raw), encoding="utf-8"):
            doc = json.loads(line)
            if doc["lang"] in ("fr", "de"):
                out.append(doc)
            if len(out) >= 300:
                break
    return out


@pytest.fixture()
def lists(tmp_path) -> dict[str, str]:
    en = tmp_path / "en.txt"
    en.write_text("# test list\n" + "\n".join(EN_WORDS) + "\n")
    fr = tmp_path / "fr.txt"
    fr.write_text("\n".join(FR_WORDS) + "\n")
    return {"en": str(en), "fr": str(fr)}


def _oracle(text: str, words: list[str]) -> int:
    lower = text.lower()
    return sum(len(re.findall(rf"(?<![^\W_]){re.escape(w)}(?![^\W_])", lower)) for w in words)


def _batch(docs: list[dict], **extra):
    columns = {"id": [d["id"] for d in docs], "text": [d["text"] for d in docs], "source": [d["source"] for d in docs]}
    columns.update(extra)
    return make_batch(columns)


def test_toxicity_counts_whole_words_and_phrases(docs, lists):
    step = build_step("toxicity", {"lists": lists, "threshold": 0.001, "min_matches": 2, "mode": "drop"})
    step.check()
    result = step.process(_batch(docs))
    all_rows = result.kept.to_pylist() + (result.rejected.to_pylist() if result.rejected is not None else [])
    by_id = {d["id"]: d["text"] for d in docs}
    assert len(all_rows) == len(docs)
    flagged = 0
    for row in all_rows:
        expected = _oracle(by_id[row["id"]], EN_WORDS)
        assert row["toxicity.matches"] == expected
        ratio = expected / max(len(by_id[row["id"]].split()), 1)
        should_flag = expected >= 2 and ratio >= 0.001
        assert row["toxicity.flagged"] == should_flag
        flagged += should_flag
    assert 0 < flagged < len(docs)
    assert result.rejected.num_rows == flagged
    assert set(result.rejected.column("reason").to_pylist()) == {"toxicity: toxic"}
    assert step.counters["flagged.en"] == flagged


def test_toxicity_uses_the_list_of_each_documents_language(multilingual, lists):
    langs = [d["lang"] for d in multilingual]
    step = build_step("toxicity", {"lists": lists})
    out = step.process(_batch(multilingual, **{"language.lang": langs})).kept
    for doc, matches in zip(multilingual, out.column("toxicity.matches").to_pylist(), strict=True):
        if doc["lang"] == "fr":
            assert matches == _oracle(doc["text"], FR_WORDS)
        else:
            assert matches is None  # no German list: not scored
    assert step.counters["no_list.de"] == langs.count("de") > 0
    assert sum(m or 0 for m in out.column("toxicity.matches").to_pylist()) > 0


def test_toxicity_list_must_exist(tmp_path):
    with pytest.raises(RecipeError, match="missing.txt"):
        build_step("toxicity", {"lists": {"en": str(tmp_path / "missing.txt")}}).check()


def test_bias_audit_counts_per_document_and_per_source(docs):
    step = build_step("bias_audit", {"extend": {"profession": {"engineer": ["engineer", "engineers", "developer"]}}})
    step.check()
    out = step.process(_batch(docs)).kept
    per_source: Counter[str] = Counter()
    for doc, mentions in zip(docs, out.column("bias_audit.mentions").to_pylist(), strict=True):
        counts = json.loads(mentions)
        for label, n in counts.items():
            per_source[f"{doc['source']} | {label}"] += n
        lower = doc["text"].lower()
        assert counts.get("religion.muslim", 0) == len(
            re.findall(r"(?<![^\W_])(?:muslims?|islam|islamic|mosques?)(?![^\W_])", lower)
        )
        assert counts.get("profession.engineer", 0) == len(
            re.findall(r"(?<![^\W_])(?:engineers?|developer)(?![^\W_])", lower)
        )
    assert {k: v for k, v in step.counters.items() if not k.endswith("| documents")} == per_source
    assert sum(v for k, v in step.counters.items() if k.endswith("| documents")) == len(docs)
    assert any(k.endswith("gender.male") for k in per_source) and any(
        k.endswith("profession.engineer") for k in per_source
    )
    # whole words only: "manual", "these", "history" hold no mentions
    one = step.process(
        make_batch(
            {"id": ["x"], "text": ["See the manual; these hold the history. He said she agreed."], "source": ["s"]}
        )
    )
    assert json.loads(one.kept.column("bias_audit.mentions")[0].as_py()) == {"gender.female": 1, "gender.male": 1}


def test_bias_audit_reported_per_source_in_the_manifest(docs, multilingual, tmp_path):
    a = tmp_path / "docs.jsonl"
    a.write_text("".join(json.dumps(d) + "\n" for d in docs[:200]))
    b = tmp_path / "translated.jsonl"
    b.write_text("".join(json.dumps(d) + "\n" for d in multilingual[:100]))
    recipe = {
        "input": [{"path": str(a), "source": "debian-docs"}, {"path": str(b), "source": "translations"}],
        "steps": [{"bias_audit": {}}],
        "output": {"path": str(tmp_path / "out")},
    }
    manifest = run(recipe, workers=2)
    counters = next(s for s in manifest["steps"] if s["name"] == "bias_audit")["counters"]
    assert counters["debian-docs | documents"] == 200 and counters["translations | documents"] == 100
    kept = read_output(str(tmp_path / "out"))
    total = Counter()
    for source, mentions in zip(
        kept.column("source").to_pylist(), kept.column("bias_audit.mentions").to_pylist(), strict=True
    ):
        for label, n in json.loads(mentions).items():
            total[f"{source} | {label}"] += n
    assert {k: v for k, v in counters.items() if not k.endswith("| documents")} == dict(total)
