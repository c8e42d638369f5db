"""Benchmark decontamination: find documents that share word n-grams with benchmark items.

``prepare`` builds an n-gram index once per run, from the benchmark files named in the recipe
(never from the dataset), under the stage's work directory; ``process`` loads it lazily in each
worker (local processes or Ray tasks) and tags or drops the documents that share at least
``min_matches`` n-grams with one benchmark item, naming the items.

Words are the lower-cased Unicode letter/digit runs of the text (``winnow.text.shingles``, the
same vectorised shingling MinHash dedup uses), so a question pasted with changed case, spacing,
line breaks or punctuation still matches. An item (or a document) shorter than ``n`` words is one
n-gram of all its words: it matches a document that *is* that short text, not one that merely
contains it (short items such as one-line trivia questions would otherwise flag ordinary prose).
An n-gram found in more than ``max_items_per_ngram`` items is template text shared by a whole
benchmark ("Answer the following question…"), not the content of one item, and is left out; so is
an n-gram whose words are mostly numbers or single characters ("1 2 3 … 13" in a MATH item would
match every source listing with line numbers).

Index files (under the work directory): ``index-hashes.npy`` (sorted distinct n-gram hashes),
``index-offsets.npy`` and ``index-items.npy`` (for each hash, the items that have it) and
``items.json`` (benchmark name and item id of each item, and the build counts).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import zstandard
from pydantic import BaseModel, ConfigDict, Field

from winnow.errors import RecipeError, WinnowError
from winnow.manifest import Section
from winnow.records import with_column
from winnow.stages.workfiles import local_path, save_json, save_npy
from winnow.steps.base import GlobalStage, StepParams, StepResult, TaskRunner
from winnow.steps.registry import register
from winnow.text.shingles import WORD_SEPARATOR, shingle_hashes, word_hashes

INDEX_FILES = ("index-hashes.npy", "index-offsets.npy", "index-items.npy", "items.json")
SHOWN_ITEMS = 3  # items named per flagged document


class BenchmarkFile(BaseModel):
    """One benchmark file: JSONL (.jsonl, .json, optionally .gz/.zst), Parquet or CSV."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="the benchmark file")
    fields: list[str] = Field(["text"], min_length=1, description="fields whose text is indexed (joined by newlines)")
    name: str | None = Field(None, description="the benchmark's name; default: name_field, else the file name")
    name_field: str | None = Field(None, description="field holding each item's benchmark name (flat files)")
    id_field: str | None = Field(None, description="field holding each item's id; default: its row number")

    def benchmark_name(self) -> str:
        stem = Path(self.path).name
        for ext in (".gz", ".zst", ".jsonl", ".json", ".parquet", ".csv"):
            stem = stem.removesuffix(ext)
        return self.name or stem


def _open_text(path: str) -> io.TextIOBase:
    raw = open(path, "rb")  # noqa: SIM115 - the wrapper owns and closes it
    if path.endswith(".zst"):
        stream: Any = zstandard.ZstdDecompressor().stream_reader(raw, closefd=True)
    elif path.endswith(".gz"):
        stream = gzip.GzipFile(fileobj=raw)
    else:
        stream = raw
    return io.TextIOWrapper(stream, encoding="utf-8-sig")


def _first_row_fields(path: str) -> set[str] | None:
    """The fields of a benchmark file (Parquet schema, CSV header, first JSON row); None when it is empty."""
    base = path.removesuffix(".gz").removesuffix(".zst")
    if base.endswith(".parquet"):
        return set(pq.read_schema(path).names)
    with _open_text(path) as f:
        if base.endswith(".csv"):
            return set(next(csv.reader(f), []))
        for line in f:
            if line.strip():
                row = orjson.loads(line)
                if not isinstance(row, dict):
                    raise ValueError("the first row is not a JSON object")
                return set(row)
    return None


def read_benchmark(spec: BenchmarkFile) -> list[tuple[str, str, str]]:
    """(benchmark name, item id, text) of every item of one file. Errors name the file and the row."""
    path = spec.path
    base = path.removesuffix(".gz").removesuffix(".zst")
    try:
        if base.endswith(".parquet"):
            rows: Any = pq.read_table(path).to_pylist()
        elif base.endswith(".csv"):
            with _open_text(path) as f:
                rows = list(csv.DictReader(f))
        else:
            with _open_text(path) as f:
                rows = []
                for number, line in enumerate(f, 1):
                    if line.strip():
                        try:
                            rows.append(orjson.loads(line))
                        except orjson.JSONDecodeError as error:
                            raise WinnowError(f"benchmark file {path}, line {number}: not JSON ({error})") from None
    except (OSError, zstandard.ZstdError, pa.ArrowException, csv.Error, UnicodeDecodeError) as error:
        raise WinnowError(f"benchmark file {path}: cannot read it ({error})") from None
    items = []
    for number, row in enumerate(rows):
        if not isinstance(row, dict):
            raise WinnowError(f"benchmark file {path}, row {number + 1}: expected an object")
        missing = [f for f in spec.fields if f not in row]
        if missing:
            raise WinnowError(f"benchmark file {path}, row {number + 1}: missing field(s) {missing}")
        text = "\n".join(str(row[f]) for f in spec.fields if row[f] is not None)
        name = spec.name or (str(row.get(spec.name_field)) if spec.name_field else None) or spec.benchmark_name()
        item_id = str(row[spec.id_field]) if spec.id_field and row.get(spec.id_field) is not None else str(number)
        items.append((name, item_id, text))
    return items


def ngram_hashes(texts: pa.Array | pa.ChunkedArray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The word n-gram hashes of each text, flat, with per-text offsets."""
    words, offsets = word_hashes(texts)
    return shingle_hashes(words, offsets, n)


def uninformative_words(texts: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Per word (split exactly as ``word_hashes`` splits), whether it carries little content: a number or a
    single character. With the per-text word offsets."""
    words = pc.split_pattern_regex(pc.utf8_lower(pc.fill_null(texts, "")), WORD_SEPARATOR)
    flat = pc.list_flatten(words)
    parents = pc.list_parent_indices(words).to_numpy()
    length = pc.utf8_length(flat)
    keep = pc.greater(length, 0).to_numpy(zero_copy_only=False)
    flags = pc.or_(pc.utf8_is_numeric(flat), pc.equal(length, 1)).to_numpy(zero_copy_only=False)[keep]
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(np.bincount(parents[keep], minlength=len(texts)), out=offsets[1:])
    return flags, offsets


def informative_ngrams(flags: np.ndarray, offsets: np.ndarray, n: int) -> np.ndarray:
    """Per n-gram, in the order ``shingle_hashes`` emits them, whether at most half its words are
    uninformative: "1 2 3 … 13" (a numbered list, a MATH item) would otherwise match every listing with
    line numbers."""
    # mirrors shingle_hashes: full windows in order, then one n-gram per short text, stably sorted by text
    n_docs = len(offsets) - 1
    lengths = np.diff(offsets)
    total = len(flags)
    if total == 0:
        return np.zeros(0, dtype=bool)
    counts = np.zeros(total + 1, dtype=np.int64)
    np.cumsum(flags, out=counts[1:])
    count = max(total - n + 1, 0)
    starts = np.arange(count)
    doc_of_position = np.repeat(np.arange(n_docs), lengths)[:count]
    valid = starts + n <= offsets[1:][doc_of_position]
    full = ((counts[starts + n] - counts[starts]) * 2 <= n)[valid]
    full_doc = doc_of_position[valid]
    short_docs = np.nonzero((lengths > 0) & (lengths < n))[0]
    if len(short_docs):
        first, last = offsets[short_docs], offsets[short_docs + 1]
        short = (counts[last] - counts[first]) * 2 <= lengths[short_docs]
        full = np.concatenate([full, short])
        full_doc = np.concatenate([full_doc, short_docs])
        full = full[np.argsort(full_doc, kind="stable")]
    return full


def build_index(items: list[tuple[str, str, str]], n: int, max_items_per_ngram: int) -> dict[str, Any]:
    """The index arrays of a list of (benchmark, id, text) items."""
    texts = pa.array([text for _, _, text in items], pa.string())
    hashes, offsets = ngram_hashes(texts, n)
    flags, word_offsets = uninformative_words(texts)
    informative = informative_ngrams(flags, word_offsets, n)
    if len(informative) != len(hashes):  # the two splits must agree word for word
        raise AssertionError("decontaminate: word split differs from winnow.text.shingles")
    item_of = np.repeat(np.arange(len(items), dtype=np.int32), np.diff(offsets))
    low_content = int((~informative).sum())
    hashes, item_of = hashes[informative], item_of[informative]
    # distinct (hash, item) pairs, sorted by hash
    order = np.lexsort((item_of, hashes))
    hashes, item_of = hashes[order], item_of[order]
    keep = np.ones(len(hashes), dtype=bool)
    keep[1:] = (hashes[1:] != hashes[:-1]) | (item_of[1:] != item_of[:-1])
    hashes, item_of = hashes[keep], item_of[keep]
    unique, starts, counts = np.unique(hashes, return_index=True, return_counts=True)
    common = counts > max_items_per_ngram
    if common.any():
        drop = np.repeat(common, counts)
        hashes, item_of = hashes[~drop], item_of[~drop]
        unique, starts, counts = np.unique(hashes, return_index=True, return_counts=True)
    item_offsets = np.zeros(len(unique) + 1, dtype=np.int64)
    np.cumsum(counts, out=item_offsets[1:])
    return {
        "hashes": unique,
        "offsets": item_offsets,
        "items": item_of,
        "template_ngrams_dropped": int(common.sum()),
        "low_content_ngrams_dropped": low_content,
        "items_without_ngrams": int(len(items) - len(np.unique(item_of))),
    }


@register
class Decontaminate(GlobalStage):
    """Tag or drop documents sharing word n-grams (default 13) with benchmark items; names the benchmark and item."""

    name = "decontaminate"
    report_section = Section.DECONTAMINATION
    on_conversations = "text"
    produces = ("decontaminate.items", "decontaminate.ngrams")

    class Params(StepParams):
        benchmarks: list[BenchmarkFile] = Field(
            min_length=1, description="benchmark files: {path, fields, name | name_field, id_field}"
        )
        n: int = Field(13, ge=3, le=50, description="words per n-gram")
        mode: Literal["tag", "drop"] = Field("drop", description="tag: add the columns only; drop: also drop matches")
        min_matches: int = Field(1, ge=1, description="n-grams a document must share with one item to be flagged")
        max_items_per_ngram: int = Field(
            20, ge=1, description="an n-gram found in more items than this is template text and is not indexed"
        )

    def check(self) -> None:
        """Every benchmark file exists, opens, and has the named fields in its first row (or schema)."""
        for spec in self.params.benchmarks:
            if not Path(spec.path).is_file():
                raise RecipeError(f"step 'decontaminate': benchmark file not found: {spec.path}")
            try:
                columns = _first_row_fields(spec.path)
            except (OSError, zstandard.ZstdError, UnicodeDecodeError, EOFError, pa.ArrowException, ValueError) as error:
                raise RecipeError(f"step 'decontaminate': cannot read benchmark file {spec.path}: {error}") from None
            wanted = [*spec.fields, *(f for f in (spec.id_field, spec.name_field) if f)]
            missing = [f for f in wanted if columns is not None and f not in columns]
            if missing:
                raise RecipeError(
                    f"step 'decontaminate': benchmark file {spec.path} has no field(s) {missing} "
                    f"(it has: {', '.join(sorted(columns or ()))})"
                )

    # -- the global phase: build the index once, in the driver --------------------------------------
    def prepare(self, parts: list[str], workdir: str, runner: TaskRunner) -> None:
        self.workdir = workdir
        folder = local_path(workdir)
        fingerprint = json.dumps(self.params.model_dump(mode="json"), sort_keys=True)
        info_path = folder / "items.json"
        if info_path.exists() and all((folder / f).exists() for f in INDEX_FILES):
            if json.loads(info_path.read_text()).get("fingerprint") == fingerprint:
                return  # resumed run: the index is already built
        items: list[tuple[str, str, str]] = []
        for spec in self.params.benchmarks:
            items.extend(read_benchmark(spec))
        index = build_index(items, self.params.n, self.params.max_items_per_ngram)
        save_npy(folder / "index-hashes.npy", index["hashes"])
        save_npy(folder / "index-offsets.npy", index["offsets"])
        save_npy(folder / "index-items.npy", index["items"])
        save_json(
            info_path,
            {
                "fingerprint": fingerprint,
                "items": [[name, item_id] for name, item_id, _ in items],
                "ngrams": int(len(index["hashes"])),
                "template_ngrams_dropped": index["template_ngrams_dropped"],
                "low_content_ngrams_dropped": index["low_content_ngrams_dropped"],
                "items_without_ngrams": index["items_without_ngrams"],
            },
        )

    # -- the streaming phase: in each worker ------------------------------------------------------------
    def _index(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[str, str]]]:
        index = getattr(self, "_lazy_index", None)
        if index is None:
            if self.workdir is None:
                raise WinnowError("step 'decontaminate' has no index: prepare() was not run")
            folder = local_path(self.workdir)
            info = json.loads((folder / "items.json").read_text())
            index = (
                np.load(folder / "index-hashes.npy"),
                np.load(folder / "index-offsets.npy"),
                np.load(folder / "index-items.npy"),
                # (benchmark, label); ids of flat files often already start with "benchmark#"
                [
                    (name, item_id if item_id.startswith(f"{name}#") else f"{name}/{item_id}")
                    for name, item_id in info["items"]
                ],
            )
            self._lazy_index = index
        return index

    def _bitmap_test(self, values: np.ndarray) -> np.ndarray:
        bitmap = getattr(self, "_lazy_bitmap", None)
        hashes = self._index()[0]
        # ~32 bits per indexed n-gram: about 3% of the document's n-grams pass to the exact search
        bits = int(np.clip(np.ceil(np.log2(max(len(hashes), 1) * 32)), 20, 30))
        shift = np.uint64(64 - bits)
        if bitmap is None:
            bitmap = np.zeros(1 << (bits - 3), dtype=np.uint8)
            keys = hashes >> shift
            np.bitwise_or.at(
                bitmap, (keys >> np.uint64(3)).astype(np.int64), np.left_shift(1, keys & np.uint64(7)).astype(np.uint8)
            )
            self._lazy_bitmap = bitmap
        keys = values >> shift
        return ((bitmap[(keys >> np.uint64(3)).astype(np.int64)] >> (keys & np.uint64(7)).astype(np.uint8)) & 1).astype(
            bool
        )

    def matches(self, texts: pa.Array | pa.ChunkedArray) -> list[tuple[list[tuple[str, str]], int]]:
        """Per text: the (benchmark, item) it shares n-grams with (most shared first), and its shared n-gram count."""
        hashes, item_offsets, item_ids, labels = self._index()
        doc_hashes, doc_offsets = ngram_hashes(texts, self.params.n)
        out: list[tuple[list[tuple[str, str]], int]] = [([], 0)] * (len(doc_offsets) - 1)
        if len(hashes) == 0 or len(doc_hashes) == 0:
            return out
        # A bitmap of the index's hashes rules out almost every n-gram with one gather; the binary search
        # (a cache miss per level on a 2-million-entry array: 20x slower) runs only on what is left.
        maybe = np.flatnonzero(self._bitmap_test(doc_hashes))
        position = np.zeros(len(doc_hashes), dtype=np.int64)
        hit = np.zeros(len(doc_hashes), dtype=bool)
        if len(maybe):
            found = np.searchsorted(hashes, doc_hashes[maybe])
            found[found == len(hashes)] = 0
            position[maybe] = found
            hit[maybe] = hashes[found] == doc_hashes[maybe]
        if not hit.any():
            return out
        doc_of = np.repeat(np.arange(len(doc_offsets) - 1), np.diff(doc_offsets))
        for doc in np.unique(doc_of[hit]):
            lo, hi = doc_offsets[doc], doc_offsets[doc + 1]
            doc_hits = position[lo:hi][hit[lo:hi]]
            per_item: dict[int, int] = {}
            for p in doc_hits:
                for item in item_ids[item_offsets[p] : item_offsets[p + 1]]:
                    per_item[int(item)] = per_item.get(int(item), 0) + 1
            best = sorted(per_item.items(), key=lambda kv: (-kv[1], kv[0]))
            if best[0][1] >= self.params.min_matches:
                out[doc] = (
                    [labels[i] for i, c in best[:SHOWN_ITEMS] if c >= self.params.min_matches],
                    int(len(doc_hits)),
                )
        return out

    def process(self, batch: pa.Table) -> StepResult:
        found = self.matches(batch.column("text"))
        labels = [[label for _, label in f[0]] for f in found]
        batch = with_column(batch, self.tag("items"), pa.array(labels, pa.list_(pa.string())))
        batch = with_column(batch, self.tag("ngrams"), pa.array([f[1] if f[0] else 0 for f in found], pa.int32()))
        reasons: list[str | None] = []
        for items, _ in found:
            if items:
                benchmark = items[0][0]
                self.counters[f"flagged.{benchmark}"] += 1
                reasons.append(f"contaminated:{benchmark}")
            else:
                reasons.append(None)
        if self.params.mode == "tag":
            return StepResult(batch)
        return self.split(batch, reasons)


def index_summary(workdir: str) -> dict[str, Any]:
    """The build counts of an index (for reports)."""
    info = json.loads((local_path(workdir) / "items.json").read_text())
    return {k: v for k, v in info.items() if k not in ("items", "fingerprint")} | {"items": len(info["items"])}
