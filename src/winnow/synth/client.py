"""The async OpenAI-compatible client: one request, one attempt. Retries, limits and the journal are the
engine's; here an attempt either returns a :class:`Completion` or raises :class:`CallError` saying
whether it is worth another try."""

from __future__ import annotations

import time
from typing import Any

import httpx
import orjson

from winnow.synth.config import Endpoint
from winnow.synth.request import Completion, LLMRequest

RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524}


class CallError(Exception):
    """One failed attempt. ``retryable`` attempts are retried; ``connection`` ones also count toward the
    circuit; ``retry_after`` is the server's ``Retry-After`` in seconds, when it sent one."""

    def __init__(
        self,
        cause: str,
        detail: str,
        raw: str = "",
        retryable: bool = True,
        connection: bool = False,
        retry_after: float | None = None,
    ):
        super().__init__(f"{cause}: {detail}")
        self.cause, self.detail, self.raw = cause, detail, raw
        self.retryable, self.connection, self.retry_after = retryable, connection, retry_after


class LLMClient:
    """``async with LLMClient(endpoint) as client: await client.call(request)``."""

    def __init__(self, endpoint: Endpoint):
        self.endpoint = endpoint
        headers = {"Content-Type": "application/json"}
        key = endpoint.api_key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        limits = httpx.Limits(
            max_connections=endpoint.max_concurrency * 2, max_keepalive_connections=endpoint.max_concurrency * 2
        )
        self._http = httpx.AsyncClient(
            base_url=endpoint.base_url.rstrip("/") + "/", headers=headers, timeout=endpoint.timeout_s, limits=limits
        )

    async def __aenter__(self) -> LLMClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self._http.aclose()

    def body(self, request: LLMRequest) -> dict[str, Any]:
        body: dict[str, Any] = {"model": request.model, **dict(request.params)}
        if "stop" in body and isinstance(body["stop"], tuple):
            body["stop"] = list(body["stop"])
        if request.prompt is not None:
            body["prompt"] = request.prompt
        else:
            body["messages"] = request.message_list()
        if request.schema and self.endpoint.structured != "none":
            schema = orjson.loads(request.schema)
            if self.endpoint.structured == "json_schema":
                body["response_format"] = {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}}
            else:
                body["response_format"] = {"type": "json_object", "schema": schema}
        return body

    async def call(self, request: LLMRequest) -> Completion:
        path = "completions" if request.prompt is not None else "chat/completions"
        start = time.perf_counter()
        try:
            response = await self._http.post(
                path, content=orjson.dumps(self.body(request)), headers={"X-Request-Id": request.key}
            )
        except httpx.TimeoutException as error:
            raise CallError(
                "timeout", f"no answer within {self.endpoint.timeout_s}s ({type(error).__name__})"
            ) from None
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as error:
            raise CallError("connection", f"{type(error).__name__}: {error}", connection=True) from None
        raw = response.text
        if response.status_code != 200:
            retryable = response.status_code in RETRY_STATUS
            raise CallError(
                f"http_{response.status_code}",
                raw[:300],
                raw,
                retryable=retryable,
                retry_after=_retry_after(response.headers.get("retry-after")),
            )
        return _parse(request, raw, time.perf_counter() - start)


def _parse(request: LLMRequest, raw: str, seconds: float) -> Completion:
    """The completion in a 200 body; a truncated or non-JSON body is a retryable ``bad_body``."""
    try:
        data = orjson.loads(raw)
        choice = data["choices"][0]
        text = choice["message"]["content"] if request.prompt is None else choice["text"]
        if not isinstance(text, str):
            raise TypeError(f"content is {type(text).__name__}")
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError) as error:
        raise CallError("bad_body", f"the server's 200 answer is not a completion ({error})", raw) from None
    usage = data.get("usage") or {}
    return Completion(
        key=request.key,
        text=text,
        finish_reason=choice.get("finish_reason"),
        input_tokens=int(usage.get("prompt_tokens") or 0),
        output_tokens=int(usage.get("completion_tokens") or 0),
        model=str(data.get("model") or request.model),
        raw=raw,
        seconds=seconds,
    )


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (seconds, or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None
