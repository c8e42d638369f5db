"""Multi-turn and persona-driven data: ``continue_conversation`` and ``persona_prompts``.

* ``continue_conversation``: a conversation grows by ``turns`` exchanges. For each, the model first
  plays the user (template ``next_user_turn``: the conversation so far, asking for the user's next
  message), then answers that message as the assistant on the whole conversation. A conversation that
  ends on a user turn is answered first. The result is one ``conversation`` record with the new turns
  appended; a call that fails leaves the record out with its cause (no half-grown conversation).
* ``persona_prompts``: each input record's text is a persona ("a retired nurse who keeps bees"); one
  structured call asks for ``prompts`` requests in that person's voice (schema :func:`persona_prompts`).
  Each becomes a ``conversation`` record with one user turn, the persona in ``meta.persona``; requests
  too close to one already kept for the persona (MinHash, ``max_similarity``) are dropped, counted.
"""

from __future__ import annotations

import functools
from typing import Annotated, Any

from pydantic import BaseModel, Field, create_model

from winnow.steps.registry import register
from winnow.synth.novelty import NoveltyIndex
from winnow.synth.request import Completion, Failure
from winnow.synth.stage import Calls, LLMParams, LLMStage, RowOutcome, prompt_messages


@register
class ContinueConversation(LLMStage):
    """Grow conversations by simulated user turns and the model's answers (multi-turn data)."""

    name = "continue_conversation"
    builtin_template = "next_user_turn"

    class Params(LLMParams):
        turns: int = Field(1, ge=1, le=8, description="user/assistant exchanges added to each conversation")

    async def generate(self, row: dict[str, Any], calls: Calls) -> RowOutcome:
        messages = prompt_messages(row)
        made: list[Completion] = []
        step = 0

        async def call(request_messages: list[dict[str, str]]) -> Completion | Failure:
            nonlocal step
            result = await calls.text(calls.request(request_messages, sample=step))
            step += 1
            return result

        if messages[-1]["role"] != "assistant":
            answer = await call(messages)
            if isinstance(answer, Failure):
                return RowOutcome.of(answer)
            made.append(answer)
            messages = [*messages, {"role": "assistant", "content": answer.text.strip()}]
        for _ in range(self.params.turns):
            ask_user = self.template.render(conversation=messages, record=row)
            user = await call([{"role": "user", "content": ask_user}])
            if isinstance(user, Failure):
                return RowOutcome.of(user)
            if not user.text.strip():
                return RowOutcome(failure="empty_answer: the simulated user wrote nothing", raw=[user.text])
            made.append(user)
            messages = [*messages, {"role": "user", "content": user.text.strip()}]
            answer = await call(messages)
            if isinstance(answer, Failure):
                return RowOutcome.of(answer)
            made.append(answer)
            messages = [*messages, {"role": "assistant", "content": answer.text.strip()}]
        record = self.synthetic(row, f"turns{self.params.turns}", made, kind="conversation", messages=messages)
        return RowOutcome(records=[record])


@functools.cache
def persona_prompts(count: int, max_chars: int | None = None) -> type[BaseModel]:
    """The reply's schema: 1 to ``count`` requests, each at most ``max_chars`` long (the grammar's bound)."""
    request = Annotated[str, Field(max_length=max_chars)]
    return create_model(
        f"PersonaPrompts{count}",
        prompts=(list[request], Field(min_length=1, max_length=count)),  # type: ignore[valid-type]
    )


@register
class PersonaPromptsStep(LLMStage):
    """Write requests in the voice of each persona (persona-driven prompts, for diverse instructions)."""

    name = "persona_prompts"
    builtin_template = "persona"

    class Params(LLMParams):
        prompts: int = Field(3, ge=1, le=20, description="requests asked for per persona")
        max_similarity: float = Field(
            0.7, gt=0, le=1, description="a request this close (MinHash) to one kept for the persona is dropped"
        )
        max_prompt_chars: int | None = Field(None, ge=1, description="longest request the schema allows")

    async def generate(self, row: dict[str, Any], calls: Calls) -> RowOutcome:
        persona = (row.get("text") or "").strip()
        text = self.template.render(persona=persona, prompts=self.params.prompts, record=row)
        schema = persona_prompts(self.params.prompts, self.params.max_prompt_chars)
        result = await calls.structured(calls.request([{"role": "user", "content": text}], schema=schema), schema)
        if result.value is None:
            return RowOutcome(failure=result.reason, raw=result.raw)
        kept = NoveltyIndex()
        outcome = RowOutcome()
        for i, prompt in enumerate(p.strip() for p in result.value.prompts):  # type: ignore[attr-defined]
            if not prompt:
                self.counters["dropped_prompts.empty"] += 1
                continue
            if kept.closest(prompt) >= self.params.max_similarity:
                self.counters["dropped_prompts.similar"] += 1
                continue
            kept.add([prompt])
            messages = [{"role": "user", "content": prompt}]
            outcome.records.append(
                self.synthetic(
                    row, f"p{i}", result.completions, {"persona": persona}, kind="conversation", messages=messages
                )
            )
        if not outcome.records:
            outcome.failure = "empty_answer: no usable request in the reply"
            outcome.raw = result.raw
        return outcome
