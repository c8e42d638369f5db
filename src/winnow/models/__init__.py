"""Models for curation: training, loading and a small registry of the model kinds Winnow reads.

A kernel layer (beside ``text`` and ``io``): nothing here imports steps, stages or executors, so the
steps (``classifier``, ``embed``, ``domain``) and the ``semantic_dedup`` stage build on it.

* ``classifier`` / ``train_classifier``: fastText supervised classifiers (the DCLM recipe: word
  n-grams), loaded with ``fasttext-predict``, trained with ``fasttext-numpy2-wheel`` (``winnow[models]``);
* ``linear_head``: a softmax head on an embedding model's vectors (the FineWeb-Edu recipe; scipy to train);
* ``static`` / ``train_embeddings``: static (bag-of-token) embedding models in the model2vec layout;
* ``kmeans``: seeded k-means for semantic dedup and topic clusters;
* ``metrics``: precision, recall, ROC AUC, best-threshold F1;
* ``registry``: which loader reads a model path (a fastText ``.bin``, a model2vec or
  sentence-transformers directory).

Nothing is downloaded: every model is a local path, trained here or brought by the user.
"""
