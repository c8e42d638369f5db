"""WARC reading: our ``format: warc`` reader against the bare parsers, on the same real files.

Run:  .venv/bin/python benchmarks/warc_read.py

Input: ../shared/data/warc/constructed/debian-docs-html-subset.warc.gz (3,421 request/response pairs,
16.7 MB gzipped) and the two dolma crawl samples. Rows:

* ``winnow``: our reader, records to Arrow batches with url, WARC-Date, HTTP headers, charset decoding;
* ``warcio``: warcio's ArchiveIterator alone, reading every response payload (the floor our reader
  stands on: it parses with warcio, which also reads ARC);
* ``fastwarc``: FastWARC's ArchiveIterator reading every response payload (what a Rust parser would
  give; it cannot read ARC, which is why warcio is the default).

DataTrove's WarcReader (warcio + cchardet + libmagic) is not run: cchardet and python-magic do not
install in the peers' environment here; it parses with the same warcio.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WARC = ROOT.parent / "shared" / "data" / "warc"
FILES = [
    WARC / "constructed" / "debian-docs-html-subset.warc.gz",
    WARC / "dolma" / "sample-0000.warc.gz",
    WARC / "dolma" / "sample-0001.warc.gz",
]


def read_winnow(files: list[Path] = FILES) -> tuple[int, int]:
    sys.path.insert(0, str(ROOT / "src"))
    from winnow.io.base import ErrorSink, InputSpec, Shard, readers

    reader = readers()["warc"]()
    docs = chars = 0
    for path in files:
        shard = Shard(index=0, input_index=0, file=str(path), relative=path.name, format="warc")
        for batch in reader.read(shard, InputSpec(path=str(path), format="warc"), ErrorSink()):
            docs += batch.num_rows
            chars += sum(len(t) for t in batch.column("text").to_pylist())
    return docs, chars


def read_warcio(files: list[Path] = FILES) -> tuple[int, int]:
    from warcio.archiveiterator import ArchiveIterator

    docs = size = 0
    for path in files:
        with open(path, "rb") as f:
            for record in ArchiveIterator(f):
                if record.rec_type == "response":
                    size += len(record.content_stream().read())
                    docs += 1
    return docs, size


def read_fastwarc(files: list[Path] = FILES) -> tuple[int, int]:
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    docs = size = 0
    for path in files:
        for record in ArchiveIterator(str(path), record_types=WarcRecordType.response, parse_http=True):
            size += len(record.reader.read())
            docs += 1
    return docs, size


def main() -> None:
    megabytes = sum(p.stat().st_size for p in FILES) / 1e6
    print(f"{len(FILES)} files, {megabytes:.1f} MB compressed")
    print(f"{'reader':>10} {'docs':>6} {'docs/s':>8} {'MB/s (compressed)':>18}")
    speeds = {}
    for name, fn in (("winnow", read_winnow), ("warcio", read_warcio), ("fastwarc", read_fastwarc)):
        fn(FILES[-1:])  # warm-up: imports are not timed
        start = time.perf_counter()
        docs, _ = fn()
        seconds = time.perf_counter() - start
        speeds[name] = docs / seconds
        print(f"{name:>10} {docs:>6} {docs / seconds:>8.0f} {megabytes / seconds:>18.2f}")
    print(f"winnow / bare warcio: {speeds['winnow'] / speeds['warcio']:.2f}x")


if __name__ == "__main__":
    main()
