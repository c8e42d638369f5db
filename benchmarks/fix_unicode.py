"""fix_unicode vs DataTrove's FTFYFormatter: docs/s, MB/s and how often the outputs agree, same input, same run.

Run:  .venv/bin/python benchmarks/fix_unicode.py [--docs N]

Input: the first N documents (default 3,000) of ../shared/data/corpus/web.jsonl.zst plus the first 1,000
translated documents of ../shared/data/langid/labeled-dev.jsonl.zst (non-Latin scripts). Both sides run
ftfy with the same fixes (mojibake, C1 controls, control characters, terminal escapes, HTML entities
"auto"); ours also applies NFC (DataTrove's default applies no normal form), so outputs are compared
after NFC. The peer runs in benchmarks/.venv-peers as a subprocess and times itself (without start-up).
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

import orjson
import zstandard

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from common import CORPUS, PEER_PYTHON, SHARED_DATA  # noqa: E402

PEER_SCRIPT = r"""
import sys, time, orjson
from datatrove.data import Document
from datatrove.pipeline.formatters import FTFYFormatter
texts = orjson.loads(open(sys.argv[1], "rb").read())
docs = [Document(text=t, id=str(i)) for i, t in enumerate(texts)]
step = FTFYFormatter()
start = time.perf_counter()
out = [d.text for d in step.run(iter(docs))]
seconds = time.perf_counter() - start
open(sys.argv[2], "wb").write(orjson.dumps({"seconds": seconds, "texts": out}))
"""


def first_lines(path: Path, n: int) -> list[dict]:
    out = []
    with open(path, "rb") as raw:
        for line in io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw)):
            out.append(orjson.loads(line))
            if len(out) >= n:
                break
    return out


def run_winnow(texts: list[str]) -> tuple[list[str], float]:
    sys.path.insert(0, str(ROOT / "src"))
    from winnow.records import make_batch
    from winnow.steps.text import FixUnicode

    step = FixUnicode()
    step.process(make_batch({"id": ["w"], "text": texts[:1]}))  # warm-up: imports
    batches = [
        make_batch({"id": [str(i) for i in range(s, min(s + 2048, len(texts)))], "text": texts[s : s + 2048]})
        for s in range(0, len(texts), 2048)
    ]
    start = time.perf_counter()
    out = [t for b in batches for t in step.process(b).kept.column("text").to_pylist()]
    return out, time.perf_counter() - start


def run_datatrove(texts: list[str]) -> tuple[list[str], float]:
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.json", Path(tmp) / "out.json"
        src.write_bytes(orjson.dumps(texts))
        subprocess.run([str(PEER_PYTHON), "-c", PEER_SCRIPT, str(src), str(dst)], check=True)
        answer = orjson.loads(dst.read_bytes())
    return answer["texts"], answer["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=3000, help="corpus documents (plus 1,000 translated ones)")
    args = parser.parse_args()
    texts = [d["text"] for d in first_lines(CORPUS, args.docs)]
    texts += [d["text"] for d in first_lines(SHARED_DATA / "langid" / "labeled-dev.jsonl.zst", 1000)]
    megabytes = sum(len(t.encode()) for t in texts) / 1e6
    print(f"{len(texts)} documents, {megabytes:.1f} MB")
    ours, our_seconds = run_winnow(texts)
    theirs, their_seconds = run_datatrove(texts)
    same = sum(unicodedata.normalize("NFC", t) == o for t, o in zip(theirs, ours, strict=True))
    changed = sum(o != t for o, t in zip(ours, texts, strict=True))
    print(f"{'':>10} {'docs/s':>8} {'MB/s':>7}")
    print(f"{'winnow':>10} {len(texts) / our_seconds:>8.0f} {megabytes / our_seconds:>7.2f}")
    print(f"{'datatrove':>10} {len(texts) / their_seconds:>8.0f} {megabytes / their_seconds:>7.2f}")
    print(f"speed ratio winnow / datatrove: {their_seconds / our_seconds:.2f}x")
    print(f"same output (after NFC): {same}/{len(texts)} ({same / len(texts):.2%}); texts we changed: {changed}")


if __name__ == "__main__":
    main()
