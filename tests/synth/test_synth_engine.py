"""The client and engine against the real llama.cpp server, through the fault-injecting proxy."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Literal

from pydantic import BaseModel, Field

from winnow.coroutines import run_coroutine
from winnow.synth.config import Endpoint, Sampling
from winnow.synth.engine import Engine
from winnow.synth.journal import Journal
from winnow.synth.request import Completion, Failure, LLMRequest
from winnow.synth.structured import ask


def endpoint(url: str, **overrides) -> Endpoint:
    settings = dict(
        base_url=url,
        model="tiny",
        max_concurrency=4,
        timeout_s=1.5,
        backoff_s=0.05,
        max_backoff_s=0.2,
        circuit_pause_s=0.3,
        structured="json_object",
    )
    return Endpoint(**{**settings, **overrides})


def request(i: int, max_tokens: int = 8) -> LLMRequest:
    params = Sampling(temperature=0.8, max_tokens=max_tokens, seed=7).body(i)
    return LLMRequest.chat("tiny", [{"role": "user", "content": f"Say something about number {i}."}], params, i)


async def run_all(ep: Endpoint, journal: Journal, requests: list[LLMRequest]):
    async with Engine(ep, journal) as engine:
        results = await asyncio.gather(*(engine.complete(r) for r in requests))
    return engine, results


def test_completions_are_journalled_and_never_sent_twice(proxy, tmp_path):
    journal = Journal(tmp_path / "journal")
    requests = [request(i) for i in range(6)]
    engine, results = run_coroutine(run_all(endpoint(proxy.base_url), journal, requests))
    assert all(isinstance(r, Completion) for r in results)
    assert all(r.output_tokens > 0 and r.input_tokens > 0 and r.raw.startswith("{") for r in results)
    assert engine.stats.sent == 6 and sorted(proxy.answered()) == sorted(r.key for r in requests)
    again = Journal(tmp_path / "journal")  # a new process reading the same journal
    engine, replayed = run_coroutine(run_all(endpoint(proxy.base_url), again, requests))
    assert engine.stats.sent == 0 and engine.stats.journal_hits == 6
    assert [r.text for r in replayed] == [r.text for r in results]
    assert len(proxy.answered()) == 6  # the server saw nothing more


def test_same_seed_same_answers(proxy, tmp_path):
    first = run_coroutine(run_all(endpoint(proxy.base_url), Journal(tmp_path / "a"), [request(3, 16)]))[1]
    second = run_coroutine(run_all(endpoint(proxy.base_url), Journal(tmp_path / "b"), [request(3, 16)]))[1]
    assert first[0].text == second[0].text and len(proxy.answered()) == 2


def test_every_fault_is_retried_to_success(proxy, tmp_path):
    faults = ["429", "500", "timeout", "truncated", "nonjson", "drop"]
    proxy.inject(*faults)
    ep = endpoint(proxy.base_url, max_concurrency=1, max_retries=8, circuit_failures=5)
    engine, results = run_coroutine(run_all(ep, Journal(tmp_path / "j"), [request(i) for i in range(3)]))
    assert all(isinstance(r, Completion) for r in results), results
    causes = engine.stats.attempt_errors
    assert causes == {"http_429": 1, "http_500": 1, "timeout": 1, "bad_body": 2, "connection": 1}
    assert engine.stats.retries == 6 and sum(r.attempts for r in results) == 3 + 6
    assert not proxy.faults  # every fault was served


def test_a_request_that_keeps_failing_is_kept_with_its_cause_and_raw_body(proxy, tmp_path):
    proxy.inject("500", "500", "500")
    ep = endpoint(proxy.base_url, max_retries=2)
    _, (result,) = run_coroutine(run_all(ep, Journal(tmp_path / "j"), [request(0)]))
    assert isinstance(result, Failure)
    assert result.cause == "http_500" and result.history == ["http_500"] * 3
    assert '"internal"' in result.raw and "gave up after 3 attempts" in result.detail
    assert len(Journal(tmp_path / "j")) == 0  # a failure is not a completed call: a resume tries it again


def test_retry_after_sets_the_delay(proxy, tmp_path):
    ep = endpoint(proxy.base_url)
    engine = Engine(ep, Journal(tmp_path / "j"))
    assert engine._delay(1, retry_after=1.0) == 1.0  # longer than the backoff: the server's word holds
    assert 0.025 <= engine._delay(1, retry_after=None) <= 0.075  # backoff 0.05 with jitter


def test_the_circuit_waits_out_a_dead_server_without_spending_retries(proxy, llm_server, tmp_path):
    llm_server.kill()
    restart = threading.Timer(2.0, llm_server.start)
    restart.start()
    ep = endpoint(proxy.base_url, max_retries=2, circuit_failures=2, timeout_s=5)
    started = time.monotonic()
    engine, results = run_coroutine(run_all(ep, Journal(tmp_path / "j"), [request(i) for i in range(4)]))
    restart.join()
    assert all(isinstance(r, Completion) for r in results), results
    assert engine.stats.circuit_openings >= 1
    assert engine.stats.attempt_errors["connection"] > 2  # more failed attempts than retries allowed
    assert time.monotonic() - started >= 1.5  # it waited for the restart rather than giving up


def test_an_endpoint_down_for_good_is_a_kept_failure(proxy, llm_server, tmp_path):
    llm_server.kill()
    ep = endpoint(proxy.base_url, max_retries=1, circuit_failures=1, max_down_s=1.0)
    _, (result,) = run_coroutine(run_all(ep, Journal(tmp_path / "j"), [request(0)]))
    llm_server.start()
    assert isinstance(result, Failure) and result.cause == "endpoint_down"


class Rating(BaseModel):
    # llama.cpp's schema-to-grammar honours maxLength (a bounded repetition of `char`) and enums, not
    # minimum/maximum: the grammar's longest sentence is ~30 tokens of structure plus at most 6 tokens
    # (a \uXXXX escape) per character, so max_tokens=128 always leaves room for the random model to finish
    rationale: str = Field(max_length=12)
    score: Literal[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]


def ask_for_a_rating(ep, journal: Journal, max_tokens: int):
    """One structured request for a :class:`Rating`, re-asked at most twice."""

    async def go():
        async with Engine(ep, journal) as engine:
            messages = [{"role": "user", "content": "Rate this."}]
            req = LLMRequest.chat(
                "tiny", messages, Sampling(max_tokens=max_tokens).body(0), 0, Rating.model_json_schema()
            )
            return await ask(engine, req, Rating, max_reasks=2)

    return run_coroutine(go())


def test_structured_output_follows_the_schema(proxy, tmp_path):
    result = ask_for_a_rating(endpoint(proxy.base_url), Journal(tmp_path / "j"), max_tokens=128)
    assert result.value is not None and 1 <= result.value.score <= 10, result.raw
    assert result.reasks == 0 and result.completions[0].finish_reason == "stop"  # the grammar ended it


def test_invalid_output_is_asked_again_then_kept_with_every_raw_reply(proxy, tmp_path):
    # no schema sent: the random model's text is not JSON, so every reply is invalid
    result = ask_for_a_rating(endpoint(proxy.base_url, structured="none"), Journal(tmp_path / "j"), max_tokens=8)
    assert result.value is None and result.reasks == 2 and len(result.raw) == 3
    assert result.reason.startswith("invalid_output") and "after 3 replies" in result.reason
    assert len(proxy.answered()) == 3
