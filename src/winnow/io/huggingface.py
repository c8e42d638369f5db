"""Hugging Face datasets on disk (``format: huggingface``), read with pyarrow alone (no ``datasets`` needed):

* a folder written by ``datasets.save_to_disk`` — ``state.json`` naming its Arrow files, ``dataset_info.json``
  (its ``license``), or a ``dataset_dict.json`` with one such folder per split;
* a local snapshot of a hub dataset repository — a dataset card ``README.md`` whose YAML front matter gives
  ``license`` (and ``pretty_name``), with Parquet, Arrow, JSON Lines or CSV shards (``data/train-00000-of-00002.parquet``,
  ``train/…``, …).

Each data file is a shard. Every record gets the dataset's licence (normalised to SPDX; an input ``license``
wins), and in ``meta``: ``hf_dataset`` (pretty name or folder name), ``hf_split`` (from the split folder or
the file name: train, test, validation…), ``hf_file``, ``obtained_by``. Other columns travel through
``meta_fields`` as with any input.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import yaml

from winnow.errors import RecipeError
from winnow.io.base import DEFAULT_BATCH_SIZE, ErrorSink, InputRow, InputSpec, Reader, Shard, register_reader
from winnow.licenses import normalize_license
from winnow.records import UNKNOWN_LICENSE

DATA_SUFFIXES = (".parquet", ".arrow", ".jsonl", ".json", ".csv")
SPLITS = ("train", "validation", "valid", "dev", "test")
FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)


@register_reader
class HuggingFaceReader(Reader):
    format = "huggingface"
    extensions = ()  # a folder: declare format: huggingface

    @classmethod
    def expand(cls, path: str) -> list[tuple[str, str]] | None:
        root = Path(path)
        if not root.is_dir():
            raise RecipeError(f"format huggingface: {path} is not a directory (save_to_disk output or a hub snapshot)")
        files = _saved_files(root) or _hub_files(root)
        if not files:
            raise RecipeError(f"format huggingface: no state.json, dataset_dict.json or data files under {path}")
        return [(str(f), str(f.relative_to(root))) for f in files]

    def read(
        self, shard: Shard, spec: InputSpec, errors: ErrorSink, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[pa.Table]:
        root = Path(spec.path)
        card = dataset_card(root)
        licence = normalize_license(card.get("license")) if card.get("license") else None
        meta = {
            "hf_dataset": card.get("pretty_name") or root.resolve().name,
            "hf_split": _split_of(shard.relative),
            "hf_file": shard.relative,
            "obtained_by": "winnow format huggingface",
        }
        rows = _rows(_tables(Path(shard.file), batch_size, errors, shard), spec, meta, licence)
        yield from self.batches(rows, spec, shard, errors, batch_size)


def _rows(tables: Iterator[pa.Table], spec: InputSpec, meta: dict, licence: str | None) -> Iterator[InputRow]:
    """The input rows of a data file's tables, each with the dataset's ``meta`` and licence."""
    position = 0
    for table in tables:
        for row in table.to_pylist():
            row["_meta"] = dict(meta, **{k: row[k] for k in spec.meta_fields if k in row})
            if licence and spec.license == UNKNOWN_LICENSE:
                row["_license"] = licence
            yield InputRow(row, position, f"row {position + 1}")
            position += 1


def dataset_card(root: Path) -> dict:
    """What the dataset says about itself: the card's front matter, or ``dataset_info.json`` (save_to_disk)."""
    for info in [root / "dataset_info.json", *sorted(root.glob("*/dataset_info.json"))]:
        if info.is_file():
            data = json.loads(info.read_text(encoding="utf-8"))
            return {"license": data.get("license") or None, "pretty_name": data.get("dataset_name") or None}
    readme = root / "README.md"
    if readme.is_file():
        front = FRONT_MATTER.match(readme.read_text(encoding="utf-8"))
        fields = yaml.safe_load(front.group(1)) if front else None
        if isinstance(fields, dict):
            licence = fields.get("license")
            return {
                "license": licence[0] if isinstance(licence, list) else licence,
                "pretty_name": fields.get("pretty_name"),
            }
    return {}


def _saved_files(root: Path) -> list[Path]:
    folders = [root]
    if (root / "dataset_dict.json").is_file():
        splits = json.loads((root / "dataset_dict.json").read_text(encoding="utf-8")).get("splits", [])
        folders = [root / split for split in splits]
    files = []
    for folder in folders:
        state = folder / "state.json"
        if state.is_file():
            files += [folder / f["filename"] for f in json.loads(state.read_text(encoding="utf-8"))["_data_files"]]
    return files


def _hub_files(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and p.name.endswith(DATA_SUFFIXES) and not _hidden(p.relative_to(root))
    )


def _hidden(relative: Path) -> bool:
    return any(part.startswith((".", "_")) for part in relative.parts) or relative.name == "dataset_info.json"


def _split_of(relative: str) -> str | None:
    for part in reversed(re.split(r"[/\\]", relative)):
        name = part.lower()
        for split in SPLITS:
            if name == split or re.match(rf"^{split}(?:[-_.]|$)", name):
                return split
    return None


def _tables(path: Path, batch_size: int, errors: ErrorSink, shard: Shard) -> Iterator[pa.Table]:
    name = path.name
    try:
        if name.endswith(".parquet"):
            for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_size):
                yield pa.Table.from_batches([batch])
        elif name.endswith(".arrow"):
            with pa.memory_map(str(path)) as source:
                try:
                    reader = pa.ipc.open_stream(source)  # what save_to_disk writes
                except pa.ArrowInvalid:
                    source.seek(0)
                    reader = pa.ipc.open_file(source)
                    yield reader.read_all()
                    return
                for batch in reader:
                    yield pa.Table.from_batches([batch])
        elif name.endswith(".csv"):
            yield pa_csv.read_csv(path)
        else:
            import pyarrow.json as pa_json

            yield pa_json.read_json(path)
    except (pa.ArrowInvalid, OSError) as error:
        errors.bad(shard.source_file, "file", f"unreadable {path.suffix} shard: {error}")
