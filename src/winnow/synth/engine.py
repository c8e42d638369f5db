"""The engine: a request in, a :class:`Completion` or a kept :class:`Failure` out — never a silent None.

For each request it looks in the journal first (a resumed run sends nothing already done), then
sends it under the endpoint's limits (:mod:`winnow.synth.limits`), retrying 429s, 5xx, timeouts,
connection errors and truncated or non-JSON bodies with exponential backoff and jitter (or the
server's ``Retry-After`` when longer). A completion is journalled before it is returned.
A budget, when set, stops new requests once reached; the calls in flight finish and are journalled.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field

from winnow.errors import WinnowError
from winnow.synth.client import CallError, LLMClient
from winnow.synth.config import Budget, Endpoint
from winnow.synth.journal import Journal
from winnow.synth.limits import AdaptiveConcurrency, Circuit, EndpointDown, RateLimiter
from winnow.synth.request import Completion, Failure, LLMRequest


class BudgetReached(WinnowError):
    """The recipe's budget is spent: the run stops; raise the budget and run again with --resume."""


@dataclass
class EngineStats:
    """What the engine did: the step turns these into its manifest counters."""

    sent: int = 0  # completed calls sent in this process
    journal_hits: int = 0  # completed calls found in the journal (not sent again)
    retries: int = 0
    input_tokens: int = 0  # of the calls sent here (the journal holds the rest)
    output_tokens: int = 0
    failed: Counter[str] = field(default_factory=Counter)  # requests given up, by cause
    attempt_errors: Counter[str] = field(default_factory=Counter)  # failed attempts, by cause
    circuit_openings: int = 0


class Engine:
    def __init__(self, endpoint: Endpoint, journal: Journal, budget: Budget | None = None, seed: int = 0):
        self.endpoint = endpoint
        self.journal = journal
        self.budget = budget
        self.stats = EngineStats()
        self.concurrency = AdaptiveConcurrency(endpoint.max_concurrency)
        self.requests_per_minute = RateLimiter(endpoint.requests_per_minute)
        self.tokens_per_minute = RateLimiter(endpoint.tokens_per_minute)
        self.circuit = Circuit(endpoint.circuit_failures, endpoint.circuit_pause_s, endpoint.max_down_s)
        self.client: LLMClient | None = None
        self.stopped: str | None = None  # why new requests are refused (the budget)
        self._random = random.Random(seed)  # jitter; seeded so that a run's timing is repeatable

    async def __aenter__(self) -> Engine:
        self.client = LLMClient(self.endpoint)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.client is not None:
            await self.client.__aexit__()
        self.stats.circuit_openings = self.circuit.openings

    async def complete(self, request: LLMRequest) -> Completion | Failure:
        cached = self.journal.get(request.key)
        if cached is not None:
            self.stats.journal_hits += 1
            return cached
        result = await self._send(request)
        if isinstance(result, Completion):
            self.journal.record(result)  # journalled before anyone sees it
            self.stats.sent += 1
            self.stats.input_tokens += result.input_tokens
            self.stats.output_tokens += result.output_tokens
        else:
            self.stats.failed[result.cause] += 1
        return result

    def raise_if_stopped(self) -> None:
        if self.stopped:
            raise BudgetReached(self.stopped)

    def _check_budget(self) -> None:
        if self.stopped:
            raise BudgetReached(self.stopped)
        if self.budget is None:
            return
        tokens_in, tokens_out = self.journal.spent()
        usd = self.endpoint.price.usd(tokens_in, tokens_out)
        over = []
        if self.budget.tokens is not None and tokens_in + tokens_out >= self.budget.tokens:
            over.append(f"{tokens_in + tokens_out:,} tokens of {self.budget.tokens:,}")
        if self.budget.usd is not None and usd >= self.budget.usd:
            over.append(f"${usd:.4f} of ${self.budget.usd:.4f}")
        if over:
            self.stopped = (
                f"budget reached on {self.endpoint.model}: {', '.join(over)} spent; "
                "raise the budget in the recipe and run again with --resume (nothing done is sent again)"
            )
            raise BudgetReached(self.stopped)

    async def _send(self, request: LLMRequest) -> Completion | Failure:
        """Attempts until a completion, a cause not worth retrying, or the retries spent."""
        history: list[str] = []
        counted = 0
        while True:
            try:
                outcome = await self._attempt(request)
            except EndpointDown as error:
                return Failure(request.key, "endpoint_down", str(error), attempts=len(history), history=history)
            if isinstance(outcome, Completion):
                outcome.attempts = len(history) + 1
                outcome.errors = history
                return outcome
            error = outcome
            history.append(error.cause)
            self.stats.attempt_errors[error.cause] += 1
            # While the circuit is open, connection failures are the outage, not this request's fault:
            # they wait on the circuit (bounded by max_down_s) instead of spending retries.
            if not (error.connection and self.circuit.is_open):
                counted += 1
            if not error.retryable or counted > self.endpoint.max_retries:
                detail = f"{error.detail} (gave up after {len(history)} attempts: {', '.join(history)})"
                return Failure(request.key, error.cause, detail, error.raw, len(history), history)
            self.stats.retries += 1
            await asyncio.sleep(self._delay(counted, error.retry_after))

    async def _attempt(self, request: LLMRequest) -> Completion | CallError:
        probe = await self.circuit.wait_closed()
        estimate = request.estimated_tokens()
        await self.requests_per_minute.take(1)
        await self.tokens_per_minute.take(estimate)
        await self.concurrency.acquire()
        throttled = False
        try:
            self._check_budget()  # here, not before the queue: the calls ahead of this one have been counted
            assert self.client is not None, "use the engine as `async with Engine(...)`"
            completion = await self.client.call(request)
        except CallError as error:
            throttled = error.cause == "http_429"
            self.circuit.failure(error.connection, probe)
            return error
        except BaseException:
            self.circuit.failure(False, probe)  # frees the probe (a budget stop, a cancelled run)
            raise
        finally:
            await self.concurrency.release(throttled)
        self.circuit.success(probe)
        self.tokens_per_minute.give_back(estimate - completion.input_tokens - completion.output_tokens)
        return completion

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        backoff = min(self.endpoint.max_backoff_s, self.endpoint.backoff_s * 2 ** (attempt - 1))
        jittered = backoff * (0.5 + self._random.random())
        return max(jittered, retry_after or 0.0)
