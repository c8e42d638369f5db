"""Structured answers: a pydantic model per task, invalid output asked again, the raw text always kept."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from winnow.synth.engine import Engine
from winnow.synth.request import Completion, Failure, LLMRequest

Model = TypeVar("Model", bound=BaseModel)

REASK = (
    "Your reply is not a valid answer: {error}. Reply again with only one JSON object that follows "
    "this JSON schema, and nothing else:\n{schema}"
)


@dataclass
class Structured(Generic[Model]):
    """The parsed answer (``value``), or why there is none (``reason``); ``raw`` holds every reply's text."""

    value: Model | None
    raw: list[str] = field(default_factory=list)
    reason: str | None = None
    completions: list[Completion] = field(default_factory=list)
    reasks: int = 0
    errors: list[str] = field(default_factory=list)  # failed attempts of a call that failed for good


def parse(text: str, model: type[Model]) -> Model:
    """The first JSON object in ``text`` (code fences and chatter around it allowed), validated."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        raise ValueError("no JSON object in the reply")
    try:
        data = orjson.loads(text[start : end + 1])
    except orjson.JSONDecodeError as error:
        # llama.cpp's JSON-schema grammar (llama-cpp-python 0.3.x) lets raw control characters (U+0000 to
        # U+001F) into strings, which strict JSON forbids: accept them rather than re-ask for them
        try:
            data = json.loads(text[start : end + 1], strict=False)
        except ValueError:
            raise ValueError(f"invalid JSON ({error})") from None
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'object'}: {e['msg']}" for e in error.errors())
        raise ValueError(f"does not follow the schema ({problems})") from None


async def ask(engine: Engine, request: LLMRequest, model: type[Model], max_reasks: int) -> Structured[Model]:
    """Send ``request`` (a chat request with ``schema`` set) and parse; re-ask up to ``max_reasks`` times."""
    result: Structured[Model] = Structured(None)
    schema = orjson.dumps(model.model_json_schema()).decode()
    for attempt in range(max_reasks + 1):
        outcome = await engine.complete(request)
        if isinstance(outcome, Failure):
            result.reason = outcome.reason
            result.raw.append(outcome.raw)
            result.errors = outcome.history
            return result
        result.completions.append(outcome)
        result.raw.append(outcome.text)
        try:
            result.value = parse(outcome.text, model)
            result.reason = None
            return result
        except ValueError as error:
            result.reason = f"invalid_output: {error} (after {attempt + 1} replies)"
        if attempt < max_reasks:
            result.reasks += 1
            messages = request.message_list() + [
                {"role": "assistant", "content": outcome.text},
                {"role": "user", "content": REASK.format(error=result.reason, schema=schema)},
            ]
            request = LLMRequest.chat(
                request.model,
                messages,
                dict(request.params),
                request.sample,
                orjson.loads(request.schema) if request.schema else None,
            )
    return result
