"""``winnow export`` on a real run's output: the command a user types after ``winnow run``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from winnow.exec.runner import run
from winnow.io.chat import read_conversations

pytestmark = pytest.mark.core  # needs only the core dependencies


def winnow(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "winnow.cli", *args], capture_output=True, text=True)


def test_export_command_on_a_run_of_real_data(sample_data, test_data, tmp_path):
    out = tmp_path / "out"
    run(
        {
            "input": [
                {"path": str(sample_data / "sft" / "hh-rlhf" / "harmless-base-test.jsonl.gz"), "format": "chat"},
                {"path": str(test_data / "chat" / "chatlog.jsonl"), "format": "chatlog"},
            ],
            "output": {"path": str(out)},
        },
        workers=1,
    )
    dpo = tmp_path / "dpo.jsonl.zst"
    done = winnow("export", str(out), "--format", "trl-dpo", "-o", str(dpo))
    assert done.returncode == 0, done.stderr
    assert "405 records -> 401 trl-dpo rows" in done.stdout
    assert "skipped (kind not held by trl-dpo): 1 conversation, 1 rated, 2 unpaired" in done.stdout
    back = read_conversations(str(dpo), format="trl")
    assert back.num_rows == 401 and set(back.column("kind").to_pylist()) == {"preference"}

    bad = winnow("export", str(out), "--format", "trl-sft", "--style", "chatml", "-o", str(tmp_path / "x.jsonl"))
    assert bad.returncode == 2 and "style must be one of messages, prompt-completion" in bad.stderr
    kto = tmp_path / "kto.json"
    done = winnow("export", str(out), "--format", "trl-kto", "--no-unpair", "-o", str(kto))
    assert done.returncode == 0 and [r["label"] for r in json.loads(kto.read_text())] == [True, True]
    assert "--format FORMAT" in winnow("export", "--help").stdout
