"""``winnow ablate``: proxy-model ablations (the ``[eval]`` extra; PyTorch is imported only when run)."""

from __future__ import annotations

import argparse

from winnow.cli.base import add_command
from winnow.errors import WinnowError

EXAMPLES = """examples:
  winnow ablate examples/ablation.yaml -o out/ablation
  winnow ablate examples/ablation.yaml -o out/ablation --resume     # after a kill: finish what was started
  open out/ablation/report.html                                    # curves, mean ± std, paired differences, verdict"""


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "ablate", _cmd_ablate, "train small proxy LMs on dataset variants and compare them", EXAMPLES)
    p.add_argument("config", help="an ablation.yaml (variants, tokenizer, models, tokens, seeds, eval sets)")
    p.add_argument("-o", "--output", required=True, help="output directory (runs, results.json, report.html)")
    p.add_argument("--resume", action="store_true", help="finish an interrupted ablation in OUTPUT")
    p.add_argument("--overwrite", action="store_true", help="delete OUTPUT first")
    p.add_argument("--device", help="torch device (default: cuda when available, else cpu)")
    p.add_argument(
        "--jobs", type=int, help="runs trained at once on a CPU, one process each (default: the config's jobs)"
    )


def _cmd_ablate(args: argparse.Namespace) -> int:
    try:
        from winnow.evaluate.ablate import ablate
        from winnow.evaluate.config import AblationConfig
    except ImportError as error:
        raise WinnowError(f"winnow ablate needs the eval extra: pip install 'winnow[eval]' ({error})") from None
    config = AblationConfig.load(args.config)
    if args.jobs is not None:
        if args.jobs < 1:
            raise WinnowError("--jobs: 1 or more")
        config = config.model_copy(update={"jobs": args.jobs})
    result = ablate(config, args.output, resume=args.resume, overwrite=args.overwrite, device=args.device)
    for summary in result.sizes:
        for sentence in summary.verdicts.values():
            print(f"{summary.size}: {sentence}")
    print(f"report: {args.output}/report.html   results: {args.output}/results.json")
    return 0
