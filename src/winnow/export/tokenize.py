"""``winnow tokenize``: documents -> shuffled shards of token ids a trainer can memory-map.

Two phases with files in between (see docs/token-format.md for the output):

1. *encode*: batches of documents are encoded in worker processes (HF ``tokenizers``); each
   batch becomes a chunk file of token ids (with the end-of-document id appended to every
   document) plus its document lengths. Chunks follow the input order, so the result does
   not depend on the number of workers.
2. *shuffle and write*: per split, a seeded permutation of all documents; documents are copied
   from the memory-mapped chunks into shards of about ``shard_tokens`` tokens, each with an
   index of document boundaries. A JSON header (``tokens.json``) describes the whole.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from winnow.errors import WinnowError
from winnow.export.documents import find_files, read_batches
from winnow.export.splits import SPLITS, splits_of
from winnow.export.tokenizer import end_of_document_id, file_sha256, load_tokenizer

FORMAT = "winnow-tokens"
FORMAT_VERSION = 1
HEADER = "tokens.json"
DEFAULT_SHARD_TOKENS = 100_000_000  # ~200 MB of uint16: big enough to be few, small enough to copy
BATCH_ROWS = 256  # documents per encode task: small enough to balance the workers to the end
INDEX_DTYPE = np.uint64


def tokenize(
    data: list[str],
    tokenizer: str,
    output: str,
    val_fraction: float = 0.0,
    seed: int = 0,
    shard_tokens: int = DEFAULT_SHARD_TOKENS,
    workers: int = 1,
    eod_token: str | None = None,
) -> dict[str, Any]:
    """Encode DATA with ``tokenizer`` into shuffled token shards under ``output``; returns the header.

    ``val_fraction`` sends that share of documents (by a hash of their id) to ``val``; when the
    data already has a ``split`` column (or ``data/<split>/`` partitions), that split is kept."""
    if not 0.0 <= val_fraction < 1.0:
        raise WinnowError(f"val fraction must be in [0, 1), got {val_fraction}")
    if shard_tokens < 1:
        raise WinnowError(f"shard tokens must be positive, got {shard_tokens}")
    started, cpu_started = time.time(), _cpu_seconds()
    files = find_files(data)
    tok = load_tokenizer(tokenizer)
    eod, eod_id = end_of_document_id(tok, eod_token)
    vocab_size = tok.get_vocab_size(with_added_tokens=True)
    dtype = np.dtype(np.uint16 if vocab_size <= 2**16 else np.uint32)

    out = Path(output)
    _clear_previous(out)
    tmp = out / "_tmp"
    tmp.mkdir(parents=True)
    job = _EncodeJob(tokenizer, eod_id, dtype.str, str(tmp), val_fraction)
    chunks = _encode_all(files, job, workers)
    split_by = "column" if any(c["split_from_column"] for c in chunks) else ("id_hash" if val_fraction else "none")

    header: dict[str, Any] = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "tokenizer": {
            "path": str(Path(tokenizer).resolve()),
            "sha256": file_sha256(tokenizer),
            "vocab_size": vocab_size,
            "eod_token": eod,
            "eod_id": eod_id,
        },
        "dtype": dtype.name,
        "byte_order": "little",
        "index_dtype": np.dtype(INDEX_DTYPE).name,
        "seed": seed,
        "val_fraction": val_fraction,
        "split_by": split_by,
        "shard_tokens": shard_tokens,
        "data": [str(Path(d).resolve()) for d in data],
        "splits": {},
    }
    _write_shards(chunks, tmp, out, dtype, seed, shard_tokens, header)
    shutil.rmtree(tmp)
    splits = header["splits"].values()
    header["documents"] = sum(s["documents"] for s in splits)
    header["tokens"] = sum(s["tokens"] for s in splits)
    header["text_tokens"] = header["tokens"] - header["documents"]  # without the end-of-document ids
    header["wall_seconds"] = round(time.time() - started, 3)
    header["cpu_seconds"] = round(_cpu_seconds() - cpu_started, 3)  # this process and its finished workers
    _write_json(out / HEADER, header)
    _record_in_runs(data, out, header)
    return header


# -- phase 1: encode --------------------------------------------------------------------------


@dataclass(frozen=True)
class _EncodeJob:
    """What every encode task needs; picklable, the tokenizer is loaded once per process."""

    tokenizer: str
    eod_id: int
    dtype: str
    tmp: str
    val_fraction: float


_process_tokenizers: dict[str, Any] = {}


def _worker_init() -> None:
    # One process per core: each encodes on its own thread rather than all fighting over cores.
    os.environ["TOKENIZERS_PARALLELISM"] = "false"


def _encode_chunk(job: _EncodeJob, number: int, table: pa.Table) -> dict[str, Any]:
    tok = _process_tokenizers.get(job.tokenizer)
    if tok is None:
        tok = _process_tokenizers[job.tokenizer] = load_tokenizer(job.tokenizer)
    texts = table.column("text").to_pylist()
    encodings = tok.encode_batch_fast(texts, add_special_tokens=False)
    lengths = np.fromiter((len(e.ids) + 1 for e in encodings), dtype=np.int64, count=len(encodings))
    tokens = np.empty(int(lengths.sum()), dtype=np.dtype(job.dtype))
    ends = np.cumsum(lengths)
    position = 0
    for encoding, end in zip(encodings, ends, strict=False):
        tokens[position : end - 1] = encoding.ids
        position = end
    tokens[ends - 1] = job.eod_id
    tokens.tofile(os.path.join(job.tmp, f"chunk-{number:06d}.bin"))

    ids = (
        table.column("id").to_pylist() if "id" in table.column_names else [f"#{number}:{i}" for i in range(len(texts))]
    )
    from_column = "split" in table.column_names
    if from_column:
        splits = table.column("split").to_pylist()
        bad = sorted({s for s in splits if s not in SPLITS}, key=str)
        if bad:
            raise WinnowError(f"unknown split values {bad} (expected {', '.join(SPLITS)})")
    else:
        splits = splits_of(ids, job.val_fraction)
    meta = pa.table({"id": pa.array(ids, pa.string()), "split": pa.array(splits, pa.string()), "length": lengths})
    pq.write_table(meta, os.path.join(job.tmp, f"chunk-{number:06d}.parquet"))
    return {"number": number, "documents": len(texts), "tokens": int(tokens.size), "split_from_column": from_column}


def _encode_all(files: list, job: _EncodeJob, workers: int) -> list[dict[str, Any]]:
    batches = ((n, t) for n, t in enumerate(_batches(files)))
    if workers <= 1:
        return [_encode_chunk(job, n, t) for n, t in batches]
    results: list[dict[str, Any]] = []
    pending: list[Future] = []
    with ProcessPoolExecutor(workers, mp_context=get_context("fork"), initializer=_worker_init) as pool:
        for number, table in batches:
            pending.append(pool.submit(_encode_chunk, job, number, table))
            if len(pending) >= 2 * workers:  # bounded memory: read only a little ahead of the workers
                results.append(pending.pop(0).result())
        results.extend(f.result() for f in pending)
    return results


def _batches(files: list):
    for file in files:
        yield from read_batches(file, ["id", "text", "split"], BATCH_ROWS)


# -- phase 2: shuffle and write ---------------------------------------------------------------


def _write_shards(
    chunks: list[dict[str, Any]], tmp: Path, out: Path, dtype: np.dtype, seed: int, shard_tokens: int, header: dict
) -> None:
    tables = [pq.read_table(tmp / f"chunk-{c['number']:06d}.parquet") for c in chunks]
    docs = pa.concat_tables(tables) if tables else pa.table({"id": [], "split": [], "length": []})
    lengths = docs.column("length").to_numpy().astype(np.int64)
    chunk_of = np.repeat(np.arange(len(chunks)), [c["documents"] for c in chunks])
    starts = np.zeros_like(lengths)  # start of each document inside its chunk file
    for n in range(len(chunks)):
        mask = chunk_of == n
        chunk_lengths = lengths[mask]
        starts[mask] = np.cumsum(chunk_lengths) - chunk_lengths
    sources = [
        np.memmap(tmp / f"chunk-{c['number']:06d}.bin", dtype=dtype, mode="r") if c["tokens"] else None for c in chunks
    ]
    split_column = np.array(docs.column("split").to_pylist(), dtype=object)
    ids = docs.column("id")

    for split_index, split in enumerate(SPLITS):
        members = np.flatnonzero(split_column == split)
        if not members.size:
            continue
        order = members[np.random.default_rng([seed, split_index]).permutation(members.size)]
        shards, shard_ids, shard_numbers, shard_starts = [], [], [], []
        position = 0
        while position < order.size:
            # A shard takes whole documents until it holds at least shard_tokens (at least one document).
            cumulative = np.cumsum(lengths[order[position:]])
            count = int(np.searchsorted(cumulative, shard_tokens, side="left")) + 1
            count = min(count, order.size - position)
            picked = order[position : position + count]
            name = f"{split}-{len(shards):05d}"
            offsets = np.zeros(count + 1, dtype=INDEX_DTYPE)
            np.cumsum(lengths[picked], out=offsets[1:])
            buffer = np.empty(int(offsets[-1]), dtype=dtype)
            for doc, begin, end in zip(picked.tolist(), offsets[:-1].tolist(), offsets[1:].tolist(), strict=False):
                buffer[begin:end] = sources[chunk_of[doc]][starts[doc] : starts[doc] + (end - begin)]
            buffer.tofile(out / f"{name}.bin")
            offsets.tofile(out / f"{name}.idx")
            shards.append({"bin": f"{name}.bin", "idx": f"{name}.idx", "documents": count, "tokens": int(offsets[-1])})
            shard_ids.append(ids.take(pa.array(picked)))
            shard_numbers.append(np.full(count, len(shards) - 1, dtype=np.int32))
            shard_starts.append(offsets[:-1])
            position += count
        catalogue = pa.table(
            {
                "id": pa.concat_arrays(
                    [c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c for c in shard_ids]
                ),
                "shard": np.concatenate(shard_numbers),
                "start": np.concatenate(shard_starts),
                "tokens": lengths[order],
            }
        )
        pq.write_table(catalogue, out / f"{split}.documents.parquet")
        header["splits"][split] = {
            "documents": int(order.size),
            "tokens": int(lengths[order].sum()),
            "shards": shards,
            "documents_file": f"{split}.documents.parquet",
        }
    del sources


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _clear_previous(out: Path) -> None:
    """Remove the files of an earlier tokenisation in ``out`` (and nothing else)."""
    if not out.exists():
        return
    if not out.is_dir():
        raise WinnowError(f"output {out} exists and is not a directory")
    for pattern in ("*.bin", "*.idx", "*.documents.parquet", HEADER):
        for path in out.glob(pattern):
            path.unlink()
    if (out / "_tmp").exists():
        shutil.rmtree(out / "_tmp")


def _write_json(path: Path, value: Any) -> None:
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(value, indent=1) + "\n")
    partial.replace(path)


def _record_in_runs(data: list[str], out: Path, header: dict[str, Any]) -> None:
    """When DATA is one run directory, leave a copy of the header in its ``_winnow/`` for the data card."""
    if len(data) != 1 or not (Path(data[0]) / "_winnow" / "manifest.json").is_file():
        return
    record = dict(header, output=str(out.resolve()))
    _write_json(Path(data[0]) / "_winnow" / HEADER, record)
