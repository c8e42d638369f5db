"""What a recipe says about an LLM endpoint and the sampling of one task (typed, validated early)."""

from __future__ import annotations

import ipaddress
import os
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from winnow.errors import RecipeError


class Price(BaseModel):
    """US dollars per million tokens, as the provider bills them."""

    model_config = ConfigDict(extra="forbid")

    input: float = Field(0.0, ge=0, description="USD per million input (prompt) tokens")
    output: float = Field(0.0, ge=0, description="USD per million output (completion) tokens")

    def usd(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input + output_tokens * self.output) / 1e6


class Endpoint(BaseModel):
    """One OpenAI-compatible server (vLLM, llama.cpp, Ollama, TGI, LiteLLM, OpenAI...) and a model on it.

    The limits hold for the whole run: with N worker processes (local or Ray) each worker gets 1/N of
    them (:meth:`share`), so the server never sees more than ``max_concurrency`` requests at once."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(description="e.g. http://127.0.0.1:8000/v1")
    model: str
    api_key_env: str | None = Field(None, description="the environment variable that holds the API key")
    api: Literal["chat", "completions"] = "chat"
    max_concurrency: int = Field(8, ge=1, description="requests in flight at most (adapts down on 429s)")
    requests_per_minute: float | None = Field(None, gt=0)
    tokens_per_minute: float | None = Field(None, gt=0)
    timeout_s: float = Field(60.0, gt=0, description="one request's limit; a timeout is retried")
    max_retries: int = Field(6, ge=0, description="retries of one request on 429/5xx/timeouts/bad bodies")
    backoff_s: float = Field(0.5, ge=0, description="the first retry's delay; doubles each time, with jitter")
    max_backoff_s: float = Field(30.0, ge=0)
    circuit_failures: int = Field(3, ge=1, description="connection failures in a row that open the circuit")
    circuit_pause_s: float = Field(2.0, gt=0, description="how long an open circuit waits before a probe")
    max_down_s: float = Field(300.0, gt=0, description="give up on an endpoint that stays down this long")
    structured: Literal["json_schema", "json_object", "none"] = Field(
        "json_schema", description="how a JSON schema is sent: OpenAI json_schema, llama.cpp json_object+schema, or not"
    )
    price: Price = Field(default_factory=Price)

    def share(self, workers: int) -> Endpoint:
        """This endpoint's limits for one of ``workers`` processes that call it at the same time."""
        if workers <= 1:
            return self
        return self.model_copy(
            update={
                "max_concurrency": max(1, self.max_concurrency // workers),
                "requests_per_minute": _part(self.requests_per_minute, workers),
                "tokens_per_minute": _part(self.tokens_per_minute, workers),
            }
        )

    def api_key(self) -> str | None:
        if self.api_key_env is None:
            return None
        key = os.environ.get(self.api_key_env)
        if not key:
            raise RecipeError(f"endpoint {self.base_url}: the environment variable {self.api_key_env} is not set")
        return key

    @property
    def is_remote(self) -> bool:
        """Whether requests leave this machine (anything but loopback)."""
        host = urlsplit(self.base_url).hostname or ""
        if host == "localhost":
            return False
        try:
            return not ipaddress.ip_address(host).is_loopback
        except ValueError:
            return True


def _part(per_minute: float | None, workers: int) -> float | None:
    return None if per_minute is None else per_minute / workers


class Sampling(BaseModel):
    """The sampling parameters sent with every request of a task."""

    model_config = ConfigDict(extra="forbid")

    temperature: float | None = Field(None, ge=0)
    top_p: float | None = Field(None, gt=0, le=1)
    seed: int | None = Field(0, description="sample i is sent with seed + i, so every sample is reproducible")
    max_tokens: int | None = Field(256, ge=1)
    stop: list[str] | None = None
    logprobs: bool = False

    def body(self, sample: int) -> dict:
        """The request fields for sample ``sample`` (None values are left out)."""
        body = self.model_dump(exclude_none=True, exclude={"seed", "logprobs"})
        if self.seed is not None:
            body["seed"] = self.seed + sample
        if self.logprobs:
            body["logprobs"] = True
        return body


class Budget(BaseModel):
    """Stop the run (cleanly: ``--resume`` continues) once this much has been spent on the endpoint."""

    model_config = ConfigDict(extra="forbid")

    usd: float | None = Field(None, ge=0)
    tokens: int | None = Field(None, ge=0)
