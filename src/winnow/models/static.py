"""Static embedding models in the model2vec layout, read with numpy and ``tokenizers`` only.

A model directory holds ``tokenizer.json`` (a Hugging Face tokenizer), ``model.safetensors`` (one
``embeddings`` tensor, a row per token id) and ``config.json``. A text's vector is the mean of its
tokens' rows (unknown tokens left out), L2-normalised when the config says ``normalize`` — what
model2vec's ``StaticModel.encode`` computes, so a model2vec model a user has on disk loads here, and
the models ``winnow train-embeddings`` writes load in model2vec."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

from winnow.errors import RecipeError

ENCODE_CHUNK = 256  # texts tokenized at once: bounds the tokenizer's per-token objects
_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "BF16": None}


def safetensors_header(path: Path) -> dict:
    """The JSON header of a ``.safetensors`` file (tensor name → dtype, shape, offsets), data unread."""
    with open(path, "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(size))


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a ``.safetensors`` file (a little-endian u64 header size, a JSON header, the data)."""
    with open(path, "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = _DTYPES.get(info["dtype"])
        if dtype is None:
            raise RecipeError(f"{path}: tensor {name!r} has dtype {info['dtype']}, not one this reader handles")
        start, end = info["data_offsets"]
        tensors[name] = np.frombuffer(data[start:end], dtype=dtype).reshape(info["shape"])
    return tensors


def is_static_model(path: Path) -> bool:
    """A model2vec layout: a tokenizer and a safetensors file whose tensors are one ``embeddings``
    table. A sentence-transformers (BERT-like) directory holds a tokenizer.json and a
    model.safetensors too, but with a network's tensors: it is not a static model."""
    weights = path / "model.safetensors"
    if not ((path / "tokenizer.json").is_file() and weights.is_file()):
        return False
    return {name for name in safetensors_header(weights) if name != "__metadata__"} == {"embeddings"}


class StaticEmbeddings:
    """Text → vector by averaging token embeddings."""

    def __init__(self, path: str | Path):
        from tokenizers import Tokenizer

        self.path = Path(path)
        if not is_static_model(self.path):
            raise RecipeError(f"{self.path}: not a static embedding model (needs tokenizer.json and model.safetensors)")
        config_file = self.path / "config.json"
        self.config = json.loads(config_file.read_text()) if config_file.is_file() else {}
        tensors = read_safetensors(self.path / "model.safetensors")
        if "embeddings" not in tensors:
            raise RecipeError(f"{self.path}/model.safetensors: no 'embeddings' tensor (has {', '.join(tensors)})")
        self.vectors = np.ascontiguousarray(tensors["embeddings"], dtype=np.float32)
        self.tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.normalize = bool(self.config.get("normalize", True))
        unk = self.config.get("unk_token") or "[UNK]"
        self.unk_id = self.tokenizer.token_to_id(unk)
        self.max_tokens = int(self.config.get("max_tokens", 512))

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def token_ids(self, texts: list[str]) -> list[np.ndarray]:
        """Each text's token ids: the first ``max_tokens`` known ones."""
        encodings = self.tokenizer.encode_batch_fast(texts, add_special_tokens=False)
        lists = []
        for encoding in encodings:
            ids = np.asarray(encoding.ids, dtype=np.int64)
            if self.unk_id is not None:
                ids = ids[ids != self.unk_id]
            lists.append(ids[: self.max_tokens])
        return lists

    def encode(self, texts: list[str]) -> np.ndarray:
        """``(len(texts), dim)`` float32; a text with no known token gets the zero vector.

        ENCODE_CHUNK texts are tokenized at a time and each text's rows are gathered and summed on
        their own, so memory does not grow with the batch (gathering a 2,048-text batch's rows at
        once took ~400 MB and ``np.add.reduceat`` over them longer than the tokenizer)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), ENCODE_CHUNK):
            for row, ids in enumerate(self.token_ids(texts[start : start + ENCODE_CHUNK]), start):
                if len(ids):
                    out[row] = self.vectors[ids].sum(axis=0) / len(ids)
        if self.normalize:
            norms = np.linalg.norm(out, axis=1, keepdims=True)
            np.divide(out, norms, out=out, where=norms > 0)
        return out
