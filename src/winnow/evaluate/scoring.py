"""Scoring one trained model on every eval set of the ablation (texts are encoded once, then reused)."""

from __future__ import annotations

from pathlib import Path

from winnow.evaluate.bpb import EncodedText, bits_per_byte, encode_texts
from winnow.evaluate.choice import ChoiceItem, choice_accuracy
from winnow.evaluate.config import EvalSet
from winnow.evaluate.evalsets import read_choices, read_passages
from winnow.evaluate.model import ProxyLM
from winnow.evaluate.results import Score
from winnow.export.token_dataset import TokenDataset
from winnow.export.tokenizer import end_of_document_id, load_tokenizer


class Scorer:
    def __init__(self, tokenizer_path: str, sets: list[tuple[EvalSet, Path | None]], max_tokens: int):
        self.tokenizer = load_tokenizer(tokenizer_path)
        _, self.eod_id = end_of_document_id(self.tokenizer)
        self.texts: dict[str, EncodedText] = {}
        self.choices: dict[str, list[ChoiceItem]] = {}
        for spec, heldout in sets:
            if spec.kind == "choice":
                self.choices[spec.name] = read_choices(spec)
            else:
                passages = _heldout_texts(heldout, self.tokenizer, spec.limit) if heldout else read_passages(spec)
                self.texts[spec.name] = encode_texts(self.tokenizer, passages, self.eod_id, max_tokens)

    def score_all(self, model: ProxyLM) -> list[Score]:
        scores = []
        for name, encoded in self.texts.items():
            value = bits_per_byte(model, encoded, self.eod_id)
            scores.append(Score(eval_set=name, metric="bpb", value=value, items=encoded.documents, bytes=encoded.bytes))
        for name, items in self.choices.items():
            result = choice_accuracy(model, self.tokenizer, items, self.eod_id)
            scores.append(
                Score(eval_set=name, metric="accuracy", value=result.accuracy, items=result.items, chance=result.chance)
            )
        return scores


def _heldout_texts(tokens_dir: Path, tokenizer, limit: int | None) -> list[str]:
    """The val documents of a tokenised variant, decoded back to their exact text (byte-level BPE is lossless)."""
    val = TokenDataset(tokens_dir, "val")
    count = min(len(val), limit) if limit else len(val)
    return [tokenizer.decode(val[i][:-1].tolist(), skip_special_tokens=False) for i in range(count)]
