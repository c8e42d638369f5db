"""``generate_answers``: N answers per prompt from one model.

A record's prompt is its conversation (its prompt turns) or its text as one user turn; the template
(default ``{{ prompt }}``) renders the last user turn from ``prompt`` (that turn's text) and ``record``.
Sample i is sent with ``seed + i``. One sample makes a ``conversation`` record (prompt + answer); N
samples make one ``rated`` record with N unscored completions (annotator: the model), ready for
``judge`` and ``rated_to_pairs``. An answer cut off by ``max_tokens`` is kept, with
``meta.synth.finish_reasons`` saying so (``response_filter`` drops answers cut mid-sentence).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from winnow.steps.registry import register
from winnow.synth.request import Completion, Failure
from winnow.synth.stage import Calls, LLMParams, LLMStage, RowOutcome, gather_all, prompt_messages


@register
class GenerateAnswers(LLMStage):
    """Answer each prompt N times with an LLM (conversation records, or rated records when n > 1)."""

    name = "generate_answers"
    builtin_template = "answer"

    class Params(LLMParams):
        n: int = Field(1, ge=1, le=64, description="answers per prompt (each its own request, seed + i)")

    def render(self, row: dict[str, Any]) -> list[dict[str, str]]:
        messages = prompt_messages(row)
        if messages[-1]["role"] == "assistant":
            return messages  # already answered: the model continues the assistant turn's conversation
        last = messages[-1]["content"]
        return [*messages[:-1], {"role": "user", "content": self.template.render(prompt=last, record=row)}]

    async def generate(self, row: dict[str, Any], calls: Calls) -> RowOutcome:
        messages = self.render(row)
        requests = [calls.request(messages, sample=i) for i in range(self.params.n)]
        results = await gather_all(*(calls.text(r) for r in requests))
        done = [r for r in results if isinstance(r, Completion)]
        failed = [r for r in results if isinstance(r, Failure)]
        outcome = RowOutcome(raw=[f.raw for f in failed])
        if failed:
            outcome.failure = failed[0].reason
        prompt = [{"role": m["role"], "content": m["content"]} for m in messages]
        if self.params.n == 1 and done:
            answer = {"role": "assistant", "content": done[0].text}
            outcome.records.append(self.synthetic(row, "0", done, kind="conversation", messages=[*prompt, answer]))
        elif len(done) >= 1 and self.params.n > 1:
            completions = [
                {
                    "messages": [{"role": "assistant", "content": c.text}],
                    "score": None,
                    "annotator": self.params.endpoint.model,
                }
                for c in done
            ]
            outcome.records.append(
                self.synthetic(row, "rated", done, kind="rated", messages=prompt, completions=completions)
            )
        return outcome
