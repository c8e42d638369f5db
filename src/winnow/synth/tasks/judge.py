"""``judge``: an LLM as judge, with a rubric and a rationale for every verdict.

* ``mode: rubric`` scores answers 1–10. A ``rated`` record gets a score on each completion (the
  annotator becomes ``judge:<model>``; ``rated_to_pairs`` then makes preference pairs); a
  ``conversation`` record gets ``judge.score`` on its last assistant turn. Rationales go to
  ``meta.judge.rationales``.
* ``mode: pairwise`` decides between the two answers of a ``preference`` record, asking twice with the
  answers in both orders to cancel position bias. Agreeing verdicts keep the pair (swapped when the
  judge prefers the rejected answer; ``chosen_score``/``rejected_score`` 1/0); a tie, or verdicts that
  flip with the order, drop it with reason ``tie`` or ``position_bias``.

An answer that is still not valid JSON after ``max_reasks`` re-asks drops the record with reason
``invalid_output``, its raw replies in ``judge.raw``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from winnow.conversation import render_record
from winnow.records import decode_meta, encode_meta
from winnow.steps.registry import register
from winnow.synth.stage import Calls, LLMParams, LLMStage, RowOutcome, gather_all, prompt_messages


class Rating(BaseModel):
    rationale: str = Field(max_length=400)
    # an enum rather than ge/le: every server's JSON-schema grammar supports enums
    score: Literal[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]


class Verdict(BaseModel):
    rationale: str = Field(max_length=400)
    winner: Literal["A", "B", "tie"]


def _last_user(messages: list[dict[str, Any]]) -> str:
    return next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")


def _answer(messages: list[dict[str, Any]] | None) -> str:
    return "\n".join(m["content"] for m in messages or [] if m["role"] == "assistant")


@register
class Judge(LLMStage):
    """Rate answers with a rubric (rated/conversation records) or pick the better of a pair (both orders)."""

    name = "judge"
    produces = ("judge.score",)

    class Params(LLMParams):
        mode: Literal["rubric", "pairwise"] = "rubric"
        rubric: str | None = Field(None, description="what a good answer is, added to the prompt")

    @property
    def builtin_template(self) -> str:  # type: ignore[override]
        return f"judge_{self.params.mode}"

    async def generate(self, row: dict[str, Any], calls: Calls) -> RowOutcome:
        if self.params.mode == "pairwise":
            return await self._pairwise(row, calls)
        return await self._rubric(row, calls)

    async def _rate(self, calls: Calls, prompt: str, answer: str):
        text = self.template.render(prompt=prompt, answer=answer, rubric=self.params.rubric)
        request = calls.request([{"role": "user", "content": text}], schema=Rating)
        return await calls.structured(request, Rating)

    async def _rubric(self, row: dict[str, Any], calls: Calls) -> RowOutcome:
        kind = row.get("kind")
        if kind == "rated":
            prompt = _last_user(row["messages"] or [])
            answers = [_answer(c["messages"]) for c in row["completions"] or []]
        elif kind == "conversation":
            messages = row["messages"] or []
            cut = (
                max(i for i, m in enumerate(messages) if m["role"] == "assistant")
                if _answer(messages)
                else len(messages)
            )
            prompt, answers = _last_user(messages[:cut]), [messages[cut]["content"]] if cut < len(messages) else []
        else:
            return RowOutcome(failure=f"not_judgeable: a {kind or 'document'} record has no answers to rate")
        results = await gather_all(*(self._rate(calls, prompt, a) for a in answers))
        failed = [r for r in results if r.value is None]
        if failed:
            return RowOutcome(failure=failed[0].reason, raw=[t for r in failed for t in r.raw])
        scores = [r.value.score for r in results]
        meta = decode_meta(row.get("meta"))
        meta["judge"] = {
            "model": self.params.endpoint.model,
            "template_sha": self.template.sha,
            "rationales": [r.value.rationale for r in results],
            "scores": scores,
        }
        record = {**row, "meta": encode_meta(meta), "judge.score": float(max(scores)) if scores else None}
        if kind == "rated":
            annotator = f"judge:{self.params.endpoint.model}"
            record["completions"] = [
                {**c, "score": float(s), "annotator": annotator}
                for c, s in zip(row["completions"], scores, strict=True)
            ]
        return RowOutcome(records=[record])

    async def _verdict(self, calls: Calls, prompt: str, a: str, b: str):
        text = self.template.render(prompt=prompt, answer_a=a, answer_b=b, rubric=self.params.rubric)
        request = calls.request([{"role": "user", "content": text}], schema=Verdict)
        return await calls.structured(request, Verdict)

    async def _pairwise(self, row: dict[str, Any], calls: Calls) -> RowOutcome:
        if row.get("kind") != "preference":
            return RowOutcome(
                failure=f"not_judgeable: pairwise judging needs preference records, not {row.get('kind')}"
            )
        prompt = _last_user(prompt_messages(row))
        chosen, rejected = _answer(row["chosen"]), _answer(row["rejected"])
        first, second = await gather_all(
            self._verdict(calls, prompt, chosen, rejected), self._verdict(calls, prompt, rejected, chosen)
        )
        for result in (first, second):
            if result.value is None:
                return RowOutcome(failure=result.reason, raw=result.raw)
        # In the first order A is the chosen answer; in the second, B is.
        prefers_chosen = (first.value.winner == "A", second.value.winner == "B")
        prefers_rejected = (first.value.winner == "B", second.value.winner == "A")
        meta = decode_meta(row.get("meta"))
        meta["judge"] = {
            "model": self.params.endpoint.model,
            "template_sha": self.template.sha,
            "verdicts": [first.value.winner, second.value.winner],
            "rationales": [first.value.rationale, second.value.rationale],
        }
        if all(prefers_chosen):
            return RowOutcome(
                records=[{**row, "meta": encode_meta(meta), "chosen_score": 1.0, "rejected_score": 0.0, "margin": 1.0}]
            )
        if all(prefers_rejected):
            swapped = {**row, "chosen": row["rejected"], "rejected": row["chosen"]}
            swapped["text"] = render_record(swapped)
            return RowOutcome(
                records=[
                    {**swapped, "meta": encode_meta(meta), "chosen_score": 1.0, "rejected_score": 0.0, "margin": 1.0}
                ]
            )
        why = "tie" if first.value.winner == second.value.winner == "tie" else "position_bias"
        verdicts = f"{first.value.winner} then {second.value.winner} with the answers swapped"
        return RowOutcome(failure=f"{why}: the judge said {verdicts}", raw=[*first.raw, *second.raw])
