"""A tiny random-weight llama-architecture model as a GGUF file, written offline with ``gguf``'s writer.

Byte-level BPE vocabulary (the 256 byte symbols, a few merges, 512 generation-only word tokens, ChatML
control tokens) and a ChatML chat template, so llama.cpp's server answers ``/v1/chat/completions`` with
it. About 700 KB; its answers are random tokens (mostly words), generated in milliseconds — what the synthetic engine's tests need from a server.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

CHATML = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
MERGES = ["Ġ t", "Ġ a", "h e", "i n", "r e", "o n", "Ġt he", "e r", "Ġ s", "a t"]
WORDS = 512  # generation-only word tokens (no merge reaches them: prompts still tokenize byte by byte)


def _word_tokens(count: int = WORDS, seed: int = 0) -> list[str]:
    """``count`` distinct lowercase words of 3-8 letters, most with GPT-2's leading-space mark ``Ġ``.

    A random model samples them about twice as often as single bytes, so its text averages several
    characters a token: a grammar-constrained JSON string runs to its ``maxLength`` in a few hundred
    tokens (byte tokens alone take ~1.6 tokens a character), and the text has words for MinHash."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    words: dict[str, None] = {}
    while len(words) < count:
        word = "".join(rng.choice(letters, int(rng.integers(3, 9))))
        words[("Ġ" if rng.random() < 0.8 else "") + word] = None
    return list(words)


def _byte_symbols() -> list[str]:
    """GPT-2's printable stand-ins for the 256 bytes (byte-level BPE)."""
    keep = (
        list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    )
    chars, extra = [], 0
    for b in range(256):
        if b in keep:
            chars.append(chr(b))
        else:
            chars.append(chr(256 + extra))
            extra += 1
    return chars


def write_tiny_gguf(
    path: str | Path, dim: int = 64, layers: int = 2, heads: int = 4, ff: int = 128, seed: int = 0
) -> Path:
    import gguf

    path = Path(path)
    merged = ["".join(m.split()) for m in MERGES]
    words = [w for w in _word_tokens() if w not in merged]
    tokens = _byte_symbols() + merged + words + ["<|im_start|>", "<|im_end|>", "<|endoftext|>"]
    types = [gguf.TokenType.NORMAL] * (len(tokens) - 3) + [gguf.TokenType.CONTROL] * 3
    vocab = len(tokens)
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("winnow-tiny-random")
    writer.add_context_length(8192)
    writer.add_embedding_length(dim)
    writer.add_block_count(layers)
    writer.add_feed_forward_length(ff)
    writer.add_head_count(heads)
    writer.add_head_count_kv(heads)
    writer.add_rope_dimension_count(dim // heads)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(vocab)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(MERGES)
    writer.add_bos_token_id(vocab - 1)
    writer.add_eos_token_id(vocab - 2)  # <|im_end|>
    writer.add_add_bos_token(False)
    writer.add_chat_template(CHATML)
    rng = np.random.default_rng(seed)

    def weight(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.2).astype(np.float32)

    writer.add_tensor("token_embd.weight", weight(vocab, dim))
    writer.add_tensor("output_norm.weight", np.ones(dim, np.float32))
    writer.add_tensor("output.weight", weight(vocab, dim))
    for i in range(layers):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(dim, np.float32))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            writer.add_tensor(f"blk.{i}.{name}.weight", weight(dim, dim))
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(dim, np.float32))
        writer.add_tensor(f"blk.{i}.ffn_gate.weight", weight(ff, dim))
        writer.add_tensor(f"blk.{i}.ffn_up.weight", weight(ff, dim))
        writer.add_tensor(f"blk.{i}.ffn_down.weight", weight(dim, ff))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
