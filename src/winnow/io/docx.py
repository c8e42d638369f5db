"""Word documents (``format: docx``) through python-docx (MIT).

One record per file: paragraphs and tables in the body's order, ``Heading N`` and ``Title`` paragraphs as
Markdown headings, tables as ``| a | b |`` rows; ``meta`` holds ``sections`` (where each heading starts)
and the core properties the document states: ``title``, ``author``, ``subject``, ``keywords``, ``created``,
``modified``, ``language``. A damaged file is reported with its name. Needs ``pip install 'winnow[docs]'``.
"""

from __future__ import annotations

import io
import re
import zipfile

from winnow.io.base import ErrorSink, Shard, register_reader
from winnow.io.document import DocumentReader, optional_module
from winnow.io.structured import Outline

HEADING_STYLE = re.compile(r"^(?:Heading|Überschrift|Titre)\s*(\d)$", re.I)
PROPERTIES = ("title", "author", "subject", "keywords", "created", "modified", "language")


@register_reader
class DocxReader(DocumentReader):
    format = "docx"
    extensions = (".docx",)

    def document(self, data: bytes, shard: Shard, errors: ErrorSink) -> dict | None:
        docx = optional_module("docx", self.format, "docs")
        try:
            document = docx.Document(io.BytesIO(data))
        except (zipfile.BadZipFile, KeyError, ValueError) as error:
            errors.bad(shard.source_file, "byte 0", f"damaged or unreadable DOCX: {type(error).__name__}: {error}")
            return None
        outline = Outline()
        for block in document.iter_inner_content():
            if hasattr(block, "rows"):
                outline.table([[cell.text for cell in row.cells] for row in block.rows])
                continue
            style = (block.style.name if block.style is not None else "") or ""
            match = HEADING_STYLE.match(style)
            if match or style == "Title":
                outline.heading(int(match.group(1)) if match else 1, block.text)
            else:
                outline.paragraph(block.text)
        meta: dict = {"sections": outline.sections}
        props = document.core_properties
        for name in PROPERTIES:
            value = getattr(props, name, None)
            if value:
                meta[name] = value.isoformat() if hasattr(value, "isoformat") else str(value)
        return {"text": outline.text, "_meta": meta}
