"""Speed of the `pii` step in redact mode against DataTrove's PIIFormatter, same documents, one core each.

    .venv/bin/python benchmarks/pii_speed.py [--docs 5000] [--mode redact]

Input: the first --docs documents of ../shared/data/corpus/web.jsonl.zst (a uniform sample: the file is
hash-shuffled). Ours: the registered `pii` step run on record batches of 2,048, exactly as a recipe runs
it, all types on. Peer: DataTrove 0.10 ``PIIFormatter().format`` (e-mails and public IPv4 only, its only
PII step) in benchmarks/.venv-peers, run as a subprocess on the same texts; only its loop is timed, as
only ours is. MB are megabytes of UTF-8 text (1e6 bytes); one process each, so MB/s is per core.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import zstandard

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
CORPUS = ROOT.parent / "shared" / "data" / "corpus" / "web.jsonl.zst"
PEER_PYTHON = ROOT / "benchmarks" / ".venv-peers" / "bin" / "python"

PEER_SCRIPT = r"""
import json, sys, time
from datatrove.pipeline.formatters import PIIFormatter
texts = [json.loads(line)["text"] for line in open(sys.argv[1])]
formatter = PIIFormatter()
start = time.process_time()
changed = sum(formatter.format(t) != t for t in texts)
print(json.dumps({"cpu_seconds": time.process_time() - start, "changed": changed}))
"""


def load_texts(n: int) -> list[str]:
    texts = []
    with open(CORPUS, "rb") as raw:
        for line in io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(raw), encoding="utf-8"):
            texts.append(json.loads(line)["text"])
            if len(texts) >= n:
                break
    return texts


def run_ours(texts: list[str], mode: str) -> tuple[float, int, dict]:
    from winnow.records import make_batch
    from winnow.steps.registry import build_step

    step = build_step("pii", {"mode": mode})
    batches = [
        make_batch({"id": [str(i) for i in range(s, s + len(chunk))], "text": chunk})
        for s in range(0, len(texts), 2048)
        for chunk in [texts[s : s + 2048]]
    ]
    start = time.process_time()
    changed = 0
    for batch in batches:
        out = step.process(batch).kept
        changed += sum(len(spans) > 0 for spans in out.column("pii.spans").to_pylist())
    return time.process_time() - start, changed, dict(step.counters)


def run_peer(texts: list[str]) -> tuple[float, int] | None:
    if not PEER_PYTHON.exists():
        print(f"peer environment missing ({PEER_PYTHON}): run `bash benchmarks/setup_peers.sh`")
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for t in texts:
            f.write(json.dumps({"text": t}) + "\n")
    result = subprocess.run([str(PEER_PYTHON), "-c", PEER_SCRIPT, f.name], capture_output=True, text=True, check=True)
    Path(f.name).unlink()
    out = json.loads(result.stdout.strip().splitlines()[-1])
    return out["cpu_seconds"], out["changed"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--mode", default="redact", choices=["tag", "redact", "hash"])
    args = parser.parse_args()

    texts = load_texts(args.docs)
    mb = sum(len(t.encode()) for t in texts) / 1e6
    print(f"{len(texts)} documents, {mb:.1f} MB of text (first documents of {CORPUS.name})")

    seconds, changed, counters = run_ours(texts, args.mode)
    ours_mbs = mb / seconds
    print(
        f"winnow pii ({args.mode}, all types)   {len(texts) / seconds:>9.0f} docs/s "
        f"{ours_mbs:>7.1f} MB/s   docs changed: {changed}"
    )
    print(f"    spans per type: {counters}")
    peer = run_peer(texts)
    if peer:
        peer_seconds, peer_changed = peer
        peer_mbs = mb / peer_seconds
        print(
            f"datatrove PIIFormatter (email+IPv4)   {len(texts) / peer_seconds:>9.0f} docs/s {peer_mbs:>7.1f} MB/s   "
            f"docs changed: {peer_changed}"
        )
        print(f"ratio winnow / datatrove: {ours_mbs / peer_mbs:.2f}x (MB/s per core)")


if __name__ == "__main__":
    main()
