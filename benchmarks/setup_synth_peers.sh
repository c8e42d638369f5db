#!/usr/bin/env bash
# The synthetic-data peer (distilabel, with the openai client) in its own virtual environment,
# for benchmarks/synth_throughput.py; never in the project's dependencies. Idempotent.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PY:-python3.11}
if [ ! -x .venv-synth-peers/bin/python ]; then
  $PY -m venv .venv-synth-peers
fi
if ! .venv-synth-peers/bin/python -c "import distilabel, openai, requests" 2>/dev/null; then
  .venv-synth-peers/bin/pip install -q --upgrade pip
  .venv-synth-peers/bin/pip install -q "distilabel[openai]" openai requests  # distilabel 1.5 imports requests without declaring it
fi
echo "distilabel $(.venv-synth-peers/bin/python -c 'import distilabel; print(distilabel.__version__)') in benchmarks/.venv-synth-peers"
