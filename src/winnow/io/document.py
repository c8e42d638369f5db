"""What the whole-document readers (pdf, docx, epub, markdown, rst) share: one record per file, the
install hint when an optional library is missing, and a damaged file reported with its name."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from types import ModuleType

import pyarrow as pa

from winnow.errors import RecipeError
from winnow.io.base import DEFAULT_BATCH_SIZE, ErrorSink, InputRow, InputSpec, Reader, Shard
from winnow.io.files import open_binary
from winnow.licenses import normalize_license


def optional_module(name: str, fmt: str, extra: str) -> ModuleType:
    """Import an optional library, or say which extra installs it (the reader stays listed without it)."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError:
        raise RecipeError(f"format {fmt} needs {name}: pip install 'winnow[{extra}]'") from None


def _modified(url: str) -> str | None:
    """The file's modification time (ISO, UTC) for ``collected_at``, when it is a local file."""
    path = url.removeprefix("file://")
    if not os.path.exists(path):
        return None
    return datetime.fromtimestamp(os.path.getmtime(path), UTC).isoformat(timespec="seconds")


class DocumentReader(Reader):
    """A reader that turns each file into one record: subclasses implement ``document``."""

    def read(
        self, shard: Shard, spec: InputSpec, errors: ErrorSink, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[pa.Table]:
        with open_binary(shard.file) as f:
            data = f.read()
        row = self.document(data, shard, errors)
        rows = []
        if row is not None:
            row[spec.text_field] = row.pop("text")
            row.setdefault("_collected_at", _modified(shard.file))
            meta = row.setdefault("_meta", {})
            meta["obtained_by"] = f"winnow format {self.format}"
            stated = normalize_license(meta.get("rights")) if isinstance(meta.get("rights"), str) else None
            if stated:
                row["_license"] = stated
            rows.append(InputRow(row, 0, "document"))
        yield from self.batches(rows, spec, shard, errors, batch_size)

    def document(self, data: bytes, shard: Shard, errors: ErrorSink) -> dict | None:
        """The input row of one file (``text`` and ``_meta``), or None after reporting it to ``errors``."""
        raise NotImplementedError
