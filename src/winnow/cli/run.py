"""``winnow run``: run a recipe and print the per-step counts."""

from __future__ import annotations

import argparse

from winnow.cli.base import add_command

EXAMPLES = """examples:
  winnow run examples/quickstart.yaml --workers 2
  winnow run my-recipe.yaml --executor ray                 # local Ray cluster, or RAY_ADDRESS
  winnow run my-recipe.yaml --resume                       # after a crash or Ctrl-C
  winnow run my-recipe.yaml --overwrite                    # start again from scratch"""


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "run", _cmd_run, "run a recipe", EXAMPLES)
    p.add_argument("recipe", help="recipe YAML file")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    p.add_argument("--executor", choices=["local", "ray"], default="local")
    p.add_argument("--address", help="Ray cluster address (default: RAY_ADDRESS, else a local cluster)")
    p.add_argument("--resume", action="store_true", help="finish an interrupted run in the same output")
    p.add_argument("--overwrite", action="store_true", help="delete an existing output first")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _cmd_run(args: argparse.Namespace) -> int:
    from winnow.exec.runner import run

    manifest = run(
        args.recipe,
        executor=args.executor,
        workers=args.workers,
        resume=args.resume,
        overwrite=args.overwrite,
        address=args.address,
        progress=not args.quiet,
    )
    counts = manifest.counts
    out = manifest.recipe["output"]["path"]
    print(
        f"done in {manifest.wall_seconds:.1f}s: {counts.input:,} records in, {counts.kept:,} kept, "
        f"{counts.rejected:,} rejected, {counts.quarantined:,} quarantined"
    )
    for step in manifest.steps:
        dropped = ", ".join(f"{reason} {n:,}" for reason, n in step.dropped.items())
        print(f"  {step.name:<22} {step.records_in:>9,} -> {step.out:>9,}  {dropped}")
    print(f"output: {out}/data   (manifest: {out}/_winnow/manifest.json)")
    return 0
