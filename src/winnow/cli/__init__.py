"""The ``winnow`` command line: one thin adapter module per command group (parse → call one
library function → print). Every command has ``--help`` with examples, written next to its arguments.

Add a command group as a module with ``add_commands(sub)`` and list it in ``COMMAND_GROUPS``."""

from __future__ import annotations

import argparse
import sys

from winnow.cli import ablate, chat, crawl, export, feedback, hub, models, output, report, run, steps
from winnow.errors import WinnowError

COMMAND_GROUPS = (run, steps, output, report, export, chat, feedback, crawl, hub, models, ablate)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="winnow",
        description="Turn raw data into training-ready datasets, with provenance on every record.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Start with: winnow run examples/quickstart.yaml   (see README.md)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.add_commands(sub)
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
