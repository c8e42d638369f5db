"""Recipes for the synthetic tests: real prompts (MT-Bench, Self-Instruct seeds) against the test server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import yaml

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT / "tests" / "data" / "shared"


def mt_bench_prompts(folder: Path) -> Path:
    """The 80 MT-Bench first turns as a JSON-lines input (``text``: the prompt)."""
    rows = [orjson.loads(line) for line in (SHARED / "sft" / "mt_bench" / "question.jsonl").read_bytes().splitlines()]
    path = folder / "mt_bench_prompts.jsonl"
    path.write_bytes(
        b"".join(orjson.dumps({"id": f"mt-{r['question_id']}", "text": r["turns"][0]}) + b"\n" for r in rows)
    )
    return path


def endpoint_for(base_url: str, **overrides: Any) -> dict[str, Any]:
    return {
        "base_url": base_url,
        "model": "tiny",
        "structured": "json_object",
        "max_concurrency": 4,
        "timeout_s": 3.0,
        "backoff_s": 0.05,
        "max_backoff_s": 0.5,
        "circuit_pause_s": 0.3,
        "price": {"input": 1.0, "output": 2.0},
        **overrides,
    }


def answers_recipe(folder: Path, base_url: str, n: int = 2, **params: Any) -> Path:
    recipe = {
        "input": {"path": str(mt_bench_prompts(folder)), "source": "mt-bench", "license": "Apache-2.0"},
        "steps": [
            {
                "generate_answers": {
                    "endpoint": endpoint_for(base_url),
                    "n": n,
                    "sampling": {"temperature": 0.8, "max_tokens": 24, "seed": 1},
                    **params,
                }
            }
        ],
        "output": {"path": str(folder / "out"), "format": "jsonl"},
    }
    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    return path


def journal_keys(out: Path) -> set[str]:
    """The request keys in every journal of a run (whole lines only: what a resumed run will find)."""
    keys = set()
    for path in out.glob("_winnow/work/*/journal/*.jsonl"):
        data = path.read_bytes()
        for line in data[: data.rfind(b"\n") + 1].splitlines():
            keys.add(orjson.loads(line)["key"])
    return keys
