"""Exports of post-training records to the files trainers read: ``winnow export`` and
:func:`export_conversations`.

Formats: ``trl-sft`` (``style: messages`` or ``prompt-completion``), ``trl-dpo`` (``style:
explicit`` or ``implicit``), ``trl-kto`` (unpaired records; preferences are unpaired into a
good and a bad row unless ``unpair: false``), ``trl-reward``, ``openai-sft``, ``openai-dpo``,
``sharegpt``, ``alpaca``, ``hh-rlhf``. Each row written is checked against its format's rules
(``winnow.export.chat.validate``); the first record that breaks them stops the export with its
id and the rule, and nothing is left at the output path. Records of a kind the format does not
hold (a preference in an SFT export, say) are skipped and counted by kind.

The output is JSON Lines (``.gz``/``.zst`` compressed by extension) or, for a name ending in
``.json``, one JSON array.
"""

from __future__ import annotations

import gzip
import os
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson
import pyarrow as pa

from winnow.errors import WinnowError
from winnow.export.chat.columnar import fast_rows
from winnow.export.chat.formats import CONVERTERS, KINDS, READ_BACK, Unfit
from winnow.export.chat.validate import problem

FORMATS = tuple(CONVERTERS)
OPTIONS = {"trl-sft": {"style": ("messages", "prompt-completion")}, "trl-dpo": {"style": ("explicit", "implicit")}}
BOOL_OPTIONS = {"trl-kto": {"unpair"}}


class ExportError(WinnowError):
    """A record the export format cannot hold, named by its id."""


@dataclass
class ExportSummary:
    format: str
    output: str
    records: int = 0  # records read
    rows: int = 0  # rows written
    skipped: dict[str, int] = field(default_factory=dict)  # records of kinds the format does not hold
    seconds: float = 0.0


def _check_options(fmt: str, options: dict[str, Any]) -> None:
    if fmt not in CONVERTERS:
        raise WinnowError(f"unknown export format {fmt!r} (choices: {', '.join(FORMATS)})")
    for name, value in options.items():
        choices = OPTIONS.get(fmt, {}).get(name)
        if choices is not None:
            if value not in choices:
                raise WinnowError(f"{fmt}: {name} must be one of {', '.join(choices)}, not {value!r}")
        elif name in BOOL_OPTIONS.get(fmt, set()):
            if not isinstance(value, bool):
                raise WinnowError(f"{fmt}: {name} must be true or false")
        else:
            known = sorted(set(OPTIONS.get(fmt, {})) | BOOL_OPTIONS.get(fmt, set()))
            raise WinnowError(f"{fmt} has no option {name!r} (options: {', '.join(known) or 'none'})")


def iter_records(data: str | Path | pa.Table | Iterable[str | Path]) -> Iterator[pa.Table]:
    """Batches of records from a table, a run's output directory (its data/), or Parquet/JSONL part files."""
    from winnow.io.output import iter_output, iter_part

    if isinstance(data, pa.Table):
        yield data
        return
    items = [data] if isinstance(data, (str, Path)) else list(data)
    for item in items:
        path = Path(item)
        if path.is_dir():
            root = path if (path / "data").is_dir() else path.parent
            kind = "data" if (path / "data").is_dir() else path.name
            yield from iter_output(str(root), kind)
        elif path.is_file():
            yield from iter_part(str(path))
        else:
            raise WinnowError(f"data not found: {item}")


def convert_rows(records: Iterable[dict[str, Any]], fmt: str, summary: ExportSummary, **options: Any) -> Iterator[dict]:
    """The validated output rows of ``records`` (dicts with the conversation columns)."""
    convert = CONVERTERS[fmt]
    kinds = KINDS[fmt]
    skipped: Counter[str] = Counter()
    for record in records:
        summary.records += 1
        kind = record.get("kind")
        if kind not in kinds:
            skipped[str(kind)] += 1
            continue
        try:
            rows = convert(record, **options)
        except Unfit as why:
            raise ExportError(f"{fmt} export: record {record['id']}: {why}") from None
        if not rows:  # a kind the format can hold, left out by an option (trl-kto, unpair: false)
            skipped[kind] += 1
        for row in rows:
            why = problem(fmt, row)
            if why is not None:
                raise ExportError(f"{fmt} export: record {record['id']}: {why}")
            summary.rows += 1
            yield row
    for kind, n in skipped.items():
        summary.skipped[kind] = summary.skipped.get(kind, 0) + n


def _open_output(path: Path) -> IO[bytes]:
    name = path.name
    if name.endswith(".gz"):
        return gzip.open(path, "wb")
    if name.endswith((".zst", ".zstd")):
        import zstandard

        return zstandard.ZstdCompressor(level=3).stream_writer(open(path, "wb"), closefd=True)
    return open(path, "wb", buffering=1 << 20)


def export_conversations(
    data: str | Path | pa.Table | Iterable[str | Path], fmt: str, output: str | Path, **options: Any
) -> ExportSummary:
    """Write the post-training records of ``data`` as ``fmt`` to ``output``; see the module doc."""
    _check_options(fmt, options)
    started = time.perf_counter()
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    summary = ExportSummary(fmt, str(output))
    tmp = output.with_name(f".tmp-{output.name}")
    as_array = output.name.endswith(".json")
    dumps = orjson.dumps
    try:
        with _open_output(tmp) as f:
            if as_array:
                f.write(b"[")
            first = True
            for batch in iter_records(data):
                fast = fast_rows(batch, fmt, options)
                if fast is not None:  # the columnar path (see columnar.py); else row by row
                    lines, skipped = fast
                    summary.records += batch.num_rows
                    summary.rows += len(lines)
                    for kind, n in skipped.items():
                        summary.skipped[str(kind)] = summary.skipped.get(str(kind), 0) + n
                else:
                    lines = [dumps(row) for row in convert_rows(batch.to_pylist(), fmt, summary, **options)]
                if not lines:
                    continue
                if as_array:
                    f.write((b"" if first else b",\n") + b",\n".join(lines))
                else:
                    f.write(b"\n".join(lines) + b"\n")
                first = False
            if as_array:
                f.write(b"]\n")
        os.replace(tmp, output)
    finally:
        if tmp.exists():
            tmp.unlink()
    summary.seconds = time.perf_counter() - started
    return summary


__all__ = ["FORMATS", "READ_BACK", "ExportError", "ExportSummary", "convert_rows", "export_conversations", "problem"]
