"""Conversation filters and preference steps, on the real HH-RLHF and ShareGPT excerpts."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import zstandard

from conversation_samples import batch_of, hh_records, sharegpt_records
from winnow.conversation import message, render_record
from winnow.records import REASON, make_batch
from winnow.steps.registry import build_step


def reasons_of(result) -> Counter:
    return Counter(result.rejected.column(REASON).to_pylist()) if result.rejected is not None else Counter()


def by_id(table) -> dict:
    return {r["id"]: r for r in table.to_pylist()}


def test_turn_filter_keeps_real_data_and_finds_broken_order(sample_data):
    real = sharegpt_records(sample_data, limit=30) + hh_records(sample_data, limit=30)
    conv = real[0]["messages"]  # user, assistant, user, assistant
    broken = [
        {"id": "two_users", "kind": "conversation", "messages": [conv[0], conv[2], conv[1]]},
        {"id": "ends_on_user", "kind": "conversation", "messages": conv[:3]},
        {"id": "starts_with_assistant", "kind": "conversation", "messages": conv[1:]},
        {
            "id": "late_system",
            "kind": "conversation",
            "messages": [*conv[:2], message("system", "Be brief."), *conv[2:]],
        },
        {"id": "one_turn", "kind": "conversation", "messages": conv[:1]},
        {"id": "system_first", "kind": "conversation", "messages": [message("system", "Be brief."), *conv]},
    ]
    result = build_step("turn_filter", {"max_turns": 20}).apply(batch_of(real + broken))
    rejected = {r["id"]: r[REASON] for r in result.rejected.to_pylist()}
    assert rejected == {
        "two_users": "turn_filter: roles_not_alternating",
        "ends_on_user": "turn_filter: not_ending_on_assistant",
        "starts_with_assistant": "turn_filter: first_turn_not_user",
        "late_system": "turn_filter: system_not_first",
        "one_turn": "turn_filter: too_few_turns",
    }
    kept = by_id(result.kept)
    assert "system_first" in kept and all(r["id"] in kept for r in real)
    assert kept[real[0]["id"]]["turn_filter.turns"] == 4
    hh = real[30]
    assert kept[hh["id"]]["turn_filter.turns"] == len(hh["messages"]) + 1  # prompt + chosen


def test_turn_filter_counts_on_the_whole_hh_excerpt(sample_data):
    records = hh_records(sample_data)
    result = build_step("turn_filter", {"max_turns": 8}).apply(batch_of(records))
    want = sum(len(r["messages"]) + 1 > 8 for r in records)
    assert reasons_of(result) == Counter({"turn_filter: too_many_turns": want}) and want > 0


def test_response_filter_finds_the_empty_and_cut_off_hh_answers(sample_data):
    records = hh_records(sample_data)
    result = build_step("response_filter", {}).apply(batch_of(records))
    reasons = reasons_of(result)
    empty = [r["id"] for r in records if any(not x["content"].strip() for x in r["chosen"] + r["rejected"])]
    assert reasons["response_filter: empty_response"] == len(empty) >= 1
    truncated = [r for r in result.rejected.to_pylist() if r[REASON] == "response_filter: truncated_response"]
    assert truncated
    for r in truncated:  # every one really stops mid-sentence or inside a code block
        last = [r["chosen"][-1]["content"].rstrip(), r["rejected"][-1]["content"].rstrip()]
        assert any(t[-1].isalnum() or t[-1] in ",-" or t.count("```") % 2 for t in last)


def test_response_filter_length_limits_and_ratio(sample_data):
    records = sharegpt_records(sample_data, limit=100)
    batch = batch_of(records)
    plain = build_step("response_filter", {}).apply(batch)
    assert plain.rejected is None
    tags = by_id(plain.kept)
    for r in records:
        prompt = sum(len(m["content"].split()) for m in r["messages"] if m["role"] == "user")
        answer = sum(len(m["content"].split()) for m in r["messages"] if m["role"] == "assistant")
        assert (tags[r["id"]]["response_filter.prompt_words"], tags[r["id"]]["response_filter.response_words"]) == (
            prompt,
            answer,
        )
    limited = build_step("response_filter", {"min_response_words": 10, "max_prompt_words": 12, "max_ratio": 3.0})
    for r in limited.apply(batch).rejected.to_pylist():
        words, prompt = r["response_filter.response_words"], r["response_filter.prompt_words"]
        assert words < 10 or prompt > 12 or words / prompt > 3.0


def test_refusal_filter_on_real_responses(sample_data):
    sharegpt = sharegpt_records(sample_data)
    result = build_step("refusal_filter", {}).apply(batch_of(sharegpt))
    flagged = result.rejected.to_pylist()
    assert flagged and all(r["refusal_filter.refusal"] for r in flagged)
    for r in flagged:
        answers = " ".join(m["content"].lower() for m in r["messages"] if m["role"] == "assistant")
        assert r["refusal_filter.phrase"] in answers.replace("\u2019", "'")
    assert not any(r["refusal_filter.refusal"] for r in result.kept.to_pylist())
    # HH: refused *chosen* answers are flagged; a refused *rejected* answer is what the pair wants.
    hh = hh_records(sample_data)
    tagged = build_step("refusal_filter", {"mode": "tag"}).apply(batch_of(hh))
    assert tagged.rejected is None
    for r in tagged.kept.to_pylist():
        chosen = r["chosen"][0]["content"].lower().replace("\u2019", "'")
        assert r["refusal_filter.refusal"] == (r["refusal_filter.phrase"] is not None)
        if r["refusal_filter.refusal"]:
            assert r["refusal_filter.phrase"] in chosen or any(
                r["refusal_filter.phrase"] in m["content"].lower().replace("\u2019", "'")
                for m in r["messages"]
                if m["role"] == "assistant"
            )


def test_refusal_filter_own_list(tmp_path, sample_data):
    phrases = tmp_path / "phrases.txt"
    phrases.write_text("# mine\nlarge model systems organization\n")
    result = build_step("refusal_filter", {"phrases": str(phrases)}).apply(batch_of(sharegpt_records(sample_data)))
    assert {r["refusal_filter.phrase"] for r in result.rejected.to_pylist()} == {"large model systems organization"}


def test_language_consistency_catches_a_turn_in_another_language(sample_data):
    french = []
    with zstandard.open(sample_data / "langid" / "labeled-dev.jsonl.zst", "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if row["lang"] == "fr" and len(french) < 5:
                french.append(row["text"][:600])
    records = [r for r in hh_records(sample_data, limit=200) if len(r["chosen"][0]["content"]) > 200][: len(french)]
    mixed = [
        {**r, "id": r["id"] + ":fr", "chosen": [message("assistant", f)]} for r, f in zip(records, french, strict=True)
    ]
    step = build_step("language_consistency", {})
    step.check()
    result = step.apply(batch_of(records + mixed))
    rejected = by_id(result.rejected)
    assert set(rejected) == {r["id"] for r in mixed}
    assert all(sorted(r["language_consistency.languages"]) == ["en", "fr"] for r in rejected.values())


def test_documents_pass_conversation_filters():
    batch = make_batch({"id": ["d"], "text": ["a plain document"]})
    for name in ("turn_filter", "response_filter", "refusal_filter", "preference_filter", "rated_to_pairs"):
        assert build_step(name, {}).apply(batch).kept.num_rows == 1


def test_preference_filter(sample_data):
    real = hh_records(sample_data, limit=100)
    pair = real[0]
    broken = [
        {**pair, "id": "same", "rejected": pair["chosen"]},
        {**pair, "id": "tie", "chosen_score": 3.0, "rejected_score": 3.0},
        {**pair, "id": "margin0", "margin": 0.0},
        {**pair, "id": "small", "margin": 0.2},
        {**pair, "id": "other_prompt", "rejected": [message("user", "And now?"), *pair["rejected"]]},
        {**pair, "id": "answered", "messages": [*pair["messages"], message("assistant", "Sure.")]},
    ]
    result = build_step("preference_filter", {"min_margin": 0.5}).apply(batch_of(real + broken))
    rejected = {r["id"]: r[REASON].removeprefix("preference_filter: ") for r in result.rejected.to_pylist()}
    identical = {r["id"] for r in real if r["chosen"] == r["rejected"]}
    assert rejected == {
        "same": "chosen_equals_rejected",
        "tie": "tie",
        "margin0": "tie",
        "small": "margin_too_small",
        "other_prompt": "different_prompts",
        "answered": "prompt_not_answered",
    } | dict.fromkeys(identical, "chosen_equals_rejected")
    keep_ties = build_step("preference_filter", {"ties": "keep"}).apply(batch_of(broken))
    assert {"tie", "margin0", "small"} <= set(by_id(keep_ties.kept))


def rated_from_hh(sample_data, annotators=("a", "b", "c")) -> list[dict]:
    """Rated records from real HH pairs: chosen, rejected and a third real answer (another record's chosen)."""
    records = hh_records(sample_data, limit=12)
    out = []
    for k, r in enumerate(records[:-1]):
        other = records[k + 1]["chosen"]
        answers = [r["chosen"], r["rejected"], other]
        scores = {"a": [3.0, 1.0, 2.0], "b": [2.0, 2.5, 1.0], "c": [3.0, 1.0, 1.0]}
        completions = [
            {"messages": answer, "score": scores[a][i], "annotator": a}
            for a in annotators
            for i, answer in enumerate(answers)
        ]
        out.append({"id": r["id"], "kind": "rated", "messages": r["messages"], "completions": completions})
    return out


@pytest.mark.parametrize(
    ("params", "want"),
    [
        # mean of a, b, c: chosen 8/3, rejected 4.5/3, other 4/3
        ({"aggregate": "mean"}, {"pair-0-2": (8 / 3, 4 / 3)}),
        ({"aggregate": "mean", "strategy": "all_pairs", "min_margin": 0.1}, {"pair-0-1", "pair-0-2", "pair-1-2"}),
        ({"aggregate": "mean", "strategy": "all_pairs", "min_margin": 0.5}, {"pair-0-1", "pair-0-2"}),
        # per annotator: a: 0>2>1, b: 1>0>2, c: 0>1=2 (worst tie broken by position)
        ({"aggregate": "per_annotator"}, {"pair-0-1", "pair-4-5", "pair-6-7"}),
        # majority: 0 beats 1 (a, c), 0 beats 2 (a, b, c), 1 vs 2: a says 2, b says 1, c ties -> none
        ({"aggregate": "majority", "strategy": "all_pairs"}, {"pair-0-1", "pair-0-2"}),
        ({"aggregate": "majority"}, {"pair-0-2"}),
    ],
)
def test_rated_to_pairs(sample_data, params, want):
    rated = rated_from_hh(sample_data)
    result = build_step("rated_to_pairs", params).apply(batch_of(rated))
    assert result.rejected is None
    pairs = result.kept.to_pylist()
    assert all(p["kind"] == "preference" and p["completions"] is None for p in pairs)
    for source in rated:
        made = {p["id"].split("/", 1)[1]: p for p in pairs if p["id"].startswith(source["id"] + "/")}
        assert set(made) == set(want)
        for name, p in made.items():
            i, j = (int(x) for x in name.removeprefix("pair-").split("-"))
            assert p["chosen"] == source["completions"][i]["messages"]
            assert p["rejected"] == source["completions"][j]["messages"]
            assert p["margin"] > 0 and p["messages"] == source["messages"]
            assert p["text"] == render_record(p)
            assert json.loads(p["meta"])["rated_from"] == source["id"]
            if isinstance(want, dict):
                assert (p["chosen_score"], p["rejected_score"]) == pytest.approx(want[name])
    again = build_step("rated_to_pairs", params).apply(batch_of(rated)).kept
    assert again.column("id").to_pylist() == result.kept.column("id").to_pylist()


def test_rated_without_a_difference_is_dropped(sample_data):
    rated = rated_from_hh(sample_data, annotators=("a",))[:2]
    flat = [{**rated[0], "completions": [{**c, "score": 1.0} for c in rated[0]["completions"]]}, rated[1]]
    result = build_step("rated_to_pairs", {}).apply(batch_of(flat))
    assert result.rejected.column(REASON).to_pylist() == ["rated_to_pairs: no_pair"]
    assert result.kept.column("id").to_pylist() == [f"{rated[1]['id']}/pair-0-1"]
