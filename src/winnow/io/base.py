"""Readers: how input files become record batches.

An input (``InputSpec``, the recipe's ``input:``) names files; the planner cuts them into
**shards** (a whole file, or a byte range of a large uncompressed line-oriented file), and
a reader turns one shard into record batches (``winnow.records``). Shards are the unit of
parallelism, of completion markers and of resume, so the plan depends only on the input
files and the recipe, never on the number of workers.

A reader that meets a bad row calls ``errors.bad(...)``: with ``on_error: fail`` that raises
an ``InputError`` naming the file, the location and the cause; with ``skip`` the row goes
to quarantine and is counted.

Add a format by writing a module in ``winnow.io`` with a ``Reader`` subclass decorated with
``@register_reader`` and listing the module in ``READER_MODULES``.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple, Protocol

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, field_validator

from winnow.errors import InputError, RecipeError, WinnowError
from winnow.extras import import_modules, require
from winnow.records import UNKNOWN_LICENSE, derived_id, encode_meta, make_batch

DEFAULT_BATCH_SIZE = 2048  # records per batch: big enough for vectorised steps, small in memory


class InputSpec(BaseModel):
    """One recipe input. ``path`` is a file, directory or glob; fsspec URLs are accepted."""

    model_config = ConfigDict(extra="forbid")

    path: str
    format: str | None = None  # jsonl | parquet | csv | text | warc | html | chat | sharegpt…; default from extension
    text_field: str = "text"
    id_field: str = "id"
    source: str | None = None  # default: the input path
    source_field: str | None = None  # take each record's source from this field when present
    license: str = UNKNOWN_LICENSE
    license_field: str | None = None  # take each record's licence from this field when present
    meta_fields: list[str] = []
    collected_at: str | None = None  # ISO date the data was collected, when the input lacks one
    weight: float | None = None  # share of this input in a mixture (``mix:`` in the recipe)
    # Large uncompressed line files are cut into shards of this size. Default: the input's
    # size / 64, within 1–64 MB, so even a small input spreads evenly over the workers.
    shard_mb: float | None = None
    ref: str | None = None  # format git: the commit, branch or tag to read (default HEAD)

    @field_validator("path")
    @classmethod
    def _path_not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("input path is empty")
        return value

    @property
    def source_name(self) -> str:
        return self.source or self.path


@dataclass(frozen=True)
class Shard:
    index: int  # position in the whole plan (all inputs): names output parts and markers
    input_index: int  # which input of the recipe
    file: str  # path or URL
    relative: str  # file relative to the input root: the base of derived ids
    start: int = 0  # byte range for split line files; end None = to the end of the file
    end: int | None = None
    format: str = "jsonl"
    first_line: int = 1  # line number (from 1) at ``start``: errors and derived ids name real lines
    origin: str | None = None  # the input file, when ``file`` is a piece of it staged by the plan

    @property
    def source_file(self) -> str:
        """The input file the records come from (what errors and the input_file column name)."""
        return self.origin or self.file

    def describe(self) -> str:
        if self.origin is not None:
            return f"{self.origin} from line {self.first_line}"
        where = f" bytes {self.start}-{self.end}" if self.end is not None else ""
        return f"{self.file}{where}"


@dataclass
class ErrorSink:
    """Where readers report bad rows; fails or quarantines by the recipe's ``on_error``."""

    on_error: str = "fail"  # fail | skip
    quarantined: list[dict[str, Any]] = field(default_factory=list)

    def bad(self, file: str, location: str, cause: str, raw: Any = None, record_id: str | None = None) -> None:
        if self.on_error != "skip":
            raise InputError(file, location, cause)
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", "replace").rstrip("\r\n")
        raw_text = raw if isinstance(raw, str) or raw is None else repr(raw)
        self.quarantined.append(
            {
                "id": record_id or f"{file}:{location}",
                "file": file,
                "location": location,
                "reason": cause,
                "raw": raw_text,
            }
        )

    def take(self) -> list[dict[str, Any]]:
        rows, self.quarantined = self.quarantined, []
        return rows


class RecordBuilder:
    """Turns input rows (dicts) into record batches, applying the input's field mapping.

    Checks what every record needs (a string text) and reports bad rows to the error sink.
    """

    def __init__(self, spec: InputSpec, shard: Shard, errors: ErrorSink):
        self.spec, self.shard, self.errors = spec, shard, errors
        self.keep = [f for f in spec.meta_fields if f != "url"]
        self.want_url = "url"  # url goes to its own column whenever the input has one
        self._reset()

    def _reset(self) -> None:
        self.columns: dict[str, list[Any]] = {
            k: [] for k in ("id", "text", "source", "url", "license", "collected_at", "input_file", "meta")
        }

    def __len__(self) -> int:
        return len(self.columns["id"])

    def add(self, row: Any, position: int, location: str, raw: Any = None) -> None:
        spec, shard = self.spec, self.shard
        if not isinstance(row, dict):
            self.errors.bad(shard.source_file, location, f"expected an object, got {type(row).__name__}", raw)
            return
        text = row.get(spec.text_field)
        record_id = row.get(spec.id_field)
        record_id = derived_id(shard.relative, position) if record_id is None else str(record_id)
        if text is None:
            self.errors.bad(shard.source_file, location, f"missing text field {spec.text_field!r}", raw, record_id)
            return
        if not isinstance(text, str):
            self.errors.bad(
                shard.source_file,
                location,
                f"text field {spec.text_field!r} is {type(text).__name__}, not a string",
                raw,
                record_id,
            )
            return
        c = self.columns
        c["id"].append(record_id)
        c["text"].append(text)
        c["source"].append(row.get("_source") or (spec.source_field and row.get(spec.source_field)) or spec.source_name)
        url = row.get("url")
        c["url"].append(url if isinstance(url, str) else None)
        license_ = row.get("_license") or (spec.license_field and row.get(spec.license_field)) or spec.license
        c["license"].append(license_)
        collected = row.get("collected_at") or row.get("_collected_at") or spec.collected_at
        c["collected_at"].append(str(collected) if collected is not None else None)
        c["input_file"].append(shard.source_file)
        meta = {k: row[k] for k in self.keep if k in row}
        if "_meta" in row:
            meta.update(row["_meta"])
        c["meta"].append(encode_meta(meta) if meta else None)

    def flush(self) -> pa.Table | None:
        if not len(self):
            return None
        batch = make_batch(self.columns)
        self._reset()
        return batch


class InputRow(NamedTuple):
    """One input row as a reader found it, for a builder's ``add``."""

    row: Any  # the parsed row (a dict, or whatever the file held: the builder reports a non-object)
    position: int  # the row's number in the file: the base of its derived id
    location: str  # where it is, as errors name it: "line 12", "row 3", "file"
    raw: Any = None  # the row as read, for quarantine


class BatchBuilder(Protocol):
    """What ``build_batches`` needs of a builder (``RecordBuilder``, the chat reader's ``ConversationBuilder``)."""

    def __len__(self) -> int: ...
    def add(self, row: Any, position: int, location: str, raw: Any = None) -> None: ...
    def flush(self) -> pa.Table | None: ...


def build_batches(builder: BatchBuilder, rows: Iterable[InputRow], batch_size: int) -> Iterator[pa.Table]:
    """The record batches of ``rows``: one each ``batch_size`` records the builder keeps, then the rest.

    When reading fails part way (a truncated file, corrupt compression: an error that is not
    Winnow's own report of a bad row), the records built so far are good: they are handed on before
    the error, which the shard runner reports or quarantines with the count of records read."""
    iterator = iter(rows)
    while True:
        try:
            row, position, location, raw = next(iterator)
        except StopIteration:
            break
        except WinnowError:
            raise
        except Exception:
            batch = builder.flush()
            if batch is not None:
                yield batch
            raise
        builder.add(row, position, location, raw)
        if len(builder) >= batch_size:
            yield builder.flush()
    batch = builder.flush()
    if batch is not None:
        yield batch


class Reader:
    """Reads one shard into record batches. Subclass per format: ``read`` finds the input rows and
    hands them to ``batches``."""

    format: ClassVar[str] = ""
    extensions: ClassVar[tuple[str, ...]] = ()  # e.g. (".jsonl", ".json", ".ndjson")
    splittable: ClassVar[bool] = False  # uncompressed files may be cut into byte ranges
    # Optional dependencies (import names) and the winnow extra that installs them; checked when
    # a recipe's input is planned, before any data is read.
    needs: ClassVar[tuple[str, ...]] = ()
    extra: ClassVar[str | None] = None

    @classmethod
    def expand(cls, path: str) -> list[tuple[str, str]] | None:
        """The (url, relative) inputs of ``path`` when the format reads a folder as one input (a git
        repository); None: the files under ``path``, as for every file format."""
        return None

    @classmethod
    def can_split(cls, url: str) -> bool:
        """Whether this file of a splittable format can be cut (a JSON array file cannot)."""
        return cls.splittable

    def read(
        self, shard: Shard, spec: InputSpec, errors: ErrorSink, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[pa.Table]:
        raise NotImplementedError

    def batches(
        self, rows: Iterable[InputRow], spec: InputSpec, shard: Shard, errors: ErrorSink, batch_size: int
    ) -> Iterator[pa.Table]:
        """The record batches of a shard's input rows (what ``read`` returns, in every reader)."""
        return build_batches(self.builder(spec, shard, errors), rows, batch_size)

    def builder(self, spec: InputSpec, shard: Shard, errors: ErrorSink) -> BatchBuilder:
        """What turns this format's rows into records (a ``RecordBuilder``, or the chat reader's)."""
        return RecordBuilder(spec, shard, errors)


_READERS: dict[str, type[Reader]] = {}
READER_MODULES = [
    "winnow.io.jsonl",
    "winnow.io.parquet",
    "winnow.io.csv",
    "winnow.io.text",
    "winnow.io.warc",
    "winnow.io.html",
    "winnow.io.chat.reader",
    "winnow.io.git",
    "winnow.io.pdf",
    "winnow.io.docx",
    "winnow.io.epub",
    "winnow.io.markup",
    "winnow.io.huggingface",
]
COMPRESSIONS = (".gz", ".zst", ".zstd", ".bz2", ".xz")


def register_reader(cls: type[Reader]) -> type[Reader]:
    _READERS[cls.format] = cls
    return cls


def readers() -> dict[str, type[Reader]]:
    import_modules(READER_MODULES)
    return _READERS


def strip_compression(name: str) -> str:
    for ext in COMPRESSIONS:
        if name.endswith(ext):
            return name[: -len(ext)]
    return name


def is_compressed(name: str) -> bool:
    return strip_compression(name) != name


def format_of(path: str, declared: str | None) -> str:
    """The input format of ``path``; raises when it is unknown or its reader's dependencies are missing."""
    fmt = _format_of(path, declared)
    reader = readers()[fmt]
    require(f"the {fmt} reader ({path})", reader.needs, reader.extra)
    return fmt


def _format_of(path: str, declared: str | None) -> str:
    known = readers()
    if declared:
        if declared not in known:
            raise RecipeError(f"unknown input format {declared!r} (choices: {', '.join(sorted(known))})")
        return declared
    base = strip_compression(posixpath.basename(path)).lower()
    for fmt, cls in known.items():
        if any(base.endswith(ext) for ext in cls.extensions):
            return fmt
    raise RecipeError(f"cannot tell the format of {path!r} from its name; set input.format")
