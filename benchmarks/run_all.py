"""`make bench`: every benchmark in this folder, one after another, each printing its own
figures and ratios. Peers are installed first (benchmarks/setup_peers.sh)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SKIP = {"common.py", "run_all.py"}


def main() -> int:
    subprocess.run(["bash", str(HERE / "setup_peers.sh")], check=True)
    failed = []
    for script in sorted(HERE.glob("*.py")):
        if script.name in SKIP or script.name.startswith("_"):
            continue
        print(f"\n===== {script.name}", flush=True)
        if subprocess.run([sys.executable, script.name], cwd=HERE).returncode != 0:
            failed.append(script.name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
