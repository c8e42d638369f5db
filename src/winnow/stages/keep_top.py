"""``keep_top``: keep the best ``percent`` of the records by a score column (e.g. ``classifier.score``).

A fraction of the corpus needs every record's score, so this is a global stage: ``prepare`` reads only
the id and score columns of every part, ranks them by (score descending, id ascending) — a total
order, so the cut does not depend on workers or parts — and writes the cut (the last kept score and
id) to ``cut.json``; ``process`` then drops the records ranked after it (reason ``below_top``).
Records without a score rank last."""

from __future__ import annotations

import hashlib
import json
import math
from typing import ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import Field

from winnow.errors import RecipeError
from winnow.stages.workfiles import Phases, local_path, save_json
from winnow.steps.base import GlobalStage, Resources, StepParams, StepResult, TaskRunner
from winnow.steps.registry import register


class KeepTopParams(StepParams):
    column: str = Field(description="The score column to rank by (higher is better), e.g. classifier.score.")
    percent: float = Field(gt=0.0, le=100.0, description="Share of the records to keep, in percent.")


@register
class KeepTop(GlobalStage):
    """Keep the top percent of records by a score column (ties: smaller id first); drop the rest."""

    name = "keep_top"
    Params: ClassVar[type[StepParams]] = KeepTopParams
    requires = ("id",)
    resources: ClassVar[Resources] = Resources(cpus=1.0, memory_gb=1.0)

    def prepare(self, parts: list[str], workdir: str, runner: TaskRunner) -> None:
        self.workdir = workdir
        root = local_path(workdir)
        files = [(local_path(p).name, local_path(p).stat().st_size) for p in parts]
        blob = json.dumps([self.name, self.params.model_dump(mode="json"), files], sort_keys=True)
        phases = Phases(root, hashlib.sha256(blob.encode()).hexdigest())
        if phases.done("cut"):
            return
        ids, scores = [], []
        for part in parts:
            path = local_path(part)
            if self.params.column not in pq.ParquetFile(path).schema_arrow.names:
                raise RecipeError(f"step 'keep_top': column {self.params.column!r} is not in the records ({path})")
            table = pq.read_table(path, columns=["id", self.params.column])
            ids.extend(table.column("id").to_pylist())
            scores.append(pc.fill_null(table.column(self.params.column), -math.inf).to_numpy().astype(np.float64))
        score = np.concatenate(scores) if scores else np.zeros(0)
        keep = math.ceil(len(score) * self.params.percent / 100.0)
        cut = {"records": len(score), "kept": keep, "score": None, "id": None}
        if keep and len(score):
            order = sorted(range(len(score)), key=lambda i: (-score[i], ids[i]))
            last = order[keep - 1]
            cut.update(score=float(score[last]), id=ids[last])
        save_json(root / "cut.json", cut)
        phases.mark("cut", cut)

    def _cut(self) -> dict:
        cut = getattr(self, "_lazy_cut", None)
        if cut is None:
            if self.workdir is None:
                raise RuntimeError("keep_top: process() called before prepare()")
            cut = self._lazy_cut = json.loads((local_path(self.workdir) / "cut.json").read_text())
        return cut

    def process(self, batch: pa.Table) -> StepResult:
        cut = self._cut()
        if cut["score"] is None:
            below = np.ones(batch.num_rows, dtype=bool)
        else:
            score = pc.fill_null(batch.column(self.params.column), -math.inf).to_numpy().astype(np.float64)
            ids = np.asarray(batch.column("id").to_pylist(), dtype=object)
            below = (score < cut["score"]) | ((score == cut["score"]) & (ids > cut["id"]))
        reasons = pa.array(np.where(below, "below_top", None).tolist(), pa.string())
        return self.split(batch, reasons)
