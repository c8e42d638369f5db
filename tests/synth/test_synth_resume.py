"""Exact resume: ``winnow run`` killed with SIGKILL at random points, then ``--resume`` — the server
(the proxy's log) sees no completed request again, and no row is lost. And a budget stops a run cleanly."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time

import orjson
import pytest
from recipes import answers_recipe, journal_keys

from winnow import read_output, run
from winnow.synth.engine import BudgetReached

PROMPTS = 80


def start(recipe, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "winnow.cli", "run", str(recipe), "--workers", "1", "--quiet", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def kill_after(process: subprocess.Popen, proxy, answered: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while len(proxy.answered()) < answered:
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline, "the run did not reach the kill point"
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()


def test_sigkill_then_resume_sends_no_completed_request_again_and_loses_no_row(proxy, tmp_path):
    recipe = answers_recipe(tmp_path, proxy.base_url, n=2)
    out = tmp_path / "out"
    rng = random.Random(13)
    kill_points = sorted(rng.sample(range(10, 2 * PROMPTS - 20), 2))
    first = start(recipe)
    kill_after(first, proxy, kill_points[0])
    done_before_kills = [journal_keys(out)]
    seen = len(proxy.answered())
    second = start(recipe, "--resume")
    kill_after(second, proxy, seen + kill_points[1] - kill_points[0])
    done_before_kills.append(journal_keys(out))
    seen_at = [kill_points[0], len(proxy.answered())]
    third = start(recipe, "--resume")
    assert third.wait(timeout=120) == 0, third.stderr.read().decode()

    answered = proxy.answered()
    for journalled, since in zip(done_before_kills, seen_at, strict=True):
        assert journalled, "the kill came before any call was journalled"
        repeated = journalled & set(answered[since:])
        assert not repeated, f"{len(repeated)} completed requests were sent again after a kill"
    kept = read_output(str(out))
    assert kept.num_rows == PROMPTS and len(set(kept.column("id").to_pylist())) == PROMPTS
    assert all(len(c) == 2 for c in kept.column("completions").to_pylist())
    assert journal_keys(out) == set(answered) and len(journal_keys(out)) == 2 * PROMPTS
    # only calls in flight at a kill (sent, not journalled) may reach the server twice
    assert len(answered) - 2 * PROMPTS <= 2 * 4


def test_two_runs_with_the_same_seed_give_the_same_records(proxy, tmp_path):
    first = tmp_path / "a"
    first.mkdir()
    second = tmp_path / "b"
    second.mkdir()
    texts = []
    for folder in (first, second):
        run(str(answers_recipe(folder, proxy.base_url, n=1)), workers=1)
        records = read_output(str(folder / "out")).to_pylist()
        texts.append({r["id"]: r["messages"][-1]["content"] for r in records})
    assert texts[0] == texts[1] and len(texts[0]) == PROMPTS


def test_a_budget_stops_the_run_and_a_raised_budget_resumes_it(proxy, tmp_path):
    recipe = answers_recipe(tmp_path, proxy.base_url, n=1, budget={"tokens": 1500})
    with pytest.raises(BudgetReached, match="budget reached on tiny"):
        run(str(recipe), workers=1)
    spent = len(proxy.answered())
    assert 0 < spent < PROMPTS
    text = recipe.read_text().replace("tokens: 1500", "tokens: 1000000")
    recipe.write_text(text)
    manifest = run(str(recipe), workers=1, resume=True)
    assert manifest.counts.kept == PROMPTS
    answered = proxy.answered()
    assert len(answered) == len(set(answered)) == PROMPTS  # nothing sent twice across the stop
    counters = manifest.steps[0].counters
    assert counters["journal_hits"] == spent and counters["requests"] == PROMPTS - spent
    lines = [orjson.loads(x) for x in (tmp_path / "out" / "_winnow" / "manifest.json").read_bytes().splitlines()]
    assert lines[0]["steps"][0]["counters"]["input_tokens"] > 0
