"""CSV/TSV input (header row required), read in blocks with pyarrow's streaming CSV reader."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.csv as pcsv

from winnow.errors import InputError
from winnow.io.base import (
    DEFAULT_BATCH_SIZE,
    ErrorSink,
    InputRow,
    InputSpec,
    Reader,
    Shard,
    register_reader,
    strip_compression,
)
from winnow.io.files import open_binary


def _open_stream(shard: Shard, delimiter: str, column_types: dict[str, pa.DataType] | None) -> tuple[object, object]:
    """The open file and pyarrow's CSV stream over it; (None, None) for an empty file."""
    f = open_binary(shard.file)
    try:
        stream = pcsv.open_csv(
            f,
            parse_options=pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(column_types=column_types or {}),
            read_options=pcsv.ReadOptions(block_size=8 << 20),
        )
    except pa.ArrowInvalid as error:
        f.close()
        if "Empty CSV file" in str(error):
            return None, None  # an empty input file is not an error
        raise InputError(shard.file, "header", f"not a readable CSV file: {error}") from None
    return f, stream


@register_reader
class CsvReader(Reader):
    format = "csv"
    extensions = (".csv", ".tsv")

    def read(
        self, shard: Shard, spec: InputSpec, errors: ErrorSink, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[pa.Table]:
        delimiter = "\t" if strip_compression(shard.file.lower()).endswith(".tsv") else ","
        # A first open learns the column names; the real read takes every column as a string:
        # a CSV has no types, and ids such as 00123 must survive.
        f, stream = _open_stream(shard, delimiter, None)
        if stream is None:
            return
        names = stream.schema.names
        f.close()
        f, stream = _open_stream(shard, delimiter, {name: pa.string() for name in names})
        with f:
            yield from self.batches(_rows(shard, stream), spec, shard, errors, batch_size)


def _rows(shard: Shard, stream: pcsv.CSVStreamingReader) -> Iterator[InputRow]:
    row_number = 1  # the header is row 1, as a spreadsheet numbers it
    while True:
        try:
            record_batch = stream.read_next_batch()
        except StopIteration:
            return
        except pa.ArrowInvalid as error:
            raise InputError(shard.file, f"after row {row_number}", f"malformed CSV: {error}") from None
        for row in record_batch.to_pylist():
            row_number += 1
            yield InputRow(row, row_number, f"row {row_number}", row)
