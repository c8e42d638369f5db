"""Training-ready output: ``winnow train-tokenizer`` and ``winnow tokenize``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from winnow.cli.base import add_command

TRAIN_EXAMPLES = """examples:
  winnow train-tokenizer out/quickstart --vocab-size 8000 -o tokenizer.json"""
TOKENIZE_EXAMPLES = """examples:
  winnow tokenize out/quickstart --tokenizer tokenizer.json -o out/tokens --val-fraction 0.01"""


def add_commands(sub: argparse._SubParsersAction) -> None:
    help = "train a byte-level BPE tokenizer locally"
    p = add_command(sub, "train-tokenizer", _cmd_train_tokenizer, help, TRAIN_EXAMPLES)
    p.add_argument("data", nargs="+", help="run output directories or Parquet/JSONL files")
    p.add_argument("--vocab-size", type=int, default=32000)
    p.add_argument("-o", "--output", default="tokenizer.json")

    help = "encode documents into token shards a trainer can memory-map"
    p = add_command(sub, "tokenize", _cmd_tokenize, help, TOKENIZE_EXAMPLES)
    p.add_argument("data", nargs="+", help="run output directories or Parquet/JSONL files")
    p.add_argument("--tokenizer", required=True, help="a local tokenizer.json")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--val-fraction", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--shard-tokens", type=int, default=None)
    p.add_argument("--workers", type=int, default=1)


def _cmd_train_tokenizer(args: argparse.Namespace) -> int:
    from winnow.export.tokenizer import train_tokenizer

    train_tokenizer(args.data, args.vocab_size, args.output)
    print(f"tokenizer written to {args.output}")
    return 0


def _cmd_tokenize(args: argparse.Namespace) -> int:
    from winnow.export.tokenize import tokenize

    kwargs: dict[str, Any] = {"val_fraction": args.val_fraction, "seed": args.seed, "workers": args.workers}
    if args.shard_tokens:
        kwargs["shard_tokens"] = args.shard_tokens
    summary = tokenize(args.data, args.tokenizer, args.output, **kwargs)
    print(
        f"{summary['documents']:,} documents, {summary['tokens']:,} tokens ({summary['dtype']}) "
        f"in {summary['wall_seconds']:.1f} s -> {args.output}"
    )
    for name, split in summary["splits"].items():
        print(
            f"  {name:<6} {split['documents']:>10,} documents {split['tokens']:>14,} tokens  {len(split['shards'])} shard(s)"
        )
    print(f"header: {Path(args.output) / 'tokens.json'}; read with winnow.export.TokenDataset({str(args.output)!r})")
    return 0
