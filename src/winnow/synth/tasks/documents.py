"""Knowledge distillation from a curated corpus: ``document_qa`` and ``summarize_documents``.

Both read a document record's ``text`` (its first ``max_chars`` characters: a passage the model's
context holds) and write ``conversation`` records whose provenance (``meta.synth.<step>.from``) is the
document's id, so the data card and a decontamination or licence check can trace every pair back.

* ``document_qa``: one structured call per document asks for ``questions`` question/answer pairs
  (schema :func:`qa_pairs`); each pair becomes a record ``[user: question, assistant: answer]``, or,
  with ``with_passage``, one whose user turn carries the passage (reading-comprehension data). An
  empty question or answer is dropped with the reason ``empty_pair``.
* ``summarize_documents``: one plain call per document; the record is ``[user: the rendered template
  with the passage, assistant: the summary]``.
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import BaseModel, Field, create_model

from winnow.steps.registry import register
from winnow.synth.request import Completion
from winnow.synth.stage import Calls, LLMParams, LLMStage, RowOutcome


@functools.cache
def qa_pairs(count: int, max_question_chars: int | None = None, max_answer_chars: int | None = None) -> type[BaseModel]:
    """The reply's schema: 1 to ``count`` pairs, each string at most its bound long (``maxLength``).

    A bound is enforced by the server's grammar, so it caps what a call costs: without one a model that
    never closes its string runs to ``max_tokens``."""
    qa = create_model(
        "QA",
        question=(str, Field(max_length=max_question_chars)),
        answer=(str, Field(max_length=max_answer_chars)),
    )
    return create_model(f"QAPairs{count}", pairs=(list[qa], Field(min_length=1, max_length=count)))  # type: ignore[valid-type]


class DocumentParams(LLMParams):
    max_chars: int = Field(4000, ge=50, description="the passage sent: the document's first characters")


def passage(row: dict[str, Any], max_chars: int) -> str:
    return (row.get("text") or "")[:max_chars]


@register
class DocumentQA(LLMStage):
    """Write question/answer pairs from each document (knowledge distillation from a curated corpus)."""

    name = "document_qa"
    builtin_template = "document_qa"

    class Params(DocumentParams):
        questions: int = Field(3, ge=1, le=20, description="pairs asked for per document")
        with_passage: bool = Field(False, description="put the passage in the user turn before the question")
        max_question_chars: int | None = Field(None, ge=1, description="longest question the schema allows")
        max_answer_chars: int | None = Field(None, ge=1, description="longest answer the schema allows")

    async def generate(self, row: dict[str, Any], calls: Calls) -> RowOutcome:
        text = passage(row, self.params.max_chars)
        prompt = self.template.render(document=text, questions=self.params.questions, record=row)
        schema = qa_pairs(self.params.questions, self.params.max_question_chars, self.params.max_answer_chars)
        result = await calls.structured(calls.request([{"role": "user", "content": prompt}], schema=schema), schema)
        if result.value is None:
            return RowOutcome(failure=result.reason, raw=result.raw)
        outcome = RowOutcome()
        pairs = [(p.question.strip(), p.answer.strip()) for p in result.value.pairs]  # type: ignore[attr-defined]
        for i, (question, answer) in enumerate(pairs):
            if not question or not answer:
                self.counters["dropped_pairs.empty_pair"] += 1
                continue
            user = f"{text}\n\n{question}" if self.params.with_passage else question
            messages = [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]
            outcome.records.append(
                self.synthetic(row, f"qa{i}", result.completions, kind="conversation", messages=messages)
            )
        if not outcome.records:
            outcome.failure = "empty_pair: every pair had an empty question or answer"
            outcome.raw = result.raw
        return outcome


@register
class SummarizeDocuments(LLMStage):
    """Summarize each document (a summarization conversation: the passage asked about, the summary)."""

    name = "summarize_documents"
    builtin_template = "summarize"

    class Params(DocumentParams):
        sentences: int = Field(3, ge=1, le=50, description="the summary's length, as the prompt asks it")

    async def generate(self, row: dict[str, Any], calls: Calls) -> RowOutcome:
        text = passage(row, self.params.max_chars)
        prompt = self.template.render(document=text, sentences=self.params.sentences, record=row)
        result = await calls.text(calls.request([{"role": "user", "content": prompt}]))
        if not isinstance(result, Completion):
            return RowOutcome.of(result)
        if not result.text.strip():
            return RowOutcome(failure="empty_answer: the model returned no summary", raw=[result.text])
        messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": result.text.strip()}]
        return RowOutcome(records=[self.synthetic(row, "summary", [result], kind="conversation", messages=messages)])
