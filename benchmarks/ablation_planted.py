"""The planted experiment at a benchmark size: 30% of the corpus's training text replaced by junk
(``winnow.evaluate.planted``) vs the same corpus curated by Winnow, 3 seeds, equal training tokens.

    nice .venv/bin/python benchmarks/ablation_planted.py [--steps 2000] [--sizes tiny] [--corpus ../shared/data/corpus/web.jsonl.zst]

Writes benchmarks/work/ablation-planted/ (report.html, results.json) and prints the verdict and
the clean-kept-aside bpb of every run."""

from __future__ import annotations

import argparse
import io
import json
import time
from pathlib import Path

import yaml
import zstandard
from common import print_ablation

from winnow.evaluate.ablate import ablate
from winnow.evaluate.config import AblationConfig
from winnow.evaluate.planted import make_planted_corpus

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "tests" / "data" / "shared" / "bench" / "gauntlet"
SIZES = {
    "tiny": {"name": "tiny", "layers": 1, "d_model": 32, "heads": 2, "context": 64},
    "small": {"name": "small", "layers": 2, "d_model": 48, "heads": 2, "context": 64},
}
LOOSE_REPETITION = {  # as in tests/evaluate/test_planted.py: the defaults drop 2/3 of this corpus's clean pages
    "dup_line_frac": 0.6,
    "dup_para_frac": 0.6,
    "dup_line_char_frac": 0.5,
    "dup_para_char_frac": 0.5,
    "top_n_grams": {2: 0.3, 3: 0.3, 4: 0.3},
    "dup_n_grams": {5: 0.6, 10: 0.5},
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--sizes", nargs="+", default=["tiny"], choices=sorted(SIZES))
    parser.add_argument("--docs", type=int, default=400)
    parser.add_argument("--corpus", default=str(ROOT / "tests/data/shared/corpus/web.jsonl.zst"))
    parser.add_argument("--out", default=str(ROOT / "benchmarks/work/ablation-planted"))
    args = parser.parse_args()
    root = Path(args.out)
    with open(args.corpus, "rb") as raw:
        lines = io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(raw), encoding="utf-8")
        rows = [json.loads(line) for _, line in zip(range(args.docs), lines, strict=False)]
    planted = make_planted_corpus(rows, root / "planted", reference_docs=args.docs // 10)
    recipe = {
        "input": {"path": str(planted.polluted), "source": "planted", "license": "unknown"},
        "steps": [{"gopher_repetition": LOOSE_REPETITION}, {"exact_dedup": {}}, {"minhash_dedup": {"threshold": 0.8}}],
        "output": {"path": str(root / "unused")},
    }
    (root / "curate.yaml").write_text(yaml.safe_dump(recipe))
    config = AblationConfig.model_validate(
        {
            "variants": [
                {"name": "raw", "data": str(planted.polluted)},
                {"name": "curated", "recipe": str(root / "curate.yaml")},
            ],
            "tokenizer": {"train_on": "curated", "vocab_size": 512},
            "seeds": [0, 1, 2],
            "models": [SIZES[s] for s in args.sizes],
            "tokens": args.steps * 8 * 64,
            "optimizer": {"batch_size": 8, "lr": 0.01},
            "threads": 1,
            "eval_tokens": 20_000,
            "eval": [
                {"name": "clean-kept-aside", "kind": "text", "path": str(planted.reference)},
                {"name": "lambada", "kind": "text", "path": str(BENCH / "lambada_openai.jsonl"), "limit": 100},
                {"name": "heldout", "kind": "heldout"},
                {"name": "copa", "kind": "choice", "path": str(BENCH / "copa.jsonl"), "limit": 100},
                {"name": "arc_easy", "kind": "choice", "path": str(BENCH / "arc_easy.jsonl")},
            ],
        }
    )
    began = time.perf_counter()
    result = ablate(config, root / "ablation", resume=True)
    print(f"wall {time.perf_counter() - began:.0f} s")
    print_ablation(result)
    for run in result.runs:
        clean = next(s.value for s in run.scores if s.eval_set == "clean-kept-aside")
        print(
            f"{run.size} {run.variant} seed {run.seed}: clean-kept-aside {clean:.4f} bpb, {run.tokens_per_second:,.0f} tokens/s"
        )


if __name__ == "__main__":
    main()
