"""The typed record of a run: what exec writes, and what report, card, CLI and the web app read.

``_winnow/manifest.json`` is the JSON form of :class:`Manifest`; each shard's completion marker
(``_winnow/done/seg-K/shard-N.json``) is the JSON form of :class:`ShardStats`. Both hold
:class:`StepStats`, the numbers of one step, which add up (``a + b``): a run's step numbers are the
sum of its shards'. Files written before these types existed have the same keys, so they load
(a resumed old run, ``winnow report`` on an old output); keys a later version adds are kept.

A step says what it contributes to the report through its type: ``Step.report_section`` is copied
into its :class:`StepStats` (``section``), and the report finds "the dedup steps" or "the licence
renamings" by section, never by step name.
"""

from __future__ import annotations

from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, model_serializer

Number = int | float


class Section(StrEnum):
    """The report sections a step can feed with its numbers (``Step.report_section``)."""

    DEDUP = "dedup"  # counters: clusters, duplicates; tags <step>.cluster_size / duplicate_of
    DECONTAMINATION = "decontamination"  # counters: flagged.<benchmark>
    PII = "pii"  # counters: <type> found, docs_with_pii
    LICENSE = "license"  # counters: renamed.<as read> -> <set>
    MIX = "mix"  # counters: <by>.<source>, documents.<source>
    SPLIT = "split"  # counters: <split> documents
    SYNTH = "synth"  # counters: requests, input_tokens, output_tokens, usd, template.<sha>, failed.<cause>


# Counter keys of a licence step: ``renamed.<licence as read> -> <licence set>``.
RENAMED, RENAMED_TO = "renamed.", " -> "


def _summed(a: dict[str, Number], b: dict[str, Number]) -> dict[str, Number]:
    out = dict(a)
    for key, value in b.items():
        out[key] = out.get(key, 0) + value
    return out


class StepStats(BaseModel):
    """One step's numbers: over one shard (in its marker, with ``index``) or over the run (in the
    manifest, with ``name``, ``params``, ``global`` and ``section``)."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    index: int | None = None  # position in the pipeline (shard markers)
    name: str | None = None
    params: dict[str, Any] | None = None
    is_global: bool | None = Field(None, alias="global")
    section: str | None = None
    records_in: int = Field(0, alias="in")
    out: int = 0
    chars_in: int = 0
    chars_out: int = 0
    dropped: dict[str, int] = Field(default_factory=dict)
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    counters: dict[str, Number] = Field(default_factory=dict)
    prepare_wall_seconds: float | None = None  # a global stage's prepare, included in wall_seconds
    prepare_cpu_seconds: float | None = None

    @model_serializer(mode="wrap")
    def _without_unset(self, handler: Any) -> dict[str, Any]:
        # Fields that do not apply (a marker's name, a streaming step's prepare time) are left out.
        return {key: value for key, value in handler(self).items() if value is not None}

    def __add__(self, other: StepStats) -> StepStats:
        """The numbers of both summed (dropped reasons and counters merged); names from ``self``."""
        return self.model_copy(
            update={
                "records_in": self.records_in + other.records_in,
                "out": self.out + other.out,
                "chars_in": self.chars_in + other.chars_in,
                "chars_out": self.chars_out + other.chars_out,
                "dropped": _summed(self.dropped, other.dropped),
                "wall_seconds": self.wall_seconds + other.wall_seconds,
                "cpu_seconds": self.cpu_seconds + other.cpu_seconds,
                "counters": _summed(self.counters, other.counters),
            }
        )

    def count_dropped(self, reasons: list[str], prefix: str) -> None:
        """Count dropped records by reason (``prefix`` — ``"<step>: "`` — taken off)."""
        for reason, n in Counter(reason.removeprefix(prefix) for reason in reasons).items():
            self.dropped[reason] = self.dropped.get(reason, 0) + n

    def finished(self) -> StepStats:
        """The manifest's form: dropped reasons most frequent first, counters by name, times rounded."""
        return self.model_copy(
            update={
                "dropped": dict(Counter(self.dropped).most_common()),
                "counters": dict(sorted(self.counters.items())),
                "wall_seconds": round(self.wall_seconds, 3),
                "cpu_seconds": round(self.cpu_seconds, 3),
            }
        )


class OutputFile(BaseModel):
    model_config = ConfigDict(extra="allow")

    path: str
    records: int = 0


def _outputs() -> dict[str, list[OutputFile]]:
    return {"data": [], "rejected": [], "quarantine": []}


class ShardStats(BaseModel):
    """What one shard of one segment did: the content of its completion marker."""

    model_config = ConfigDict(extra="allow")

    segment: int
    shard: int
    file: str = ""
    read: int = 0
    kept: int = 0
    rejected: int = 0
    quarantined: int = 0
    steps: list[StepStats] = Field(default_factory=list)
    # Documents and characters read and kept, by ``"source\t<name>"`` and ``"license\t<id>"``.
    tallies: dict[str, dict[str, int]] = Field(default_factory=dict)
    outputs: dict[str, list[OutputFile]] = Field(default_factory=_outputs)
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0

    def to_json(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json", by_alias=True))

    @classmethod
    def from_json(cls, data: bytes) -> ShardStats:
        return cls.model_validate(orjson.loads(data))


class Counts(BaseModel):
    input: int = 0
    kept: int = 0
    rejected: int = 0
    quarantined: int = 0


class SourceCounts(BaseModel):
    """Documents and characters of one source (or licence): as read, and kept."""

    input_docs: int = 0
    input_chars: int = 0
    kept_docs: int = 0
    kept_chars: int = 0


class InputSummary(BaseModel):
    model_config = ConfigDict(extra="allow")

    path: str | list[str] | None = None
    source: str | None = None
    license: str | None = None
    format: str | None = None
    files: list[dict[str, Any]] = Field(default_factory=list)  # path, bytes, fingerprint


class Manifest(BaseModel):
    """A run: its recipe and versions, inputs, counts, each step's numbers, outputs, compute."""

    model_config = ConfigDict(extra="allow")

    winnow_version: str = ""
    recipe: dict[str, Any] = Field(default_factory=dict)
    executor: str = ""
    workers: int | None = None
    started_at: str | None = None
    finished_at: str | None = None
    versions: dict[str, str] = Field(default_factory=dict)
    inputs: list[InputSummary] = Field(default_factory=list)
    shards: int = 0
    counts: Counts = Field(default_factory=Counts)
    steps: list[StepStats] = Field(default_factory=list)
    by_source: dict[str, SourceCounts] = Field(default_factory=dict)
    by_license: dict[str, SourceCounts] = Field(default_factory=dict)
    outputs: dict[str, list[OutputFile]] = Field(default_factory=_outputs)
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0

    # -- files -------------------------------------------------------------------------------
    @classmethod
    def from_json(cls, data: bytes | str) -> Manifest:
        return cls.model_validate(orjson.loads(data))

    @classmethod
    def load(cls, path: str | Path) -> Manifest:
        return cls.from_json(Path(path).read_bytes())

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, as written to ``_winnow/manifest.json``."""
        return self.model_dump(mode="json", by_alias=True)

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict())

    # The JSON form by key (``manifest["counts"]["kept"]``): how scripts written against the
    # dict that ``run`` used to return keep working. New code reads the attributes.
    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.to_dict().get(key, default)

    # -- what the report asks ----------------------------------------------------------------
    def steps_in(self, section: str) -> list[StepStats]:
        """The steps that feed a report section, in pipeline order."""
        return [step for step in self.steps if step.section == section]

    def counters_of(self, section: str) -> dict[str, Number]:
        """The counters of every step of a section, summed."""
        total: dict[str, Number] = {}
        for step in self.steps_in(section):
            total = _summed(total, step.counters)
        return total

    def renamings(self) -> list[tuple[str, str, int]]:
        """(licence as read, licence set, documents) from the licence steps' counters, most documents first."""
        found: dict[tuple[str, str], int] = {}
        for key, count in self.counters_of(Section.LICENSE).items():
            if key.startswith(RENAMED) and RENAMED_TO in key:
                read, _, set_ = key.removeprefix(RENAMED).rpartition(RENAMED_TO)
                found[(read, set_)] = found.get((read, set_), 0) + int(count)
        return [(read, set_, n) for (read, set_), n in sorted(found.items(), key=lambda kv: (-kv[1], kv[0]))]
