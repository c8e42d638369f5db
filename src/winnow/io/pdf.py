"""PDF documents (``format: pdf``) through pypdfium2 (PDFium; Apache-2.0/BSD — not an AGPL library).

One record per file: ``text`` is the text layer, page after page (a form feed between pages), and
``meta`` holds ``page_offsets`` (where each page starts in ``text``: page *n* starts at
``page_offsets[n-1]``), ``page_count``, ``pages_without_text``, and the document's ``title``, ``author``,
``subject``, ``keywords``, ``creator``, ``producer``, ``created``, ``modified`` where it states them.

A PDF with no text on any page (a scan) is reported as such — it fails the run, or is quarantined with
``on_error: skip`` — rather than read as an empty document; so is a damaged file, with its name.
Needs ``pip install 'winnow[docs]'``.
"""

from __future__ import annotations

from winnow.io.base import ErrorSink, Shard, register_reader
from winnow.io.document import DocumentReader, optional_module

METADATA = {"Title": "title", "Author": "author", "Subject": "subject", "Keywords": "keywords",
            "Creator": "creator", "Producer": "producer", "CreationDate": "created", "ModDate": "modified"}  # fmt: skip
PAGE_BREAK = "\f"


@register_reader
class PdfReader(DocumentReader):
    format = "pdf"
    extensions = (".pdf",)

    def document(self, data: bytes, shard: Shard, errors: ErrorSink) -> dict | None:
        pdfium = optional_module("pypdfium2", self.format, "docs")
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as error:
            errors.bad(shard.source_file, "byte 0", f"damaged or unreadable PDF: {error}", data[:200])
            return None
        try:
            pages, empty = _page_texts(pdf)
            metadata = {ours: value for key, ours in METADATA.items() if (value := pdf.get_metadata_dict().get(key))}
        finally:
            pdf.close()
        if pages and len(empty) == len(pages):
            errors.bad(
                shard.source_file,
                "page 1",
                f"scanned PDF: no text layer on any of its {len(pages)} pages (run OCR first)",
            )
            return None
        offsets, position = [], 0
        for text in pages:
            offsets.append(position)
            position += len(text) + len(PAGE_BREAK)
        meta = {"page_count": len(pages), "page_offsets": offsets, "pages_without_text": empty, **metadata}
        return {"text": PAGE_BREAK.join(pages), "_meta": meta}


def _page_texts(pdf) -> tuple[list[str], list[int]]:
    """The text of every page (PDFium's reading order; its CRLF line ends made LF) and the pages without any."""
    pages, empty = [], []
    for number in range(len(pdf)):
        page = pdf[number]
        textpage = page.get_textpage()
        text = textpage.get_text_range().replace("\r\n", "\n").replace("\r", "\n").strip()
        textpage.close()
        page.close()
        pages.append(text)
        if not text:
            empty.append(number + 1)
    return pages, empty
