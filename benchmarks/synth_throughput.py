"""Synthetic-data throughput: the same server, the same prompts, the same concurrency —
Winnow's engine (and a whole ``winnow run`` of ``generate_answers``) against a bare
``openai.AsyncOpenAI`` loop and against distilabel (both in benchmarks/.venv-synth-peers).

    bash benchmarks/setup_synth_peers.sh && bash scripts/install-llm-server.sh
    .venv/bin/python benchmarks/synth_throughput.py --prompts 400 --concurrency 8 --max-tokens 32

The server is llama.cpp's (llama-cpp-python) serving the tiny random model of the tests, so the
client side's cost shows: each answer takes milliseconds. Every run asks for fresh answers (a new
journal; seeds differ per prompt). Figures: requests/s, output tokens/s, and the ratios to the bare loop.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests" / "synth"))
PEER = HERE / ".venv-synth-peers" / "bin" / "python"

from llm_server import LlamaServer  # noqa: E402
from tiny_model import write_tiny_gguf  # noqa: E402


def prompts(n: int) -> list[str]:
    rows = [orjson.loads(x) for x in (ROOT / "tests/data/shared/sft/mt_bench/question.jsonl").read_bytes().splitlines()]
    turns = [t for r in rows for t in r["turns"]]
    return [f"{turns[i % len(turns)]} (#{i})" for i in range(n)]


def winnow_engine(base_url: str, texts: list[str], concurrency: int, max_tokens: int, work: Path) -> dict:
    from winnow.synth.config import Endpoint, Sampling
    from winnow.synth.engine import Engine
    from winnow.synth.journal import Journal
    from winnow.synth.request import LLMRequest

    endpoint = Endpoint(base_url=base_url, model="tiny", max_concurrency=concurrency)
    sampling = Sampling(temperature=0.8, max_tokens=max_tokens)

    async def go() -> dict:
        requests = [
            LLMRequest.chat("tiny", [{"role": "user", "content": t}], sampling.body(i), i) for i, t in enumerate(texts)
        ]
        start = time.perf_counter()
        async with Engine(endpoint, Journal(work / "journal")) as engine:
            results = await asyncio.gather(*(engine.complete(r) for r in requests))
        return {
            "seconds": time.perf_counter() - start,
            "requests": len(results),
            "output_tokens": sum(r.output_tokens for r in results),
        }

    return asyncio.run(go())


def winnow_run(base_url: str, texts: list[str], concurrency: int, max_tokens: int, work: Path) -> dict:
    from winnow import run

    data = work / "prompts.jsonl"
    data.write_bytes(b"".join(orjson.dumps({"id": str(i), "text": t}) + b"\n" for i, t in enumerate(texts)))
    recipe = {
        "input": {"path": str(data)},
        "steps": [
            {
                "generate_answers": {
                    "endpoint": {"base_url": base_url, "model": "tiny", "max_concurrency": concurrency},
                    "sampling": {"temperature": 0.8, "max_tokens": max_tokens},
                }
            }
        ],
        "output": {"path": str(work / "out"), "format": "jsonl"},
    }
    (work / "recipe.yaml").write_text(yaml.safe_dump(recipe))
    start = time.perf_counter()
    manifest = run(str(work / "recipe.yaml"), workers=1)
    counters = manifest.steps[0].counters
    return {
        "seconds": time.perf_counter() - start,
        "requests": int(counters["requests"]),
        "output_tokens": int(counters["output_tokens"]),
    }


def peer(mode: str, base_url: str, texts: list[str], concurrency: int, max_tokens: int, work: Path) -> dict | None:
    if not PEER.exists():
        print(f"  ({mode}: run benchmarks/setup_synth_peers.sh first)")
        return None
    path = work / f"{mode}-prompts.json"
    path.write_text(json.dumps(texts))
    done = subprocess.run(
        [str(PEER), str(HERE / "_synth_peer.py"), mode, base_url, str(path), str(concurrency), str(max_tokens)],
        capture_output=True,
        text=True,
        cwd=work,
    )
    if done.returncode != 0:
        print(f"  ({mode} failed: {done.stderr[-800:]})")
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--prompts", type=int, default=400)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=2, help="runs of each; the best is reported")
    ap.add_argument("--base-url", help="measure against this running server instead of the tiny llama.cpp one")
    args = ap.parse_args()
    texts = prompts(args.prompts)
    with tempfile.TemporaryDirectory() as tmp:
        server = None if args.base_url else LlamaServer(write_tiny_gguf(Path(tmp) / "tiny.gguf")).start()
        base_url = args.base_url or server.base_url
        try:
            results = {}
            for name, fn in [
                (
                    "openai.AsyncOpenAI loop",
                    lambda w: peer("openai", base_url, texts, args.concurrency, args.max_tokens, w),
                ),
                (
                    "winnow engine",
                    lambda w: winnow_engine(base_url, texts, args.concurrency, args.max_tokens, w),
                ),
                (
                    "winnow run (generate_answers)",
                    lambda w: winnow_run(base_url, texts, args.concurrency, args.max_tokens, w),
                ),
                (
                    "distilabel TextGeneration",
                    lambda w: peer("distilabel", base_url, texts, args.concurrency, args.max_tokens, w),
                ),
            ]:
                best = None
                for k in range(args.repeat):
                    work = Path(tmp) / f"{len(results)}-{k}"
                    work.mkdir()
                    r = fn(work)
                    if r is not None and (best is None or r["seconds"] < best["seconds"]):
                        best = r
                results[name] = best
        finally:
            if server is not None:
                server.kill()
    base = results.get("openai.AsyncOpenAI loop")
    print(
        f"{args.prompts} prompts, concurrency {args.concurrency}, max_tokens {args.max_tokens}, best of {args.repeat}"
    )
    print(f"{'client':<32} {'req/s':>8} {'out tok/s':>10} {'vs bare loop':>13}")
    for name, r in results.items():
        if r is None:
            continue
        rps, tps = r["requests"] / r["seconds"], r["output_tokens"] / r["seconds"]
        ratio = f"{rps / (base['requests'] / base['seconds']):.1%}" if base else "-"
        print(f"{name:<32} {rps:>8.1f} {tps:>10.1f} {ratio:>13}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
