"""Proxy-model ablations: does a curation choice make a better model? (``winnow ablate``, extra ``[eval]``).

Train identical small decoder-only LMs on each variant of a dataset (same tokenizer, same number of
training tokens, several seeds), score them in bits per byte and zero-shot multiple choice, and
report mean ± std and paired differences. PyTorch is imported by the modules here, never above."""
