"""One call to an LLM and what came of it: the typed values the client, engine, journal and tasks share."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson


@dataclass(frozen=True)
class LLMRequest:
    """A rendered prompt with its parameters. ``key`` names it for the journal: the same model, prompt,
    parameters and sample index are the same request, sent once."""

    model: str
    messages: tuple[tuple[str, str], ...] | None  # (role, content) pairs for the chat API
    prompt: str | None  # the completions API
    params: tuple[tuple[str, Any], ...]  # sampling fields, sorted
    sample: int = 0
    schema: str | None = None  # the JSON schema (as JSON) the answer must follow, when structured

    @classmethod
    def chat(
        cls,
        model: str,
        messages: list[dict[str, str]],
        params: dict[str, Any],
        sample: int = 0,
        schema: dict | None = None,
    ) -> LLMRequest:
        return cls(
            model=model,
            messages=tuple((m["role"], m["content"]) for m in messages),
            prompt=None,
            params=_frozen(params),
            sample=sample,
            schema=orjson.dumps(schema, option=orjson.OPT_SORT_KEYS).decode() if schema else None,
        )

    @classmethod
    def completion(cls, model: str, prompt: str, params: dict[str, Any], sample: int = 0) -> LLMRequest:
        return cls(model=model, messages=None, prompt=prompt, params=_frozen(params), sample=sample)

    @property
    def key(self) -> str:
        canonical = orjson.dumps(
            [self.model, self.messages, self.prompt, self.params, self.sample, self.schema],
            option=orjson.OPT_SORT_KEYS,
        )
        return hashlib.sha256(canonical).hexdigest()[:32]

    def message_list(self) -> list[dict[str, str]]:
        return [{"role": role, "content": content} for role, content in self.messages or ()]

    def prompt_chars(self) -> int:
        if self.prompt is not None:
            return len(self.prompt)
        return sum(len(content) for _, content in self.messages or ())

    def estimated_tokens(self) -> int:
        """A guess before the call (for the tokens/min limit): ~4 characters a token, plus the answer's limit."""
        max_tokens = dict(self.params).get("max_tokens") or 256
        return self.prompt_chars() // 4 + 1 + int(max_tokens)


def _frozen(params: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in params.items()))


@dataclass
class Completion:
    """A completed call: the text, why it stopped, its tokens, and the raw response body, always kept."""

    key: str
    text: str
    finish_reason: str | None
    input_tokens: int
    output_tokens: int
    model: str
    raw: str
    attempts: int = 1
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)  # the causes of the failed attempts before this one
    from_journal: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "text": self.text,
            "finish_reason": self.finish_reason,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "model": self.model,
            "raw": self.raw,
            "attempts": self.attempts,
            "seconds": round(self.seconds, 4),
            "errors": self.errors,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Completion:
        return cls(**data, from_journal=True)


@dataclass
class Failure:
    """A call that did not complete: the cause (``http_500``, ``timeout``, ``endpoint_down``...), a
    readable detail, and the last raw body the server sent (may be empty: a timeout sends none)."""

    key: str
    cause: str
    detail: str
    raw: str = ""
    attempts: int = 1
    history: list[str] = field(default_factory=list)  # the cause of every failed attempt, in order

    @property
    def reason(self) -> str:
        """``<cause>: <detail>``, as a rejected record's reason and cause columns carry it."""
        return f"{self.cause}: {self.detail}"
