#!/usr/bin/env bash
# The peers we measure against, in their own virtual environment (never in the project's
# dependencies). DataTrove 0.10 needs spaCy (a blank English model, no download) for its
# default word tokenizer, and xxhash<4 (xxhash 4 breaks its MinHash).
set -euo pipefail
cd "$(dirname "$0")"
PY=${PY:-python3.11}
if [ ! -x .venv-peers/bin/python ]; then
  $PY -m venv .venv-peers
fi
.venv-peers/bin/pip install -q --upgrade pip
.venv-peers/bin/pip install -q "datatrove==0.10.*" spacy "xxhash<4" datasketch orjson zstandard tokenizers regex trafilatura ftfy
# DataTrove's FastTextClassifierFilter (benchmarks/classifier_vs_datatrove.py) imports these.
.venv-peers/bin/pip install -q fasttext-numpy2-wheel fasteners
# HF datasets (the baseline of chat_export.py) in an environment of its own.
if [ ! -x .venv-datasets/bin/python ]; then
  $PY -m venv .venv-datasets
fi
.venv-datasets/bin/pip install -q "datasets>=3"
echo "peers installed in benchmarks/.venv-peers and benchmarks/.venv-datasets"
