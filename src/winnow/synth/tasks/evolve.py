"""``evolve_instructions``: Evol-Instruct-style rewrites of prompts into harder or broader ones.

Each record's last user turn (or its text) is rewritten by one operation — ``constraints`` (add a
requirement), ``deepen`` (ask for more depth), ``concretize`` (replace general concepts with specific
ones), ``reasoning`` (require several explicit steps) or ``breadth`` (a new task in the same domain) —
chosen per record from ``operations`` by a hash of its id and ``seed``, so a rerun picks the same one.
The rewrite is a ``conversation`` record with one user turn; one too close to the original (MinHash
similarity at or above ``max_similarity``) is dropped as ``unchanged``, with the rewrite kept in
``rejected/``.
"""

from __future__ import annotations

from typing import Any, Literal

import xxhash
from pydantic import Field

from winnow.steps.registry import register
from winnow.synth.novelty import NoveltyIndex
from winnow.synth.stage import Calls, LLMParams, LLMStage, RowOutcome, prompt_messages
from winnow.synth.tasks.self_instruct import NewTask

Operation = Literal["constraints", "deepen", "concretize", "reasoning", "breadth"]
GOALS: dict[str, tuple[str, str]] = {
    "constraints": ("demanding", "Add one more constraint or requirement."),
    "deepen": ("in-depth", "Ask for more depth and breadth on the same question."),
    "concretize": ("specific", "Replace general concepts with more specific ones."),
    "reasoning": ("reasoning-heavy", "Make it require several explicit reasoning steps."),
    "breadth": ("original", "Write a new task in the same domain, rarer than the original."),
}


@register
class EvolveInstructions(LLMStage):
    """Rewrite prompts into harder or broader ones (Evol-Instruct operations), dropping rewrites that change nothing."""

    name = "evolve_instructions"
    builtin_template = "evolve"

    class Params(LLMParams):
        operations: list[Operation] = Field(
            default_factory=lambda: ["constraints", "deepen", "concretize", "reasoning", "breadth"], min_length=1
        )
        max_similarity: float = Field(
            0.9, gt=0, le=1, description="a rewrite this close to the original (MinHash) is dropped as unchanged"
        )
        seed: int = 0

    def operation(self, record_id: str) -> str:
        ops = self.params.operations
        return ops[xxhash.xxh64_intdigest(record_id.encode(), seed=self.params.seed) % len(ops)]

    async def generate(self, row: dict[str, Any], calls: Calls) -> RowOutcome:
        original = prompt_messages(row)[-1]["content"]
        op = self.operation(row["id"])
        goal, hint = GOALS[op]
        text = self.template.render(prompt=original, operation=op, operation_goal=goal, operation_hint=hint, record=row)
        result = await calls.structured(calls.request([{"role": "user", "content": text}], schema=NewTask), NewTask)
        if result.value is None:
            return RowOutcome(failure=result.reason, raw=result.raw)
        rewrite = result.value.instruction.strip()
        index = NoveltyIndex()
        index.add([original])
        similarity = index.closest(rewrite)
        if similarity >= self.params.max_similarity:
            return RowOutcome(failure=f"unchanged: MinHash similarity {similarity:.2f} to the original", raw=result.raw)
        record = self.synthetic(
            row, op, result.completions, kind="conversation", messages=[{"role": "user", "content": rewrite}]
        )
        return RowOutcome(records=[record])
