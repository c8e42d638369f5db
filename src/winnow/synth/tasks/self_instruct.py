"""``self_instruct``: new instructions from seed tasks, kept only when novel.

The records reaching the stage are the seeds (their text: one task each). ``prepare`` runs in the
driver, in rounds: each request shows ``examples`` tasks (seeds, and from the second round on some
earlier generations too) and asks for a new one. A candidate is kept when its MinHash similarity
(word ``ngram`` shingles) to every seed and every instruction kept so far is below
``max_similarity``; the rest are kept as rejected records with reason ``not_novel`` and the
similarity. Rounds make the prompts deterministic (a round sees only earlier rounds), so a resumed
run renders the same requests and finds them all in the journal.

The new instructions are ``conversation`` records with one user turn (``generate_answers`` answers
them). Each one is emitted with the seed that opened its prompt, so it flows through the same shard;
the seeds themselves are dropped with reason ``seed`` unless ``keep_seeds``.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
from pydantic import BaseModel, Field

from winnow.coroutines import run_coroutine
from winnow.steps.base import TaskRunner
from winnow.steps.registry import register
from winnow.steps.result import StepResult
from winnow.synth.engine import Engine
from winnow.synth.journal import Journal
from winnow.synth.novelty import NoveltyIndex
from winnow.synth.stage import Calls, LLMParams, LLMStage, gather_all
from winnow.synth.structured import ask


class NewTask(BaseModel):
    instruction: str = Field(min_length=8, max_length=600)


@register
class SelfInstruct(LLMStage):
    """Generate new instructions from seed tasks (few-shot), keeping only those unlike the seeds and each other."""

    name = "self_instruct"
    builtin_template = "self_instruct"

    class Params(LLMParams):
        instructions: int = Field(
            20, ge=1, description="requests to send (the instructions kept are those that are novel)"
        )
        per_round: int = Field(
            8, ge=1, description="requests per round (a round sees the generations of the earlier ones)"
        )
        examples: int = Field(6, ge=1, description="tasks shown per request")
        generated_examples: int = Field(
            2, ge=0, description="of those, taken from earlier generations when there are some"
        )
        max_similarity: float = Field(
            0.5,
            gt=0,
            le=1,
            description="MinHash Jaccard to a seed or earlier generation at or above which a candidate is dropped",
        )
        ngram: int = Field(2, ge=1)
        keep_seeds: bool = False
        seed: int = Field(0, description="which examples each request shows")

    def prepare(self, parts: list[str], workdir: str, runner: TaskRunner) -> None:
        super().prepare(parts, workdir, runner)
        seeds = [row for part in parts for row in pq.read_table(part, columns=["id", "text"]).to_pylist()]
        out = Path(self.workdir) / "generated.jsonl"
        if not out.exists():
            generated = run_coroutine(self._grow(seeds))
            tmp = out.with_suffix(".tmp")
            tmp.write_bytes(b"".join(orjson.dumps(g) + b"\n" for g in generated))
            tmp.rename(out)

    async def _grow(self, seeds: list[dict[str, Any]]) -> list[dict[str, Any]]:
        p = self.params
        index = NoveltyIndex(ngram=p.ngram, seed=p.seed)
        index.add([s["text"] for s in seeds])
        kept: list[str] = []
        results: list[dict[str, Any]] = []
        journal = Journal(self.journal_folder)
        try:
            async with Engine(p.endpoint, journal, p.budget) as engine:
                calls = Calls(engine, self)
                for start in range(0, p.instructions, p.per_round):
                    numbers = range(start, min(start + p.per_round, p.instructions))
                    shown = [self._examples(n, seeds, kept) for n in numbers]
                    answers = await gather_all(
                        *(self._ask(calls, examples, n) for n, (_, examples) in zip(numbers, shown, strict=True))
                    )
                    for n, (owner, _), answer in zip(numbers, shown, answers, strict=True):
                        results.append(self._judge_novelty(n, owner, answer, index, kept))
        finally:
            journal.close()
        engine.raise_if_stopped()
        return results

    def _examples(self, n: int, seeds: list[dict[str, Any]], kept: list[str]) -> tuple[str, list[str]]:
        rng = random.Random(self.params.seed * 1_000_003 + n)
        from_generated = min(self.params.generated_examples, len(kept))
        chosen = rng.sample(seeds, min(self.params.examples - from_generated, len(seeds)))
        return chosen[0]["id"], [s["text"] for s in chosen] + rng.sample(kept, from_generated)

    async def _ask(self, calls: Calls, examples: list[str], n: int):
        request = calls.request(
            [{"role": "user", "content": self.template.render(examples=examples)}], sample=n, schema=NewTask
        )
        return await ask(calls.engine, request, NewTask, self.params.max_reasks)

    def _judge_novelty(self, n: int, owner: str, answer, index: NoveltyIndex, kept: list[str]) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "n": n,
            "owner": owner,
            "raw": answer.raw,
            "keys": [c.key for c in answer.completions],
            "input_tokens": sum(c.input_tokens for c in answer.completions),
            "output_tokens": sum(c.output_tokens for c in answer.completions),
            "errors": [e for c in answer.completions for e in c.errors] + answer.errors,
            "journal_hits": sum(1 for c in answer.completions if c.from_journal),  # not sent again (a resumed prepare)
        }
        if answer.value is None:
            return {**entry, "failure": answer.reason}
        text = answer.value.instruction.strip()
        similarity = index.closest(text)
        entry.update(instruction=text, similarity=round(similarity, 3))
        if similarity >= self.params.max_similarity:
            return {
                **entry,
                "failure": f"not_novel: MinHash similarity {similarity:.2f} to a seed or earlier generation",
            }
        index.add([text])
        kept.append(text)
        return entry

    # -- the streaming pass: emit the generations with the seed that owns them ----------------------
    def _generated(self) -> dict[str, list[dict[str, Any]]]:
        if getattr(self, "_lazy_generated", None) is None:
            by_owner: dict[str, list[dict[str, Any]]] = {}
            for line in (Path(self.workdir) / "generated.jsonl").read_bytes().splitlines():
                entry = orjson.loads(line)
                by_owner.setdefault(entry["owner"], []).append(entry)
            self._lazy_generated = by_owner
        return self._lazy_generated

    def process(self, batch) -> StepResult:
        generated = self._generated()
        kept, failed_rows, failed = [], [], []
        for row in batch.to_pylist():
            for entry in generated.get(row["id"], []):
                if entry.get("failure"):
                    failed_rows.append(row)
                    failed.append(entry)
                else:
                    kept.append(self._record(row, entry))
        self.counters["records_generated"] += len(kept)
        self.counters["rows_failed"] += len(failed)
        self._count_entries(
            [e for entries in (generated.get(r, []) for r in batch.column("id").to_pylist()) for e in entries]
        )
        seeds = batch if self.params.keep_seeds else None
        rejected = self._rejected(batch, failed_rows, failed)
        out = self.records_table(kept)
        if seeds is not None:
            from winnow.records import unify

            out = unify([seeds, out])
        return StepResult(out, rejected)

    def _count_entries(self, entries: list[dict[str, Any]]) -> None:
        """The calls of the candidates this batch emits (sent in prepare, counted once, here)."""
        tokens_in, tokens_out = sum(e["input_tokens"] for e in entries), sum(e["output_tokens"] for e in entries)
        hits = sum(e["journal_hits"] for e in entries)
        self.counters["requests"] += sum(len(e["keys"]) for e in entries) - hits
        self.counters["journal_hits"] += hits
        self.counters["input_tokens"] += tokens_in
        self.counters["output_tokens"] += tokens_out
        self.counters["usd"] += self.params.endpoint.price.usd(tokens_in, tokens_out)
        self.counters[f"template.{self.template.sha}"] += len(entries)
        for e in entries:
            self.counters["retries"] += len(e["errors"])
            for cause in e["errors"]:
                self.counters[f"attempt_errors.{cause}"] += 1
            if e.get("failure"):
                self.counters[f"failed.{e['failure'].split(':', 1)[0]}"] += 1

    def _record(self, row: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
        from winnow.synth.request import Completion

        completions = [Completion(k, "", None, 0, 0, self.params.endpoint.model, "") for k in entry["keys"]]
        record = self.synthetic(
            row,
            str(entry["n"]),
            completions,
            kind="conversation",
            messages=[{"role": "user", "content": entry["instruction"]}],
        )
        meta = orjson.loads(record["meta"])
        meta["synth"][self.name].update(
            input_tokens=entry["input_tokens"], output_tokens=entry["output_tokens"], similarity=entry["similarity"]
        )
        record["meta"] = orjson.dumps(meta).decode()
        return record

    def _rejected(self, batch, failed_rows: list[dict[str, Any]], failed: list[dict[str, Any]]):
        """The failed candidates as records (their instruction, or the raw reply), the seeds as ``seed``."""
        import pyarrow as pa

        from winnow.records import REASON

        rows = []
        for row, entry in zip(failed_rows, failed, strict=True):
            rows.append(
                {
                    **row,
                    "id": f"{row['id']}/{self.name}-{entry['n']}",
                    "text": entry.get("instruction") or "",
                    REASON: f"{self.name}: {entry['failure'].split(':', 1)[0]}",
                    self.tag("cause"): entry["failure"],
                    self.tag("raw"): orjson.dumps(entry["raw"]).decode(),
                }
            )
        tables = [pa.Table.from_pylist(rows)] if rows else []
        if not self.params.keep_seeds and batch.num_rows:
            tables.append(batch.append_column(REASON, pa.array([f"{self.name}: seed"] * batch.num_rows)))
        if not tables:
            return None
        from winnow.records import unify

        return unify(tables)
