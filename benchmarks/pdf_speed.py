"""PDF text extraction: pages/s on one core and text quality, Winnow's pdf reader (pypdfium2) side by side
with pypdf and pdfminer.six, on real Debian manuals. Quality: word F1 of the extracted text against the
plain-text edition Debian ships of the same FAQ (bag of words; layout differences cost little, lost or
garbled words cost).

    bash benchmarks/setup_pdf_peers.sh && python benchmarks/pdf_speed.py
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOCS = HERE / "out-collect" / "docs"
PEERS = HERE / ".venv-pdf" / "bin" / "python"
FILES = ["debian-faq.en.pdf", "developers-reference.pdf", "debmake-doc.en.pdf"]
WORD = re.compile(r"\w+")


def extract(lib: str, path: Path) -> tuple[int, str]:
    """(pages, text) of one PDF by one library (run in the process of the right environment)."""
    if lib == "winnow":
        from winnow.io.base import ErrorSink, InputSpec, Shard, readers

        shard = Shard(index=0, input_index=0, file=str(path), relative=path.name, format="pdf")
        row = next(readers()["pdf"]().read(shard, InputSpec(path=str(path)), ErrorSink())).to_pylist()[0]
        return json.loads(row["meta"])["page_count"], row["text"]
    if lib == "pypdf":
        from pypdf import PdfReader

        reader = PdfReader(path)
        return len(reader.pages), "\f".join(page.extract_text() or "" for page in reader.pages)
    from pdfminer.high_level import extract_text
    from pdfminer.pdfpage import PDFPage

    with open(path, "rb") as f:
        pages = sum(1 for _ in PDFPage.get_pages(f))
    return pages, extract_text(str(path))


def measure(lib: str) -> dict:
    out = {}
    for name in FILES:
        started = time.process_time()  # CPU time of this process: pages per second on one core
        pages, text = extract(lib, DOCS / name)
        out[name] = {"pages": pages, "cpu_s": time.process_time() - started, "text": text}
    return out


def word_f1(text: str, reference: str) -> float:
    got, want = Counter(WORD.findall(text.lower())), Counter(WORD.findall(reference.lower()))
    common = sum((got & want).values())
    if not common:
        return 0.0
    precision, recall = common / sum(got.values()), common / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--lib":
        print(json.dumps(measure(sys.argv[2])))
        return
    if not PEERS.exists() or not DOCS.exists():
        sys.exit("run bash benchmarks/setup_pdf_peers.sh first")
    reference = (DOCS / "debian-faq.en.txt").read_text(encoding="utf-8")
    results = {}
    for lib, python in (("winnow", sys.executable), ("pypdf", PEERS), ("pdfminer.six", PEERS)):
        done = subprocess.run([str(python), __file__, "--lib", lib], capture_output=True, text=True, check=True)
        results[lib] = json.loads(done.stdout.strip().splitlines()[-1])
    base = None
    print(f"{'library':<22} {'pages':>6} {'CPU s':>7} {'pages/s/core':>13} {'vs winnow':>10} {'FAQ word F1':>12}")
    for lib, files in results.items():
        pages = sum(f["pages"] for f in files.values())
        seconds = sum(f["cpu_s"] for f in files.values())
        rate = pages / seconds
        base = base or rate
        f1 = word_f1(files["debian-faq.en.pdf"]["text"], reference)
        name = "winnow pdf (pypdfium2)" if lib == "winnow" else lib
        print(f"{name:<22} {pages:>6} {seconds:>7.2f} {rate:>13.1f} {rate / base:>9.2f}x {f1:>12.3f}")


if __name__ == "__main__":
    main()
