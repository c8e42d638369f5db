"""Documents of a run: ``winnow report`` (HTML) and ``winnow card`` (a Markdown data card)."""

from __future__ import annotations

import argparse

from winnow.cli.base import add_command

REPORT_EXAMPLES = """examples:
  winnow report out/quickstart -o out/quickstart/report.html"""
CARD_EXAMPLES = """examples:
  winnow card out/quickstart -o out/quickstart/DATACARD.md"""


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "report", _cmd_report, "a self-contained HTML report of a run", REPORT_EXAMPLES)
    p.add_argument("path", help="a run's output directory")
    p.add_argument("-o", "--output", default="report.html")

    p = add_command(sub, "card", _cmd_card, "a data card (Markdown) generated from a run's manifest", CARD_EXAMPLES)
    p.add_argument("path", help="a run's output directory")
    p.add_argument("-o", "--output", default="DATACARD.md")


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
