"""The WARC/ARC reader on the real files of shared/data/warc: good records become documents with
url, WARC-Date and HTTP headers; broken files fail naming the file and byte offset, or are quarantined."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from winnow import read_output, run
from winnow.errors import InputError
from winnow.io.base import ErrorSink, InputSpec, Shard, format_of, readers

# Files of shared/data/warc that are broken on purpose, and where (see that folder's README).
BROKEN = {
    "resiliparse/clipped.warc.gz": "record at byte 0",
    "warcio/example-wrong-chunks.warc.gz": "record at byte 0",
}


def archive_files(sample_data: Path) -> list[Path]:
    return sorted(p for p in (sample_data / "warc").glob("*/*") if p.name not in ("README.md", "LICENSE"))


def read(path: Path, on_error: str = "fail") -> tuple[list[dict], list[dict]]:
    """(records, quarantined rows) of one file, read with the registered ``warc`` reader."""
    reader = readers()["warc"]()
    sink = ErrorSink(on_error=on_error)
    shard = Shard(index=0, input_index=0, file=str(path), relative=path.name, format="warc")
    rows = [
        row for batch in reader.read(shard, InputSpec(path=str(path), format="warc"), sink) for row in batch.to_pylist()
    ]
    for row in rows:
        row["meta"] = orjson.loads(row["meta"]) if row["meta"] else {}
    return rows, sink.take()


def test_every_real_file_reads_with_skip_and_only_the_broken_ones_quarantine(tier):
    sample_data = tier.path
    files = archive_files(sample_data)
    assert len(files) >= 34
    quarantined_files = set()
    total = 0
    for path in files:
        rows, quarantined = read(path, on_error="skip")
        total += len(rows)
        for q in quarantined:
            assert q["file"] == str(path) and q["location"].startswith(("record at byte", "byte"))
            quarantined_files.add(str(path.relative_to(sample_data / "warc")))
        for row in rows:
            assert isinstance(row["text"], str) and row["id"]
    assert quarantined_files == set(BROKEN)
    # 3,421 pages in the constructed WARC alone (its README; 150 in the excerpt), plus the other fixtures'.
    assert total > tier.pick(sample=150, full=3421) + 100


@pytest.mark.parametrize(("name", "location"), sorted(BROKEN.items()))
def test_broken_file_fails_naming_file_and_offset(sample_data, name, location):
    path = sample_data / "warc" / name
    with pytest.raises(InputError) as error:
        read(path)
    assert error.value.file == str(path)
    assert error.value.location == location
    assert "Content-Length" in error.value.cause


def test_garbage_after_a_good_record_is_quarantined_with_its_offset(sample_data):
    # example-wrong-chunks: a response whose chunked body is corrupt, then HTML where a record should start.
    _, quarantined = read(sample_data / "warc" / "warcio" / "example-wrong-chunks.warc.gz", on_error="skip")
    assert [q["location"] for q in quarantined] == ["record at byte 0", "byte 516"]
    assert "Unknown archive format" in quarantined[1]["reason"]


def test_a_file_that_is_not_an_archive_is_reported_not_parsed(sample_data):
    # warcio would parse any text as ARC records; a README in an input folder must not become documents.
    path = sample_data / "warc" / "README.md"
    with pytest.raises(InputError, match="not a WARC or ARC file"):
        read(path)
    rows, quarantined = read(path, on_error="skip")
    assert rows == [] and len(quarantined) == 1


def test_response_record_fields_and_http_headers(sample_data):
    rows, _ = read(sample_data / "warc" / "whirlwind" / "whirlwind.warc.gz")
    assert len(rows) == 1  # request, metadata and warcinfo records are not documents
    (row,) = rows
    assert row["url"] == "https://an.wikipedia.org/wiki/Escopete"
    assert row["collected_at"] == "2024-05-18T01:58:10Z"
    assert row["id"].startswith("<urn:uuid:")
    meta = row["meta"]
    assert meta["http_status"] == 200
    assert meta["http_headers"]["content-language"] == "an"
    assert meta["content_type"] == "text/html" and meta["charset"] == "utf-8"
    assert meta["warc_headers"]["WARC-Type"] == "response"
    assert "Escopete" in row["text"] and row["text"].lstrip().lower().startswith("<!doctype html")


def test_gzip_plain_and_lz4_give_the_same_documents(sample_data):
    base = sample_data / "warc" / "resiliparse"
    plain, _ = read(base / "warcfile.warc")
    gz, _ = read(base / "warcfile.warc.gz")
    lz4, _ = read(base / "warcfile.warc.lz4")
    assert len(plain) == 16  # the file's 16 response records (README: 50 records)
    for other in (gz, lz4):
        assert [(r["id"], r["url"], r["text"]) for r in other] == [(r["id"], r["url"], r["text"]) for r in plain]


def test_arc_files_plain_and_gzipped(sample_data):
    for name in ("example.arc", "example.arc.gz"):
        rows, _ = read(sample_data / "warc" / "warcio" / name)
        assert [r["url"] for r in rows] == ["http://example.com/"]
        assert rows[0]["collected_at"].startswith("2014-")
        assert "Example Domain" in rows[0]["text"]
        assert rows[0]["id"] == f"{name}:2"  # no WARC-Record-ID in ARC: file and record position, stable


def test_whole_file_gzip_is_read_again_as_one_stream(sample_data):
    # Not one gzip member per record: warcio refuses it; the records are valid, so we read them.
    rows, quarantined = read(sample_data / "warc" / "warcio" / "example-bad-non-chunked.warc.gz")
    reference, _ = read(sample_data / "warc" / "warcio" / "example.warc")
    assert quarantined == []
    assert [(r["url"], r["text"]) for r in rows] == [(r["url"], r["text"]) for r in reference]


def test_wet_conversion_records_are_text_documents(sample_data):
    rows, _ = read(sample_data / "warc" / "whirlwind" / "whirlwind.warc.wet.gz")
    assert len(rows) == 1 and rows[0]["meta"]["content_type"] == "text/plain"
    assert "<" not in rows[0]["text"][:200] and "Escopete" in rows[0]["text"]


def test_payloads_that_are_not_pages_are_not_documents(sample_data):
    # post-test.warc.gz: three POST exchanges whose responses are JSON API answers.
    rows, quarantined = read(sample_data / "warc" / "warcio" / "post-test.warc.gz")
    assert rows == [] and quarantined == []
    # a resource record holding a page is one
    rows, _ = read(sample_data / "warc" / "warcio" / "example-resource.warc.gz")
    assert [r["meta"]["content_type"] for r in rows] == ["text/html"]


def test_format_from_extension():
    assert format_of("crawl/CC-MAIN-0001.warc.gz", None) == "warc"
    assert format_of("old/IA-001.arc.gz", None) == "warc"
    assert format_of("x/warcfile.warc.lz4", None) == "warc"


def test_constructed_warc_pages_match_the_corpus_ids(tier):
    rows, _ = read(tier.path / "warc" / "constructed" / "debian-docs-html-subset.warc.gz")
    assert len(rows) == tier.pick(sample=150, full=3421)
    langs = [r["meta"]["warc_headers"].get("WARC-X-Lang") for r in rows]
    assert langs.count("en") >= tier.pick(sample=100, full=3151)
    assert len({r["id"] for r in rows}) == len(rows)


def test_run_end_to_end_extract_and_language(sample_data, tmp_path):
    """Through the engine: the real fixtures of two projects, broken ones included, with on_error: skip."""
    recipe = {
        "input": [
            {"path": str(sample_data / "warc" / "dolma" / "*.warc.gz"), "format": "warc"},
            {"path": str(sample_data / "warc" / "resiliparse" / "*.warc*"), "format": "warc"},
        ],
        "steps": [
            {"html_extract": {}},
            {"fix_unicode": {}},
            {"language": {}},
            {"language_filter": {"languages": ["en"], "min_score": 0.5}},
        ],
        "output": {"path": str(tmp_path / "out"), "keep_rejected": True},
        "on_error": "skip",
    }
    manifest = run(recipe, workers=2)
    kept = read_output(tmp_path / "out")
    rejected = read_output(tmp_path / "out", rejected=True)
    files = sorted((sample_data / "warc" / "dolma").glob("*.warc.gz")) + sorted(
        (sample_data / "warc" / "resiliparse").glob("*.warc*")
    )
    documents = sum(len(read(path, on_error="skip")[0]) for path in files)
    assert kept.num_rows + rejected.num_rows == documents  # nothing lost
    assert kept.num_rows >= 30
    assert set(kept.column("language.lang").to_pylist()) == {"en"}
    assert all(r.startswith(("html_extract:", "language_filter:")) for r in rejected.column("reason").to_pylist())
    text = "\n".join(kept.column("text").to_pylist())
    assert "<div" not in text and "<script" not in text
    quarantine = sorted((tmp_path / "out" / "quarantine").rglob("*.parquet"))
    assert quarantine, "the clipped file must be quarantined"
    assert orjson.dumps(manifest.to_dict())  # the manifest is JSON
    assert '"language_filter"' in manifest.to_json().decode()
