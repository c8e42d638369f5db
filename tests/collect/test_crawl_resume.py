"""A crawl killed with SIGKILL mid-way and resumed stores every page exactly once, and never asks the
server again for a page it had stored; the WARC files rotate by size and all read back."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import yaml
from crawl_site import Site, SiteServer
from warcio.archiveiterator import ArchiveIterator

from winnow.io.base import ErrorSink, InputSpec, Shard, readers

PAGES = 30


def stored_urls(state: Path) -> set[str]:
    if not state.exists():
        return set()
    db = sqlite3.connect(state)
    try:
        return {url for (url,) in db.execute("SELECT url FROM urls WHERE status = 'stored'")}
    except sqlite3.OperationalError:  # the crawler has not made its tables yet
        return set()
    finally:
        db.close()


def crawl_command(base: str, out: Path, config: Path, resume: bool) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "winnow.cli",
        "crawl",
        f"{base}/page-0.html",
        "-o",
        str(out),
        "--config",
        str(config),
    ]
    return command + ["--no-progress"] + (["--resume"] if resume else [])


def test_sigkill_then_resume_stores_every_page_once(tmp_path):
    config = tmp_path / "crawl.yaml"
    settings = {
        "contact": "mailto:crawler@winnow.example",
        "min_delay": 0.03,
        "warc_max_bytes": 6000,
        "max_depth": 50,
        "sitemaps": False,
    }
    config.write_text(yaml.safe_dump(settings))
    out, site = tmp_path / "crawl", Site(pages=PAGES, crawl_delay=None, home_links=False)
    with SiteServer(site) as base:
        first = subprocess.Popen(crawl_command(base, out, config, False), stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while len(stored_urls(out / "state.sqlite")) < 10 and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.01)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        before = stored_urls(out / "state.sqlite")
        assert 10 <= len(before) < PAGES, "the kill must land mid-crawl"
        hits_before = len(site.log)
        resumed = subprocess.run(crawl_command(base, out, config, True), capture_output=True, text=True, timeout=120)
        assert resumed.returncode == 0, resumed.stderr
    pages = {f"{base}/page-{i}.html" for i in range(PAGES)}
    responses = Counter()
    files = sorted((out / "warc").glob("*.warc.gz"))
    assert len(files) >= 3  # rotated by size, and a new file for the resumed run
    for path in files:
        with open(path, "rb") as f:
            responses.update(
                r.rec_headers.get_header("WARC-Target-URI") for r in ArchiveIterator(f) if r.rec_type == "response"
            )
    assert set(responses) == pages and set(responses.values()) == {1}  # every page, once
    requested_after = Counter(hit.path for hit in site.log[hits_before:])
    for url in before:  # nothing stored before the kill is fetched again
        assert requested_after[url.removeprefix(base)] == 0, url
    rows = []
    for path in files:
        shard = Shard(index=0, input_index=0, file=str(path), relative=path.name, format="warc")
        rows += [
            r for b in readers()["warc"]().read(shard, InputSpec(path=str(path)), ErrorSink()) for r in b.to_pylist()
        ]
    assert sorted(r["url"] for r in rows) == sorted(pages)
