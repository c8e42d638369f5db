"""The real LLM server for the synthetic tests: llama.cpp's OpenAI-compatible server (installed by
``scripts/install-llm-server.sh``, which ``make test`` runs, in its own venv ``.venv-llm``) serving a tiny random-weight GGUF written
here, once per session, and a fault-injecting proxy in front of it per test."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from llm_server import SERVER_PYTHON, FaultProxy, LlamaServer, server_installed
from tiny_model import write_tiny_gguf


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not server_installed():
        pytest.fail(
            f"the test LLM server is not installed ({SERVER_PYTHON} cannot import llama_cpp.server): "
            "run `bash scripts/install-llm-server.sh` (make test does)"
        )
    if importlib.util.find_spec("gguf") is None:
        pytest.fail("gguf is not installed: it is in the test extra (`make install`)")
    return write_tiny_gguf(tmp_path_factory.mktemp("model") / "tiny.gguf")


@pytest.fixture(scope="session")
def llm_server(tiny_gguf: Path):
    server = LlamaServer(tiny_gguf).start()
    yield server
    server.kill()


@pytest.fixture
def proxy(llm_server: LlamaServer):
    if llm_server.process is None or llm_server.process.poll() is not None:
        llm_server.start()  # a test that killed it left it down
    fault_proxy = FaultProxy(llm_server.port)
    yield fault_proxy
    fault_proxy.close()
