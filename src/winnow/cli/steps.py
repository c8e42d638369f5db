"""``winnow steps``: the steps a recipe can use, one step's parameters, the README's step table."""

from __future__ import annotations

import argparse
import textwrap

from winnow.cli.base import add_command

EXAMPLES = """examples:
  winnow steps                  # every step with its one-line doc
  winnow steps length_filter    # one step, with its parameters"""


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "steps", _cmd_steps, "list the steps a recipe can use", EXAMPLES)
    p.add_argument("name", nargs="?", help="show one step's parameters")
    p.add_argument("--markdown", action="store_true", help="the step table, as in the README")


def _cmd_steps(args: argparse.Namespace) -> int:
    from winnow.extras import install_hint
    from winnow.steps.registry import all_steps, get_step_class

    if args.name:
        cls = get_step_class(args.name)
        print(f"{cls.name}: {textwrap.dedent(cls.__doc__ or '').strip()}\n")
        if cls.missing():
            print(f"unavailable: needs {', '.join(cls.missing())} -> {install_hint(cls.extra)}\n")
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
        if cls.missing():
            print(f"{'':<22}   unavailable: needs {', '.join(cls.missing())} -> {install_hint(cls.extra)}")
    return 0


def steps_markdown() -> str:
    """The step table of the README (a test keeps the README equal to this)."""
    from winnow.steps.base import GlobalStage
    from winnow.steps.registry import all_steps

    lines = ["| step | kind | what it does | parameters |", "|---|---|---|---|"]
    for name, cls in all_steps().items():
        if name.startswith("test_"):
            continue
        doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        kind = "global" if issubclass(cls, GlobalStage) else "streaming"
        params = ", ".join(f"`{p}`" for p in cls.Params.model_fields)
        lines.append(f"| `{name}` | {kind} | {doc.replace('|', '/')} | {params} |")
    return "\n".join(lines)
