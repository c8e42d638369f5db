"""The crawler against a real HTTP server on loopback: its own access log is the evidence."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from crawl_site import Site, SiteServer
from warcio.archiveiterator import ArchiveIterator

from winnow.collect import CrawlConfig, crawl
from winnow.io.base import ErrorSink, InputSpec, Shard, readers

DELAY = 0.1  # the site's Crawl-delay; min_delay below is smaller, so Crawl-delay rules


def crawl_site(tmp_path: Path, site: Site, **settings) -> tuple[dict, str, list]:
    optout = tmp_path / "optout.txt"
    with SiteServer(site) as base:
        optout.write_text(f"# operator's list\n{base.removeprefix('http://')}/blocked/\n")
        config = CrawlConfig(
            seeds=[f"{base}/"],
            output=str(tmp_path / "crawl"),
            contact="https://winnow.example/crawler",
            min_delay=0.02,
            max_depth=4,
            response_timeout=0.5,
            max_response_bytes=1_000_000,
            optout_list=str(optout),
            progress=False,
            **settings,
        )
        summary = crawl(config)
    return json.loads((tmp_path / "crawl" / "summary.json").read_text()), base, list(site.log), summary


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("crawl")
    site = Site(pages=4, crawl_delay=DELAY)
    summary, base, log, result = crawl_site(tmp_path, site)
    return {"summary": summary, "base": base, "log": log, "out": tmp_path / "crawl", "result": result}


def paths(log) -> list[str]:
    return [hit.path for hit in log]


def test_no_disallowed_reserved_or_out_of_scope_url_is_requested(crawled):
    requested = paths(crawled["log"])
    assert not [p for p in requested if p.startswith(("/private/", "/tdm/", "/blocked/"))]
    assert "/only-via-nofollow.html" not in requested  # robots meta nofollow
    assert requested[0] == "/robots.txt" and requested.count("/robots.txt") == 1
    assert "/.well-known/tdmrep.json" in requested and "/sitemap.xml" in requested
    assert "/from-sitemap.html" in requested  # found only through the sitemap robots.txt names


def test_the_delay_is_kept_and_one_request_at_a_time(crawled):
    log = sorted(crawled["log"], key=lambda hit: hit.arrived)
    assert len(log) > 20
    pairs = list(zip(log, log[1:], strict=False))
    assert min(b.arrived - a.arrived for a, b in pairs) >= DELAY
    # One request at a time: each starts about Crawl-delay after the previous answer ended (the server
    # logs "done" a little after the crawler has read the answer, hence the slack), except after the answers
    # the crawler cut off itself: the slow one at its time limit, the huge one at its size limit.
    gaps = [b.arrived - a.done for a, b in pairs if a.path not in ("/slow.html", "/huge.html")]
    assert min(gaps) >= DELAY * 0.7, sorted(gaps)[:3]
    agents = {hit.user_agent for hit in log}
    assert agents == {
        f"WinnowBot/{__import__('winnow').__version__} (+https://winnow.example/crawler; Winnow dataset crawler)"
    }


def test_every_url_ends_with_its_reason(crawled):
    s = crawled["summary"]
    assert s["skipped"] == {
        "blocklisted_url": 1,
        "content_type": 2,
        "redirect": 1,
        "redirect_out_of_scope": 1,
        "robots_disallowed": 1,
        "robots_noai": 2,
        "robots_noimageai": 1,
        "tdm_reservation": 3,
        "too_large": 1,
    }
    assert s["failed"] == {"http_404": 2, "http_500": 1, "timeout": 1}
    assert s["retries"] == 1 and s["queued"] == 0
    assert s["links_not_followed"]["max_depth"] >= 1  # the calendar stops at max_depth
    assert s["links_not_followed"]["out_of_scope_link"] >= 1


def test_normalised_urls_are_fetched_once_and_the_calendar_stops(crawled):
    requested = paths(crawled["log"])
    assert requested.count("/page-0.html") == 1  # /./page-0.html#top is the same page
    assert requested.count("/PAGE-0.html") == 1  # a path's case is kept: another page (a 404 here)
    assert requested.count("/retry.html") == 2  # 429, then after Retry-After
    months = [p for p in requested if p.startswith("/calendar")]
    assert months == [f"/calendar?month={m}" for m in range(4)]  # depth 1..4 from the home page


def warc_records(out: Path) -> list[tuple[str, str]]:
    records = []
    for path in sorted((out / "warc").glob("*.warc.gz")):
        with open(path, "rb") as f:
            for record in ArchiveIterator(f):
                records.append((record.rec_type, record.rec_headers.get_header("WARC-Target-URI")))
                assert record.rec_headers.protocol == "WARC/1.1"
    return records


def test_warc_reads_back_with_warcio_request_response_metadata(crawled):
    records = warc_records(crawled["out"])
    kinds = [kind for kind, _ in records]
    stored = crawled["summary"]["pages_stored"]
    assert kinds[0] == "warcinfo"
    assert kinds.count("response") == kinds.count("request") == kinds.count("metadata") == stored
    responses = [uri for kind, uri in records if kind == "response"]
    assert len(set(responses)) == stored  # each page once


def test_warc_reads_back_with_winnow_with_provenance(crawled):
    base = crawled["base"]
    reader = readers()["warc"]()
    rows = []
    for path in sorted((crawled["out"] / "warc").glob("*.warc.gz")):
        shard = Shard(index=0, input_index=0, file=str(path), relative=path.name, format="warc")
        spec = InputSpec(path=str(path), format="warc", source="test-crawl")
        rows += [r for b in reader.read(shard, spec, ErrorSink()) for r in b.to_pylist()]
    urls = {r["url"] for r in rows}
    expected = {f"{base}/", f"{base}/target.html", f"{base}/from-sitemap.html", f"{base}/retry.html"}
    expected |= {f"{base}/page-{i}.html" for i in range(4)} | {f"{base}/nofollow.html"}
    expected |= {f"{base}/calendar?month={m}" for m in range(4)}
    assert urls == expected
    assert len(rows) == crawled["summary"]["pages_stored"]
    for row in rows:
        assert row["source"] == "test-crawl" and row["collected_at"] and row["license"] == "unknown"
        meta = orjson.loads(row["meta"])
        assert meta["http_status"] == 200
        assert meta["warc_headers"]["WARC-Warcinfo-ID"].startswith("<urn:uuid:")
    page = next(r for r in rows if r["url"] == f"{base}/page-3.html")
    assert "page number 3" in page["text"]
