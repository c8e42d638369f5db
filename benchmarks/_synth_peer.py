"""Run by benchmarks/synth_throughput.py inside benchmarks/.venv-synth-peers: the same prompts sent by
a bare ``openai.AsyncOpenAI`` loop or by distilabel, at the same concurrency. Prints one JSON line."""

from __future__ import annotations

import asyncio
import json
import sys
import time


def bare(base_url: str, prompts: list[str], concurrency: int, max_tokens: int) -> dict:
    from openai import AsyncOpenAI

    async def go() -> dict:
        client = AsyncOpenAI(base_url=base_url, api_key="none", max_retries=6)
        gate = asyncio.Semaphore(concurrency)

        async def one(i: int, prompt: str):
            async with gate:
                r = await client.chat.completions.create(
                    model="tiny",
                    messages=[{"role": "user", "content": prompt}],
                    max_tokens=max_tokens,
                    temperature=0.8,
                    seed=i,
                )
                return r.usage.completion_tokens

        start = time.perf_counter()
        tokens = await asyncio.gather(*(one(i, p) for i, p in enumerate(prompts)))
        return {"seconds": time.perf_counter() - start, "requests": len(prompts), "output_tokens": sum(tokens)}

    return asyncio.run(go())


def distilabel(base_url: str, prompts: list[str], concurrency: int, max_tokens: int) -> dict:
    from distilabel.models import OpenAILLM
    from distilabel.pipeline import Pipeline
    from distilabel.steps import LoadDataFromDicts
    from distilabel.steps.tasks import TextGeneration

    with Pipeline(name="winnow-bench") as pipeline:
        load = LoadDataFromDicts(data=[{"instruction": p} for p in prompts], batch_size=concurrency)
        generate = TextGeneration(
            llm=OpenAILLM(
                model="tiny",
                base_url=base_url,
                api_key="none",
                generation_kwargs={"max_new_tokens": max_tokens, "temperature": 0.8},
            ),
            input_batch_size=concurrency,
        )
        load >> generate
    start = time.perf_counter()
    distiset = pipeline.run(use_cache=False)
    seconds = time.perf_counter() - start
    rows = distiset["default"]["train"]
    tokens = sum(r["distilabel_metadata"]["statistics_text_generation_0"]["output_tokens"] for r in rows)
    return {"seconds": seconds, "requests": len(rows), "output_tokens": tokens}


if __name__ == "__main__":
    mode, base_url, prompts_file, concurrency, max_tokens = sys.argv[1:6]
    prompts = json.loads(open(prompts_file).read())
    fn = bare if mode == "openai" else distilabel
    print(json.dumps(fn(base_url, prompts, int(concurrency), int(max_tokens))))
