"""Topic clusters: seeded k-means over a corpus's embeddings, each cluster named by its top terms.

A topics directory holds ``centroids.npy`` (unit vectors, one row per topic) and ``topics.json``: the
embedding model it was built with (the ``domain`` step embeds with the same one), and per topic its
size in the training corpus and its name — the words most over-represented in its documents compared
with the whole corpus (share of the cluster's documents that contain the word / share of all documents,
among words in at least ``min_df`` documents of the cluster), so words every page has never name a topic."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from winnow.errors import RecipeError
from winnow.models.kmeans import assign, train_kmeans
from winnow.models.registry import load_embedder

WORD = re.compile(r"[^\W\d_]{3,}")


@dataclass(frozen=True)
class Topic:
    index: int
    name: str
    terms: list[str]
    documents: int


def top_terms(texts: list[str], labels: np.ndarray, k: int, n_terms: int = 4, min_df: int = 3) -> list[list[str]]:
    sets = [set(WORD.findall(t.lower())) for t in texts]
    overall = Counter(w for s in sets for w in s)
    out = []
    for c in range(k):
        members = np.flatnonzero(labels == c)
        inside = Counter(w for i in members for w in sets[i])
        size = max(len(members), 1)
        lift = {w: (n / size) / (overall[w] / len(texts)) for w, n in inside.items() if n >= min(min_df, size)}
        out.append([w for w, _ in sorted(lift.items(), key=lambda x: (-x[1], x[0]))[:n_terms]])
    return out


def train_topics(texts: list[str], model: str, out: Path, k: int, seed: int = 0) -> list[Topic]:
    """Cluster ``texts`` embedded by ``model`` into ``k`` topics; writes ``out/centroids.npy`` and ``topics.json``."""
    embedder = load_embedder(model)
    vectors = embedder.encode(texts)
    centroids = train_kmeans(vectors, k, seed)
    labels = assign(vectors, centroids)
    terms = top_terms(texts, labels, len(centroids))
    topics = [
        Topic(c, "-".join(terms[c][:3]) or f"topic-{c}", terms[c], int((labels == c).sum()))
        for c in range(len(centroids))
    ]
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "centroids.npy", centroids.astype(np.float32), allow_pickle=False)
    meta = {"model": str(Path(model).resolve()), "seed": seed, "topics": [asdict(t) for t in topics]}
    (out / "topics.json").write_text(json.dumps(meta, indent=1) + "\n")
    return topics


@dataclass(frozen=True)
class Topics:
    model: str
    centroids: np.ndarray
    topics: list[Topic]

    @classmethod
    def load(cls, path: str | Path) -> Topics:
        where = Path(path)
        if not (where / "topics.json").is_file() or not (where / "centroids.npy").is_file():
            raise RecipeError(f"{where}: not a topics directory (winnow train-topics writes one)")
        meta = json.loads((where / "topics.json").read_text())
        return cls(meta["model"], np.load(where / "centroids.npy"), [Topic(**t) for t in meta["topics"]])
