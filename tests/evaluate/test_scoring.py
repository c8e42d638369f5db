"""Bits per byte and multiple choice on real eval files, with an untrained model whose answer is known:
its logits are near zero, so every token costs about log2(vocab) bits."""

from __future__ import annotations

import math

import pytest

from winnow.errors import WinnowError
from winnow.evaluate.bpb import bits_per_byte, encode_texts
from winnow.evaluate.choice import choice_accuracy
from winnow.evaluate.config import EvalSet, ModelSize, TrainSpec
from winnow.evaluate.evalsets import read_choices, read_passages
from winnow.evaluate.trainer import build_model
from winnow.export.tokenizer import end_of_document_id, load_tokenizer


@pytest.fixture(scope="module")
def untrained(corpus_tokens):
    tokenizer_path, _ = corpus_tokens
    tokenizer = load_tokenizer(str(tokenizer_path))
    spec = TrainSpec(model=ModelSize(layers=1, d_model=32, heads=2, context=64))
    model = build_model(spec, tokenizer.get_vocab_size(), device=__import__("torch").device("cpu")).eval()
    return model, tokenizer, end_of_document_id(tokenizer)[1]


def test_untrained_model_costs_log2_vocab_bits_per_token(untrained, sample_data):
    model, tokenizer, eod = untrained
    passages = read_passages(
        EvalSet(name="lambada", kind="text", path=str(sample_data / "bench/gauntlet/lambada_openai.jsonl"))
    )
    encoded = encode_texts(tokenizer, passages, eod, max_tokens=20_000)
    assert encoded.bytes == sum(len(p.encode()) for p in passages[: encoded.documents])
    text_tokens = len(encoded.ids) - 1 - encoded.documents  # minus the leading and the per-document eod ids
    expected = math.log2(tokenizer.get_vocab_size()) * text_tokens / encoded.bytes
    assert bits_per_byte(model, encoded, eod) == pytest.approx(expected, rel=0.01)


def test_lambada_passages_join_context_and_word(sample_data):
    passages = read_passages(
        EvalSet(name="l", kind="text", path=str(sample_data / "bench/gauntlet/lambada_openai.jsonl"), limit=3)
    )
    assert len(passages) == 3 and passages[0].endswith(" signs")


@pytest.mark.parametrize(("name", "chance"), [("copa", 0.5), ("arc_easy", 0.25), ("piqa", 0.5), ("openbook_qa", 0.25)])
def test_choice_sets_load_and_score(untrained, sample_data, name, chance):
    model, tokenizer, eod = untrained
    items = read_choices(
        EvalSet(name=name, kind="choice", path=str(sample_data / f"bench/gauntlet/{name}.jsonl"), limit=40)
    )
    score = choice_accuracy(model, tokenizer, items, eod)
    assert score.items == 40 and score.chance == pytest.approx(chance)
    assert 0.0 <= score.accuracy <= 1.0


def test_a_bad_choice_row_names_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"query": "q", "choices": ["a", "b"], "gold": 0}\n{"query": "q", "gold": 1}\n')
    with pytest.raises(WinnowError, match=r"bad.jsonl:2: a choice item needs"):
        read_choices(EvalSet(name="bad", kind="choice", path=str(path)))
    path.write_text('{"query": "q", "choices": ["a", "b"], "gold": 7}\n')
    with pytest.raises(WinnowError, match=r"bad.jsonl:1: gold 7"):
        read_choices(EvalSet(name="bad", kind="choice", path=str(path)))
