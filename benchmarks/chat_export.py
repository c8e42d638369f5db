"""Reading + validating + exporting preference data: Winnow vs ``datasets`` + a Python map.

Run:  .venv/bin/python benchmarks/chat_export.py [--synthetic 100000] [--repeats 3]

Inputs: the whole Anthropic HH-RLHF harmless test set (../shared/data/sft/hh-rlhf, 2,312 pairs,
gzip JSONL) and a synthetic enlargement of it to ``--synthetic`` pairs (each pair's first human
turn numbered so no two rows are equal; plain JSONL, written once under benchmarks/work).

* **Winnow**: ``read_conversations(path, format="chat")`` (per-row format detection, HH
  transcripts split into prompt + chosen/rejected, every message checked) then
  ``export_conversations(table, "trl-dpo", out)`` (every row checked against TRL's DPO key sets).
* **The peer** is what a user writes today, in benchmarks/.venv-datasets: ``datasets.load_dataset
  ("json")`` + ``Dataset.map`` with a Python function that splits the transcripts into the TRL
  conversational preference format + ``Dataset.to_json``; no validation. One process
  (``num_proc`` unset), a fresh cache directory for every run, offline.

Both run in fresh processes, alternately; the best of ``--repeats`` is kept. Conversations/s per
core = pairs / CPU seconds of the process (each side is single-threaded in its Python work; CPU
seconds count any helper threads too). Both outputs are compared: the same prompts and pairs.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("WINNOW_DATA", ROOT.parent / "shared" / "data"))
HH = SHARED / "sft" / "hh-rlhf" / "harmless-base-test.jsonl.gz"
WORK = ROOT / "benchmarks" / "work"
PEER_VENV = ROOT / "benchmarks" / ".venv-datasets"
PEER_PYTHON = PEER_VENV / "bin" / "python"

OURS = """
import json, sys, time
start, cpu = time.perf_counter(), time.process_time()
from winnow.io.chat import read_conversations
from winnow.export.chat import export_conversations
table = read_conversations(sys.argv[1], format="chat")
summary = export_conversations(table, "trl-dpo", sys.argv[2])
print(json.dumps({"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu, "pairs": summary.rows}))
"""

# What a user writes today: load the JSON with datasets, map each row to TRL's format in Python.
PEER = r"""
import json, os, re, sys, time
start, cpu = time.perf_counter(), time.process_time()
import datasets
from datasets import load_dataset
datasets.disable_progress_bars()

TURN = re.compile(r"\n\n(Human|Assistant): ?")
ROLE = {"Human": "user", "Assistant": "assistant"}

def turns(text):
    parts = TURN.split(text)
    return [{"role": ROLE[parts[i]], "content": parts[i + 1]} for i in range(1, len(parts), 2)]

def to_trl(example):
    chosen, rejected = turns(example["chosen"]), turns(example["rejected"])
    n = 0
    while n < min(len(chosen), len(rejected)) - 1 and chosen[n] == rejected[n]:
        n += 1
    return {"prompt": chosen[:n], "chosen": chosen[n:], "rejected": rejected[n:]}

ds = load_dataset("json", data_files=sys.argv[1], split="train", cache_dir=sys.argv[3])
ds = ds.map(to_trl)
ds.to_json(sys.argv[2], lines=True)
print(json.dumps({"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu, "pairs": len(ds)}))
"""


def enlarge(n: int) -> Path:
    """``n`` HH pairs: the real ones repeated, the first human turn of copy k prefixed ``[k] ``."""
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"hh-synthetic-{n}.jsonl"
    if path.exists():
        return path
    with gzip.open(HH, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        for k in range(n):
            row = rows[k % len(rows)]
            mark = f"\n\nHuman: [{k}] "
            out.write(
                json.dumps({side: row[side].replace("\n\nHuman: ", mark, 1) for side in ("chosen", "rejected")}) + "\n"
            )
    tmp.rename(path)
    return path


def run(python: Path, script: str, *args: str) -> dict:
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    done = subprocess.run([str(python), "-c", script, *args], capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        sys.exit(f"{python} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def same_pairs(ours: Path, theirs: Path) -> bool:
    def rows(path: Path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                yield tuple(tuple((m["role"], m["content"]) for m in row[k]) for k in ("prompt", "chosen", "rejected"))

    return all(a == b for a, b in zip(rows(ours), rows(theirs), strict=True))


def measure(path: Path, repeats: int) -> tuple[dict, dict, bool]:
    best: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(dir=WORK) as tmp:
        for r in range(repeats):
            for name, python, script in (("winnow", Path(sys.executable), OURS), ("datasets", PEER_PYTHON, PEER)):
                out = Path(tmp) / f"{name}.jsonl"
                result = run(python, script, str(path), str(out), str(Path(tmp) / f"cache-{r}"))
                if name not in best or result["cpu"] < best[name]["cpu"]:
                    best[name] = result
        same = same_pairs(Path(tmp) / "winnow.jsonl", Path(tmp) / "datasets.jsonl")
    return best["winnow"], best["datasets"], same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--synthetic", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not PEER_PYTHON.exists():
        subprocess.run(["bash", str(ROOT / "benchmarks" / "setup_peers.sh")], check=True)
    print(
        f"{'input':<28}{'pairs':>9}  {'winnow conv/s/core':>19}  {'datasets conv/s/core':>21}  {'ratio':>6}  same pairs"
    )
    for label, path in (("HH-RLHF harmless test", HH), (f"synthetic x{args.synthetic:,}", enlarge(args.synthetic))):
        ours, theirs, same = measure(path, args.repeats)
        a, b = ours["pairs"] / ours["cpu"], theirs["pairs"] / theirs["cpu"]
        print(f"{label:<28}{ours['pairs']:>9,}  {a:>19,.0f}  {b:>21,.0f}  {a / b:>5.1f}x  {same}")
        print(
            f"{'':<28}{'':>9}  wall {ours['seconds']:.2f}s / {theirs['seconds']:.2f}s, cpu {ours['cpu']:.2f}s / {theirs['cpu']:.2f}s"
        )


if __name__ == "__main__":
    main()
