#!/usr/bin/env bash
# Installs the test LLM server, llama.cpp's OpenAI-compatible server from llama-cpp-python[server], into
# its own venv (.venv-llm, or the path given), for the synthetic-data tests (tests/synth/) and
# benchmarks/synth_throughput.py. A test-setup component like Chromium and PostgreSQL: not part of a
# user's install. Its own venv because the server pins its web stack (fastapi, starlette,
# pydantic-settings), which must not move the versions the feedback app is tested with.
# Idempotent: does nothing when the server already imports there. pip's wheel cache keeps the compiled
# llama.cpp wheel, so a second venv (or a re-run) does not compile it again.
set -euo pipefail
VENV="${1:-.venv-llm}"
PY="$VENV/bin/python"
if [ -x "$PY" ] && "$PY" -c "import llama_cpp.server" 2>/dev/null; then
  exit 0
fi
test -x "$PY" || python3.11 -m venv "$VENV"
"$PY" -m pip install -q --upgrade pip
# CPU-only, without the multimodal (mtmd) library, tools or examples: the Python server needs only
# libllama and ggml. About 5 min on 2 idle cores; much longer on a loaded machine.
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF}"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
"$PY" -m pip install -q 'llama-cpp-python[server]'
echo "llm server installed in $VENV: llama-cpp-python $("$PY" -c 'import llama_cpp; print(llama_cpp.__version__)')"
