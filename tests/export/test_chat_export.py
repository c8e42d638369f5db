"""Exports of conversations and preferences: round trips on the real samples (read → export →
read back = the same messages, roles and pairs) and each format's rules, failing on the record."""

from __future__ import annotations

import gzip
import json

import pytest

from winnow.errors import WinnowError
from winnow.export.chat import READ_BACK, ExportError, export_conversations, problem
from winnow.io.chat import read_conversations

pytestmark = pytest.mark.core  # needs only the core dependencies

SAMPLES = {
    "sharegpt": "sft/sharegpt/dummy_conversation.json",
    "hh": "sft/hh-rlhf/harmless-base-test.jsonl.gz",
    "mt_bench": "sft/mt_bench/question.jsonl",
    "self_instruct": "sft/self-instruct/seed_tasks.jsonl",
}
# (sample, export format, options) that hold every record of the sample
ROUND_TRIPS = [
    ("sharegpt", "trl-sft", {}),
    ("sharegpt", "trl-sft", {"style": "prompt-completion"}),
    ("sharegpt", "openai-sft", {}),
    ("sharegpt", "sharegpt", {}),
    ("self_instruct", "trl-sft", {}),
    ("self_instruct", "trl-sft", {"style": "prompt-completion"}),
    ("self_instruct", "openai-sft", {}),
    ("self_instruct", "sharegpt", {}),
    ("self_instruct", "alpaca", {}),
    ("mt_bench", "trl-sft", {}),
    ("mt_bench", "sharegpt", {}),
    ("hh", "trl-dpo", {}),
    ("hh", "trl-dpo", {"style": "implicit"}),
    ("hh", "trl-reward", {}),
    ("hh", "openai-dpo", {}),
    ("hh", "hh-rlhf", {}),
]
FIELDS = ("role", "content", "name", "tool_calls", "weight", "tool_call_id")


def _turns(messages):
    return [tuple(m[k] for k in FIELDS) for m in messages or []]


def _shape(record):
    """What a round trip keeps: the kind, the prompt, the pair or completion, the label."""
    return (
        record["kind"],
        _turns(record["messages"]),
        _turns(record["chosen"]),
        _turns(record["rejected"]),
        _turns(record["completion"]),
        record["label"],
        record["tools"],
    )


@pytest.fixture(scope="module")
def samples(sample_data):
    return {name: read_conversations(str(sample_data / path)) for name, path in SAMPLES.items()}


def test_samples_read_as_expected(samples, sample_data):
    assert {name: t.num_rows for name, t in samples.items()} == {
        "sharegpt": 500,
        "hh": 400,
        "mt_bench": 80,
        "self_instruct": 175,
    }
    mt = samples["mt_bench"].to_pylist()[0]
    assert mt["id"] == "81" and json.loads(mt["meta"]) == {"category": "writing"}
    assert [m["role"] for m in mt["messages"]] == ["user", "user"]
    seed = samples["self_instruct"].to_pylist()[1]
    assert seed["id"] == "seed_task_1"
    assert (
        seed["messages"][0]["content"] == "What is the relation between the given pairs?\n\nNight : Day :: Right : Left"
    )


@pytest.mark.parametrize(("sample", "fmt", "options"), ROUND_TRIPS, ids=lambda v: str(v) if v else "")
def test_round_trip_on_real_samples(samples, tmp_path, sample, fmt, options):
    table = samples[sample]
    out = tmp_path / f"{fmt}.jsonl"
    summary = export_conversations(table, fmt, out, **options)
    assert summary.records == summary.rows == table.num_rows and not summary.skipped
    back = read_conversations(str(out), format=READ_BACK[fmt])
    assert [_shape(r) for r in back.to_pylist()] == [_shape(r) for r in table.to_pylist()]
    if fmt == "sharegpt":  # the one format here that carries ids
        assert back.column("id").to_pylist() == table.column("id").to_pylist()


def test_hh_rlhf_export_gives_back_the_original_lines(samples, sample_data, tmp_path):
    out = tmp_path / "hh.jsonl.gz"
    export_conversations(samples["hh"], "hh-rlhf", out)
    with gzip.open(out, "rb") as a, gzip.open(sample_data / SAMPLES["hh"], "rb") as b:
        assert [json.loads(line) for line in a] == [json.loads(line) for line in b]


def test_kto_unpairs_preferences_into_a_good_and_a_bad_row(samples, tmp_path):
    hh = samples["hh"].to_pylist()
    out = tmp_path / "kto.jsonl"
    summary = export_conversations(samples["hh"], "trl-kto", out)
    assert summary.rows == 2 * len(hh)
    back = read_conversations(str(out), format="trl").to_pylist()
    for record, good, bad in zip(hh, back[0::2], back[1::2], strict=True):
        assert good["kind"] == bad["kind"] == "unpaired" and good["label"] is True and bad["label"] is False
        assert _turns(good["messages"]) == _turns(bad["messages"]) == _turns(record["messages"])
        assert _turns(good["completion"]) == _turns(record["chosen"])
        assert _turns(bad["completion"]) == _turns(record["rejected"])
    with pytest.raises(WinnowError, match="unpair must be true or false"):
        export_conversations(samples["hh"], "trl-kto", out, unpair="no")


def test_kinds_a_format_does_not_hold_are_skipped_and_counted(test_data, tmp_path):
    logs = read_conversations(str(test_data / "chat" / "chatlog.jsonl"))
    assert logs.column("kind").to_pylist() == ["preference", "unpaired", "rated", "conversation", "unpaired"]
    summary = export_conversations(logs, "trl-dpo", tmp_path / "dpo.jsonl")
    assert summary.rows == 1 and summary.skipped == {"unpaired": 2, "rated": 1, "conversation": 1}
    (row,) = [json.loads(line) for line in (tmp_path / "dpo.jsonl").read_text().splitlines()]
    assert row["chosen"][0]["content"].startswith("Run `git reset --soft")  # the user's edit wins
    assert row["rejected"][0]["content"] == "Run `git reset --hard HEAD~1`."
    kto = export_conversations(logs, "trl-kto", tmp_path / "kto.jsonl", unpair=False)
    assert kto.rows == 2 and kto.skipped == {"preference": 1, "rated": 1, "conversation": 1}


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("trl_standard.jsonl", "trl-sft"),
        ("trl_standard.jsonl", "trl-dpo"),
        ("trl_conversational.jsonl", "trl-sft"),
        ("trl_conversational.jsonl", "trl-dpo"),
        ("trl_conversational.jsonl", "trl-kto"),
        ("openai_sft.jsonl", "openai-sft"),
        ("openai_sft.jsonl", "trl-sft"),
        ("openai_dpo.jsonl", "openai-dpo"),
        ("openai_dpo.jsonl", "trl-dpo"),
        ("alpaca.json", "alpaca"),
        ("alpaca.json", "sharegpt"),
    ],
)
def test_round_trip_on_hand_made_formats(test_data, tmp_path, name, fmt):
    table = read_conversations(str(test_data / "chat" / name))
    kinds = {"trl-sft": "conversation", "trl-dpo": "preference", "trl-kto": "unpaired"}.get(fmt)
    options = {"unpair": False} if fmt == "trl-kto" else {}
    if fmt == "trl-dpo" and name == "trl_standard.jsonl":
        options = {"style": "implicit"}  # two of its pairs have no separate prompt
    out = tmp_path / "out.json"  # a JSON array this time
    export_conversations(table, fmt, out, **options)
    back = read_conversations(str(out), format=READ_BACK[fmt])
    expected = [r for r in table.to_pylist() if kinds is None or r["kind"] == kinds]
    if fmt == "trl-dpo" and name == "trl_standard.jsonl":  # implicit standard pairs: the prompt joins each side
        expected = [r for r in expected if not r["messages"]]
        back = back.filter([not r["messages"] for r in table.to_pylist() if r["kind"] == "preference"])
    assert len(expected) > 0 and [_shape(r) for r in back.to_pylist()] == [_shape(r) for r in expected]


def test_openai_sft_keeps_tools_weights_and_string_arguments(test_data, tmp_path):
    out = tmp_path / "openai.jsonl"
    export_conversations(read_conversations(str(test_data / "chat" / "openai_sft.jsonl")), "openai-sft", out)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [m.get("weight") for m in rows[0]["messages"]] == [None, None, 0, None, 1]
    call = rows[1]["messages"][1]
    assert call["content"] is None and isinstance(call["tool_calls"][0]["function"]["arguments"], str)
    assert rows[1]["messages"][2]["tool_call_id"] == "call_id" and rows[1]["tools"][0]["function"]["name"]
    assert rows[2]["messages"][0]["content"] == "Say hello in French."  # text parts joined


def test_export_fails_naming_the_record_and_leaves_no_file(test_data, tmp_path):
    table = read_conversations(str(test_data / "chat" / "trl_conversational.jsonl"))
    out = tmp_path / "openai.jsonl"
    with pytest.raises(ExportError, match="openai-sft export: record prompt-only: messages have no assistant turn"):
        export_conversations(table, "openai-sft", out)
    table = table.filter([i == "tools" for i in table.column("id").to_pylist()])
    with pytest.raises(ExportError, match=r"openai-sft export: record tools: messages\[2\] is a tool turn without"):
        export_conversations(table, "openai-sft", out)
    assert not out.exists() and not list(tmp_path.iterdir())
    with pytest.raises(
        ExportError,
        match="alpaca export: record identity_0: Alpaca holds one user turn and one answer, not user/assistant/user",
    ):
        samples = read_conversations(str(test_data / "shared" / "sft" / "sharegpt" / "dummy_conversation.json"))
        export_conversations(
            samples.filter([len(m) > 2 for m in samples.column("messages").to_pylist()]), "alpaca", out
        )
    with pytest.raises(ExportError, match="record implicit: no shared prompt"):
        export_conversations(read_conversations(str(test_data / "chat" / "trl_standard.jsonl")), "trl-dpo", out)
    with pytest.raises(WinnowError, match="unknown export format 'trl-ppo'"):
        export_conversations(table, "trl-ppo", out)
    with pytest.raises(WinnowError, match="style must be one of messages, prompt-completion"):
        export_conversations(table, "trl-sft", out, style="chatml")


USER = {"role": "user", "content": "Hi"}
ASSISTANT = {"role": "assistant", "content": "Hello"}


@pytest.mark.parametrize(
    ("fmt", "row", "why"),
    [
        ("trl-sft", {"messages": [USER], "id": "x"}, "are not a trl-sft key set"),
        ("trl-sft", {"prompt": [USER], "completion": [USER]}, "completion[0] is a user turn"),
        ("trl-sft", {"messages": []}, "messages is not a non-empty list"),
        ("trl-dpo", {"prompt": [USER], "chosen": [ASSISTANT]}, "are not a trl-dpo key set"),
        ("trl-dpo", {"chosen": [USER, ASSISTANT], "rejected": [ASSISTANT, USER]}, "rejected does not end on an"),
        ("trl-kto", {"prompt": [USER], "completion": [ASSISTANT], "label": 1}, "label is 1, not a bool"),
        ("trl-reward", {"chosen": [USER, ASSISTANT], "rejected": [USER, ASSISTANT], "margin": "big"}, "margin"),
        ("openai-sft", {"messages": [USER]}, "no assistant turn"),
        ("openai-sft", {"messages": [{"role": "bot", "content": "x"}]}, "has role 'bot'"),
        ("openai-sft", {"messages": [{**USER, "weight": 1}, ASSISTANT]}, "weight is 1 on a user turn"),
        ("openai-sft", {"messages": [USER, {**ASSISTANT, "weight": 0.5}]}, "0 or 1, assistant turns only"),
        (
            "openai-sft",
            {
                "messages": [
                    USER,
                    {**ASSISTANT, "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": {}}}]},
                ]
            },
            "arguments is dict; OpenAI wants a JSON string",
        ),
        (
            "openai-dpo",
            {
                "input": {"messages": [USER]},
                "preferred_output": [ASSISTANT, ASSISTANT],
                "non_preferred_output": [ASSISTANT],
            },
            "preferred_output holds 2 messages",
        ),
        (
            "openai-dpo",
            {"input": {"messages": [USER]}, "preferred_output": [USER], "non_preferred_output": [ASSISTANT]},
            "preferred_output[0] is a user turn",
        ),
        (
            "openai-dpo",
            {
                "input": {"messages": [USER, ASSISTANT]},
                "preferred_output": [ASSISTANT],
                "non_preferred_output": [ASSISTANT],
            },
            "do not end on a user turn",
        ),
        ("sharegpt", {"conversations": [{"from": "bot", "value": "x"}]}, "conversations[0] is not"),
        ("alpaca", {"instruction": " ", "input": "", "output": "x"}, "instruction is empty"),
        ("hh-rlhf", {"chosen": "\n\nHuman: a\n\nAssistant: b", "rejected": "Human: a"}, "rejected does not start"),
    ],
)
def test_each_format_rule_is_checked(fmt, row, why):
    assert why in (problem(fmt, row) or "")


@pytest.mark.parametrize(
    ("fmt", "row"),
    [
        ("trl-sft", {"messages": [USER, ASSISTANT], "tools": []}),
        ("trl-dpo", {"prompt": [USER], "chosen": [ASSISTANT], "rejected": [ASSISTANT]}),
        (
            "openai-dpo",
            {"input": {"messages": [USER]}, "preferred_output": [ASSISTANT], "non_preferred_output": [ASSISTANT]},
        ),
        ("hh-rlhf", {"chosen": "\n\nHuman: a\n\nAssistant: b", "rejected": "\n\nHuman: a\n\nAssistant: c"}),
    ],
)
def test_valid_rows_pass(fmt, row):
    assert problem(fmt, row) is None


@pytest.mark.parametrize(
    ("fmt", "options"), [("trl-dpo", {}), ("trl-dpo", {"style": "implicit"}), ("trl-reward", {}), ("trl-sft", {})]
)
def test_columnar_export_writes_what_the_row_path_writes(samples, test_data, tmp_path, fmt, options):
    from winnow.export.chat import ExportSummary, convert_rows
    from winnow.export.chat.columnar import fast_rows

    tables = [samples["hh"], samples["sharegpt"], read_conversations(str(test_data / "chat" / "chatlog.jsonl"))]
    for table in tables:
        assert fast_rows(table, fmt, options) is not None  # these batches take the columnar path
        out = tmp_path / "fast.jsonl"
        summary = export_conversations(table, fmt, out, **options)
        slow = ExportSummary(fmt, "")
        expected = b"".join(
            json.dumps(r, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
            for r in convert_rows(table.to_pylist(), fmt, slow, **options)
        )
        assert out.read_bytes() == expected and summary.skipped == slow.skipped and summary.rows == slow.rows
    # a batch the columnar path cannot vouch for goes row by row, which names the record
    bad = samples["hh"].slice(0, 3)
    rejected = bad.column("rejected").to_pylist()
    rejected[1] = [{**rejected[1][0], "role": "user"}]
    import pyarrow as pa

    from winnow.records import MESSAGES_TYPE

    bad = bad.set_column(bad.schema.get_field_index("rejected"), "rejected", pa.array(rejected, MESSAGES_TYPE))
    if fmt == "trl-dpo" and not options:
        assert fast_rows(bad, fmt, options) is None
        with pytest.raises(ExportError, match=r"record harmless-base-test.jsonl.gz:2: rejected\[0\] is a user turn"):
            export_conversations(bad, fmt, tmp_path / "bad.jsonl")
