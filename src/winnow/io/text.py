"""Plain-text input: each file is one document; its id is the file's path relative to the input root."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa

from winnow.io.base import DEFAULT_BATCH_SIZE, ErrorSink, InputRow, InputSpec, Reader, Shard, register_reader
from winnow.io.files import open_binary


@register_reader
class TextReader(Reader):
    format = "text"
    extensions = (".txt", ".md", ".rst", ".text")

    def read(
        self, shard: Shard, spec: InputSpec, errors: ErrorSink, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[pa.Table]:
        with open_binary(shard.file) as f:
            data = f.read()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            errors.bad(shard.file, f"byte {error.start}", "not valid UTF-8", data[:200])
            return
        row = InputRow({spec.id_field: shard.relative, spec.text_field: text}, 1, "file")
        yield from self.batches([row], spec, shard, errors, batch_size)
