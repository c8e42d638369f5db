"""The trainer on real tokens: same seed -> same losses, the schedule, resume after a real SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from winnow.errors import WinnowError
from winnow.evaluate.config import ModelSize, Optimizer, TrainSpec
from winnow.evaluate.data import WindowSampler
from winnow.evaluate.trainer import CHECKPOINT, RESULT, learning_rate, read_result, train
from winnow.export.token_dataset import TokenDataset

TINY = ModelSize(name="tiny", layers=1, d_model=32, heads=2, context=32)


def spec(tokens: int = 4 * 32 * 60, seed: int = 0, **kw) -> TrainSpec:
    return TrainSpec(
        model=TINY, optimizer=Optimizer(batch_size=4), tokens=tokens, seed=seed, threads=1, log_every=5, **kw
    )


def test_same_config_and_seed_give_the_same_losses(corpus_tokens, tmp_path):
    _, tokens = corpus_tokens
    first = train(tokens, spec(), tmp_path / "a")
    second = train(tokens, spec(), tmp_path / "b")
    other = train(tokens, spec(seed=1), tmp_path / "c")
    assert [p.loss for p in first.curve] == pytest.approx([p.loss for p in second.curve], rel=1e-6, abs=1e-6)
    assert [p.loss for p in first.curve] != pytest.approx([p.loss for p in other.curve], rel=1e-3)
    assert first.curve[-1].loss < first.curve[0].loss - 0.5  # it learns: loss falls from ~log(512)
    assert first.tokens == 4 * 32 * 60 and first.steps == 60


def test_warmup_then_cosine_to_the_floor():
    s = TrainSpec(
        model=TINY, optimizer=Optimizer(lr=1e-3, warmup_fraction=0.1, min_lr_ratio=0.1, batch_size=1), tokens=32 * 100
    )
    assert learning_rate(s, 0) == pytest.approx(1e-4)
    assert learning_rate(s, 9) == pytest.approx(1e-3)
    assert learning_rate(s, 55) < learning_rate(s, 20) < 1e-3
    assert learning_rate(s, 99) == pytest.approx(1e-4, rel=0.01)


KILLED_RUN = """
import sys
from winnow.evaluate.config import TrainSpec
from winnow.evaluate.data import WindowSampler
from winnow.evaluate.trainer import train
train(sys.argv[1], TrainSpec.model_validate_json(sys.argv[2]), sys.argv[3])
"""


def test_resume_after_sigkill_gives_the_losses_of_an_uninterrupted_run(corpus_tokens, tmp_path):
    _, tokens = corpus_tokens
    long = spec(tokens=4 * 32 * 150, checkpoint_every=10)
    run_dir = tmp_path / "killed"
    child = subprocess.Popen([sys.executable, "-c", KILLED_RUN, str(tokens), long.model_dump_json(), str(run_dir)])
    deadline = time.time() + 120
    while not (run_dir / CHECKPOINT).exists() and child.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL, "the child finished before it could be killed"
    assert not (run_dir / RESULT).exists()

    resumed = train(tokens, long, run_dir)
    assert resumed.resumed_at_step and 0 < resumed.resumed_at_step < long.steps
    whole = train(tokens, long, tmp_path / "whole")
    assert [p.step for p in resumed.curve] == [p.step for p in whole.curve]
    assert [p.loss for p in resumed.curve] == pytest.approx([p.loss for p in whole.curve], rel=1e-5, abs=1e-6)
    assert not (run_dir / CHECKPOINT).exists()  # removed once the run is done
    assert read_result(run_dir).curve == resumed.curve
    assert train(tokens, long, run_dir).curve == resumed.curve  # a finished run is returned, not retrained


def test_a_checkpoint_of_another_spec_is_refused(corpus_tokens, tmp_path):
    _, tokens = corpus_tokens
    train(tokens, spec(), tmp_path / "done")
    with pytest.raises(WinnowError, match="different spec"):
        train(tokens, spec(seed=5), tmp_path / "done")


def test_a_split_shorter_than_one_window_is_a_clear_error(corpus_tokens):
    _, tokens = corpus_tokens
    val = TokenDataset(tokens, "val")
    with pytest.raises(WinnowError, match="fewer than one window"):
        WindowSampler(val, context=val.num_tokens, batch_size=1, seed=0)


def test_missing_tokens_dir_names_it(tmp_path: Path):
    with pytest.raises(WinnowError, match="not a winnow tokenize output"):
        train(tmp_path / "nothing", spec(), tmp_path / "run")
