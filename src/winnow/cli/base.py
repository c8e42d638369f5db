"""What every command module uses: one call adds a command with its help and examples."""

from __future__ import annotations

import argparse
from collections.abc import Callable

Command = Callable[[argparse.Namespace], int]


def add_command(
    sub: argparse._SubParsersAction, name: str, fn: Command, help: str, examples: str | None = None
) -> argparse.ArgumentParser:
    """A sub-command whose ``--help`` shows ``examples`` (written next to its arguments)."""
    parser = sub.add_parser(
        name,
        help=help,
        description=help,
        epilog=examples,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(fn=fn)
    return parser
