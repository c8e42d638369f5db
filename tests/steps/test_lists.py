"""url_filter and word_filter on real corpus documents, with list files kept in tests/data/quality."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import zstandard

from winnow.errors import RecipeError
from winnow.records import make_batch
from winnow.steps.registry import build_step

pytestmark = pytest.mark.core  # needs only the core dependencies


@pytest.fixture(scope="module")
def corpus_batch(sample_data: Path):
    docs = []
    with open(sample_data / "corpus" / "web.jsonl.zst", "rb") as raw:
        for line in io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(raw), encoding="utf-8"):
            docs.append(json.loads(line))
            if len(docs) == 1000:
                break
    return make_batch(
        {"id": [d["id"] for d in docs], "text": [d["text"] for d in docs], "url": [d.get("url") for d in docs]}
    )


def host(url: str | None) -> str:
    return (urlsplit(url).hostname or "") if url else ""


def test_url_filter_blocks_listed_domains_and_their_subdomains(corpus_batch, test_data):
    lists = test_data / "quality"
    step = build_step("url_filter", {"block_lists": [str(lists / "block_domains.txt")]})
    step.check()
    result = step.process(corpus_batch)
    blocked = ("rust-lang.org", "boost.org", "oracle.com")
    for row in result.rejected.select(["url", "reason", "url_filter.domain"]).to_pylist():
        assert row["reason"] == "url_filter: blocked_domain"
        assert host(row["url"]).endswith(blocked)
    kept_hosts = [host(u) for u in result.kept.column("url").to_pylist()]
    assert not any(h.endswith(blocked) for h in kept_hosts)
    # doc.rust-lang.org (a subdomain) and www.boost.org (listed as WWW.Boost.org) are both blocked
    rejected_hosts = {host(u) for u in result.rejected.column("url").to_pylist()}
    assert {"doc.rust-lang.org", "www.boost.org", "docs.oracle.com"} <= rejected_hosts
    assert result.kept.num_rows + result.rejected.num_rows == corpus_batch.num_rows
    assert "docs.python.org" in set(result.kept.column("url_filter.domain").to_pylist())


def test_url_filter_allow_list_makes_exceptions_and_can_be_the_only_way_in(corpus_batch, test_data):
    lists = test_data / "quality"
    allow = lists / "allow_urls.txt"
    step = build_step("url_filter", {"block_lists": [str(lists / "block_domains.txt")], "allow_lists": [str(allow)]})
    kept = step.process(corpus_batch).kept.column("url").to_pylist()
    assert (
        "https://docs.oracle.com/en/java/javase/17/docs/api/java.base/java/lang/class-use/Throwable.html#javax.swing.tree"
        in kept
    )
    only = build_step("url_filter", {"allow_lists": [str(allow)], "only_allowed": True, "drop_missing_url": True})
    result = only.process(corpus_batch)
    # a URL names a page: the fragment (#...) does not matter
    pages = {line.split("#")[0] for line in allow.read_text().splitlines() if line.startswith("http")}
    kept = result.kept.column("url").to_pylist()
    assert {u.split("#")[0] for u in kept} == pages
    assert len(kept) > len(pages)  # the Oracle page occurs with two different fragments
    reasons = set(result.rejected.column("reason").to_pylist())
    assert reasons == {"url_filter: not_allowed", "url_filter: no_url"}


def test_url_filter_names_a_missing_list_file(tmp_path):
    step = build_step("url_filter", {"block_lists": [str(tmp_path / "nope.txt")]})
    with pytest.raises(RecipeError, match="nope.txt"):
        step.check()
    with pytest.raises(RecipeError):
        build_step("url_filter", {}).check()


def test_word_filter_counts_listed_words_and_phrases(corpus_batch, test_data):
    words = test_data / "quality" / "words.txt"
    step = build_step("word_filter", {"word_lists": [str(words)], "max_matches": 2})
    step.check()
    result = step.process(corpus_batch)
    texts = corpus_batch.column("text").to_pylist()
    expected = [
        len(re.findall(r"(?<![\w'])(?:deprecated|unsafe)(?![\w'])", t.lower()))
        + len(re.findall(r"(?<![\w'])segmentation\W+fault(?![\w'])", t.lower()))
        for t in texts
    ]
    by_id = dict(zip(corpus_batch.column("id").to_pylist(), expected, strict=True))
    for table in (result.kept, result.rejected):
        for rid, matches in zip(
            table.column("id").to_pylist(), table.column("word_filter.matches").to_pylist(), strict=True
        ):
            assert matches == by_id[rid]
    assert result.rejected.num_rows == sum(m > 2 for m in expected) > 0
    assert set(result.rejected.column("reason").to_pylist()) == {"word_filter: listed_words"}
    ratio_step = build_step("word_filter", {"word_lists": [str(words)], "max_matches": None, "max_ratio": 0.01})
    ratio_result = ratio_step.process(corpus_batch)
    assert all(r > 0.01 for r in ratio_result.rejected.column("word_filter.ratio").to_pylist())


def test_word_filter_needs_a_readable_list(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n\n")
    with pytest.raises(RecipeError, match="empty"):
        build_step("word_filter", {"word_lists": [str(empty)]}).check()
    with pytest.raises(RecipeError, match="missing.txt"):
        build_step("word_filter", {"word_lists": [str(tmp_path / "missing.txt")]}).check()
