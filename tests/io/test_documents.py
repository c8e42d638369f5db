"""Document readers on real Debian documentation (tests/data/documents, origins in tests/data/README.md)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from winnow import read_output, run
from winnow.errors import InputError, RecipeError
from winnow.io.base import ErrorSink, InputSpec, Shard, format_of, readers
from winnow.io.document import optional_module

DOCS = Path(__file__).resolve().parents[1] / "data" / "documents"


def read(path: Path, fmt: str, on_error: str = "fail") -> tuple[list[dict], list[dict]]:
    shard = Shard(index=0, input_index=0, file=str(path), relative=path.name, format=fmt)
    sink = ErrorSink(on_error=on_error)
    rows = [r for b in readers()[fmt]().read(shard, InputSpec(path=str(path), format=fmt), sink) for r in b.to_pylist()]
    for row in rows:
        row["meta"] = orjson.loads(row["meta"])
    return rows, sink.take()


def test_pdf_pages_text_and_metadata():
    [row], _ = read(DOCS / "debian-refcard-en-a4.pdf", "pdf")
    meta = row["meta"]
    assert meta["page_count"] == 2 and meta["pages_without_text"] == []
    assert meta["title"] == "Debian Reference Card" and meta["producer"] == "DBLaTeX"
    second = row["text"][meta["page_offsets"][1] :]
    assert row["text"][meta["page_offsets"][1] - 1] == "\f"  # pages apart by a form feed
    assert "dpkg-query" in row["text"] and second and second not in row["text"][: meta["page_offsets"][1]]


def test_scanned_pdf_is_reported_not_read_as_empty():
    path = DOCS / "debian-refcard-scanned.pdf"
    with pytest.raises(InputError, match="scanned PDF: no text layer") as error:
        read(path, "pdf")
    assert error.value.file == str(path)
    rows, quarantined = read(path, "pdf", on_error="skip")
    assert rows == [] and "scanned PDF" in quarantined[0]["reason"]


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("debian-refcard-en-a4.pdf", "pdf"),
        ("developers-reference-ch1-2.docx", "docx"),
        ("developers-reference.epub", "epub"),
    ],
)
def test_damaged_file_fails_naming_it_or_is_quarantined(tmp_path, name, fmt):
    damaged = tmp_path / name
    damaged.write_bytes((DOCS / name).read_bytes()[:3000])  # cut off, as an interrupted download
    with pytest.raises(InputError, match=f"damaged or unreadable {fmt.upper()}") as error:
        read(damaged, fmt)
    assert error.value.file == str(damaged)
    rows, quarantined = read(damaged, fmt, on_error="skip")
    assert rows == [] and quarantined[0]["file"] == str(damaged)


def test_docx_headings_paragraphs_and_table():
    [row], _ = read(DOCS / "developers-reference-ch1-2.docx", "docx")
    text, meta = row["text"], row["meta"]
    assert text.startswith("# 1. Scope of This Document\n\nThe purpose of this document")
    assert [s["title"] for s in meta["sections"]][:3] == [
        "1. Scope of This Document", "2. Applying to Become a Member", "2.1. Getting started"
    ]  # fmt: skip
    assert {s["level"] for s in meta["sections"]} == {1, 2}
    assert "| debian-refcard | 12.0 | refcard-en-a4.pdf.gz |" in text
    assert meta["title"] == "Debian Developer's Reference (chapters 1-2)"
    for section in meta["sections"]:
        assert text[section["offset"] :].startswith("#" * section["level"] + " " + section["title"])


def test_epub_spine_order_structure_and_dublin_core():
    [row], _ = read(DOCS / "developers-reference.epub", "epub")
    text, meta = row["text"], row["meta"]
    assert meta["title"] == "developers-reference" and meta["language"] == "en"
    assert len(meta["chapters"]) == 11 and meta["chapters"][1]["file"] == "scope.xhtml"
    assert text.index("# 1. Scope of This Document") < text.index("# 2. Applying to Become a Member")
    assert "<p>" not in text and "</div>" not in text and "</a>" not in text
    for section in meta["sections"][:20]:
        assert text[section["offset"] :].startswith("#" * section["level"] + " ")


def test_markdown_and_rst_sections(tmp_path):
    [md], _ = read(DOCS / "python3-yaml-README.md", "markdown")
    assert md["meta"]["title"] == "PyYAML"
    assert [s["title"] for s in md["meta"]["sections"]] == [
        "PyYAML",
        "Installation",
        "Testing",
        "Further Information",
        "License",
    ]
    [rst], _ = read(DOCS / "python3-jwt-README.rst", "rst")
    assert [(s["title"], s["level"]) for s in rst["meta"]["sections"]][:3] == [
        ("PyJWT", 1),
        ("Sponsor", 2),
        ("Installing", 2),
    ]
    with_front = tmp_path / "readme.markdown"
    with_front.write_text(
        "---\ntitle: PyYAML readme\nlicense: MIT\n---\n" + (DOCS / "python3-yaml-README.md").read_text()
    )
    [row], _ = read(with_front, "markdown")
    assert row["license"] == "MIT" and row["meta"]["title"] == "PyYAML readme" and row["text"].startswith("PyYAML\n===")


def test_formats_by_extension_and_install_hint():
    assert format_of("a/b.pdf", None) == "pdf" and format_of("b.docx", None) == "docx"
    assert format_of("b.epub", None) == "epub" and format_of("notes.md", None) == "text"  # .md stays text
    with pytest.raises(RecipeError, match=r"format pdf needs no_such_pdf_library: pip install 'winnow\[docs\]'"):
        optional_module("no_such_pdf_library", "pdf", "docs")


def test_documents_through_a_recipe_with_provenance(tmp_path):
    recipe = {
        "input": [
            {"path": str(DOCS / "*.pdf"), "format": "pdf", "source": "debian-refcard"},
            {"path": str(DOCS / "*.docx"), "source": "developers-reference"},
            {"path": str(DOCS / "*.epub"), "source": "developers-reference"},
            {"path": str(DOCS / "*.md"), "format": "markdown", "source": "python3-yaml", "license": "MIT"},
        ],
        "steps": [{"license": {}}],
        "output": {"path": str(tmp_path / "out")},
        "on_error": "skip",  # the scanned PDF goes to quarantine
    }
    run(recipe, workers=1)
    rows = read_output(tmp_path / "out").to_pylist()
    assert len(rows) == 4
    for row in rows:
        assert row["source"] and row["collected_at"] and row["url"] is None
        assert orjson.loads(row["meta"])["obtained_by"].startswith("winnow format ")
    licences = {Path(r["input_file"]).name: r["license"] for r in rows}
    assert licences["developers-reference.epub"] == "GPL-2.0-or-later"  # its copyright page, found by the step
    assert licences["python3-yaml-README.md"] == "MIT"
    assert sorted((tmp_path / "out" / "quarantine").rglob("*.parquet"))
