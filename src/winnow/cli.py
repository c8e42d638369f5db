"""The ``winnow`` command line. Every command has ``--help`` with examples."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

from winnow.errors import WinnowError

EXAMPLES = {
    "run": """examples:
  winnow run examples/quickstart.yaml --workers 2
  winnow run my-recipe.yaml --executor ray                 # local Ray cluster, or RAY_ADDRESS
  winnow run my-recipe.yaml --resume                       # after a crash or Ctrl-C
  winnow run my-recipe.yaml --overwrite                    # start again from scratch""",
    "steps": """examples:
  winnow steps                  # every step with its one-line doc
  winnow steps length_filter    # one step, with its parameters""",
    "inspect": """examples:
  winnow inspect out/quickstart --n 3
  winnow inspect out/quickstart --rejected --n 5""",
    "stats": """examples:
  winnow stats out/quickstart
  winnow stats out/quickstart --json""",
}


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
    counts = manifest["counts"]
    out = manifest["recipe"]["output"]["path"]
    print(
        f"done in {manifest['wall_seconds']:.1f}s: {counts['input']:,} records in, {counts['kept']:,} kept, "
        f"{counts['rejected']:,} rejected, {counts['quarantined']:,} quarantined"
    )
    for step in manifest["steps"]:
        dropped = ", ".join(f"{reason} {n:,}" for reason, n in step["dropped"].items())
        print(f"  {step['name']:<22} {step['in']:>9,} -> {step['out']:>9,}  {dropped}")
    print(f"output: {out}/data   (manifest: {out}/_winnow/manifest.json)")
    return 0


def _cmd_steps(args: argparse.Namespace) -> int:
    from winnow.registry import all_steps, get_step_class

    if args.name:
        cls = get_step_class(args.name)
        print(f"{cls.name}: {textwrap.dedent(cls.__doc__ or '').strip()}\n")
        print("parameters:")
        for name, field in cls.Params.model_fields.items():
            default = "required" if field.is_required() else f"default {field.default!r}"
            kind = getattr(field.annotation, "__name__", str(field.annotation)).replace("typing.", "")
            print(f"  {name} ({kind}, {default}): {field.description or ''}")
        return 0
    if args.markdown:
        print(steps_markdown())
        return 0
    for name, cls in all_steps().items():
        doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        params = ", ".join(cls.Params.model_fields)
        print(f"{name:<22} {doc}")
        if params:
            print(f"{'':<22}   params: {params}")
    return 0


def steps_markdown() -> str:
    """The step table of the README (a test keeps the README equal to this)."""
    from winnow.registry import all_steps
    from winnow.steps.base import GlobalStage

    lines = ["| step | kind | what it does | parameters |", "|---|---|---|---|"]
    for name, cls in all_steps().items():
        if name.startswith("test_"):
            continue
        doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        kind = "global" if issubclass(cls, GlobalStage) else "streaming"
        params = ", ".join(f"`{p}`" for p in cls.Params.model_fields)
        lines.append(f"| `{name}` | {kind} | {doc.replace('|', '/')} | {params} |")
    return "\n".join(lines)


def _cmd_inspect(args: argparse.Namespace) -> int:
    from winnow.io.output import iter_output

    kind = "quarantine" if args.quarantine else "rejected" if args.rejected else "data"
    shown = 0
    schema_printed = False
    for batch in iter_output(args.path, kind, batch_size=max(args.n, 1)):
        if not schema_printed:
            print(f"schema ({kind}):")
            for field in batch.schema:
                print(f"  {field.name}: {field.type}")
            schema_printed = True
        for row in batch.to_pylist():
            if shown >= args.n:
                break
            text = row.get("text") or row.get("raw") or ""
            if len(text) > args.chars:
                row["text" if "text" in row else "raw"] = text[: args.chars] + f"… [{len(text):,} chars]"
            print(f"\n--- record {shown + 1}")
            print(json.dumps(row, ensure_ascii=False, indent=2, default=str))
            shown += 1
        if shown >= args.n:
            break
    if not schema_printed:
        print(f"no {kind} records under {args.path}")
    return 0


def _cmd_stats(args: argparse.Namespace) -> int:
    from winnow.report.output_stats import format_stats, output_stats

    stats = output_stats(args.path)
    print(json.dumps(stats, indent=2) if args.json else format_stats(stats))
    return 0


def _cmd_dedup_report(args: argparse.Namespace) -> int:
    from winnow.dedup.report import dedup_report

    print(dedup_report(args.path, top=args.top))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from winnow.report.html import write_report

    write_report(args.path, args.output)
    print(f"report written to {args.output}")
    return 0


def _cmd_card(args: argparse.Namespace) -> int:
    from winnow.report.card import write_card

    write_card(args.path, args.output)
    print(f"data card written to {args.output}")
    return 0


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="winnow",
        description="Turn raw data into training-ready datasets, with provenance on every record.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Start with: winnow run examples/quickstart.yaml   (see README.md)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, fn: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=help,
            description=help,
            epilog=EXAMPLES.get(name),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.set_defaults(fn=fn)
        return p

    p = command("run", _cmd_run, "run a recipe")
    p.add_argument("recipe", help="recipe YAML file")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    p.add_argument("--executor", choices=["local", "ray"], default="local")
    p.add_argument("--address", help="Ray cluster address (default: RAY_ADDRESS, else a local cluster)")
    p.add_argument("--resume", action="store_true", help="finish an interrupted run in the same output")
    p.add_argument("--overwrite", action="store_true", help="delete an existing output first")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = command("steps", _cmd_steps, "list the steps a recipe can use")
    p.add_argument("name", nargs="?", help="show one step's parameters")
    p.add_argument("--markdown", action="store_true", help="the step table, as in the README")

    p = command("inspect", _cmd_inspect, "show the schema and a few records of an output")
    p.add_argument("path", help="a run's output directory")
    p.add_argument("--n", type=int, default=3, help="records to show")
    p.add_argument("--rejected", action="store_true", help="show rejected records")
    p.add_argument("--quarantine", action="store_true", help="show quarantined input rows")
    p.add_argument("--chars", type=int, default=300, help="truncate text to this many characters")

    p = command("stats", _cmd_stats, "documents, characters, words by source, licence and drop reason")
    p.add_argument("path", help="a run's output directory")
    p.add_argument("--json", action="store_true")

    p = command("dedup-report", _cmd_dedup_report, "duplicate cluster sizes and the largest clusters")
    p.add_argument("path", help="a run's output directory")
    p.add_argument("--top", type=int, default=10)

    p = command("report", _cmd_report, "a self-contained HTML report of a run")
    p.add_argument("path", help="a run's output directory")
    p.add_argument("-o", "--output", default="report.html")

    p = command("card", _cmd_card, "a data card (Markdown) generated from a run's manifest")
    p.add_argument("path", help="a run's output directory")
    p.add_argument("-o", "--output", default="DATACARD.md")

    p = command("train-tokenizer", _cmd_train_tokenizer, "train a byte-level BPE tokenizer locally")
    p.add_argument("data", nargs="+", help="run output directories or Parquet/JSONL files")
    p.add_argument("--vocab-size", type=int, default=32000)
    p.add_argument("-o", "--output", default="tokenizer.json")

    p = command("tokenize", _cmd_tokenize, "encode documents into token shards a trainer can memory-map")
    p.add_argument("data", nargs="+", help="run output directories or Parquet/JSONL files")
    p.add_argument("--tokenizer", required=True, help="a local tokenizer.json")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--val-fraction", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--shard-tokens", type=int, default=None)
    p.add_argument("--workers", type=int, default=1)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except WinnowError as error:
        print(f"winnow: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nwinnow: interrupted; run the same command with --resume to finish", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
