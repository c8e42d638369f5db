"""Cut the first-tier test fixtures (tests/data/shared/) out of the shared data sets.

The first tier of the tests (``make test``) runs on a fresh clone with nothing beside it, so the
real data it needs lives in the repository: small, real excerpts of ../shared/data, laid out
under ``tests/data/shared/`` with the same relative paths as the shared folder, so a test reads
``sample_data / "corpus" / "web.jsonl.zst"`` exactly as the second tier reads ``full_data / …``.

Each excerpt is a deterministic cut (the first N lines, a per-language cap, the records a test
names), so running this again on the same shared data rewrites the same bytes. Enlarge a cut by
changing its number below and running::

    python scripts/make_fixtures.py [--data ../shared/data] [--out tests/data/shared]

Origins and licences of every file are in tests/data/README.md (they are those of the shared
folder the file was cut from, whose README names them).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import shutil
import tarfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import zstandard

ROOT = Path(__file__).resolve().parents[1]

CORPUS_DOCS = 2000  # the corpus is hash-shuffled: its first N lines are a uniform sample
# Corpus documents that tests look up by id (a page whose HTML is also in the html/ cut).
CORPUS_IDS = ("apache2-doc/programs/dbmmanage.html",)
LANGID_PER_LANGUAGE = 40
# More of a few languages: the safety tests take 300 French/German documents, and the CJK
# recheck test needs enough Chinese pages for the model's own misses to show.
LANGID_MORE = {"fr": 150, "de": 150, "zh": 350}
NEARDUP_SAME_PAGE_PAIRS = 300
NEARDUP_NEGATIVES = 400  # hard negatives with word-5-gram Jaccard < 0.5 …
HTML_PAGES = 60  # pages of html.tar.zst kept (plus the corpus ids above and the index lines for them)
CONSTRUCTED_WARC_PAIRS = 150  # request/response pairs of the constructed WARC
HH_PAIRS = 400
BENCH_ITEMS = 150  # per benchmark file, and per benchmark in all_benchmarks.jsonl.zst
COPY_WHOLE = [  # small files kept as they are
    "warc/README.md",
    "warc/dolma",
    "warc/warcio",
    "warc/whirlwind",
    "warc/jwarc",
    "warc/resiliparse",
    "pii/README.md",
    "pii/pii_labeled.jsonl",  # whole: the recall bars need every labelled e-mail and card number
    "pii/presidio-analyzer-tests",
    "pii/datatrove-tests",
    "pii/dolma-tests",
    "neardup/README.md",
    "neardup/data-juicer-demo",
    "langid/README.md",
    "bench/README.md",
    "bench/humaneval",
    "bench/gsm8k/LICENSE",
    "sft/README.md",
    "sft/hh-rlhf/LICENSE",
    "sft/sharegpt",
    "sft/mt_bench",
    "sft/self-instruct",
    "web_samples",
    "provenance",
    "quality/README.md",
    "quality/dclm/LICENSE",
    "paraphrase/README.md",
    "paraphrase/MSRP-LICENCE.html",
]
DCLM_DOCS = 160  # of majority_data.jsonl (its agreed-on subset follows from the same cut)
MSRP_PAIRS = 400  # of msrp-train.tsv (plus its header line)


# -- reading and writing line files of any compression --------------------------------------
def read_lines(path: Path) -> Iterator[bytes]:
    if path.suffix == ".zst":
        with open(path, "rb") as raw:
            yield from io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw))
    elif path.suffix == ".gz":
        with gzip.open(path, "rb") as f:
            yield from f
    else:
        with open(path, "rb") as f:
            yield from f


def write_lines(path: Path, lines: Iterable[bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = b"".join(line if line.endswith(b"\n") else line + b"\n" for line in lines)
    if path.suffix == ".zst":
        data = zstandard.ZstdCompressor(level=19).compress(data)
    elif path.suffix == ".gz":
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)


def head(n: int) -> Callable[[Iterator[bytes]], list[bytes]]:
    def cut(lines: Iterator[bytes]) -> list[bytes]:
        taken = []
        for line in lines:
            taken.append(line)
            if len(taken) >= n:
                break
        return taken

    return cut


# -- the cuts ---------------------------------------------------------------------------------
def cut_corpus(data: Path, out: Path) -> None:
    wanted = {b'"id": "' + i.encode() + b'"' for i in CORPUS_IDS}
    taken = []
    for number, line in enumerate(read_lines(data / "corpus/web.jsonl.zst")):
        if number < CORPUS_DOCS or any(key in line for key in wanted):
            taken.append(line)
            wanted = {key for key in wanted if key not in line}
        if number >= CORPUS_DOCS and not wanted:
            break
    write_lines(out / "corpus/web.jsonl.zst", taken)


def cut_langid(data: Path, out: Path) -> None:
    per_language: Counter[str] = Counter()
    taken = []
    for line in read_lines(data / "langid/labeled-dev.jsonl.zst"):
        lang = json.loads(line)["lang"]
        if per_language[lang] < LANGID_MORE.get(lang, LANGID_PER_LANGUAGE):
            per_language[lang] += 1
            taken.append(line)
    write_lines(out / "langid/labeled-dev.jsonl.zst", taken)


def cut_neardup(data: Path, out: Path) -> None:
    pairs = [json.loads(line) for line in read_lines(data / "neardup/pairs.jsonl")]
    positives = [p for p in pairs if p["relation"] == "same-page-different-release"][:NEARDUP_SAME_PAGE_PAIRS]
    negatives = [p for p in pairs if p["relation"] != "same-page-different-release"]
    # The few negatives that look alike (9 of 3,000 in the whole set) tell a verified dedup from a
    # plain one; the byte-identical pair of two paths is left out, as no verification can part it.
    similar = [p for p in negatives if p["jaccard_w5"] >= 0.5 and not p["exact_equal"]]
    kept = positives + similar + [p for p in negatives if p["jaccard_w5"] < 0.5][:NEARDUP_NEGATIVES]
    ids = {p["a"] for p in kept} | {p["b"] for p in kept}
    write_lines(out / "neardup/pairs.jsonl", [json.dumps(p).encode() for p in kept])
    docs = [line for line in read_lines(data / "neardup/docs.jsonl.zst") if json.loads(line)["id"] in ids]
    write_lines(out / "neardup/docs.jsonl.zst", docs)


def cut_html(data: Path, out: Path) -> None:
    """The first HTML_PAGES pages, the pages tests name, and the index lines of those kept."""
    wanted = {f"html/{i}" for i in CORPUS_IDS}
    with open(data / "html.tar.zst", "rb") as raw:
        members = []
        with tarfile.open(fileobj=zstandard.ZstdDecompressor().stream_reader(raw), mode="r|") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                pages = sum(1 for m, _ in members if m.name.endswith(".html"))
                keep = member.name in wanted or member.name.endswith("index.jsonl")
                keep = keep or (member.name.endswith(".html") and pages < HTML_PAGES)
                if keep:
                    members.append((member, tar.extractfile(member).read()))
    kept_pages = {m.name.removeprefix("html/") for m, _ in members if m.name.endswith(".html")}
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for member, content in members:
            if member.name.endswith("index.jsonl"):
                lines = [line for line in content.splitlines(keepends=True) if _indexed_page(line) in kept_pages]
                content = b"".join(lines)
            info = tarfile.TarInfo(member.name)
            info.size, info.mtime, info.mode = len(content), 0, 0o644
            tar.addfile(info, io.BytesIO(content))
    path = out / "html.tar.zst"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(zstandard.ZstdCompressor(level=19).compress(buffer.getvalue()))


def _indexed_page(line: bytes) -> str | None:
    row = json.loads(line)
    return row.get("file") or row.get("path") or row.get("html")


def cut_constructed_warc(data: Path, out: Path) -> None:
    """The warcinfo record and the first request/response pairs of the constructed WARC."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.warcwriter import WARCWriter

    path = out / "warc/constructed/debian-docs-html-subset.warc.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    responses = 0
    with open(data / "warc/constructed/debian-docs-html-subset.warc.gz", "rb") as raw, open(path, "wb") as f:
        writer = WARCWriter(f, gzip=True)
        for record in ArchiveIterator(raw):
            if record.rec_type == "response":
                if responses >= CONSTRUCTED_WARC_PAIRS:
                    break
                responses += 1
            writer.write_record(record)


def cut_bench(data: Path, out: Path) -> None:
    write_lines(out / "bench/gsm8k/test.jsonl", head(BENCH_ITEMS)(read_lines(data / "bench/gsm8k/test.jsonl")))
    # TruthfulQA is a CSV whose quoted fields hold newlines: cut by rows, not lines.
    import csv

    with open(data / "bench/truthfulqa/TruthfulQA.csv", newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))[: BENCH_ITEMS + 1]
    target = out / "bench/truthfulqa/TruthfulQA.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    per_benchmark: Counter[str] = Counter()
    taken = []
    for line in read_lines(data / "bench/all_benchmarks.jsonl.zst"):
        row = json.loads(line)
        key = row.get("benchmark") or row.get("source") or row.get("dataset") or ""
        if per_benchmark[key] < BENCH_ITEMS:
            per_benchmark[key] += 1
            taken.append(line)
    write_lines(out / "bench/all_benchmarks.jsonl.zst", taken)


def cut_sft(data: Path, out: Path) -> None:
    lines = head(HH_PAIRS)(read_lines(data / "sft/hh-rlhf/harmless-base-test.jsonl.gz"))
    write_lines(out / "sft/hh-rlhf/harmless-base-test.jsonl.gz", lines)


# The ablation eval sets (winnow ablate): plain passages for bits per byte and multiple-choice files.
GAUNTLET_ITEMS = 200  # per file: enough for a bpb estimate; accuracy on 200 items is coarse (±3.5 points)
GAUNTLET_FILES = (
    "language_understanding/lambada_openai.jsonl",
    "world_knowledge/arc_easy.jsonl",
    "commonsense_reasoning/piqa.jsonl",
    "commonsense_reasoning/copa.jsonl",
    "commonsense_reasoning/openbook_qa.jsonl",
)


def cut_gauntlet(data: Path, out: Path) -> None:
    """The first GAUNTLET_ITEMS lines of a few Eval Gauntlet files, as plain JSONL under bench/gauntlet/."""
    wanted = {f"llm-foundry-eval-gauntlet/{name}" for name in GAUNTLET_FILES}
    with open(data / "bench/llm-foundry-eval-gauntlet.tar.zst", "rb") as raw:
        with tarfile.open(fileobj=zstandard.ZstdDecompressor().stream_reader(raw), mode="r|") as tar:
            for member in tar:
                if member.isfile() and member.name in wanted:
                    lines = tar.extractfile(member).read().splitlines(keepends=True)[:GAUNTLET_ITEMS]
                    write_lines(out / "bench/gauntlet" / Path(member.name).name, lines)


def cut_quality_paraphrase(data: Path, out: Path) -> None:
    majority = head(DCLM_DOCS)(read_lines(data / "quality/dclm/majority_data.jsonl"))
    write_lines(out / "quality/dclm/majority_data.jsonl", majority)
    texts = {json.loads(line)["text"] for line in majority}
    agreed = [
        line for line in read_lines(data / "quality/dclm/agreement_data.jsonl") if json.loads(line)["text"] in texts
    ]
    write_lines(out / "quality/dclm/agreement_data.jsonl", agreed)
    write_lines(out / "paraphrase/msrp-train.tsv", head(MSRP_PAIRS + 1)(read_lines(data / "paraphrase/msrp-train.tsv")))


CUTS = [
    cut_corpus,
    cut_langid,
    cut_neardup,
    cut_html,
    cut_constructed_warc,
    cut_bench,
    cut_sft,
    cut_gauntlet,
    cut_quality_paraphrase,
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data", help="the shared data folder")
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "data" / "shared")
    parser.add_argument("--only", nargs="*", help="run only these cuts (e.g. cut_sft)")
    args = parser.parse_args()
    if not args.data.is_dir():
        raise SystemExit(f"shared data not found at {args.data} (pass --data)")
    for name in COPY_WHOLE:
        if args.only:
            break
        source, target = args.data / name, args.out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            # Peers' own test code (datatrove-tests/*.py) is not data: leave it out.
            shutil.copytree(source, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.py"))
        else:
            shutil.copy2(source, target)
    for cut in CUTS:
        if not args.only or cut.__name__ in args.only:
            cut(args.data, args.out)
            print(f"{cut.__name__}: done")
    for path in sorted(p for p in args.out.rglob("*") if p.is_file()):
        path.chmod(0o644)
    total = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"{args.out}: {total / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
