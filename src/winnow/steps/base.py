"""What a step is.

A **streaming step** sees one batch (a ``pyarrow.Table`` of records, see ``winnow.records``)
at a time, keeps no state across batches, and returns a :class:`StepResult`: the records it
keeps (possibly with new tag columns or rewritten text) and the records it drops, each with a
``reason`` ("<step>: <why>"). Write one by subclassing :class:`Step` and overriding one of:

* ``transform(batch) -> batch``          a mapper or tagger (drops nothing);
* ``reasons(batch) -> list[str | None]`` a filter: one reason per record, ``None`` keeps it;
* ``process(batch) -> StepResult``       full control (tag *and* filter, for instance).

The default ``process`` runs ``transform`` and then ``reasons`` on its output, so a step that
tags and filters overrides both. Reasons are short words (``too_few_words``); the base class
prefixes the step name.

A **global stage** (:class:`GlobalStage`) first needs one pass over the whole dataset
(deduplication, mixing). The executor calls ``prepare`` once with every record that reached
the stage, then streams the same records through ``process`` like any other step.

Steps are registered by name with ``@register`` (``winnow.steps.registry``) and declare their
parameters as a pydantic model named ``Params``; unknown parameters are an error.

Conversations
-------------
A batch of post-training records (``records.is_conversational``: the ``kind``/``messages``
columns) has ``text`` = the rendered conversation. The executor calls ``apply(batch)``, which
runs ``process`` as the step's class attribute ``on_conversations`` says:

* ``"contents"``: the step rewrites text (a mapper: fix_unicode, normalize, pii). It runs on the
  message contents — every message of every message column, one view row per message — and
  ``text`` is rendered again from the rewritten messages.
* ``"text"``: the step reads text (a tagger or filter: language, quality, toxicity,
  decontaminate). It judges the rendered ``text``, and the records keep their ``text``.
* ``None`` (the default): ``process`` sees the batch as it is. Steps that read other columns
  (url_filter, license, dedup) need nothing more; a step that rewrites ``text`` must not stay
  ``None``, or its rewrite would leave ``text`` out of step with the messages.

A step that declares ``on_conversations`` gets a ``roles`` parameter (a list of system, user,
assistant, tool; default: every message, or for ``"text"`` the whole rendering): ``pii`` with
``roles: [user]`` redacts only what users wrote, ``toxicity`` with ``roles: [assistant]`` judges
only the responses. The kernel, and how tags are merged per record, is ``winnow.steps.messages``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field, create_model

from winnow.extras import missing
from winnow.records import REASON, is_conversational
from winnow.steps.result import StepResult

Role = Literal["system", "user", "assistant", "tool"]


class StepParams(BaseModel):
    """Base of every step's parameters: unknown keys are an error."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Resources:
    """What one instance of a step needs; the Ray executor passes it on to Ray."""

    cpus: float = 1.0
    memory_gb: float = 0.5
    gpus: float = 0.0


class Step:
    name: ClassVar[str] = ""
    Params: ClassVar[type[StepParams]] = StepParams
    requires: ClassVar[tuple[str, ...]] = ("text",)  # columns read
    produces: ClassVar[tuple[str, ...]] = ()  # columns added (``<name>.<attr>``)
    resources: ClassVar[Resources] = Resources()
    # The report section this step's numbers feed (a ``winnow.manifest.Section``: its counters
    # are read there), copied into the step's ``StepStats``; None: only the generic step table.
    report_section: ClassVar[str | None] = None
    # How the step runs on conversations (see the module docstring): "contents", "text" or None.
    on_conversations: ClassVar[Literal["contents", "text"] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.on_conversations is not None and "roles" not in cls.Params.model_fields:
            what = "rewrites" if cls.on_conversations == "contents" else "judges"
            default = "every message" if cls.on_conversations == "contents" else "the whole rendered text"
            cls.Params = create_model(
                cls.Params.__name__,
                __base__=cls.Params,
                __module__=cls.__module__,
                roles=(
                    list[Role] | None,
                    Field(
                        None,
                        min_length=1,
                        description=f"on conversations: the roles whose messages it {what} "
                        f"(e.g. [assistant]); default: {default}",
                    ),
                ),
            )
            # Pickled steps (worker processes, Ray) find their parameters' class through the step.
            cls.Params.__qualname__ = f"{cls.__qualname__}.Params"

    # Optional dependencies (import names) and the extra of winnow that installs them
    # (``pip install 'winnow[<extra>]'``). Import them inside the methods that use them.
    needs: ClassVar[tuple[str, ...]] = ()
    extra: ClassVar[str | None] = None

    @classmethod
    def missing(cls) -> list[str]:
        """The optional dependencies of this step that are not installed."""
        return missing(cls.needs)

    def __init__(self, **params: Any):
        self.params = self.Params(**params)
        # Free-form numbers a step wants in the manifest (e.g. PII found per type). The
        # executor sums them over batches and workers and resets them; keys are strings.
        self.counters: Counter[str] = Counter()

    # -- what subclasses override -------------------------------------------------------
    def check(self) -> None:
        """Validate things the parameters point at (files, models) before any data is read.

        Raise ``winnow.errors.RecipeError`` naming the file and the cause."""

    def transform(self, batch: pa.Table) -> pa.Table:
        return batch

    def reasons(self, batch: pa.Table) -> Sequence[str | None] | None:
        return None

    def process(self, batch: pa.Table) -> StepResult:
        batch = self.transform(batch)
        reasons = self.reasons(batch)
        if reasons is None:
            return StepResult(batch)
        return self.split(batch, reasons)

    def apply(self, batch: pa.Table) -> StepResult:
        """What the executor calls: ``process``, on conversations as ``on_conversations`` says."""
        if self.on_conversations is None or not is_conversational(batch):
            return self.process(batch)
        from winnow.steps.messages import apply_to_contents, apply_to_text

        roles = self.params.roles  # type: ignore[attr-defined]
        if self.on_conversations == "contents":
            return apply_to_contents(self, batch, roles)
        return apply_to_text(self, batch, roles)

    # -- helpers ------------------------------------------------------------------------
    def tag(self, attribute: str) -> str:
        """The column name of one of this step's attributes."""
        return f"{self.name}.{attribute}"

    def split(self, batch: pa.Table, reasons: Sequence[str | None] | pa.Array) -> StepResult:
        """Split a batch by per-record reasons (``None`` keeps the record)."""
        reasons = reasons if isinstance(reasons, (pa.Array, pa.ChunkedArray)) else pa.array(reasons, pa.string())
        dropped = pc.is_valid(reasons)
        if not pc.any(dropped).as_py():
            return StepResult(batch)
        rejected = batch.filter(dropped)
        prefixed = pc.binary_join_element_wise(self.name, reasons.filter(dropped), ": ")
        rejected = rejected.append_column(REASON, prefixed)
        return StepResult(batch.filter(pc.invert(dropped)), rejected)

    def to_config(self) -> dict[str, Any]:
        """The recipe form of this step: ``{name: {params that differ from the defaults}}``."""
        return {self.name: self.params.model_dump(mode="json", exclude_defaults=True)}

    def __getstate__(self) -> dict[str, Any]:
        # Loaded models and caches (attributes named ``_lazy_*``) are rebuilt in each
        # worker process rather than pickled across.
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_lazy_")}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params!r})"


class TaskRunner:
    """Runs a function over items in parallel: worker processes locally, tasks on Ray.

    Global stages use it for their phases so the same code runs on both executors.
    ``fn`` must be a picklable module-level function; results come back in item order."""

    workers: int = 1

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        return [fn(item) for item in items]


class GlobalStage(Step):
    """A step that needs a pass over the whole dataset before it can judge any batch.

    ``prepare(parts, workdir, runner)`` is called once, in the driver process, with the
    Parquet files holding every record that reached the stage. Do the global work in
    phases whose outputs are files under ``workdir`` (spill to disk; keep memory bounded),
    skip a phase whose output already exists (resume), and use ``runner.map`` for the
    parallel parts. Then ``process(batch)`` runs in worker processes on those same records:
    load what ``prepare`` wrote under ``workdir`` lazily (into ``_lazy_*`` attributes).
    """

    workdir: str | None = None

    def prepare(self, parts: list[str], workdir: str, runner: TaskRunner) -> None:
        self.workdir = workdir
