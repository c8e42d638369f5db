"""winnow tokenize / TokenDataset on real documents: exact round trip, counts, format, determinism."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer, models, pre_tokenizers

from winnow.errors import InputError, WinnowError
from winnow.export import TokenDataset, train_tokenizer
from winnow.export.splits import split_of
from winnow.export.tokenize import tokenize
from winnow.export.tokenizer import load_tokenizer


@pytest.fixture(scope="module")
def tokens_dir(corpus_file: Path, tokenizer_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tokens")
    # small shards, so documents are spread over several files and windows cross shard boundaries
    tokenize(
        [str(corpus_file)], str(tokenizer_file), str(out), val_fraction=0.1, seed=7, shard_tokens=60_000, workers=2
    )
    return out


def test_round_trip_is_exact(tokens_dir: Path, tokenizer_file: Path, corpus_docs: list[dict]) -> None:
    tok = load_tokenizer(str(tokenizer_file))
    texts = {d["id"]: d["text"] for d in corpus_docs}
    seen = []
    for split in ("train", "val"):
        ds = TokenDataset(tokens_dir, split)
        ids = ds.document_ids()
        assert len(ids) == len(ds)
        for i, doc_id in enumerate(ids):
            tokens = ds[i]
            assert tokens[-1] == ds.eod_id and ds.eod_id not in tokens[:-1]
            assert tok.decode(tokens[:-1].tolist(), skip_special_tokens=False) == texts[doc_id], doc_id
        seen += ids
    # every document exactly once, including code and non-Latin scripts
    assert sorted(seen) == sorted(texts)
    kinds = {d["id"]: d["kind"] for d in corpus_docs}
    assert {"code", "translated", "html-page"} <= {kinds[i] for i in seen}


def test_header_counts_and_splits(tokens_dir: Path, corpus_docs: list[dict], tokenizer_file: Path) -> None:
    header = json.loads((tokens_dir / "tokens.json").read_text())
    tok = load_tokenizer(str(tokenizer_file))
    lengths = {d["id"]: len(tok.encode(d["text"], add_special_tokens=False).ids) for d in corpus_docs}
    assert header["dtype"] == "uint16" and header["tokenizer"]["vocab_size"] == 2048
    assert header["documents"] == len(corpus_docs)
    assert header["text_tokens"] == sum(lengths.values())
    assert header["tokens"] == sum(lengths.values()) + len(corpus_docs)
    val_ids = {d["id"] for d in corpus_docs if split_of(d["id"], 0.1, 0.0) == "val"}
    assert set(TokenDataset(tokens_dir, "val").document_ids()) == val_ids
    assert 0 < len(val_ids) < len(corpus_docs) * 0.2
    for split, info in header["splits"].items():
        assert len(info["shards"]) >= 1
        ds = TokenDataset(tokens_dir, split)
        assert len(ds) == info["documents"] and ds.num_tokens == info["tokens"]
        for shard in info["shards"]:
            assert (tokens_dir / shard["bin"]).stat().st_size == 2 * shard["tokens"]
    assert len(header["splits"]["train"]["shards"]) > 3


def test_shards_read_as_nanogpt_bin_and_windows(tokens_dir: Path) -> None:
    ds = TokenDataset(tokens_dir, "train")
    header = ds.header
    # nanoGPT reads a .bin as np.memmap(path, dtype=np.uint16, mode="r"): the concatenated documents
    stream = np.concatenate(
        [np.memmap(tokens_dir / s["bin"], dtype=np.uint16, mode="r") for s in header["splits"]["train"]["shards"]]
    )
    assert np.array_equal(stream, np.concatenate([ds[i] for i in range(len(ds))]))
    first_shard = header["splits"]["train"]["shards"][0]["tokens"]
    for offset in (0, first_shard - 100, len(stream) - 1024):
        assert np.array_equal(ds.window(offset, 1024), stream[offset : offset + 1024])
    with pytest.raises(IndexError):
        ds.window(len(stream) - 10, 11)
    assert np.array_equal(ds[-1], ds[len(ds) - 1])


def test_same_output_whatever_the_workers_and_seed_changes_order(
    corpus_file: Path, tokenizer_file: Path, tokens_dir: Path, tmp_path: Path
) -> None:
    tokenize(
        [str(corpus_file)],
        str(tokenizer_file),
        str(tmp_path / "one"),
        val_fraction=0.1,
        seed=7,
        shard_tokens=60_000,
        workers=1,
    )
    for name in json.loads((tokens_dir / "tokens.json").read_text())["splits"]["train"]["shards"]:
        assert (tmp_path / "one" / name["bin"]).read_bytes() == (tokens_dir / name["bin"]).read_bytes()
    tokenize([str(corpus_file)], str(tokenizer_file), str(tmp_path / "other"), val_fraction=0.1, seed=8, workers=2)
    reshuffled = TokenDataset(tmp_path / "other").document_ids()
    original = TokenDataset(tokens_dir).document_ids()
    assert sorted(reshuffled) == sorted(original) and reshuffled != original


def test_end_of_document_marker_in_text_stays_text(tokenizer_file: Path, tmp_path: Path) -> None:
    data = tmp_path / "marker.jsonl"
    text = "GPT-2 separates documents with <|endoftext|> in its training data."
    data.write_text(json.dumps({"id": "a", "text": text}) + "\n")
    tokenize([str(data)], str(tokenizer_file), str(tmp_path / "out"))
    ds = TokenDataset(tmp_path / "out")
    assert list(ds[0]).count(ds.eod_id) == 1
    assert load_tokenizer(str(tokenizer_file)).decode(ds[0][:-1].tolist(), skip_special_tokens=False) == text


def test_large_vocabulary_gives_uint32(corpus_docs: list[dict], tmp_path: Path) -> None:
    # A word-level tokenizer.json (like one from a hub model) with more than 65,536 entries.
    words = sorted({w for d in corpus_docs[:100] for w in d["text"].split()})
    vocab = {"[UNK]": 0, "</s>": 1} | {f"filler{i}": i + 2 for i in range(70_000)}
    vocab |= {w: len(vocab) + i for i, w in enumerate(words)}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.add_special_tokens(["</s>"])
    tok.save(str(tmp_path / "big.json"))
    data = tmp_path / "docs.jsonl"
    data.write_text("".join(json.dumps({"id": d["id"], "text": d["text"]}) + "\n" for d in corpus_docs[:100]))
    header = tokenize([str(data)], str(tmp_path / "big.json"), str(tmp_path / "out"), workers=2)
    assert header["dtype"] == "uint32" and header["tokenizer"]["eod_token"] == "</s>"
    ds = TokenDataset(tmp_path / "out")
    first = corpus_docs[[d["id"] for d in corpus_docs].index(ds.document_ids()[0])]
    assert ds[0].dtype == np.uint32 and [int(t) for t in ds[0][:-1]] == [vocab[w] for w in first["text"].split()]
    assert ds[0][-1] == 1


def test_clear_errors(corpus_file: Path, tokenizer_file: Path, tmp_path: Path) -> None:
    with pytest.raises(WinnowError, match="tokenizer not found"):
        tokenize([str(corpus_file)], str(tmp_path / "missing.json"), str(tmp_path / "out"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "1", "text": "fine"}\n{"id": "2", "text": \n')
    with pytest.raises(InputError, match=r"bad\.jsonl, line 2: invalid JSON"):
        tokenize([str(bad)], str(tokenizer_file), str(tmp_path / "out"))
    with pytest.raises(WinnowError, match="too small"):
        train_tokenizer([str(corpus_file)], 100, str(tmp_path / "t.json"))
