"""HTML -> text: how much navigation/boilerplate each extractor removes, how much content it keeps, and how fast.

Run:  .venv/bin/python benchmarks/html_extract.py [--limit N] [--extractors winnow,datatrove,trafilatura-fast,...]

Input: the 3,151 English pages of ../shared/data/html.tar.zst (Debian documentation HTML) and, for the
same ``id``, the naive extraction of each page in ../shared/data/corpus/web.jsonl.zst (every text node
kept, navigation included), which is the baseline.

What counts as boilerplate: a line of the naive text that recurs on at least ``--boilerplate-share``
of the pages of the same package (and on at least 3 pages), like "Modules | Directives | FAQ | Glossary"
or "Previous topic"; every other line is content. Only lines of at least 15 characters are scored (short
lines such as "Next" would be found inside any text). For each extractor:

* boilerplate removed: share of the naive boilerplate characters that are absent from the output;
* content kept: share of the naive content characters that are present in the output;
* chars vs naive: output size relative to the naive text (letters and digits);
* docs/s and MB/s of HTML, one process.

A line is "present" when its letters and digits, lower-cased, occur in those of the output, so that
separators and line breaks (" | " vs a new line) do not count as removal.

``winnow`` is our ``html_extract`` step run on record batches as a recipe runs it (Resiliparse with
main-content extraction plus our metadata: title, language hint, licence hints, robots). ``datatrove`` is
the peer: DataTrove 0.10's Trafilatura extractor (favour_precision, as FineWeb ran it) in
benchmarks/.venv-peers, timed inside its own process. The other rows call candidate libraries directly
(trafilatura, justext: pip install them into .venv to compare; missing ones are skipped).
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import tarfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import orjson
import zstandard

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
MIN_LINE = 15
SPACE = re.compile(r"\s+")
NOT_WORD = re.compile(r"\W+")


def load_pages(limit: int | None) -> list[dict]:
    """The English pages: {id, package, html(bytes)}, in index order."""
    with open(SHARED / "html.tar.zst", "rb") as raw:
        data = zstandard.ZstdDecompressor().stream_reader(raw).read()
    tar = tarfile.open(fileobj=io.BytesIO(data))
    members = {m.name: m for m in tar.getmembers() if m.isfile()}
    index = [orjson.loads(line) for line in tar.extractfile(members["html/index.jsonl"]).read().splitlines()]
    pages = []
    for entry in index:
        if entry["file"].startswith("i18n/"):
            continue
        html = tar.extractfile(members["html/" + entry["file"]]).read()
        pages.append({"id": entry["doc_id"], "package": entry["file"].split("/", 1)[0], "html": html})
    return pages[:limit] if limit else pages


def load_naive(ids: set[str]) -> dict[str, str]:
    found = {}
    with open(SHARED / "corpus" / "web.jsonl.zst", "rb") as raw:
        stream = io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(raw), encoding="utf-8")
        for line in stream:
            doc = orjson.loads(line)
            if doc["id"] in ids:
                found[doc["id"]] = doc["text"]
    return found


def norm(text: str) -> str:
    return SPACE.sub(" ", text).strip()


def squash(text: str) -> str:
    """Letters and digits only, lower-cased: a line is found in the output whatever the extractor
    did with separators, bullets and line breaks ("A | B" on one line vs "A" and "B" on two)."""
    return NOT_WORD.sub("", text).lower()


def classify_lines(pages: list[dict], naive: dict[str, str], share: float) -> dict[str, list[tuple[str, bool]]]:
    """Per page: its scored naive lines and whether each is boilerplate."""
    per_package: dict[str, Counter] = defaultdict(Counter)
    pages_per_package: Counter = Counter()
    lines_of: dict[str, list[str]] = {}
    for page in pages:
        lines = [norm(line) for line in naive[page["id"]].splitlines()]
        lines = [line for line in lines if len(line) >= MIN_LINE]
        lines_of[page["id"]] = lines
        per_package[page["package"]].update(set(lines))
        pages_per_package[page["package"]] += 1
    out = {}
    for page in pages:
        counts, total = per_package[page["package"]], pages_per_package[page["package"]]
        out[page["id"]] = [(line, counts[line] >= 3 and counts[line] >= share * total) for line in lines_of[page["id"]]]
    return out


def extract_winnow(htmls: list[bytes]) -> list[str]:
    sys.path.insert(0, str(ROOT / "src"))
    from winnow.io.html import decode_html
    from winnow.records import make_batch
    from winnow.steps.extract import HtmlExtract

    step = HtmlExtract()
    texts = [decode_html(h)[0] for h in htmls]
    out: list[str] = []
    for start in range(0, len(texts), 512):
        chunk = texts[start : start + 512]
        batch = make_batch({"id": [str(i) for i in range(len(chunk))], "text": chunk})
        result = step.process(batch)
        kept = dict(zip(result.kept.column("id").to_pylist(), result.kept.column("text").to_pylist(), strict=True))
        out.extend(kept.get(str(i), "") for i in range(len(chunk)))
    return out


def extract_resiliparse(htmls: list[bytes]) -> list[str]:
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree

    return [extract_plain_text(HTMLTree.parse_from_bytes(h), main_content=True) for h in htmls]


def extract_resiliparse_all(htmls: list[bytes]) -> list[str]:
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree

    return [extract_plain_text(HTMLTree.parse_from_bytes(h), main_content=False) for h in htmls]


def extract_trafilatura(htmls: list[bytes]) -> list[str]:
    import trafilatura

    return [trafilatura.extract(h, include_comments=False, include_tables=True) or "" for h in htmls]


def extract_trafilatura_fast(htmls: list[bytes]) -> list[str]:
    import trafilatura

    return [trafilatura.extract(h, include_comments=False, include_tables=True, fast=True) or "" for h in htmls]


def extract_justext(htmls: list[bytes]) -> list[str]:
    import justext

    stop = justext.get_stoplist("English")
    return ["\n".join(p.text for p in justext.justext(h, stop) if not p.is_boilerplate) for h in htmls]


# DataTrove's own extraction step (what FineWeb ran: Trafilatura with favour_precision, per-document
# timeout), run in the peers' environment on the same pages, as DataTrove Documents.
PEER_SCRIPT = r"""
import sys, time, orjson
from datatrove.data import Document
from datatrove.pipeline.extractors import Trafilatura
pages = [orjson.loads(line) for line in open(sys.argv[1], "rb")]
docs = [Document(text=p["html"], id=p["id"]) for p in pages]
step = Trafilatura(favour_precision=True)
start = time.perf_counter()
out = {d.id: d.text for d in step.run(iter(docs))}
seconds = time.perf_counter() - start
with open(sys.argv[2], "wb") as f:
    f.write(orjson.dumps({"seconds": seconds, "texts": [out.get(p["id"], "") for p in pages]}))
"""


def extract_datatrove(htmls: list[bytes]) -> tuple[list[str], float]:
    """DataTrove's Trafilatura extractor in benchmarks/.venv-peers; returns (texts, its own seconds)."""
    import subprocess
    import tempfile

    sys.path.insert(0, str(ROOT / "src"))
    from winnow.io.html import decode_html

    peer = ROOT / "benchmarks" / ".venv-peers" / "bin" / "python"
    with tempfile.TemporaryDirectory() as tmp:
        pages, result = Path(tmp) / "pages.jsonl", Path(tmp) / "out.json"
        with open(pages, "wb") as f:
            for i, h in enumerate(htmls):
                f.write(orjson.dumps({"id": str(i), "html": decode_html(h)[0]}) + b"\n")
        subprocess.run([str(peer), "-c", PEER_SCRIPT, str(pages), str(result)], check=True)
        answer = orjson.loads(result.read_bytes())
    return answer["texts"], answer["seconds"]


EXTRACTORS = {
    "winnow": extract_winnow,
    "resiliparse": extract_resiliparse,
    "resiliparse-all": extract_resiliparse_all,
    "trafilatura": extract_trafilatura,
    "trafilatura-fast": extract_trafilatura_fast,
    "justext": extract_justext,
    "datatrove": extract_datatrove,
}


def score(pages: list[dict], texts: list[str], lines: dict[str, list[tuple[str, bool]]], naive: dict[str, str]):
    boiler_total = boiler_removed = content_total = content_kept = 0
    out_chars = naive_chars = empty = 0
    for page, text in zip(pages, texts, strict=True):
        flat = squash(text)
        empty += not flat
        out_chars += len(flat)
        naive_chars += len(squash(naive[page["id"]]))
        for line, is_boilerplate in lines[page["id"]]:
            present = squash(line) in flat
            if is_boilerplate:
                boiler_total += len(line)
                boiler_removed += 0 if present else len(line)
            else:
                content_total += len(line)
                content_kept += len(line) if present else 0
    return {
        "boilerplate removed": boiler_removed / max(boiler_total, 1),
        "content kept": content_kept / max(content_total, 1),
        "chars vs naive": out_chars / max(naive_chars, 1),
        "empty outputs": empty,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="only the first N pages")
    parser.add_argument("--extractors", default="winnow,datatrove,trafilatura-fast,resiliparse-all")
    parser.add_argument("--boilerplate-share", type=float, default=0.3)
    args = parser.parse_args()

    pages = load_pages(args.limit)
    naive = load_naive({p["id"] for p in pages})
    pages = [p for p in pages if p["id"] in naive]
    htmls = [p["html"] for p in pages]
    megabytes = sum(len(h) for h in htmls) / 1e6
    lines = classify_lines(pages, naive, args.boilerplate_share)
    boiler = sum(len(line) for page_lines in lines.values() for line, b in page_lines if b)
    allchars = sum(len(line) for page_lines in lines.values() for line, _ in page_lines)
    print(
        f"{len(pages)} English pages with a naive text of the same id, {megabytes:.1f} MB of HTML; "
        f"boilerplate = {boiler / allchars:.1%} of the scored naive characters"
    )
    rows = []
    for name in args.extractors.split(","):
        try:
            if name != "datatrove":
                EXTRACTORS[name](htmls[:5])  # warm-up: imports and first-call set-up are not timed
            start = time.perf_counter()
            texts = EXTRACTORS[name](htmls)
            seconds = time.perf_counter() - start
        except ImportError as error:
            print(f"{name}: skipped, not installed ({error.name}); pip install it into .venv to compare")
            continue
        if isinstance(texts, tuple):  # the peer timed itself, without its start-up and our file I/O
            texts, seconds = texts
        rows.append((name, score(pages, texts, lines, naive), len(pages) / seconds, megabytes / seconds))
    print(
        f"{'extractor':>17} {'boilerplate removed':>20} {'content kept':>13} {'chars vs naive':>15}"
        f" {'empty':>6} {'docs/s':>8} {'MB/s':>7}"
    )
    for name, s, docs_per_s, mb_per_s in rows:
        print(
            f"{name:>17} {s['boilerplate removed']:>20.1%} {s['content kept']:>13.1%} {s['chars vs naive']:>15.1%}"
            f" {s['empty outputs']:>6} {docs_per_s:>8.0f} {mb_per_s:>7.2f}"
        )
    speed = {name: docs_per_s for name, _, docs_per_s, _ in rows}
    if "winnow" in speed and "datatrove" in speed:
        print(f"winnow / datatrove speed: {speed['winnow'] / speed['datatrove']:.1f}x")


if __name__ == "__main__":
    main()
