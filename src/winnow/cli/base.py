"""What every command module uses: one call adds a command with its help and examples; flags
that fill a parameters dataclass."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

Command = Callable[[argparse.Namespace], int]
Params = TypeVar("Params")


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


def add_param_flags(parser: argparse.ArgumentParser, defaults: Any, names: Iterable[str], help: str = "") -> None:
    """A ``--flag`` for each field of ``names`` of a parameters dataclass, typed and defaulted as in
    ``defaults`` (an instance); ``help``, with ``{name}`` for the field, is each flag's help."""
    for name in names:
        value = getattr(defaults, name)
        flag = f"--{name.replace('_', '-')}"
        parser.add_argument(flag, type=type(value), default=value, help=help.format(name=name) or None)


def params_from_args(cls: type[Params], args: argparse.Namespace) -> Params:
    """The parameters dataclass ``cls`` with every field from the parsed ``args``."""
    return cls(**{field.name: getattr(args, field.name) for field in dataclasses.fields(cls)})
