"""The real LLM server the synthetic tests (and benchmarks/synth_throughput.py) run against, and a
fault-injecting proxy in front of it.

* :class:`LlamaServer`: ``python -m llama_cpp.server --model tiny.gguf`` on a free loopback port;
  ``kill()`` and ``start()`` again on the same port (the server killed and restarted).
* :class:`FaultProxy`: forwards ``POST /v1/...`` to the server, except that the next requests may be
  given a fault (:meth:`inject`): ``429`` (with ``Retry-After``), ``500``, ``timeout`` (holds the
  connection past the client's limit), ``truncated`` (the real answer cut in half), ``nonjson`` (a 200
  that is an HTML page), ``drop`` (the connection closed with no answer). Its log is the server-side
  count: every request the server answered, with the client's ``X-Request-Id`` (the request key).
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# The server runs from its own venv (scripts/install-llm-server.sh): its web stack is pinned apart from ours.
REPO = Path(__file__).resolve().parents[2]
SERVER_PYTHON = Path(os.environ.get("WINNOW_LLM_PYTHON", REPO / ".venv-llm" / "bin" / "python"))


def server_installed() -> bool:
    """Whether the server's venv is there and its server imports."""
    if not SERVER_PYTHON.exists():
        return False
    probe = subprocess.run([str(SERVER_PYTHON), "-c", "import llama_cpp.server"], capture_output=True)
    return probe.returncode == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LlamaServer:
    def __init__(self, model: Path, port: int | None = None, log: Path | None = None):
        self.model, self.port = model, port or free_port()
        self.log = log or model.with_suffix(".server.log")
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout: float = 120.0) -> LlamaServer:
        args = [
            str(SERVER_PYTHON),
            "-m",
            "llama_cpp.server",
            "--model",
            str(self.model),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_ctx",
            "8192",
            "--n_threads",
            "1",
        ]
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "OMP_NUM_THREADS": "1"}
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"llama.cpp server exited ({self.process.returncode}): {self.log.read_text()[-2000:]}"
                )
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/v1/models")
                if conn.getresponse().status == 200:
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"llama.cpp server did not answer within {timeout}s: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    stop = kill


@dataclass
class Served:
    """One request that reached the proxy: its key, the fault given (None: passed through) and the status."""

    key: str
    fault: str | None
    status: int | None
    answered_by_server: bool


class FaultProxy:
    def __init__(self, upstream_port: int, hang_s: float = 3.0):
        self.upstream_port, self.hang_s = upstream_port, hang_s
        self.faults: deque[str] = deque()
        self.log: list[Served] = []
        self.lock = threading.Lock()
        self.in_flight = 0  # POSTs being handled now, and the most at once since the last reset
        self.most_in_flight = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                self._forward(b"")

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with proxy.lock:
                    proxy.in_flight += 1
                    proxy.most_in_flight = max(proxy.most_in_flight, proxy.in_flight)
                try:
                    self._forward(body)
                finally:
                    with proxy.lock:
                        proxy.in_flight -= 1

            def _forward(self, body: bytes) -> None:
                key = self.headers.get("X-Request-Id", "")
                with proxy.lock:
                    fault = proxy.faults.popleft() if proxy.faults and self.command == "POST" else None
                if fault == "429":
                    return self._reply(key, fault, 429, b'{"error": "rate limited"}', {"Retry-After": "1"})
                if fault == "500":
                    return self._reply(key, fault, 500, b'{"error": "internal"}')
                if fault == "timeout":
                    time.sleep(proxy.hang_s)
                    proxy._note(Served(key, fault, None, False))
                    self.close_connection = True
                    return
                if fault == "drop":
                    proxy._note(Served(key, fault, None, False))
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault == "nonjson":
                    return self._reply(key, fault, 200, b"<html><body>502 Bad Gateway</body></html>")
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=60)
                    headers = {"Content-Type": "application/json"}
                    conn.request(self.command, self.path, body=body or None, headers=headers)
                    upstream = conn.getresponse()
                    data, status = upstream.read(), upstream.status
                except OSError:
                    # the server is down: what a client sees from a dead server is a refused connection
                    proxy._note(Served(key, fault, None, False))
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault == "truncated":
                    data = data[: len(data) // 2]
                self._reply(key, fault, status, data, answered=True)

            def _reply(
                self,
                key: str,
                fault: str | None,
                status: int,
                data: bytes,
                headers: dict[str, str] | None = None,
                answered: bool = False,
            ) -> None:
                proxy._note(Served(key, fault, status, answered))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _note(self, served: Served) -> None:
        with self.lock:
            self.log.append(served)

    def inject(self, *faults: str) -> None:
        with self.lock:
            self.faults.extend(faults)

    def reset(self) -> None:
        with self.lock:
            self.faults.clear()
            self.log.clear()
            self.most_in_flight = self.in_flight

    def answered(self) -> list[str]:
        """The keys of the requests the server answered, in order (repeats included)."""
        with self.lock:
            return [s.key for s in self.log if s.answered_by_server]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
