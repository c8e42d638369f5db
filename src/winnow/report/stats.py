"""What the HTML report and the data card show: the manifest plus one streaming pass over the run's outputs.

``run_summary(out_dir)`` reads ``_winnow/manifest.json`` (counts, steps, sources, licences,
compute), ``_winnow/tokens.json`` when ``winnow tokenize`` was run on the output, and the
part files (only the columns it needs, batch by batch): lengths, languages, collection
dates, splits, duplicate clusters, and a few dropped documents per reason.
"""

from __future__ import annotations

import json
import posixpath
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from fsspec.core import url_to_fs

from winnow.errors import WinnowError
from winnow.io.output import iter_part, part_files
from winnow.manifest import Manifest, Section
from winnow.report.conversations import COLUMNS as CONVERSATION_COLUMNS
from winnow.report.conversations import ConversationCounter

LANGUAGE_COLUMNS = ("language.lang",)
EXAMPLES_PER_REASON = 3
EXAMPLE_CHARS = 600
# Length histogram: log-spaced character counts, 4 bins per decade from 1 to 10^7.
LENGTH_EDGES = np.concatenate([[0], 10 ** (np.arange(0, 29) / 4)])


def read_json(out_dir: str, *path: str) -> dict[str, Any] | None:
    fs, root = url_to_fs(out_dir)
    full = posixpath.join(root, *path)
    if not fs.exists(full):
        return None
    with fs.open(full, "rb") as f:
        return json.loads(f.read())


def read_manifest(out_dir: str) -> Manifest:
    """The run's manifest; raises when ``out_dir`` holds no finished run."""
    manifest = find_manifest(out_dir)
    if manifest is None:
        raise WinnowError(f"{out_dir}: no _winnow/manifest.json (not a finished winnow run)")
    return manifest


def find_manifest(out_dir: str) -> Manifest | None:
    """The run's manifest, or None. A manifest written before steps recorded their report section
    gets it from the step's class (by its registered name), so old runs report the same."""
    data = read_json(out_dir, "_winnow", "manifest.json")
    if data is None:
        return None
    manifest = Manifest.model_validate(data)
    if any(step.section is None for step in manifest.steps):
        from winnow.steps.registry import all_steps

        known = all_steps()
        for step in manifest.steps:
            if step.section is None and step.name in known:
                step.section = known[step.name].report_section
    return manifest


def _batches(out_dir: str, kind: str, wanted: tuple[str, ...]) -> Iterator[pa.Table]:
    """Batches of a run's parts with only the wanted columns that exist."""
    for path in part_files(posixpath.join(out_dir, kind)):
        if path.endswith(".parquet"):
            fs, p = url_to_fs(path)
            with fs.open(p, "rb") as f:
                file = pq.ParquetFile(f)
                columns = [c for c in wanted if c in file.schema_arrow.names]
                for record_batch in file.iter_batches(batch_size=8192, columns=columns):
                    yield pa.Table.from_batches([record_batch])
        else:
            for batch in iter_part(path):
                yield batch.select([c for c in wanted if c in batch.column_names])


def dedup_steps(manifest: Manifest) -> list[str]:
    """The names of the run's dedup steps: their records carry ``<step>.cluster_size`` and ``<step>.duplicate_of``."""
    return [step.name for step in manifest.steps_in(Section.DEDUP) if step.name]


def run_summary(out_dir: str) -> dict[str, Any]:
    """What the report and the card show: the manifest, and one pass over each kind of output."""
    manifest = read_manifest(out_dir)
    dedup = dedup_steps(manifest)
    clusters: dict[str, Counter[int]] = defaultdict(Counter)
    kept = _kept_pass(out_dir, dedup, clusters)
    rejected = _rejected_pass(out_dir, dedup, clusters)
    return {
        "out_dir": out_dir,
        "manifest": manifest,
        "tokens": read_json(out_dir, "_winnow", "tokens.json"),
        "ablation": read_json(out_dir, "_winnow", "ablation.json"),  # written by winnow ablate (winnow.evaluate)
        "kept": kept.pop("kept"),
        "length_histogram": {
            "edges": LENGTH_EDGES.tolist(),
            "kept": np.histogram(kept.pop("lengths"), LENGTH_EDGES)[0].tolist(),
            "rejected": np.histogram(rejected.pop("lengths"), LENGTH_EDGES)[0].tolist(),
        },
        "languages": kept.pop("languages"),
        "rejected_languages": rejected.pop("rejected_languages"),
        **kept,
        "clusters": {step: dict(sorted(sizes.items())) for step, sizes in clusters.items()},
        **rejected,
        "quarantine": _quarantine_pass(out_dir),
    }


def _dedup_columns(dedup: list[str]) -> tuple[str, ...]:
    return tuple(f"{s}.{a}" for s in dedup for a in ("cluster_size", "duplicate_of"))


def _kept_pass(out_dir: str, dedup: list[str], clusters: dict[str, Counter[int]]) -> dict[str, Any]:
    """Lengths, words, languages, splits, collection dates and licences of the kept records."""
    wanted = (
        *("text", "source", "license", "collected_at", "split"),
        *(LANGUAGE_COLUMNS + _dedup_columns(dedup) + CONVERSATION_COLUMNS),
    )
    conversations = ConversationCounter()
    lengths: list[np.ndarray] = []
    words: list[np.ndarray] = []
    languages: Counter[str] = Counter()
    splits: Counter[str] = Counter()
    split_chars: Counter[str] = Counter()
    dates: dict[str, list[str]] = defaultdict(list)
    source_licenses: dict[str, Counter[str]] = defaultdict(Counter)
    for batch in _batches(out_dir, "data", wanted):
        chars = pc.utf8_length(batch.column("text"))
        lengths.append(chars.to_numpy(zero_copy_only=False))
        words.append(
            pc.list_value_length(pc.utf8_split_whitespace(batch.column("text"))).to_numpy(zero_copy_only=False)
        )
        _count_languages(batch, languages)
        if "split" in batch.column_names:
            values = batch.column("split").to_pylist()
            splits.update(values)
            for value, n in zip(values, chars.to_pylist(), strict=True):
                split_chars[value] += n
        if "collected_at" in batch.column_names:
            _collect_dates(batch, dates)
        if "license" in batch.column_names:
            for source, license_ in zip(
                batch.column("source").to_pylist(), batch.column("license").to_pylist(), strict=True
            ):
                source_licenses[source][license_] += 1
        _count_clusters(batch, clusters, dedup)
        conversations.add(batch)
    kept_lengths = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
    kept_words = np.concatenate(words) if words else np.zeros(0, np.int64)
    return {
        "kept": {
            "documents": int(kept_lengths.size),
            "chars": int(kept_lengths.sum()),
            "words": int(kept_words.sum()),
            "chars_quantiles": _quantiles(kept_lengths),
            "words_quantiles": _quantiles(kept_words),
        },
        "lengths": kept_lengths,
        "languages": dict(languages.most_common()),
        "splits": {s: {"documents": splits[s], "chars": split_chars[s]} for s in sorted(splits)},
        "collected": {s: {"first": min(v), "last": max(v)} for s, v in sorted(dates.items())},
        "source_licenses": {s: dict(c.most_common()) for s, c in sorted(source_licenses.items())},
        "conversations": conversations.result(),  # ConversationStats, or None without conversations
    }


def _rejected_pass(out_dir: str, dedup: list[str], clusters: dict[str, Counter[int]]) -> dict[str, Any]:
    """Lengths, characters by reason, languages and a few examples per reason of the dropped records."""
    wanted = ("id", "text", "source", "url", "reason", *LANGUAGE_COLUMNS, *_dedup_columns(dedup))
    lengths: list[np.ndarray] = []
    dropped_chars: Counter[str] = Counter()
    examples: dict[str, list[dict[str, Any]]] = defaultdict(list)
    languages: Counter[str] = Counter()
    for batch in _batches(out_dir, "rejected", wanted):
        chars = pc.utf8_length(batch.column("text"))
        lengths.append(chars.to_numpy(zero_copy_only=False))
        reasons = batch.column("reason").to_pylist()
        for reason, n in zip(reasons, chars.to_pylist(), strict=True):
            dropped_chars[reason] += n
        _count_clusters(batch, clusters, dedup)
        _count_languages(batch, languages)
        for row, reason in enumerate(reasons):
            if len(examples[reason]) < EXAMPLES_PER_REASON:
                examples[reason].append(_example(batch, row))
    return {
        "lengths": np.concatenate(lengths) if lengths else np.zeros(0, np.int64),
        "rejected_languages": dict(languages.most_common()),
        "dropped_chars": dict(dropped_chars),
        "examples": dict(examples),
    }


def _quarantine_pass(out_dir: str) -> dict[str, Any]:
    causes: Counter[str] = Counter()
    examples: list[dict[str, Any]] = []
    for batch in _batches(out_dir, "quarantine", ("id", "text", "reason")):
        for row, reason in enumerate(batch.column("reason").to_pylist()):
            causes[reason] += 1
            if len(examples) < 10:
                examples.append(_example(batch, row))
    return {"causes": dict(causes.most_common()), "examples": examples}


def _count_languages(batch: pa.Table, languages: Counter[str]) -> None:
    for column in LANGUAGE_COLUMNS:
        if column in batch.column_names:
            languages.update(v or "unknown" for v in batch.column(column).to_pylist())


def _collect_dates(batch: pa.Table, dates: dict[str, list[str]]) -> None:
    table = batch.select(["source", "collected_at"]).filter(pc.is_valid(batch.column("collected_at")))
    if not table.num_rows:
        return
    grouped = table.group_by("source").aggregate([("collected_at", "min"), ("collected_at", "max")])
    for source, first, last in zip(
        *(grouped.column(c).to_pylist() for c in ("source", "collected_at_min", "collected_at_max")), strict=True
    ):
        dates[source].extend([first, last])


def _count_clusters(batch: pa.Table, clusters: dict[str, Counter[int]], dedup: list[str]) -> None:
    """Cluster sizes, counted once per cluster: at its representative (the record that is no duplicate)."""
    for step in (s for s in dedup if f"{s}.cluster_size" in batch.column_names):
        size = batch.column(f"{step}.cluster_size")
        representative = pc.and_(pc.greater(size, 1), pc.is_null(batch.column(f"{step}.duplicate_of")))
        clusters[step].update(size.filter(representative).to_pylist())


def _example(batch: pa.Table, row: int) -> dict[str, Any]:
    record = {c: batch.column(c)[row].as_py() for c in ("id", "source", "url", "reason") if c in batch.column_names}
    text = batch.column("text")[row].as_py() or ""
    record["chars"] = len(text)
    record["text"] = text[:EXAMPLE_CHARS]
    return record


def _quantiles(values: np.ndarray) -> dict[str, float]:
    if not values.size:
        return {}
    q = np.percentile(values, [10, 50, 90])
    return {
        "min": int(values.min()),
        "p10": round(float(q[0]), 2),
        "median": round(float(q[1]), 2),
        "p90": round(float(q[2]), 2),
        "max": int(values.max()),
        "mean": round(float(values.mean()), 2),
    }


def step_chars_funnel(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Per step: documents in/out, dropped by reason, and characters dropped (measured on the rejected records)."""
    rows = []
    for step in summary["manifest"].steps:
        prefix = f"{step.name}: "
        chars = sum(n for reason, n in summary["dropped_chars"].items() if reason.startswith(prefix))
        # Only the fields the manifest holds: one written before chars_out was measured has none.
        rows.append({**step.model_dump(by_alias=True, include=step.model_fields_set), "dropped_chars": chars})
    return rows
