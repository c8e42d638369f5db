"""HTML files (``format: html``): each file is one document; its id is the path relative to the input root.

Files in the input that are not pages (by name: .html/.htm/.xhtml, or by a ``<!doctype html>``/``<html>``
start) are skipped: documentation folders also hold stylesheets, scripts and images.

``text`` is the page's HTML decoded to a string (``html_extract`` turns it into text); ``meta`` has
``content_type`` (text/html) and ``charset``, the encoding used: the one a ``<meta charset>`` or
``<meta http-equiv="Content-Type">`` declares, else UTF-8 (a page that is neither keeps its text,
with U+FFFD for the undecodable bytes, and says so in ``charset``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pyarrow as pa

from winnow.io.base import (
    DEFAULT_BATCH_SIZE,
    ErrorSink,
    InputRow,
    InputSpec,
    Reader,
    Shard,
    register_reader,
    strip_compression,
)
from winnow.io.files import open_binary

META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
SNIFF_BYTES = 4096  # where a page declares its encoding (HTML5 says the first 1024 bytes; be lenient)
REPLACED = "utf-8 (with replacements)"
HTML_START = re.compile(rb"<(!doctype\s+html|html[\s>])", re.IGNORECASE)

log = logging.getLogger(__name__)


def decode_html(payload: bytes, content_type: str = "") -> tuple[str, str]:
    """Decode an HTML (or other text) payload; returns (text, charset used).

    Tries, in order, the charset the HTTP Content-Type declares, a ``<meta charset>`` in the first
    bytes, and UTF-8, and takes the first that decodes the whole payload (servers often declare
    UTF-8 for pages that are not). When none does, the first declared charset (else UTF-8) decodes
    it with U+FFFD for the bad bytes, rather than losing the document."""
    found = META_CHARSET.search(payload[:SNIFF_BYTES])
    in_page = found.group(1).decode("ascii", "replace").lower() if found else None
    candidates = [c for c in (charset_of(content_type), in_page, "utf-8") if c]
    for charset in dict.fromkeys(candidates):
        try:
            return payload.decode(charset), charset
        except (LookupError, UnicodeDecodeError):
            continue
    for charset in candidates:
        try:
            return payload.decode(charset, "replace"), f"{charset} (with replacements)"
        except LookupError:
            continue
    return payload.decode("utf-8", "replace"), REPLACED


def charset_of(content_type: str) -> str | None:
    """The charset parameter of a Content-Type header value, lower-cased."""
    for part in content_type.split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'").lower()
    return None


@register_reader
class HtmlReader(Reader):
    format = "html"
    extensions = (".html", ".htm", ".xhtml")

    @classmethod
    def is_page(cls, relative: str, payload: bytes) -> bool:
        """An HTML page by its name, or by its first bytes: a folder of pages also holds stylesheets,
        scripts, images and READMEs, which are not documents and are skipped."""
        name = strip_compression(relative.lower())
        return name.endswith(cls.extensions) or bool(HTML_START.search(payload[:SNIFF_BYTES]))

    def read(
        self, shard: Shard, spec: InputSpec, errors: ErrorSink, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[pa.Table]:
        with open_binary(shard.file) as f:
            payload = f.read()
        if not self.is_page(shard.relative, payload):
            log.debug("%s: not an HTML page, skipped", shard.file)
            return
        text, charset = decode_html(payload)
        row = {
            spec.id_field: shard.relative,
            spec.text_field: text,
            "_meta": {"content_type": "text/html", "charset": charset},
        }
        yield from self.batches([InputRow(row, 1, "file")], spec, shard, errors, batch_size)
