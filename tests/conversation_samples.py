"""Conversation batches built from the real SFT excerpts in tests/data/shared/sft.

The readers (``winnow.io``) are the way a run reads these formats; the step tests build their
batches here, with a plain parse of the files, so that they test the steps and nothing else.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import pyarrow as pa

from winnow.conversation import message, render_record
from winnow.records import make_conversation_batch

HH_TURN = re.compile(r"\n\n(Human|Assistant): ")
SHAREGPT_ROLES = {"human": "user", "gpt": "assistant", "system": "system"}


def hh_messages(transcript: str) -> list[dict[str, Any]]:
    """An Anthropic HH transcript (``\\n\\nHuman: …\\n\\nAssistant: …``) as messages."""
    parts = HH_TURN.split(transcript)
    return [
        message("user" if speaker == "Human" else "assistant", content)
        for speaker, content in zip(parts[1::2], parts[2::2], strict=True)
    ]


def hh_records(sample_data: Path, limit: int | None = None) -> list[dict[str, Any]]:
    """Preference records: the shared prompt, the chosen and the rejected last assistant turn."""
    path = sample_data / "sft" / "hh-rlhf" / "harmless-base-test.jsonl.gz"
    records = []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for i, line in enumerate(lines):
            if limit is not None and i >= limit:
                break
            row = json.loads(line)
            chosen, rejected = hh_messages(row["chosen"]), hh_messages(row["rejected"])
            shared = 0
            while shared < min(len(chosen), len(rejected)) - 1 and chosen[shared] == rejected[shared]:
                shared += 1
            records.append(
                {
                    "id": f"hh:{i}",
                    "source": "hh-rlhf",
                    "kind": "preference",
                    "messages": chosen[:shared],
                    "chosen": chosen[shared:],
                    "rejected": rejected[shared:],
                }
            )
    return records


def sharegpt_records(sample_data: Path, limit: int | None = None) -> list[dict[str, Any]]:
    path = sample_data / "sft" / "sharegpt" / "dummy_conversation.json"
    rows = json.loads(path.read_text(encoding="utf-8"))[:limit]
    return [
        {
            "id": row["id"],
            "source": "sharegpt",
            "kind": "conversation",
            "messages": [message(SHAREGPT_ROLES[t["from"]], t["value"]) for t in row["conversations"]],
        }
        for row in rows
    ]


def batch_of(records: list[dict[str, Any]]) -> pa.Table:
    """A conversation batch whose ``text`` is each record's rendering."""
    records = [{**r, "text": render_record(r)} for r in records]
    keys = dict.fromkeys(k for r in records for k in r)
    return make_conversation_batch({k: [r.get(k) for r in records] for k in keys})
