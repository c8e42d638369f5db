"""Parquet input. Reads in record batches (bounded memory); a file is one shard.

Files written by Winnow itself (they already hold the record schema) pass through with
their tag columns: that is how a later stage of a run reads the earlier stage's output.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from winnow.errors import InputError
from winnow.io.base import DEFAULT_BATCH_SIZE, ErrorSink, InputRow, InputSpec, Reader, Shard, register_reader
from winnow.io.files import open_binary


@register_reader
class ParquetReader(Reader):
    format = "parquet"
    extensions = (".parquet", ".pq")

    def read(
        self, shard: Shard, spec: InputSpec, errors: ErrorSink, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[pa.Table]:
        with open_binary(shard.file, compression=None) as f:
            try:
                parquet = pq.ParquetFile(f)
            except (pa.ArrowInvalid, OSError) as error:
                raise InputError(shard.file, "file", f"not a readable Parquet file: {error}") from None
            row_number = 0
            # One batch of records per batch the file gives (at most batch_size rows each).
            for record_batch in parquet.iter_batches(batch_size=batch_size):
                rows = [
                    InputRow(row, row_number + i, f"row {row_number + i}", row)
                    for i, row in enumerate(record_batch.to_pylist(), 1)
                ]
                row_number += record_batch.num_rows
                yield from self.batches(rows, spec, shard, errors, batch_size)


def read_records(path: str, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[pa.Table]:
    """Batches of a Parquet file written by Winnow, with every column as written."""
    with open_binary(path, compression=None) as f:
        for record_batch in pq.ParquetFile(f).iter_batches(batch_size=batch_size):
            yield pa.Table.from_batches([record_batch])
