"""Training a static embedding model on a local corpus, written in the model2vec layout.

Two methods, both unsupervised and offline:

* ``ppmi-svd``: word co-occurrence counts in a window, positive pointwise mutual information, and a
  truncated SVD (scipy) — word vectors from counts, no training loop (Levy & Goldberg 2014);
* ``skipgram``: fastText skip-gram word vectors (needs ``winnow[models]``: fasttext-numpy2-wheel).

Both share one word-level tokenizer (lower-cased, ``\\w+`` and punctuation runs), trained by
``tokenizers`` on the corpus with a minimum count. Each word vector is scaled by its SIF weight
``a / (a + p(word))`` (Arora et al. 2017) so that a text's mean vector leans on its rare words.
The same corpus, parameters and seed give the same model."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from winnow.errors import WinnowError

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix
from winnow.models.card import ModelCard
from winnow.models.fasttext_training import fasttext_trainer, in_fresh_process

UNK = "[UNK]"


@dataclass(frozen=True)
class EmbeddingParams:
    method: Literal["ppmi-svd", "skipgram"] = "ppmi-svd"
    dim: int = 128
    min_count: int = 3
    max_vocab: int = 100_000
    window: int = 5
    epoch: int = 5  # skipgram only
    sif: float = 1e-3  # SIF weight parameter a; 0 turns the weighting off
    seed: int = 0


def build_tokenizer(texts: Iterable[str], params: EmbeddingParams):
    from tokenizers import Tokenizer, normalizers, pre_tokenizers
    from tokenizers.models import WordLevel
    from tokenizers.trainers import WordLevelTrainer

    tokenizer = Tokenizer(WordLevel(unk_token=UNK))
    tokenizer.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = WordLevelTrainer(
        vocab_size=params.max_vocab + 1, min_frequency=params.min_count, special_tokens=[UNK], show_progress=False
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return tokenizer


def corpus_ids(tokenizer, texts: list[str]) -> list[np.ndarray]:
    return [np.asarray(e.ids, dtype=np.int64) for e in tokenizer.encode_batch(texts, add_special_tokens=False)]


def ppmi_svd_vectors(docs: list[np.ndarray], vocab: int, params: EmbeddingParams) -> np.ndarray:
    """Word vectors ``U·sqrt(S)`` of the truncated SVD of the PPMI matrix of window co-occurrences."""
    from scipy.sparse import coo_matrix, csr_matrix  # scipy comes with the models extra: imported where used
    from scipy.sparse.linalg import svds

    counts = csr_matrix((vocab, vocab), dtype=np.float64)
    rows, cols = [], []
    for ids in docs:
        for offset in range(1, params.window + 1):
            if len(ids) > offset:
                rows.append(ids[:-offset])
                cols.append(ids[offset:])
        if sum(len(r) for r in rows) > 5_000_000:  # add up in chunks: bounded memory
            counts = counts + _pairs(rows, cols, vocab)
            rows, cols = [], []
    counts = counts + _pairs(rows, cols, vocab)
    counts = counts + counts.T  # a symmetric window
    counts = counts.tocoo()
    keep = (counts.row != 0) & (counts.col != 0)  # the unknown token is no context
    total = counts.data[keep].sum()
    if total == 0:
        raise WinnowError("the corpus has no word pairs to learn from (too small, or min_count too high)")
    row_sum = np.asarray(
        coo_matrix((counts.data[keep], (counts.row[keep], counts.col[keep])), shape=counts.shape).sum(1)
    ).ravel()
    # Context distribution smoothed with exponent 0.75 (as word2vec's negative sampling).
    context = row_sum**0.75
    context /= context.sum()
    pmi = (
        np.log(counts.data[keep] * 1.0 / total)
        - np.log(row_sum[counts.row[keep]] / total)
        - np.log(context[counts.col[keep]])
    )
    positive = pmi > 0
    ppmi = csr_matrix((pmi[positive], (counts.row[keep][positive], counts.col[keep][positive])), shape=counts.shape)
    k = min(params.dim, vocab - 2)
    rng = np.random.default_rng(params.seed)
    u, s, _ = svds(ppmi, k=k, v0=rng.standard_normal(vocab), solver="arpack")
    order = np.argsort(-s)
    u, s = u[:, order], s[order]
    # A singular vector's sign is arbitrary: fix it (largest-magnitude entry positive) so runs agree.
    u *= np.sign(u[np.abs(u).argmax(axis=0), np.arange(k)])
    vectors = np.zeros((vocab, params.dim), dtype=np.float32)
    vectors[:, :k] = u * np.sqrt(s)
    return vectors


def _pairs(rows: list[np.ndarray], cols: list[np.ndarray], vocab: int) -> csr_matrix:
    from scipy.sparse import coo_matrix, csr_matrix

    if not rows:
        return csr_matrix((vocab, vocab), dtype=np.float64)
    r, c = np.concatenate(rows), np.concatenate(cols)
    return coo_matrix((np.ones(len(r)), (r, c)), shape=(vocab, vocab)).tocsr()


def skipgram_vectors(tokenizer, texts: list[str], params: EmbeddingParams, workdir: Path) -> np.ndarray:
    fasttext_trainer("method skipgram")
    if params.seed != 0:
        # fastText 0.9.2's train_unsupervised takes no seed (its C++ side always uses 0): say so
        # rather than return the same model for every seed asked for.
        raise WinnowError("method skipgram cannot be seeded (fastText's unsupervised training always uses seed 0)")
    corpus = workdir / "corpus.txt"
    with open(corpus, "w", encoding="utf-8") as f:
        for encoding in tokenizer.encode_batch(texts, add_special_tokens=False):
            f.write(" ".join(encoding.tokens) + "\n")
    vocab = tokenizer.get_vocab()
    words = [""] * len(vocab)
    for word, index in vocab.items():
        words[index] = word
    out = workdir / "vectors.npy"
    in_fresh_process(_train_skipgram, str(corpus), words, params.dim, params.window, params.epoch, str(out))
    return np.load(out)


def _train_skipgram(corpus: str, words: list[str], dim: int, window: int, epoch: int, out: str) -> None:
    model = fasttext_trainer("method skipgram").train_unsupervised(
        corpus, model="skipgram", dim=dim, ws=window, epoch=epoch,
        minCount=1, minn=0, maxn=0, thread=1, verbose=0,  # one thread: the same corpus, the same vectors
    )  # fmt: skip
    vectors = np.zeros((len(words), dim), dtype=np.float32)
    for index, word in enumerate(words):
        if word and word != UNK:
            vectors[index] = model.get_word_vector(word)
    np.save(out, vectors)


def sif_weights(docs: list[np.ndarray], vocab: int, a: float) -> np.ndarray:
    counts = np.bincount(np.concatenate(docs) if docs else np.zeros(0, dtype=np.int64), minlength=vocab)
    p = counts / max(counts.sum(), 1)
    return (a / (a + p)).astype(np.float32)


def train_embeddings(texts: list[str], out: Path, params: EmbeddingParams, source: str) -> ModelCard:
    """Train on ``texts`` and write a model2vec-layout directory ``out`` with its model card."""
    from safetensors.numpy import save_file

    if not texts:
        raise WinnowError(f"{source}: no texts to train on")
    tokenizer = build_tokenizer(texts, params)
    vocab = tokenizer.get_vocab_size()
    if vocab < 3:
        raise WinnowError(f"{source}: only {vocab} words occur {params.min_count}+ times; lower --min-count")
    docs = corpus_ids(tokenizer, texts)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out, prefix=".train-") as tmp:
        if params.method == "ppmi-svd":
            vectors = ppmi_svd_vectors(docs, vocab, params)
        else:
            vectors = skipgram_vectors(tokenizer, texts, params, Path(tmp))
        if params.sif > 0:
            vectors *= sif_weights(docs, vocab, params.sif)[:, None]
        vectors[tokenizer.token_to_id(UNK)] = 0.0
        staged = Path(tmp) / "model.safetensors"
        save_file({"embeddings": np.ascontiguousarray(vectors, dtype=np.float32)}, str(staged))
        tokenizer.save(str(Path(tmp) / "tokenizer.json"))
        config = {"model_type": "model2vec", "normalize": True, "hidden_dim": params.dim, "unk_token": UNK,
                  "architectures": ["StaticModel"], "tokenizer_name": None, "apply_pca": None, "apply_zipf": None,
                  "winnow": asdict(params)}  # fmt: skip
        (Path(tmp) / "config.json").write_text(json.dumps(config, indent=1) + "\n")
        for name in ("tokenizer.json", "config.json", "model.safetensors"):  # the tensor last: it marks a model
            os.replace(Path(tmp) / name, out / name)
    card = ModelCard(
        kind="static-embeddings",
        model_file=out.name,
        source=source,
        params=asdict(params),
        train_records=len(texts),
        notes=[f"vocabulary {vocab:,} words (min count {params.min_count}), {params.dim} dimensions"],
    )
    card.write(out)
    return card
