"""Each conversation format's reader: what a row becomes, how the format is detected, and the
causes bad rows are reported with."""

from __future__ import annotations

import gzip
import json

import pytest

from winnow.errors import InputError
from winnow.export.chat import export_conversations
from winnow.io.chat import PARSERS, RowError, detect, read_conversations
from winnow.io.chat.parse import parse_hh_transcript

pytestmark = pytest.mark.core  # needs only the core dependencies


def _plain(messages):
    return [(m["role"], m["content"]) for m in messages or []]


def _by_id(table):
    return {r["id"]: r for r in table.to_pylist()}


def test_trl_standard_types(test_data):
    rows = _by_id(read_conversations(str(test_data / "chat" / "trl_standard.jsonl"), format="trl"))
    assert _plain(rows["lm"]["messages"]) == [("assistant", "The sky is blue.")]
    assert rows["prompt-only"]["kind"] == "conversation"
    assert _plain(rows["prompt-only"]["messages"]) == [("user", "The sky is")]
    assert _plain(rows["prompt-completion"]["messages"]) == [("user", "The sky is"), ("assistant", " blue.")]
    pref = rows["preference"]
    assert (pref["kind"], _plain(pref["messages"]), _plain(pref["chosen"]), _plain(pref["rejected"])) == (
        "preference",
        [("user", "The sky is")],
        [("assistant", " blue.")],
        [("assistant", " green.")],
    )
    assert rows["implicit"]["messages"] is None and _plain(rows["implicit"]["chosen"]) == [
        ("assistant", "The sky is blue.")
    ]
    assert (rows["unpaired"]["kind"], rows["unpaired"]["label"]) == ("unpaired", True)
    assert rows["reward-margin"]["margin"] == 2.5


def test_trl_conversational_types(test_data):
    rows = _by_id(read_conversations(str(test_data / "chat" / "trl_conversational.jsonl")))
    implicit = rows["implicit"]  # the shared prompt is the common prefix: system + user
    assert _plain(implicit["messages"]) == [("system", "Answer briefly."), ("user", "What color is the sky?")]
    assert _plain(implicit["chosen"]) == [("assistant", "It is blue.")]
    assert _plain(implicit["rejected"]) == [("assistant", "It is green.")]
    assert (rows["unpaired"]["kind"], rows["unpaired"]["label"]) == ("unpaired", False)
    tools = rows["tools"]
    assert json.loads(tools["tools"])[0]["function"]["name"] == "get_weather"
    call = tools["messages"][1]
    assert call["content"] == "" and json.loads(call["tool_calls"])[0]["function"]["arguments"] == {"city": "Oslo"}
    assert (tools["messages"][2]["role"], tools["messages"][2]["name"]) == ("tool", "get_weather")


def test_openai_sft_and_dpo(test_data):
    sft = read_conversations(str(test_data / "chat" / "openai_sft.jsonl"), format="openai").to_pylist()
    assert [m["weight"] for m in sft[0]["messages"]] == [None, None, 0.0, None, 1.0]
    assert sft[1]["messages"][2]["tool_call_id"] == "call_id" and json.loads(sft[1]["meta"]) == {
        "parallel_tool_calls": False
    }
    dpo = read_conversations(str(test_data / "chat" / "openai_dpo.jsonl")).to_pylist()
    assert [r["kind"] for r in dpo] == ["preference", "preference"]
    assert _plain(dpo[1]["messages"]) == [("system", "You are terse."), ("user", "2+2?")]
    assert _plain(dpo[1]["chosen"]) == [("assistant", "4")]


def test_alpaca_json_array(test_data):
    rows = read_conversations(str(test_data / "chat" / "alpaca.json")).to_pylist()
    assert [r["id"] for r in rows] == ["alpaca.json:1", "alpaca.json:2", "alpaca.json:3"]
    assert _plain(rows[1]["messages"]) == [
        ("user", "Translate the sentence into French.\n\nThe cat sleeps."),
        ("assistant", "Le chat dort."),
    ]
    assert rows[2]["messages"][0] == {**rows[2]["messages"][0], "role": "system", "content": "You answer in one word."}


def test_chat_log_feedback_becomes_preference_label_or_rating(test_data):
    rows = _by_id(read_conversations(str(test_data / "chat" / "chatlog.jsonl")))
    edited = rows["log-1"]  # an edited answer: edited ≻ original
    assert edited["kind"] == "preference" and edited["collected_at"] == "2026-11-30T09:14:02Z"
    assert _plain(edited["messages"]) == [("user", "How do I undo my last git commit but keep the changes?")]
    assert _plain(edited["rejected"]) == [("assistant", "Run `git reset --hard HEAD~1`.")]
    assert edited["chosen"][0]["content"].startswith("Run `git reset --soft HEAD~1`")
    assert json.loads(edited["meta"])["feedback"]["comment"] == "hard reset throws the changes away"
    assert (rows["log-2"]["kind"], rows["log-2"]["label"]) == ("unpaired", True)
    rated = rows["log-3"]
    assert rated["kind"] == "rated" and len(rated["messages"]) == 2
    assert [(c["score"], c["annotator"], _plain(c["messages"])) for c in rated["completions"]] == [
        (4.0, "u-09", [("assistant", "About 6 minutes from boiling water.")])
    ]
    assert rows["log-4"]["kind"] == "conversation" and len(rows["log-4"]["messages"]) == 2
    assert (rows["log-5"]["kind"], rows["log-5"]["label"]) == ("unpaired", True)  # thumbs win over a rating


@pytest.mark.parametrize(
    ("row", "fmt"),
    [
        ({"conversations": []}, "sharegpt"),
        ({"messages": [], "kind": "conversation"}, "winnow"),
        ({"input": {}, "preferred_output": [], "non_preferred_output": []}, "openai"),
        ({"messages": [], "feedback": {}}, "chatlog"),
        ({"messages": []}, "openai"),
        ({"chosen": "\n\nHuman: a\n\nAssistant: b", "rejected": "\n\nHuman: a\n\nAssistant: c"}, "hh-rlhf"),
        ({"chosen": "a", "rejected": "b"}, "trl"),
        ({"prompt": "a", "chosen": "\n\nHuman: b", "rejected": "c"}, "trl"),
        ({"prompt": "a"}, "trl"),
        ({"text": "a"}, "trl"),
        ({"instruction": "a", "output": "b"}, "alpaca"),
        ({"instruction": "a", "instances": []}, "self-instruct"),
        ({"turns": ["a"]}, "mt-bench"),
    ],
)
def test_detection_from_the_keys(row, fmt):
    assert detect(row) == fmt


@pytest.mark.parametrize(
    ("fmt", "row", "cause"),
    [
        ("trl", {"prompt": "a", "chosen": "b"}, "missing 'rejected'"),
        ("trl", {"prompt": "a", "completion": "b", "label": "yes"}, "label is 'yes', expected true or false"),
        ("trl", {"messages": []}, "messages is an empty list"),
        (
            "trl",
            {"messages": [{"role": "user", "content": "a", "tool_calls": "{not json"}]},
            "tool_calls is a string but not JSON",
        ),
        ("openai", {"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, "'image_url' part"),
        ("openai", {"messages": [{"role": "assistant", "content": "a", "weight": "1"}]}, "weight is '1'"),
        ("openai", {"input": {"messages": []}, "preferred_output": []}, "missing 'non_preferred_output'"),
        ("sharegpt", {"conversations": [{"from": "robot", "value": "a"}]}, "from is 'robot'"),
        ("hh-rlhf", {"chosen": "Human: hi", "rejected": "x"}, "does not start with"),
        ("alpaca", {"instruction": "a", "output": 3}, "output is int"),
        (
            "chatlog",
            {"messages": [{"role": "user", "content": "a"}], "feedback": {"thumbs": "up"}},
            "do not end on an assistant",
        ),
        (
            "chatlog",
            {"messages": [{"role": "assistant", "content": "a"}], "feedback": {"thumbs": "meh"}},
            "thumbs is 'meh'",
        ),
        ("mt-bench", {"turns": "a"}, "turns is not a non-empty list"),
    ],
)
def test_bad_rows_say_why(fmt, row, cause):
    with pytest.raises(RowError, match=cause.replace("[", r"\[").replace("(", r"\(")):
        PARSERS[fmt](row)


def test_bad_row_in_a_json_array_names_the_item(tmp_path):
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps([{"conversations": [{"from": "human", "value": "a"}]}, {"conversations": "x"}]))
    with pytest.raises(InputError) as caught:
        read_conversations(str(path))
    assert (caught.value.location, caught.value.cause) == (
        "array item 2",
        "chat: conversations is not a non-empty list",
    )


def test_hh_transcripts_keep_inner_markers_and_repeated_roles(sample_data):
    with gzip.open(sample_data / "sft" / "hh-rlhf" / "harmless-base-test.jsonl.gz", "rt") as f:
        rows = [json.loads(line) for line in f]
    for row in rows:
        for side in ("chosen", "rejected"):
            messages = parse_hh_transcript(row[side], side)
            assert (
                "".join(f"\n\n{'Human' if m['role'] == 'user' else 'Assistant'}: {m['content']}" for m in messages)
                == row[side]
            )


@pytest.mark.full
def test_whole_hh_set_reads_and_round_trips(full_data, tmp_path):
    path = full_data / "sft" / "hh-rlhf" / "harmless-base-test.jsonl.gz"
    table = read_conversations(str(path))
    assert table.num_rows == 2312 and set(table.column("kind").to_pylist()) == {"preference"}
    out = tmp_path / "hh.jsonl"
    export_conversations(table, "hh-rlhf", out)
    with gzip.open(path, "rt") as f:
        assert [json.loads(line) for line in out.read_text().splitlines()] == [json.loads(line) for line in f]


def _row_path(path, fmt="chat"):
    """The reader's row-by-row path, which the columnar HH path must equal."""
    from winnow.io.base import ErrorSink, InputSpec, Shard
    from winnow.io.chat.reader import ConversationBuilder, conversation_rows

    shard = Shard(0, 0, str(path), path.name, format=fmt)
    builder = ConversationBuilder(InputSpec(path=str(path), format=fmt), shard, ErrorSink("fail"), None)
    for row, position, location, raw in conversation_rows(shard, ErrorSink("fail")):
        builder.add(row, position, location, raw)
    return builder.flush()


def test_hh_columnar_path_equals_the_row_path(sample_data, tmp_path):
    from winnow.io.chat.hh_columnar import read_hh_columnar

    path = sample_data / "sft" / "hh-rlhf" / "harmless-base-test.jsonl.gz"
    from winnow.io.base import InputSpec, Shard

    fast = read_hh_columnar(Shard(0, 0, str(path), path.name), InputSpec(path=str(path)), 128)
    assert fast is not None and len(fast) == 4  # 400 pairs in batches of 128
    import pyarrow as pa

    assert pa.concat_tables(fast).equals(_row_path(path))
    # a row with another key, or a blank line: the whole shard takes the row path (meta and lines kept)
    lines = gzip.open(path, "rb").read().splitlines()[:3]
    extra = tmp_path / "extra.jsonl"
    extra.write_bytes(b"\n".join([lines[0], lines[1][:-1] + b', "rater": "r7"}', lines[2]]) + b"\n")
    assert read_hh_columnar(Shard(0, 0, str(extra), extra.name), InputSpec(path=str(extra)), 128) is None
    table = read_conversations(str(extra))
    assert json.loads(table.column("meta").to_pylist()[1]) == {"rater": "r7"} and table.equals(_row_path(extra))
    blank = tmp_path / "blank.jsonl"
    blank.write_bytes(lines[0] + b"\n\n" + lines[1] + b"\n")
    assert read_conversations(str(blank)).column("id").to_pylist() == ["blank.jsonl:1", "blank.jsonl:3"]


@pytest.mark.full
def test_hh_columnar_path_equals_the_row_path_on_the_whole_set(full_data):
    path = full_data / "sft" / "hh-rlhf" / "harmless-base-test.jsonl.gz"
    assert read_conversations(str(path)).equals(_row_path(path))
