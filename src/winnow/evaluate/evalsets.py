"""Reading eval sets: passages for bits per byte and multiple-choice items (JSONL, .zst/.gz too).

Passages: a ``text`` field, or ``context`` + ``continuation`` (LAMBADA in the Eval Gauntlet), or
any Winnow output / Parquet file. Choices: ``query`` + ``choices`` + ``gold`` (ARC, PIQA, COPA,
OpenBookQA) or ``context_options`` + ``continuation`` + ``gold`` (Winogrande)."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from pathlib import Path

import orjson
import zstandard

from winnow.errors import WinnowError
from winnow.evaluate.choice import ChoiceItem
from winnow.evaluate.config import EvalSet
from winnow.export.documents import iter_texts


def read_passages(spec: EvalSet) -> list[str]:
    path = Path(spec.path or "")
    if path.is_dir() or ".parquet" in path.name:
        texts = list(iter_texts([str(path)]))
    else:
        texts = [_passage(row, path, n) for n, row in _rows(path)]
    texts = [t for t in texts if t]
    if not texts:
        raise WinnowError(f"{path}: eval set {spec.name!r} has no passages")
    return texts[: spec.limit] if spec.limit else texts


def read_choices(spec: EvalSet) -> list[ChoiceItem]:
    path = Path(spec.path or "")
    items = [_choice(row, path, n, spec.delimiter) for n, row in _rows(path)]
    if not items:
        raise WinnowError(f"{path}: eval set {spec.name!r} has no items")
    return items[: spec.limit] if spec.limit else items


def _passage(row: dict, path: Path, line: int) -> str:
    if isinstance(row.get("text"), str):
        return row["text"]
    if isinstance(row.get("context"), str) and isinstance(row.get("continuation"), str):
        return row["context"] + " " + row["continuation"].strip()
    raise WinnowError(f"{path}:{line}: a passage needs 'text' or 'context' + 'continuation'")


def _choice(row: dict, path: Path, line: int, delimiter: str) -> ChoiceItem:
    try:
        gold = int(row["gold"])
        if "context_options" in row:  # the blank filled by each option, then one shared continuation
            options = [str(o) for o in row["context_options"]]
            item = ChoiceItem(options, [" " + str(row["continuation"]).strip()] * len(options), gold)
        else:
            choices = [str(c) for c in row["choices"]]
            item = ChoiceItem([str(row["query"]).rstrip()] * len(choices), [delimiter + c for c in choices], gold)
    except (KeyError, TypeError, ValueError) as error:
        raise WinnowError(
            f"{path}:{line}: a choice item needs query + choices + gold or context_options + continuation + gold "
            f"({type(error).__name__}: {error})"
        ) from None
    if not 0 <= item.gold < len(item.continuations):
        raise WinnowError(f"{path}:{line}: gold {item.gold} is not one of the {len(item.continuations)} choices")
    return item


def _rows(path: Path) -> Iterator[tuple[int, dict]]:
    if not path.is_file():
        raise WinnowError(f"eval set not found: {path}")
    with _open(path) as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                row = orjson.loads(line)
            except orjson.JSONDecodeError as error:
                raise WinnowError(f"{path}:{number}: invalid JSON ({error})") from None
            if not isinstance(row, dict):
                raise WinnowError(f"{path}:{number}: expected a JSON object")
            yield number, row


def _open(path: Path) -> io.TextIOBase:
    if path.suffix in (".zst", ".zstd"):
        return io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(open(path, "rb")), encoding="utf-8")
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return open(path, encoding="utf-8")
