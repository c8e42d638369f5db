"""Looking at a run's output: ``winnow inspect``, ``winnow stats``, ``winnow dedup-report``."""

from __future__ import annotations

import argparse
import json

from winnow.cli.base import add_command

INSPECT_EXAMPLES = """examples:
  winnow inspect out/quickstart --n 3
  winnow inspect out/quickstart --rejected --n 5"""
STATS_EXAMPLES = """examples:
  winnow stats out/quickstart
  winnow stats out/quickstart --json"""
DEDUP_EXAMPLES = """examples:
  winnow dedup-report out/curate
  winnow dedup-report out/curate --top 20"""


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "inspect", _cmd_inspect, "show the schema and a few records of an output", INSPECT_EXAMPLES)
    p.add_argument("path", help="a run's output directory")
    p.add_argument("--n", type=int, default=3, help="records to show")
    p.add_argument("--rejected", action="store_true", help="show rejected records")
    p.add_argument("--quarantine", action="store_true", help="show quarantined input rows")
    p.add_argument("--chars", type=int, default=300, help="truncate text to this many characters")

    help = "documents, characters, words by source, licence and drop reason"
    p = add_command(sub, "stats", _cmd_stats, help, STATS_EXAMPLES)
    p.add_argument("path", help="a run's output directory")
    p.add_argument("--json", action="store_true")

    help = "duplicate cluster sizes and the largest clusters"
    p = add_command(sub, "dedup-report", _cmd_dedup_report, help, DEDUP_EXAMPLES)
    p.add_argument("path", help="a run's output directory")
    p.add_argument("--top", type=int, default=10)


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
    from winnow.report.dedup import dedup_report

    print(dedup_report(args.path, top=args.top))
    return 0
