"""The base of every synthetic task: a global stage whose ``process`` calls an LLM for each record.

Why a global stage: its ``prepare`` runs once in the driver and gives it a work folder that stays the
same across ``--resume`` (``_winnow/work/<NN>-<step>/``); the journal lives there, shared by every
worker. ``process`` runs in the worker processes like any step and runs its own event loop for the
batch (async only at the edges, DESIGN §7): all of the batch's calls go out concurrently, bounded by
the endpoint's limits, and a batch's result is only written (its shard marked done) once every call
is journalled.

A task subclass renders requests from a record and builds records from the answers, in
``generate(row, calls) -> RowOutcome``. A record whose calls fail goes to ``rejected/`` with the cause
and the raw responses; the records its successful calls made are kept.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import orjson
import pyarrow as pa
from pydantic import BaseModel, Field

from winnow.conversation import render_record
from winnow.coroutines import run_coroutine
from winnow.errors import RecipeError
from winnow.records import decode_meta, encode_meta, make_conversation_batch
from winnow.steps.base import GlobalStage, StepParams, TaskRunner
from winnow.steps.result import StepResult
from winnow.synth.config import Budget, Endpoint, Sampling
from winnow.synth.engine import BudgetReached, Engine
from winnow.synth.journal import Journal
from winnow.synth.request import Completion, Failure, LLMRequest
from winnow.synth.structured import Model, Structured, ask
from winnow.synth.templates import PromptTemplate

SECTION = "synth"  # winnow.manifest.Section.SYNTH: the data card's synthetic-data section reads it


class LLMParams(StepParams):
    endpoint: Endpoint
    sampling: Sampling = Field(default_factory=Sampling)
    template: str | None = Field(None, description="a Jinja2 template (file path or text) replacing the task's own")
    system: str | None = Field(None, description="a system message sent before the prompt")
    max_reasks: int = Field(2, ge=0, description="structured tasks: invalid answers asked again at most this often")
    budget: Budget | None = None
    pii_check: bool = Field(
        False, description="do not send records with PII (e-mails, phones, keys...) to a remote endpoint"
    )


@dataclass
class RowOutcome:
    """What one input record gave: new records, and the failures (cause and raw response) of its calls."""

    records: list[dict[str, Any]] = field(default_factory=list)
    failure: str | None = None  # "<cause>: <detail>" of the first failed call
    raw: list[str] = field(default_factory=list)  # the raw responses of the failed calls

    @classmethod
    def of(cls, failure: Failure) -> RowOutcome:
        """The outcome of a record whose one failed call ends it."""
        return cls(failure=failure.reason, raw=[failure.raw])


class Calls:
    """What a task's ``generate`` talks to: the engine, with the step's counters kept up to date."""

    def __init__(self, engine: Engine, stage: LLMStage):
        self.engine = engine
        self.stage = stage

    def request(
        self,
        messages: list[dict[str, str]],
        sample: int = 0,
        schema: type[BaseModel] | None = None,
        sampling: Sampling | None = None,
    ) -> LLMRequest:
        params = self.stage.params
        sampling = sampling or params.sampling
        if params.system:
            messages = [{"role": "system", "content": params.system}, *messages]
        json_schema = schema.model_json_schema() if schema is not None else None
        return LLMRequest.chat(params.endpoint.model, messages, sampling.body(sample), sample, json_schema)

    async def text(self, request: LLMRequest) -> Completion | Failure:
        return await self.engine.complete(request)

    async def structured(self, request: LLMRequest, model: type[Model]) -> Structured[Model]:
        result = await ask(self.engine, request, model, self.stage.params.max_reasks)
        self.stage.counters["reasks"] += result.reasks
        return result


class LLMStage(GlobalStage):
    """Subclasses set ``name``, ``Params`` (a subclass of :class:`LLMParams`), ``builtin_template`` and
    ``generate``."""

    Params: ClassVar[type[StepParams]] = LLMParams
    builtin_template: ClassVar[str] = ""
    report_section = SECTION
    extra = "synth"  # pip install 'winnow[synth]'

    @property
    def template(self) -> PromptTemplate:
        if getattr(self, "_lazy_template", None) is None:
            self._lazy_template = PromptTemplate.load(self.params.template, self.builtin_template)
        return self._lazy_template

    def check(self) -> None:
        self.template.check()
        self.params.endpoint.api_key()

    def prepare(self, parts: list[str], workdir: str, runner: TaskRunner) -> None:
        if "://" in workdir and not workdir.startswith("file://"):
            raise RecipeError(f"{self.name}: synthetic steps keep their journal on a local disk, not {workdir}")
        super().prepare(parts, workdir.removeprefix("file://"), runner)
        Path(self.journal_folder).mkdir(parents=True, exist_ok=True)
        self.workers = max(1, runner.workers)
        if self.params.endpoint.max_concurrency < self.workers:
            warnings.warn(
                f"{self.name}: max_concurrency {self.params.endpoint.max_concurrency} is below the "
                f"{self.workers} workers; each worker still sends one request at a time, so up to "
                f"{self.workers} may be in flight",
                stacklevel=2,
            )

    @property
    def endpoint(self) -> Endpoint:
        """The endpoint with this worker's share of its limits (the run's workers split them)."""
        return self.params.endpoint.share(getattr(self, "workers", 1))

    @property
    def journal_folder(self) -> str:
        if self.workdir is None:
            raise RuntimeError(f"{self.name}: prepare() was not called (the executor gives the journal a folder)")
        return str(Path(self.workdir) / "journal")

    # -- what subclasses write ------------------------------------------------------------------
    async def generate(self, row: dict[str, Any], calls: Calls) -> RowOutcome:
        raise NotImplementedError

    # -- the batch --------------------------------------------------------------------------------
    def process(self, batch: pa.Table) -> StepResult:
        rows = batch.to_pylist()
        outcomes = run_coroutine(self._run(rows))
        kept = [record for outcome in outcomes for record in outcome.records]
        reasons = [_reason_word(o.failure) if o.failure else None for o in outcomes]
        result = self.split(batch, reasons)
        if result.rejected is not None:
            failed = [o for o in outcomes if o.failure]
            result.rejected = result.rejected.append_column(self.tag("cause"), pa.array([o.failure for o in failed]))
            raws = [orjson.dumps(o.raw).decode() for o in failed]
            result.rejected = result.rejected.append_column(self.tag("raw"), pa.array(raws, pa.string()))
        self.counters["rows_failed"] += sum(1 for o in outcomes if o.failure)
        self.counters["records_generated"] += len(kept)
        return StepResult(self.records_table(kept), result.rejected)

    async def _run(self, rows: list[dict[str, Any]]) -> list[RowOutcome]:
        journal = Journal(self.journal_folder)
        try:
            async with Engine(self.endpoint, journal, self.params.budget) as engine:
                calls = Calls(engine, self)
                outcomes = await asyncio.gather(*(self._one(row, calls) for row in rows), return_exceptions=True)
            self._count(engine, journal)
        finally:
            journal.close()
        for outcome in outcomes:
            if isinstance(outcome, BaseException) and not isinstance(outcome, BudgetReached):
                raise outcome
        engine.raise_if_stopped()  # after the calls in flight finished and were journalled
        return [o for o in outcomes if isinstance(o, RowOutcome)]

    async def _one(self, row: dict[str, Any], calls: Calls) -> RowOutcome:
        if self.params.pii_check and self.params.endpoint.is_remote:
            from winnow.steps.pii import detect

            found = sorted({kind for _, _, kind in detect(row.get("text") or "")})
            if found:
                return RowOutcome(
                    failure=f"pii_not_sent: the record holds {', '.join(found)} and the endpoint is remote"
                )
        return await self.generate(row, calls)

    def _count(self, engine: Engine, journal: Journal) -> None:
        stats, price = engine.stats, self.params.endpoint.price
        self.counters["requests"] += stats.sent
        self.counters["journal_hits"] += stats.journal_hits
        self.counters["retries"] += stats.retries
        self.counters["input_tokens"] += stats.input_tokens
        self.counters["output_tokens"] += stats.output_tokens
        self.counters["usd"] += price.usd(stats.input_tokens, stats.output_tokens)
        self.counters["circuit_openings"] += stats.circuit_openings
        self.counters[f"template.{self.template.sha}"] += stats.sent + stats.journal_hits
        for cause, n in stats.failed.items():
            self.counters[f"failed.{cause}"] += n
        for cause, n in stats.attempt_errors.items():
            self.counters[f"attempt_errors.{cause}"] += n

    # -- records -----------------------------------------------------------------------------------
    def synthetic(
        self,
        row: dict[str, Any],
        suffix: str,
        made_by: Sequence[Completion],
        meta_extra: dict[str, Any] | None = None,
        **columns: Any,
    ) -> dict[str, Any]:
        """A generated record: its id from the input's, source ``synthetic:<model>``, provenance in meta
        (plus ``meta_extra``'s keys)."""
        meta = {**decode_meta(row.get("meta")), **(meta_extra or {})}
        meta.setdefault("synth", {})[self.name] = {  # one entry per generating step: the provenance chain
            "model": self.params.endpoint.model,
            "template_sha": self.template.sha,
            "from": row["id"],
            "request_keys": [c.key for c in made_by],
            "input_tokens": sum(c.input_tokens for c in made_by),
            "output_tokens": sum(c.output_tokens for c in made_by),
            "finish_reasons": [c.finish_reason for c in made_by],
        }
        record = {
            "id": f"{row['id']}/{self.name}-{suffix}",
            "source": f"synthetic:{self.params.endpoint.model}",
            "url": None,
            "license": row.get("license") or "unknown",
            "collected_at": None,
            "input_file": row.get("input_file"),
            "meta": encode_meta(meta),
            **columns,
        }
        record["text"] = render_record(record)
        return record

    def records_table(self, records: list[dict[str, Any]]) -> pa.Table:
        """The records as a batch: core and conversation columns typed, then any tag columns they carry."""
        names: dict[str, None] = dict.fromkeys(
            ["id", "text", "source", "url", "license", "collected_at", "input_file", "meta", "kind"]
        )
        for record in records:
            names.update(dict.fromkeys(record))
        return make_conversation_batch({name: [r.get(name) for r in records] for name in names})


async def gather_all(*awaitables: Any) -> list[Any]:
    """Like ``asyncio.gather``, but every call finishes (and is journalled) before an error goes up."""
    results = await asyncio.gather(*awaitables, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return list(results)


def _reason_word(failure: str) -> str:
    """The short reason of a failed record (its cause); the detail goes to the ``<step>.cause`` column."""
    return failure.split(":", 1)[0]


def prompt_messages(row: dict[str, Any]) -> list[dict[str, str]]:
    """The conversation a record asks to continue: its prompt turns, or its text as one user turn."""
    if row.get("kind") and row.get("messages"):
        return [{"role": m["role"], "content": m["content"]} for m in row["messages"]]
    return [{"role": "user", "content": row["text"]}]
