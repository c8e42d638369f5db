"""Build the two generated fixtures of tests/data/documents from the real ones beside them (see
tests/data/README.md, "documents"):

* ``developers-reference-ch1-2.docx``: the first chapters of Debian's Developer's Reference (the EPUB in
  the same folder, GPL-2.0-or-later), written with python-docx: its headings as Word heading styles, its
  paragraphs, and one table (the packages the fixtures come from);
* ``debian-refcard-scanned.pdf``: page 1 of the Debian reference card rendered to a bitmap and put on a
  new page as an image — a PDF with no text layer, as a scan is.

    .venv/bin/python scripts/make_document_fixtures.py
"""

from __future__ import annotations

from pathlib import Path

import docx
import pypdfium2 as pdfium

from winnow.io.base import ErrorSink, InputSpec, Shard, readers

HERE = Path(__file__).resolve().parents[1] / "tests" / "data" / "documents"
PACKAGES = [("Package", "Version", "File"), ("developers-reference", "12.18", "developers-reference.epub"),
            ("debian-refcard", "12.0", "refcard-en-a4.pdf.gz"), ("python3-yaml", "6.0-3+b2", "README.md"),
            ("python3-jwt", "2.6.0-1", "README.rst")]  # fmt: skip


def make_docx() -> None:
    path = HERE / "developers-reference.epub"
    shard = Shard(index=0, input_index=0, file=str(path), relative=path.name, format="epub")
    row = next(readers()["epub"]().read(shard, InputSpec(path=str(path)), ErrorSink())).to_pylist()[0]
    text = row["text"]
    start = text.index("# 1. Scope of This Document")
    end = text.index("# 3. ")
    document = docx.Document()
    document.core_properties.title = "Debian Developer's Reference (chapters 1-2)"
    document.core_properties.author = "Developer's Reference Team"
    for block in text[start:end].split("\n\n"):
        if block.startswith("#"):
            level = len(block) - len(block.lstrip("#"))
            document.add_heading(block.lstrip("# "), level=min(level, 3))
        else:
            document.add_paragraph(block)
    table = document.add_table(rows=0, cols=3)
    for cells in PACKAGES:
        for cell, value in zip(table.add_row().cells, cells, strict=True):
            cell.text = value
    document.save(HERE / "developers-reference-ch1-2.docx")


def make_scanned_pdf() -> None:
    source = pdfium.PdfDocument(HERE / "debian-refcard-en-a4.pdf")
    page = source[0]
    width, height = page.get_size()
    bitmap = page.render(scale=0.8, grayscale=True)
    scan = pdfium.PdfDocument.new()
    new_page = scan.new_page(width, height)
    image = pdfium.PdfImage.new(scan)
    image.set_bitmap(bitmap)
    image.set_matrix(pdfium.PdfMatrix().scale(width, height))
    new_page.insert_obj(image)
    new_page.gen_content()
    scan.save(HERE / "debian-refcard-scanned.pdf")


if __name__ == "__main__":
    make_docx()
    make_scanned_pdf()
