"""Tokenised SFT (packed sequences, assistant-only loss mask) and the chat-template preflight,
with a real tokenizer trained here on the ShareGPT sample and chat templates on disk."""

from __future__ import annotations

import json

import numpy as np
import pytest
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from winnow.errors import WinnowError
from winnow.export import TokenDataset
from winnow.export.chat.packing import pack_sft, preflight
from winnow.export.chat.template import ChatTokenizer
from winnow.io.chat import read_conversations

SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "[INST]", "[/INST]", "<s>", "</s>"]
# A ChatML template written the way model repositories write them (HF Jinja conventions).
CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
# A Llama-2-style template that refuses conversations whose roles do not alternate.
LLAMA2 = (
    "{% for message in messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% else %}{{ ' ' + message['content'] + ' ' + eos_token }}{% endif %}{% endfor %}"
)


@pytest.fixture(scope="module")
def sharegpt(sample_data):
    return read_conversations(str(sample_data / "sft" / "sharegpt" / "dummy_conversation.json"))


def _model_dir(path, sharegpt, template):
    path.mkdir()
    texts = [m["content"] for ms in sharegpt.column("messages").to_pylist() for m in ms]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(
        texts,
        trainers.BpeTrainer(
            vocab_size=1500,
            special_tokens=SPECIAL,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        ),
    )
    tok.save(str(path / "tokenizer.json"))
    config = {"bos_token": "<s>", "eos_token": {"content": "</s>"}, "chat_template": template}
    (path / "tokenizer_config.json").write_text(json.dumps(config))
    return path


@pytest.fixture(scope="module")
def chatml_dir(tmp_path_factory, sharegpt):
    return _model_dir(tmp_path_factory.mktemp("m") / "chatml", sharegpt, CHATML)


@pytest.fixture(scope="module")
def llama_dir(tmp_path_factory, sharegpt):
    return _model_dir(tmp_path_factory.mktemp("m") / "llama", sharegpt, LLAMA2)


def test_mask_covers_exactly_the_assistant_turns(chatml_dir, sharegpt):
    tok = ChatTokenizer.load(chatml_dir)
    for messages in sharegpt.column("messages").to_pylist()[:100]:
        ids, mask = tok.encode(messages)
        trained = tok.tokenizer.decode(ids[mask == 1].tolist(), skip_special_tokens=False)
        context = tok.tokenizer.decode(ids[mask == 0].tolist(), skip_special_tokens=False)
        answers = [m["content"] for m in messages if m["role"] == "assistant"]
        assert trained == "".join(f"{a}<|im_end|>\n" for a in answers)
        assert context == "".join(
            f"<|im_start|>{m['role']}\n" + ("" if m["role"] == "assistant" else f"{m['content']}<|im_end|>\n")
            for m in messages
        )


def test_packed_sft_in_the_token_layout(chatml_dir, sharegpt, tmp_path):
    out = tmp_path / "sft"
    header = pack_sft(sharegpt, chatml_dir, out, max_seq_len=256, seed=3)
    packing = header["packing"]
    assert packing["conversations"] + packing["dropped_overlong"] == 500 and packing["sequences"] > 0
    ds = TokenDataset(out)
    assert len(ds) == packing["sequences"] and ds.eod_id == ChatTokenizer.load(chatml_dir).tokenizer.token_to_id("</s>")
    assert max(ds[i].size for i in range(len(ds))) <= 256
    total_trained = sum(int(ds.loss_mask(i).sum()) for i in range(len(ds)))
    assert total_trained == header["loss_mask"]["trained_tokens"] > 0
    # every conversation listed once, and its tokens decode back to its rendering
    tok = ChatTokenizer.load(chatml_dir)
    by_id = dict(zip(sharegpt.column("id").to_pylist(), sharegpt.column("messages").to_pylist(), strict=True))
    docs = ds.document_ids()
    assert len(docs) == len(set(docs)) == packing["conversations"]
    import pyarrow.parquet as pq

    catalogue = pq.read_table(out / "train.documents.parquet").to_pylist()
    stream = np.concatenate([ds[i] for i in range(len(ds))])
    for entry in catalogue[:50]:
        ids = stream[entry["start"] : entry["start"] + entry["tokens"]]
        assert ids[-1] == ds.eod_id
        assert tok.tokenizer.decode(ids[:-1].tolist(), skip_special_tokens=False) == tok.render(by_id[entry["id"]])
    again = pack_sft(sharegpt, chatml_dir, tmp_path / "again", max_seq_len=256, seed=3)
    assert (tmp_path / "again" / "train-00000.bin").read_bytes() == (out / "train-00000.bin").read_bytes()
    assert again["packing"] == packing


def test_overlong_conversations_dropped_or_truncated(chatml_dir, sharegpt, tmp_path):
    drop = pack_sft(sharegpt, chatml_dir, tmp_path / "d", max_seq_len=48)
    cut = pack_sft(sharegpt, chatml_dir, tmp_path / "t", max_seq_len=48, overlong="truncate")
    assert drop["packing"]["dropped_overlong"] == cut["packing"]["truncated"] > 0
    assert cut["packing"]["conversations"] == 500
    with pytest.raises(WinnowError, match="overlong must be drop or truncate"):
        pack_sft(sharegpt, chatml_dir, tmp_path / "x", overlong="wrap")


def test_preflight_reports_lengths_and_cut_assistant_turns(chatml_dir, sharegpt, sample_data):
    report = preflight(sharegpt, chatml_dir, max_seq_len=64)
    tok = ChatTokenizer.load(chatml_dir)
    lengths = {r["id"]: tok.encode(r["messages"])[0].size for r in sharegpt.to_pylist()}
    assert report.examples == 500 and report.tokens["max"] == max(lengths.values())
    assert report.over_max == sum(n > 64 for n in lengths.values()) > 0
    # an assistant turn is cut only in an example longer than the limit, and the template ends on it
    assert set(report.assistant_cut) <= {i for i, n in lengths.items() if n > 64}
    assert set(report.assistant_lost) <= set(report.assistant_cut)
    assert report.tokens_by_role["assistant"] > 0 and "64" in report.summary()
    hh = read_conversations(str(sample_data / "sft" / "hh-rlhf" / "harmless-base-test.jsonl.gz"))
    pairs = preflight(hh, chatml_dir, max_seq_len=4096)
    assert pairs.examples == 800 and not pairs.assistant_cut  # both sides of each pair


def test_preflight_names_examples_the_template_refuses(llama_dir, sample_data):
    mt = read_conversations(str(sample_data / "sft" / "mt_bench" / "question.jsonl"))  # user, user: no alternation
    report = preflight(mt, llama_dir, max_seq_len=512)
    assert report.examples == 0 and len(report.failed) == 80
    assert "roles must alternate" in report.failed["81"]
    seeds = read_conversations(str(sample_data / "sft" / "self-instruct" / "seed_tasks.jsonl"))
    ok = preflight(seeds, llama_dir, max_seq_len=512)
    assert ok.examples == 175 and not ok.failed and not ok.no_assistant


def test_a_model_dir_without_a_template_is_an_error(tmp_path, chatml_dir):
    (tmp_path / "tokenizer.json").write_bytes((chatml_dir / "tokenizer.json").read_bytes())
    (tmp_path / "tokenizer_config.json").write_text("{}")
    with pytest.raises(WinnowError, match="no chat_template"):
        ChatTokenizer.load(tmp_path)
    chatml = ChatTokenizer.load(tmp_path / "tokenizer.json")  # a bare tokenizer.json: the ChatML layout
    assert (
        chatml.template is None
        and chatml.render([{"role": "user", "content": "hi"}]) == "<|im_start|>user\nhi<|im_end|>\n"
    )


def test_packed_export_and_preflight_commands(chatml_dir, sample_data, tmp_path):
    import subprocess
    import sys

    from winnow.exec.runner import run

    out = tmp_path / "run"
    run(
        {
            "input": {"path": str(sample_data / "sft" / "sharegpt" / "dummy_conversation.json"), "format": "chat"},
            "output": {"path": str(out)},
        }
    )

    def winnow(*args):
        return subprocess.run([sys.executable, "-m", "winnow.cli", *args], capture_output=True, text=True)

    tokens = tmp_path / "tokens"
    done = winnow(
        "export",
        str(out),
        "--format",
        "sft-packed",
        "--tokenizer",
        str(chatml_dir),
        "--max-seq-len",
        "512",
        "-o",
        str(tokens),
    )
    assert done.returncode == 0, done.stderr
    assert "500 conversations -> " in done.stdout and len(TokenDataset(tokens)) > 0
    missing = winnow("export", str(out), "--format", "sft-packed", "-o", str(tokens))
    assert missing.returncode == 2 and "sft-packed needs --tokenizer" in missing.stderr
    report = winnow("preflight", str(out), "--tokenizer", str(chatml_dir), "--max-seq-len", "64", "--json")
    assert report.returncode == 0, report.stderr
    data = json.loads(report.stdout)
    assert data["examples"] == 500 and data["over_max"] > 0 and data["max_seq_len"] == 64
