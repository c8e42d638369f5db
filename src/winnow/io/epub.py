"""EPUB books (``format: epub``): the standard library's zipfile and XML parser, no extra needed.

One record per book: the spine's XHTML documents in reading order, headings as Markdown headings,
paragraphs, lists and tables kept (``winnow.io.structured``); ``meta`` holds ``sections`` (where each
heading starts), ``chapters`` (each spine document's start offset and file) and the Dublin Core metadata
the book states: ``title``, ``author`` (dc:creator), ``language``, ``date``, ``publisher``, ``identifier``,
``rights`` (a licence named there, e.g. "CC BY-SA 4.0", becomes the record's ``license``).
A damaged file (not a zip, no container.xml, a broken package document) is reported with its name.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from xml.etree import ElementTree

from winnow.io.base import ErrorSink, Shard, register_reader
from winnow.io.document import DocumentReader
from winnow.io.structured import Outline, outline_html

NS = {
    "c": "urn:oasis:names:tc:opendocument:xmlns:container",
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
}
DUBLIN_CORE = {"title": "title", "creator": "author", "language": "language", "date": "date",
               "publisher": "publisher", "identifier": "identifier", "rights": "rights"}  # fmt: skip
XHTML_TYPES = ("application/xhtml+xml", "text/html")


class EpubError(Exception):
    pass


@register_reader
class EpubReader(DocumentReader):
    format = "epub"
    extensions = (".epub",)

    def document(self, data: bytes, shard: Shard, errors: ErrorSink) -> dict | None:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as book:
                return _read_book(book)
        except (zipfile.BadZipFile, EpubError, ElementTree.ParseError, KeyError, UnicodeDecodeError) as error:
            errors.bad(shard.source_file, "byte 0", f"damaged or unreadable EPUB: {type(error).__name__}: {error}")
            return None


def _read_book(book: zipfile.ZipFile) -> dict:
    container = ElementTree.fromstring(book.read("META-INF/container.xml"))
    rootfile = container.find(".//c:rootfile", NS)
    if rootfile is None or not rootfile.get("full-path"):
        raise EpubError("META-INF/container.xml names no package document")
    opf_path = rootfile.get("full-path")
    package = ElementTree.fromstring(book.read(opf_path))
    meta: dict = {}
    for tag, key in DUBLIN_CORE.items():
        values = [" ".join(e.text.split()) for e in package.iterfind(f".//dc:{tag}", NS) if e.text and e.text.strip()]
        if values:
            meta[key] = values[0] if len(values) == 1 or key != "author" else ", ".join(values)
    base = posixpath.dirname(opf_path)
    items = {
        item.get("id"): item
        for item in package.iterfind(".//opf:manifest/opf:item", NS)
        if item.get("media-type") in XHTML_TYPES
    }
    outline, chapters = Outline(), []
    for ref in package.iterfind(".//opf:spine/opf:itemref", NS):
        item = items.get(ref.get("idref"))
        if item is None:
            continue
        href = posixpath.normpath(posixpath.join(base, item.get("href", "")))
        chapters.append({"file": href, "offset": len(outline.text) + (2 if outline.blocks else 0)})
        outline_html(book.read(href).decode("utf-8"), outline)
    if not chapters:
        raise EpubError("the spine lists no XHTML document")
    meta.update(sections=outline.sections, chapters=chapters)
    return {"text": outline.text, "_meta": meta}
