"""The HTML reader on real pages (tests/data/html, copied from shared/data/html.tar.zst)."""

from __future__ import annotations

from pathlib import Path

import orjson

from winnow import read_output, run
from winnow.io.base import ErrorSink, InputSpec, Shard, format_of, readers
from winnow.io.html import decode_html

HTML = Path(__file__).resolve().parents[1] / "data" / "html"


def read_page(relative: str) -> dict:
    path = HTML / relative
    reader = readers()["html"]()
    shard = Shard(index=0, input_index=0, file=str(path), relative=relative, format="html")
    (batch,) = list(reader.read(shard, InputSpec(path=str(HTML), format="html"), ErrorSink()))
    (row,) = batch.to_pylist()
    row["meta"] = orjson.loads(row["meta"])
    return row


def test_page_becomes_one_record_with_its_path_as_id():
    row = read_page("apache2-doc/programs/dbmmanage.html")
    assert row["id"] == "apache2-doc/programs/dbmmanage.html"  # the corpus id of the same page
    assert row["text"] == (HTML / "apache2-doc/programs/dbmmanage.html").read_text(encoding="utf-8")
    assert row["meta"] == {"content_type": "text/html", "charset": "utf-8"}


def test_declared_legacy_encodings_are_honoured():
    korean = read_page("i18n/ko/fd-limits.html")
    assert korean["meta"]["charset"] == "euc-kr"
    assert "\ufffd" not in korean["text"]
    assert "파일기술자" in korean["text"]  # "file descriptor", as the page writes it
    vim = read_page("vim-doc/usr_02.html")
    assert vim["meta"]["charset"] == "iso-8859-1"
    assert "\ufffd" not in vim["text"]


def test_http_charset_that_does_not_fit_falls_back_to_the_page_declaration():
    payload = (HTML / "i18n/ko/fd-limits.html").read_bytes()
    text, charset = decode_html(payload, "text/html; charset=utf-8")  # a server that lies
    assert charset == "euc-kr" and "파일기술자" in text
    text, charset = decode_html(payload[:200] + b"\xff\xfe" + payload[200:], "")
    assert "(with replacements)" in charset or charset == "euc-kr"


def test_format_from_extension():
    assert format_of("site/index.html", None) == "html"
    assert format_of("site/page.htm", None) == "html"


def test_run_a_folder_of_pages_through_html_extract(tmp_path):
    recipe = {
        "input": {"path": str(HTML), "format": "html"},
        "steps": [{"html_extract": {}}],
        "output": {"path": str(tmp_path / "out")},
    }
    manifest = run(recipe, workers=1)
    kept = read_output(tmp_path / "out").to_pylist()
    pages = sorted(p.relative_to(HTML).as_posix() for p in HTML.rglob("*.html"))
    assert sorted(r["id"] for r in kept) == pages
    by_id = {r["id"]: r for r in kept}
    assert (
        "dbmmanage is used to create and update the DBM format files"
        in by_id["apache2-doc/programs/dbmmanage.html"]["text"]
    )
    assert all("<" not in r["text"][:50] for r in kept)
    assert manifest
