"""Conversation statistics in the report and the data card, checked against the real ShareGPT and HH-RLHF
samples counted here independently."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
from test_card import section, tables

from conversation_samples import hh_messages
from winnow import run
from winnow.report.card import render_card
from winnow.report.html import render_report
from winnow.report.stats import run_summary
from winnow.steps.conversation import read_phrases

SHAREGPT = "sft/sharegpt/dummy_conversation.json"
HH = "sft/hh-rlhf/harmless-base-test.jsonl.gz"
ROLE = {"human": "user", "gpt": "assistant"}


def _refused(texts: list[str], pattern: re.Pattern[str]) -> bool:
    return any(pattern.search(t.lower().replace("\u2019", "'")) for t in texts)


@pytest.fixture(scope="module")
def pattern() -> re.Pattern[str]:
    phrases = sorted(read_phrases(None), key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(p) for p in phrases) + r")")


def _run(path: Path, out: Path, steps: list | None = None) -> dict:
    run({"input": {"path": str(path), "format": "chat"}, "steps": steps or [], "output": {"path": str(out)}}, workers=2)
    return run_summary(str(out))


def test_sharegpt_statistics(sample_data, tmp_path, pattern):
    source = json.loads((sample_data / SHAREGPT).read_text())
    c = _run(sample_data / SHAREGPT, tmp_path / "out")["conversations"]
    turns = [len(row["conversations"]) for row in source]
    assert c.records == len(source) and c.kinds == {"conversation": len(source)}
    assert c.turns["min"] == min(turns) and c.turns["max"] == max(turns)
    assert c.turns["mean"] == pytest.approx(sum(turns) / len(turns), abs=0.01)
    assert sum(c.turns_histogram.values()) == len(source)
    for role in ("user", "assistant"):
        messages = [t["value"] for row in source for t in row["conversations"] if ROLE[t["from"]] == role]
        assert c.roles[role].messages == len(messages)
        assert c.roles[role].words == sum(len(m.split()) for m in messages)
    refusals = sum(
        _refused([t["value"] for t in row["conversations"] if t["from"] == "gpt"], pattern) for row in source
    )
    assert c.refusals == refusals > 0 and c.preference_pairs == 0


def test_hh_statistics_report_and_card(sample_data, tmp_path, pattern):
    with gzip.open(sample_data / HH, "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    summary = _run(sample_data / HH, tmp_path / "out", [{"refusal_filter": {"mode": "tag"}}])
    c = summary["conversations"]
    assert c.records == c.preference_pairs == len(rows) and c.kinds == {"preference": len(rows)}
    chosen = [hh_messages(r["chosen"]) for r in rows]
    assert c.turns["max"] == max(len(m) for m in chosen)
    # Every message once: the shared prompt, the chosen and the rejected answer.
    rejected_answers = [hh_messages(r["rejected"])[-1] for r in rows]
    assistant = [m for ms in chosen for m in ms if m["role"] == "assistant"] + rejected_answers
    assert c.roles["assistant"].messages == len(assistant)
    assert c.roles["assistant"].words == sum(len(m["content"].split()) for m in assistant)
    refused = sum(_refused([m["content"] for m in ms if m["role"] == "assistant"], pattern) for ms in chosen)
    assert c.refusals == refused > 0
    assert c.refusal_share == pytest.approx(refused / len(rows))

    page = render_report(summary)
    assert '<section id="conversations"><h2>Conversations</h2>' in page
    assert f"{100 * c.refusal_share:.1f}%" in page and f"<b>{len(rows):,}</b>preference pairs" in page

    card = render_card(summary)
    text = section(card, "Conversations")
    assert f"{len(rows):,} preference pairs" in text and f"{c.refusals:,} records" in text
    roles = {row["role"]: row for row in tables(text)[1]}
    assert int(roles["assistant"]["words"].replace(",", "")) == c.roles["assistant"].words
    assert int(roles["user"]["messages"].replace(",", "")) == c.roles["user"].messages


def test_documents_have_no_conversation_section(quickstart_run):
    summary = run_summary(str(quickstart_run))
    assert summary["conversations"] is None
    assert 'id="conversations"' not in render_report(summary)
    assert "## Conversations" not in render_card(summary)
