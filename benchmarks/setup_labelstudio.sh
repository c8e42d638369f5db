#!/usr/bin/env bash
# Label Studio (the peer of the feedback app, benchmarks/feedback_vs_labelstudio.py) in its own virtual
# environment, benchmarks/.venv-labelstudio — never in Winnow's .venv (its Django pins clash with ours).
set -euo pipefail
cd "$(dirname "$0")"
PY=${PY:-python3.11}
if [ ! -x .venv-labelstudio/bin/python ]; then
  $PY -m venv .venv-labelstudio
fi
.venv-labelstudio/bin/pip install -q --upgrade pip
.venv-labelstudio/bin/pip install -q label-studio
.venv-labelstudio/bin/python -c "import label_studio; print('label-studio', label_studio.__version__)"
echo "Label Studio installed in benchmarks/.venv-labelstudio"
