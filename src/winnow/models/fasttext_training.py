"""fastText training, shared by the classifier (``train_supervised``) and skip-gram embeddings
(``train_unsupervised``): the module that can train, and each training in a fresh process."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

from winnow.errors import WinnowError

T = TypeVar("T")


def fasttext_trainer(what: str) -> Any:
    """The fastText module, if it is the build that trains; else an error naming ``what`` and the install."""
    try:
        import fasttext
    except ImportError:  # pragma: no cover - the core dependency fasttext-predict provides the module
        raise WinnowError(f"{what} needs fastText: pip install 'winnow[models]'") from None
    if not hasattr(fasttext, "train_supervised") or not hasattr(fasttext, "train_unsupervised"):
        raise WinnowError(
            "the installed fasttext module can only predict (fasttext-predict): "
            "pip install 'winnow[models]' (fasttext-numpy2-wheel) to train"
        )
    return fasttext


def in_fresh_process(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a newly spawned process. fastText 0.9.2 stops with "Encountered NaN" when it
    trains in a long-lived process (the test suite, after other libraries were loaded; a second
    skip-gram training right after a first one) on inputs a new process trains on fine."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()
