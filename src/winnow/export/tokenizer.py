"""Training and loading tokenizers (HF ``tokenizers``; a local ``tokenizer.json`` only, never the hub)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from winnow.errors import WinnowError
from winnow.export.documents import iter_texts

if TYPE_CHECKING:
    from tokenizers import Tokenizer

END_OF_DOCUMENT = "<|endoftext|>"
# Names of the end-of-document token in common tokenizer.json files, tried in this order.
EOD_CANDIDATES = (END_OF_DOCUMENT, "<|end_of_text|>", "</s>", "<eos>", "<|im_end|>", "[SEP]")


def _tokenizers() -> Any:
    """The ``tokenizers`` package (the tokens extra), or an error that says how to install it."""
    try:
        import tokenizers
    except ModuleNotFoundError:
        raise WinnowError("tokenizers is not installed: pip install 'winnow[tokens]'") from None
    return tokenizers


def train_tokenizer(data: list[str], vocab_size: int, output: str) -> None:
    """Train a byte-level BPE on the documents of DATA and save it as a ``tokenizer.json``.

    Byte-level: every string is encodable and decoding gives the exact text back, whatever
    the script, whitespace or control characters. ``<|endoftext|>`` is the end-of-document token."""
    if vocab_size < 257 + 1:
        raise WinnowError(f"vocab size {vocab_size} is too small: a byte-level BPE needs at least 258")
    tk = _tokenizers()
    tokenizer = tk.Tokenizer(tk.models.BPE())
    tokenizer.pre_tokenizer = tk.pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = tk.decoders.ByteLevel()
    trainer = tk.trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[END_OF_DOCUMENT],
        initial_alphabet=tk.pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(iter_texts(data), trainer=trainer)
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    tokenizer.save(output)


def load_tokenizer(path: str) -> Tokenizer:
    """Load a local tokenizer.json for encoding data.

    Special tokens written in a document (a literal ``<|endoftext|>`` in a web page) are
    encoded as the plain text they are, so the end-of-document id only ever ends a document."""
    if not Path(path).is_file():
        raise WinnowError(f"tokenizer not found: {path} (give a local tokenizer.json; hub names are not fetched)")
    tokenizers = _tokenizers()
    try:
        tokenizer = tokenizers.Tokenizer.from_file(path)
    except Exception as error:  # tokenizers raises a bare Exception on bad files
        raise WinnowError(f"{path}: not a valid tokenizer.json ({error})") from None
    tokenizer.encode_special_tokens = True
    return tokenizer


def end_of_document_id(tokenizer: Tokenizer, token: str | None = None) -> tuple[str, int]:
    """The end-of-document token and its id: ``token`` when given, else the first known name."""
    for candidate in (token,) if token else EOD_CANDIDATES:
        token_id = tokenizer.token_to_id(candidate)
        if token_id is not None:
            return candidate, token_id
    wanted = repr(token) if token else f"any of {', '.join(EOD_CANDIDATES)}"
    raise WinnowError(f"the tokenizer has no end-of-document token ({wanted}); name one with eod_token")


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
