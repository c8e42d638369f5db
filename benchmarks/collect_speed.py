"""Collection speed: crawler pages/s against the loopback test site vs the limit its politeness setting
allows (one host, one request at a time, ``min_delay`` between), and the git reader's files/s and MB/s
on this checkout.   python benchmarks/collect_speed.py"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "collect"))

from crawl_site import Site, SiteServer  # noqa: E402  (the tests' loopback site)

from winnow.collect import CrawlConfig, crawl  # noqa: E402
from winnow.io.base import ErrorSink, InputSpec, Shard, readers  # noqa: E402

PAGES = 200


def crawl_rate(delay: float) -> tuple[float, float]:
    """(pages/s measured, pages/s the delay allows) for a chain of PAGES pages on one host."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        SiteServer(Site(pages=PAGES, crawl_delay=None, home_links=False)) as base,
    ):
        config = CrawlConfig(
            seeds=[f"{base}/page-0.html"], output=f"{tmp}/crawl", contact="https://winnow.example/bench",
            min_delay=delay, max_depth=PAGES + 1, sitemaps=False, progress=False,
        )  # fmt: skip
        summary = crawl(config)
        assert summary.pages_stored == PAGES, summary
        # requests: robots.txt + tdmrep.json + the pages; each waits `delay` after the previous answer
        limit = PAGES / ((summary.requests - 1) * delay) if delay else float("inf")
        return PAGES / summary.seconds, limit


def git_rate() -> tuple[int, float, float]:
    reader = readers()["git"]()
    spec = InputSpec(path=str(ROOT), format="git")
    shard = Shard(index=0, input_index=0, file=str(ROOT), relative="winnow", format="git")
    started = time.perf_counter()
    files = size = 0
    for batch in reader.read(shard, spec, ErrorSink()):
        files += batch.num_rows
        size += sum(len(t.encode()) for t in batch.column("text").to_pylist())
    seconds = time.perf_counter() - started
    return files, files / seconds, size / seconds / 1e6


def main() -> None:
    print(f"crawler, {PAGES} pages on one loopback host, one request at a time:")
    for delay in (0.05, 0.02, 0.0):
        rate, limit = crawl_rate(delay)
        share = f"{rate / limit:.0%} of the limit" if limit != float("inf") else "no delay: the crawler's own speed"
        print(f"  min_delay {delay:>4} s: {rate:7.1f} pages/s, limit {limit:7.1f} pages/s ({share})")
    files, per_second, mb = git_rate()
    print(f"git reader on this checkout: {files} files, {per_second:,.0f} files/s, {mb:.1f} MB/s (one core)")


if __name__ == "__main__":
    main()
