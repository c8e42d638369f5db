"""`optout` on real WARC records (../shared/data/warc) and real HTML pages (../shared/data/html.tar.zst)."""

from __future__ import annotations

import tarfile
from collections import Counter
from urllib.parse import urlsplit

import pytest
import zstandard

from winnow import read_output, run
from winnow.errors import RecipeError
from winnow.records import make_batch
from winnow.steps.registry import build_step


@pytest.fixture(scope="module")
def html_pages(sample_data) -> list[tuple[str, str]]:
    pages = []
    with open(sample_data / "html.tar.zst", "rb") as raw:
        stream = zstandard.ZstdDecompressor().stream_reader(raw)
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            for member in tar:
                if member.isfile() and member.name.endswith(".html"):
                    pages.append((member.name, tar.extractfile(member).read().decode("utf-8", "replace")))
                    if len(pages) == 6:
                        break
    return pages


def _warc_recipe(sample_data, out, blocklist=None) -> dict:
    params = {"blocklist": str(blocklist)} if blocklist else {}
    return {
        "input": {"path": str(sample_data / "warc" / "dolma" / "sample-0000.warc.gz"), "format": "warc"},
        "steps": [{"optout": params}],
        "output": {"path": str(out)},
    }


def test_blocklisted_domains_and_url_prefixes_on_real_warc_records(sample_data, tmp_path):
    run(_warc_recipe(sample_data, tmp_path / "all"), workers=1)
    everything = read_output(str(tmp_path / "all"))
    urls = everything.column("url").to_pylist()
    assert len(urls) > 20  # no page of the sample opts out by itself
    hosts = Counter(urlsplit(u).hostname for u in urls)
    domain, n_domain = hosts.most_common(1)[0]
    other = next(u for u in urls if urlsplit(u).hostname != domain)
    prefix = other.split("://", 1)[1]  # without the scheme: matches http and https
    blocklist = tmp_path / "optout-domains.txt"
    blocklist.write_text(f"# opt-outs received\n{domain.removeprefix('www.')}\n\n{prefix}   # one page\n")
    manifest = run(_warc_recipe(sample_data, tmp_path / "out", blocklist), workers=1)
    rejected = read_output(str(tmp_path / "out"), rejected=True)
    reasons = Counter(rejected.column("reason").to_pylist())
    assert reasons["optout: blocklisted_domain"] == n_domain
    assert reasons["optout: blocklisted_url"] == sum(u.split("://", 1)[1].startswith(prefix) for u in urls)
    assert read_output(str(tmp_path / "out")).num_rows == len(urls) - sum(reasons.values())
    step = next(s for s in manifest["steps"] if s["name"] == "optout")
    assert sum(step["dropped"].values()) == sum(reasons.values())


def test_subdomains_are_covered_and_lookalikes_are_not(tmp_path):
    blocklist = tmp_path / "list.txt"
    blocklist.write_text("example.org\nhttps://www.news.example.com/opinion/\n")
    step = build_step("optout", {"blocklist": str(blocklist)})
    step.check()
    urls = [
        "https://docs.example.org/a",
        "http://www.example.org/",
        "https://notexample.org/",
        "https://news.example.com/opinion/1.html",
        "http://news.example.com/sport/",
        None,
    ]
    reasons = step.reasons(make_batch({"id": [str(i) for i in range(6)], "text": ["t"] * 6, "url": urls}))
    assert reasons == ["blocklisted_domain", "blocklisted_domain", None, "blocklisted_url", None, None]


def test_noai_robots_and_tdm_reservation_in_html_and_headers(html_pages):
    names = [name for name, _ in html_pages]
    pages = [html for _, html in html_pages]
    marked = list(pages)
    marked[0] = marked[0].replace("<head>", '<head><meta name="robots" content="noindex, noai">', 1)
    marked[1] = marked[1].replace("<head>", "<head><meta content='noimageai' name='ROBOTS'>", 1)
    marked[2] = marked[2].replace("<head>", '<head><meta name="tdm-reservation" content="1">', 1)
    assert all(a != b for a, b in zip(marked[:3], pages[:3], strict=True)), "pages have a <head>"
    metas = [None, None, None, {"http_headers": {"X-Robots-Tag": "otherbot: noai"}}, {"robots": ["noai"]}, None]
    metas[5] = {"http_headers": {"TDM-Reservation": "1", "Content-Type": "text/html"}}
    batch = make_batch({"id": names, "text": marked, "meta": metas})
    result = build_step("optout", {}).process(batch)
    assert result.kept.num_rows == 0
    assert result.rejected.column("reason").to_pylist() == [
        "optout: robots_noai",
        "optout: robots_noimageai",
        "optout: tdm_reservation",
        "optout: robots_noai",
        "optout: robots_noai",
        "optout: tdm_reservation",
    ]
    untouched = build_step("optout", {}).process(make_batch({"id": names, "text": pages}))
    assert untouched.kept.num_rows == len(pages) and untouched.rejected is None


def test_missing_or_unreadable_list_fails_before_reading_data(tmp_path):
    with pytest.raises(RecipeError, match="optout-list.txt"):
        build_step("optout", {"blocklist": str(tmp_path / "optout-list.txt")}).check()
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(RecipeError, match="binary.txt"):
        build_step("optout", {"blocklist": str(binary)}).check()


def test_run_with_a_missing_list_fails_before_any_output(sample_data, tmp_path):
    with pytest.raises(RecipeError, match="no-such-list.txt"):
        run(_warc_recipe(sample_data, tmp_path / "out", tmp_path / "no-such-list.txt"), workers=1)
    assert not (tmp_path / "out").exists()
