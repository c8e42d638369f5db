"""The parts of the synthetic engine that need no server: request keys, the journal's torn lines,
templates, structured parsing, the PII gate before a remote endpoint, remote detection."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field

from winnow.coroutines import run_coroutine
from winnow.errors import RecipeError
from winnow.records import make_batch
from winnow.steps.registry import build_step
from winnow.synth.config import Endpoint, Sampling
from winnow.synth.journal import Journal
from winnow.synth.request import Completion, LLMRequest
from winnow.synth.structured import parse
from winnow.synth.templates import PromptTemplate


def chat(content: str, sample: int = 0, **params) -> LLMRequest:
    return LLMRequest.chat("m", [{"role": "user", "content": content}], Sampling(**params).body(sample), sample)


def test_a_request_key_is_model_prompt_parameters_and_sample():
    assert chat("hi").key == chat("hi").key
    assert len({chat("hi").key, chat("hi!").key, chat("hi", 1).key, chat("hi", temperature=0.5).key}) == 4
    assert dict(chat("hi", 3).params)["seed"] == 3  # sample i is sent with seed + i


def test_the_journal_skips_a_torn_last_line_and_sees_other_writers(tmp_path):
    first = Journal(tmp_path)
    done = Completion("k1", "answer", "stop", 5, 2, "m", '{"raw": 1}')
    first.record(done)
    first.close()
    (tmp_path / "999-killed.jsonl").write_bytes(b'{"key": "k2", "text": "half')  # a writer killed mid-line
    again = Journal(tmp_path)
    assert "k1" in again and "k2" not in again and len(again) == 1
    assert again.get("k1").text == "answer" and again.get("k1").from_journal
    assert again.spent() == (5, 2)


def test_templates_render_strictly_and_say_where_they_come_from(tmp_path):
    template = PromptTemplate.load("Answer: {{ prompt }}", "answer")
    assert template.render(prompt="why?") == "Answer: why?" and len(template.sha) == 12
    with pytest.raises(RecipeError, match="'answer' is undefined.*names it can use: prompt"):
        PromptTemplate.load("{{ answer }}", "answer").render(prompt="x")
    with pytest.raises(RecipeError, match="prompt template not found: nope.j2"):
        PromptTemplate.load("nope.j2", "answer")
    path = tmp_path / "judge.j2"
    path.write_text("{% if x %}")
    with pytest.raises(RecipeError, match="judge.j2: line 1"):
        PromptTemplate.load(str(path), "answer").check()
    assert "{{ prompt }}" in PromptTemplate.load(None, "answer").source


class Score(BaseModel):
    score: int = Field(ge=1, le=10)


def test_structured_parsing_finds_the_object_and_names_what_is_wrong():
    assert parse('Sure! ```json\n{"score": 7}\n```', Score).score == 7
    with pytest.raises(ValueError, match="no JSON object"):
        parse("seven", Score)
    with pytest.raises(ValueError, match="invalid JSON"):
        parse('{"score": 7,}', Score)
    with pytest.raises(ValueError, match="score: Input should be less than or equal to 10"):
        parse('{"score": 11}', Score)
    # a raw control character in a string (llama.cpp's grammar lets them through) is accepted
    assert parse('{"note": "a\x14b\tc", "score": 3}', Score).score == 3


def test_remote_endpoints_are_told_from_loopback():
    assert not Endpoint(base_url="http://127.0.0.1:8000/v1", model="m").is_remote
    assert not Endpoint(base_url="http://localhost:8000/v1", model="m").is_remote
    assert Endpoint(base_url="https://api.openai.com/v1", model="m").is_remote
    assert Endpoint(base_url="http://10.0.0.5/v1", model="m").is_remote


def test_a_missing_api_key_variable_fails_the_recipe_before_any_call(monkeypatch):
    monkeypatch.delenv("WINNOW_TEST_KEY", raising=False)
    step = build_step(
        "generate_answers",
        {"endpoint": {"base_url": "https://llm.example/v1", "model": "m", "api_key_env": "WINNOW_TEST_KEY"}},
    )
    with pytest.raises(RecipeError, match="WINNOW_TEST_KEY is not set"):
        step.check()


def test_pii_is_not_sent_to_a_remote_endpoint(tmp_path):
    step = build_step(
        "generate_answers", {"endpoint": {"base_url": "https://llm.example/v1", "model": "m"}, "pii_check": True}
    )
    step.workdir = str(tmp_path)
    batch = make_batch({"id": ["a"], "text": ["Write to jane.doe@example.org about the invoice."]})
    result = step.process(batch)
    assert result.kept.num_rows == 0
    (row,) = result.rejected.to_pylist()
    assert row["reason"] == "generate_answers: pii_not_sent" and "EMAIL" in row["generate_answers.cause"].upper()
    assert step.counters["requests"] == 0  # nothing left the machine


def test_unknown_step_parameters_name_the_closest(tmp_path):
    with pytest.raises(RecipeError, match="did you mean 'n'"):
        build_step("generate_answers", {"endpoint": {"base_url": "http://127.0.0.1:1/v1", "model": "m"}, "nn": 2})


def test_concurrency_slots_go_first_in_first_out_and_never_above_the_limit():
    import asyncio

    from winnow.synth.limits import AdaptiveConcurrency

    async def scenario() -> tuple[list[int], int, int]:
        slots = AdaptiveConcurrency(4, successes_to_grow=1000)
        started: list[int] = []
        most = 0

        async def request(i: int) -> None:
            nonlocal most
            await slots.acquire()
            started.append(i)
            most = max(most, slots.in_flight)
            await asyncio.sleep(0)
            await slots.release(throttled=(i == 10))  # one 429: the limit drops to 3

        await asyncio.gather(*(request(i) for i in range(200)))
        # a waiter cancelled while queued gives its place up and leaks no slot
        for _ in range(slots.limit):
            await slots.acquire()
        queued = asyncio.ensure_future(slots.acquire())
        await asyncio.sleep(0)
        assert not queued.done()
        queued.cancel()
        await asyncio.gather(queued, return_exceptions=True)
        for _ in range(slots.limit):
            await slots.release()
        return started, most, slots.in_flight

    started, most, left = run_coroutine(scenario())
    assert started == list(range(200))  # first come, first served
    assert most <= 4 and left == 0
