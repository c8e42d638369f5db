#!/usr/bin/env bash
# Installs the test LLM server (llama.cpp's OpenAI-compatible server from llama-cpp-python[server])
# and the `gguf` writer into the project's venv, for the synthetic-data tests (tests/synth/).
# A test-setup component like Chromium: not part of a user's install.
# Idempotent: does nothing when the server already imports; pip's wheel cache keeps the
# compiled llama.cpp wheel, so a second venv (or a re-run) does not compile it again.
set -euo pipefail
PY="${1:-.venv/bin/python}"
if "$PY" -c "import llama_cpp.server, gguf, sse_starlette" 2>/dev/null; then
  exit 0
fi
# CPU-only, without the multimodal (mtmd) library, tools or examples: the Python server needs only
# libllama and ggml. ~4 min on 2 idle cores; much longer on a loaded machine.
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF}"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
"$PY" -m pip install -q 'llama-cpp-python[server]' gguf
echo "llm server installed: $("$PY" -c 'import llama_cpp; print(llama_cpp.__version__)')"
