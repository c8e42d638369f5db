"""Training tokens/s of ``winnow.evaluate.trainer.train`` vs a plain reference loop (nanoGPT-style:
random windows sliced from one np.memmap, same model, same optimizer), on the default proxy size.

    nice .venv/bin/python benchmarks/trainer_speed.py [--steps 40] [--threads 1] [--repeats 1]

Both train on the same ``winnow tokenize`` output of the corpus excerpt; the ratio says whether
Winnow's data loading (TokenDataset + WindowSampler), schedule and logging cost anything.
``--repeats N`` runs N interleaved pairs (trainer, then reference) and prints each ratio and their
median: on a shared machine the load moves between runs, and one pair says little."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from winnow.evaluate.config import ModelSize, TrainSpec
from winnow.evaluate.model import ProxyLM, next_token_nll
from winnow.evaluate.trainer import train
from winnow.export.tokenize import tokenize
from winnow.export.tokenizer import train_tokenizer

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests/data/shared/corpus/web.jsonl.zst"


def reference_loop(tokens_dir: Path, spec: TrainSpec, vocab: int) -> float:
    data = np.memmap(tokens_dir / "train-00000.bin", dtype=np.uint16, mode="r")
    torch.manual_seed(spec.seed)
    model = ProxyLM(spec.model, vocab)
    opt = torch.optim.AdamW(model.parameters(), lr=spec.optimizer.lr, betas=(0.9, 0.95), weight_decay=0.1)
    ctx, batch = spec.model.context, spec.optimizer.batch_size
    began = time.perf_counter()
    for _ in range(spec.steps):
        starts = np.random.randint(0, len(data) - ctx - 1, batch)
        x = torch.from_numpy(np.stack([data[s : s + ctx + 1] for s in starts]).astype(np.int64))
        loss = next_token_nll(model, x[:, :-1], x[:, 1:]).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    return spec.steps * batch * ctx / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    size = ModelSize()
    with tempfile.TemporaryDirectory() as tmp:
        tokenizer = Path(tmp) / "tokenizer.json"
        train_tokenizer([str(CORPUS)], 4096, str(tokenizer))
        tokenize([str(CORPUS)], str(tokenizer), str(Path(tmp) / "tokens"), val_fraction=0.01)
        spec = TrainSpec(
            model=size, tokens=args.steps * 16 * size.context, threads=args.threads, checkpoint_every=10**9
        )
        ratios = []
        for k in range(args.repeats):
            ours = train(Path(tmp) / "tokens", spec, Path(tmp) / f"run-{k}")
            reference = reference_loop(Path(tmp) / "tokens", spec, ours.vocab_size)
            ratios.append(ours.tokens_per_second / reference)
            print(
                f"pair {k + 1}: winnow trainer {ours.tokens_per_second:,.0f} tokens/s, reference loop "
                f"{reference:,.0f} tokens/s, ratio {ratios[-1]:.1%}"
            )
    print(f"default size: {ours.parameters:,} parameters, context {size.context}, batch 16, {args.threads} thread(s)")
    print(f"median ratio over {len(ratios)} pair(s): {sorted(ratios)[len(ratios) // 2]:.1%} of the reference loop")


if __name__ == "__main__":
    main()
