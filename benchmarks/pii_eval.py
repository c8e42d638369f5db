"""How well the `pii` step finds PII: recall and precision per type on labelled data, and what it
finds on the real corpus.

    .venv/bin/python benchmarks/pii_eval.py [--corpus-docs 5000] [--samples 5]

Labelled sets (../shared/data/pii, see its README):
* pii_labeled.jsonl: 3,709 template sentences from presidio-research with exact spans.
* presidio-analyzer-tests/recognizer_cases.jsonl: presidio's own recogniser test cases for e-mail,
  IP and US SSN. Cases presidio expects only with a low score (< 0.5: a bare 9-digit number as an SSN,
  a lone "::" as an IPv6) are left out: presidio itself drops them below its usual thresholds.

A detection counts as correct when it overlaps a labelled span of the same type (spans differ at the
edges between annotators: "+1-555-…" with or without the extension). Precision counts every
detection of a type, including those inside spans labelled as something else (e.g. digits of an
ADDRESS): those are false positives here.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
from collections import Counter, defaultdict
from pathlib import Path

import zstandard

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from winnow.steps.pii import ALL_TYPES, detect  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
LABELS = {
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "IP_ADDRESS": "IP_ADDRESS",
    "CREDIT_CARD": "CREDIT_CARD",
    "IBAN_CODE": "IBAN",
    "US_SSN": "US_SSN",
}


def labelled_cases(data: Path) -> dict[str, list[tuple[str, list[tuple[int, int, str]]]]]:
    """Per data set: (text, gold spans as (start, end, our type)); other labels are kept as 'OTHER'."""
    sets: dict[str, list] = {"pii_labeled": [], "presidio_recognizer_cases": []}
    with open(data / "pii" / "pii_labeled.jsonl") as f:
        for line in f:
            doc = json.loads(line)
            spans = [(s["start"], s["end"], LABELS.get(s["label"], "OTHER")) for s in doc["spans"]]
            sets["pii_labeled"].append((doc["text"], spans))
    with open(data / "pii" / "presidio-analyzer-tests" / "recognizer_cases.jsonl") as f:
        for line in f:
            case = json.loads(line)
            kind = LABELS.get(case["entity"])
            if kind is None:
                continue
            scores = (case.get("extra") or {}).get("expected_score_ranges") or []
            spans = case["spans"] or ([[0, len(case["text"])]] if case["n_expected"] == 1 else [])
            gold = []
            low = False
            for i, (start, end) in enumerate(spans):
                if i < len(scores) and scores[i][1] < 0.5:
                    low = True  # presidio's own low-confidence expectation: left out
                    continue
                gold.append((start, end, kind))
            if low and not gold:
                continue
            sets["presidio_recognizer_cases"].append((case["text"], gold))
    return sets


def score(cases) -> dict[str, dict[str, float]]:
    tp_gold: Counter[str] = Counter()
    n_gold: Counter[str] = Counter()
    tp_pred: Counter[str] = Counter()
    n_pred: Counter[str] = Counter()
    misses: dict[str, list[str]] = defaultdict(list)
    false: dict[str, list[str]] = defaultdict(list)
    for text, gold in cases:
        found = detect(text, ALL_TYPES)
        for start, end, kind in gold:
            if kind == "OTHER":
                continue
            n_gold[kind] += 1
            if any(k == kind and s < end and e > start for s, e, k in found):
                tp_gold[kind] += 1
            else:
                misses[kind].append(text[max(0, start - 30) : end + 10])
        for start, end, kind in found:
            n_pred[kind] += 1
            if any(k == kind and s < end and e > start for s, e, k in gold):
                tp_pred[kind] += 1
            else:
                false[kind].append(text[max(0, start - 30) : end + 10])
    out = {}
    for kind in sorted(set(n_gold) | set(n_pred)):
        out[kind] = {
            "gold": n_gold[kind],
            "found": n_pred[kind],
            "recall": tp_gold[kind] / n_gold[kind] if n_gold[kind] else None,
            "precision": tp_pred[kind] / n_pred[kind] if n_pred[kind] else None,
            "misses": misses[kind][:3],
            "false_positives": false[kind][:3],
        }
    return out


def enterprise_passages(data: Path) -> Counter[tuple[bool, bool]]:
    """(labelled sensitive, we found a span) counts on the Eval Gauntlet's enterprise passages."""
    counts: Counter[tuple[bool, bool]] = Counter()
    with open(data / "pii" / "enterprise_pii_classification.jsonl") as f:
        for line in f:
            doc = json.loads(line)
            counts[(doc["contains_sensitive_info"], bool(detect(doc["text"], ALL_TYPES)))] += 1
    return counts


def corpus_spans(data: Path, n_docs: int, samples: int) -> tuple[Counter[str], dict[str, list[str]], int]:
    counts: Counter[str] = Counter()
    examples: dict[str, list[str]] = defaultdict(list)
    docs = 0
    rng = random.Random(0)
    with open(data / "corpus" / "web.jsonl.zst", "rb") as raw:
        reader = io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(raw), encoding="utf-8")
        for line in reader:
            if docs >= n_docs:
                break
            docs += 1
            text = json.loads(line)["text"]
            for start, end, kind in detect(text, ALL_TYPES):
                counts[kind] += 1
                # reservoir sample per type, so the examples come from the whole sample
                bucket = examples[kind]
                if len(bucket) < samples:
                    bucket.append(repr(text[max(0, start - 40) : end + 20]))
                elif rng.random() < samples / counts[kind]:
                    bucket[rng.randrange(samples)] = repr(text[max(0, start - 40) : end + 20])
    return counts, examples, docs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--corpus-docs", type=int, default=5000)
    parser.add_argument("--samples", type=int, default=5, help="corpus examples shown per type")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()

    results = {name: score(cases) for name, cases in labelled_cases(args.data).items()}
    enterprise = enterprise_passages(args.data)
    counts, examples, docs = corpus_spans(args.data, args.corpus_docs, args.samples)
    if args.json:
        print(json.dumps({"labelled": results, "corpus": {"docs": docs, "spans": dict(counts)}}, indent=1))
        return
    for name, per_type in results.items():
        print(f"\n== {name}")
        print(f"{'type':<14}{'gold':>6}{'found':>7}{'recall':>9}{'precision':>11}")
        for kind, r in per_type.items():
            rec = "-" if r["recall"] is None else f"{r['recall']:.3f}"
            pre = "-" if r["precision"] is None else f"{r['precision']:.3f}"
            print(f"{kind:<14}{r['gold']:>6}{r['found']:>7}{rec:>9}{pre:>11}")
            for miss in r["misses"]:
                print(f"    missed: {miss!r}")
            for fp in r["false_positives"]:
                print(f"    false positive: {fp!r}")
    print("\n== enterprise_pii_classification.jsonl (passage labels; out of scope for pattern detectors)")
    for sensitive in (True, False):
        hit, total = enterprise[(sensitive, True)], enterprise[(sensitive, True)] + enterprise[(sensitive, False)]
        print(f"{'sensitive' if sensitive else 'not sensitive':<14} passages with a detected span: {hit}/{total}")
    print(f"\n== corpus: spans found in the first {docs} documents of corpus/web.jsonl.zst")
    for kind, n in counts.most_common():
        print(f"{kind:<14}{n:>7}")
        for example in examples[kind]:
            print(f"    {example}")


if __name__ == "__main__":
    main()
