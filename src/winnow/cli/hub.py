"""``winnow export-hf``: a run's kept records as a Hugging Face dataset folder ``load_dataset`` reads."""

from __future__ import annotations

import argparse

from winnow.cli.base import add_command

EXAMPLES = """examples:
  winnow export-hf out/curate -o hf/curate
  python -c "import datasets; print(datasets.load_dataset('hf/curate'))"
read one back into a recipe:  input: {path: hf/curate, format: huggingface}"""


def add_commands(sub: argparse._SubParsersAction) -> None:
    help = "write a run's kept records in the Hugging Face hub layout (Parquet shards + dataset card)"
    p = add_command(sub, "export-hf", _cmd_export_hf, help, EXAMPLES)
    p.add_argument("run", help="a run's output directory")
    p.add_argument("-o", "--output", required=True, help="the dataset folder to write")
    p.add_argument("--name", help="pretty_name on the dataset card (default: the run folder's name)")
    p.add_argument("--overwrite", action="store_true")


def _cmd_export_hf(args: argparse.Namespace) -> int:
    from winnow.export.huggingface import export_hub_layout

    done = export_hub_layout(args.run, args.output, args.name, args.overwrite)
    splits = ", ".join(f"{name} {count}" for name, count in done.splits.items())
    print(f"{done.path}: {splits} records; card licence {done.license}")
    return 0
