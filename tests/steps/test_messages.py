"""Text steps on conversations (Step.apply, winnow.steps.messages), on the real HH-RLHF and ShareGPT excerpts."""

from __future__ import annotations

import pyarrow as pa
import pytest

from conversation_samples import batch_of, hh_records, sharegpt_records
from winnow.conversation import message, render_record
from winnow.records import MESSAGE_COLUMNS, REASON
from winnow.steps.base import Step, StepResult
from winnow.steps.messages import role_texts
from winnow.steps.registry import build_step

# Real-looking personal data, put into real turns (the HH excerpt has almost none of its own).
EMAIL, PHONE = "maria.lopez84@gmail.com", "(415) 555-0137"


def with_pii(record: dict) -> dict:
    def add(messages):
        return [{**m, "content": f"{m['content']}\nWrite to {EMAIL} or call {PHONE}."} for m in messages or []] or None

    return {**record, **{c: add(record.get(c)) for c in MESSAGE_COLUMNS if record.get(c)}}


def all_messages(record: dict) -> list[dict]:
    out = [m for c in MESSAGE_COLUMNS for m in record.get(c) or []]
    for scored in record.get("completions") or []:
        out.extend(scored["messages"])
    return out


def test_pii_redacts_every_turn_of_real_hh_pairs(sample_data):
    records = [with_pii(r) for r in hh_records(sample_data, limit=120)]
    batch = batch_of(records)
    result = build_step("pii", {"types": ["EMAIL", "PHONE"]}).apply(batch)
    assert result.rejected is None and result.kept.num_rows == len(records)
    for before, after in zip(records, result.kept.to_pylist(), strict=True):
        old, new = all_messages(before), all_messages(after)
        assert [m["role"] for m in new] == [m["role"] for m in old]  # roles and turn count untouched
        for m in new:
            assert EMAIL not in m["content"] and PHONE not in m["content"]
            assert m["content"].endswith("Write to <EMAIL> or call <PHONE>.")
        assert after["text"] == render_record(after)  # text is the rendering of the new messages
        assert EMAIL not in after["text"]
        assert after["pii.spans"] and len(after["pii.spans"]) >= 2 * len(new)


def test_pii_on_chosen_roles_only(sample_data):
    records = [with_pii(r) for r in sharegpt_records(sample_data, limit=60)]
    result = build_step("pii", {"types": ["EMAIL"], "roles": ["user"]}).apply(batch_of(records))
    for after in result.kept.to_pylist():
        for m in after["messages"]:
            assert (EMAIL in m["content"]) == (m["role"] != "user")
        assert after["text"] == render_record(after)


def test_pii_reaches_rated_completions(sample_data):
    rated = []
    for r in hh_records(sample_data, limit=30):
        r = with_pii(r)
        rated.append(
            {
                "id": r["id"],
                "kind": "rated",
                "messages": r["messages"],
                "completions": [
                    {"messages": r["chosen"], "score": 1.0, "annotator": "a"},
                    {"messages": r["rejected"], "score": 0.0, "annotator": "a"},
                ],
            }
        )
    result = build_step("pii", {"types": ["EMAIL", "PHONE"]}).apply(batch_of(rated))
    for after in result.kept.to_pylist():
        assert [c["score"] for c in after["completions"]] == [1.0, 0.0]
        for m in all_messages(after):
            assert EMAIL not in m["content"] and "<EMAIL>" in m["content"]
        assert after["text"] == render_record(after)


def test_fix_unicode_and_normalize_rewrite_messages_not_just_text(sample_data):
    records = sharegpt_records(sample_data, limit=40)
    # Mojibake and stray spaces in real assistant turns.
    broken = [
        {
            **r,
            "messages": [
                {**m, "content": m["content"].replace("'", "\u00e2\u20ac\u2122") + "   "} for m in r["messages"]
            ],
        }
        for r in records
    ]
    batch = batch_of(broken)
    fixed = build_step("fix_unicode", {}).apply(batch).kept
    normal = build_step("normalize", {}).apply(fixed).kept.to_pylist()
    for want, got in zip(records, normal, strict=True):
        assert [m["content"] for m in got["messages"]] == [
            m["content"].replace("'", "\u2019").strip() for m in want["messages"]
        ]
        assert got["text"] == render_record(got)


def test_untouched_records_keep_their_text_object(sample_data):
    batch = batch_of(sharegpt_records(sample_data, limit=50))
    kept = build_step("pii", {"types": ["EMAIL"]}).apply(batch).kept
    assert kept.column("text").to_pylist() == batch.column("text").to_pylist()
    assert kept.column("messages").to_pylist() == batch.column("messages").to_pylist()


def test_judging_steps_read_chosen_roles_and_keep_text(sample_data):
    batch = batch_of(hh_records(sample_data, limit=100))
    whole = build_step("length_filter", {}).apply(batch).kept
    answers = build_step("length_filter", {"roles": ["assistant"]}).apply(batch).kept
    prompts = build_step("length_filter", {"roles": ["user"]}).apply(batch).kept
    for table in (whole, answers, prompts):
        assert table.column("text").to_pylist() == batch.column("text").to_pylist()
    records = batch.to_pylist()
    words = answers.column("length_filter.words").to_pylist()
    for record, n in zip(records, words, strict=True):
        assistant = [m["content"] for m in all_messages(record) if m["role"] == "assistant"]
        assert n == len("\n\n".join(assistant).split())
    assert sum(whole.column("length_filter.words").to_pylist()) > sum(words) > 0
    dropped = build_step("length_filter", {"roles": ["user"], "max_words": 20}).apply(batch)
    for record in dropped.rejected.to_pylist():
        assert len(" ".join(m["content"] for m in all_messages(record) if m["role"] == "user").split()) > 20
        assert record[REASON] == "length_filter: too_many_words"


def test_role_texts_joins_contents_across_columns(sample_data):
    record = hh_records(sample_data, limit=1)[0]
    texts = role_texts(batch_of([record]), ["assistant"]).to_pylist()
    want = [
        m["content"] for m in record["messages"] + record["chosen"] + record["rejected"] if m["role"] == "assistant"
    ]
    assert texts == ["\n\n".join(want)]
    assert role_texts(batch_of([record]), ["system"]).to_pylist() == [""]


class DropsShouting(Step):
    """A mapper that also drops: upper-cases text and drops any text with 'SHOUT' (a real Step subclass)."""

    name = "shout_test"
    on_conversations = "contents"

    def process(self, batch: pa.Table) -> StepResult:
        texts = [t.upper() for t in batch.column("text").to_pylist()]
        batch = batch.set_column(batch.schema.get_field_index("text"), "text", pa.array(texts))
        batch = batch.append_column("shout_test.chars", pa.array([len(t) for t in texts]))
        return self.split(batch, ["shouting" if "SHOUT" in t else None for t in texts])


def test_a_dropped_message_drops_its_record_and_tags_are_summed():
    records = [
        {"id": "a", "kind": "conversation", "messages": [message("user", "hi"), message("assistant", "hello")]},
        {"id": "b", "kind": "conversation", "messages": [message("user", "shout"), message("assistant", "ok")]},
        {"id": "c", "kind": "conversation", "messages": [message("system", "be brief"), message("user", "x")]},
    ]
    result = DropsShouting(roles=["user", "assistant"]).apply(batch_of(records))
    kept = result.kept.to_pylist()
    assert [r["id"] for r in kept] == ["a", "c"]
    assert [m["content"] for m in kept[0]["messages"]] == ["HI", "HELLO"]
    assert [m["content"] for m in kept[1]["messages"]] == ["be brief", "X"]  # system untouched
    assert [r["shout_test.chars"] for r in kept] == [7, 1]
    assert result.rejected.column(REASON).to_pylist() == ["shout_test: shouting"]


def test_documents_are_unchanged_by_apply():
    from winnow.records import make_batch

    batch = make_batch({"id": ["1"], "text": ["Mail me at maria.lopez84@gmail.com"]})
    assert build_step("pii", {}).apply(batch).kept.column("text").to_pylist() == ["Mail me at <EMAIL>"]


def test_roles_parameter_is_checked():
    from winnow.errors import RecipeError

    with pytest.raises(RecipeError, match="roles"):
        build_step("pii", {"roles": ["robot"]})
    with pytest.raises(RecipeError, match="unknown parameter 'roles'"):
        build_step("sample", {"fraction": 0.5, "roles": ["user"]})


def test_a_document_among_conversations_is_rewritten_as_a_document(sample_data):
    batch = batch_of([with_pii(r) for r in sharegpt_records(sample_data, limit=3)])
    document = {**batch.slice(0, 1).to_pylist()[0], "kind": None, "messages": None}
    document |= {"id": "doc", "text": f"A plain document. Mail {EMAIL}."}
    mixed = pa.concat_tables([batch, pa.Table.from_pylist([document], schema=batch.schema)])
    kept = build_step("pii", {"types": ["EMAIL"]}).apply(mixed).kept.to_pylist()
    assert kept[-1]["text"] == "A plain document. Mail <EMAIL>." and kept[-1]["messages"] is None
    for r in kept[:-1]:
        assert r["text"] == render_record(r) and EMAIL not in r["text"]
