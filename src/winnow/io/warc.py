"""WARC and ARC input (``format: warc``), as found in Common Crawl: plain, .gz, and .lz4.

Each ``response`` record (and each ``resource`` record, and ``conversion`` record of a WET file) becomes one record:
``text`` is the payload decoded to a string (HTML stays HTML: ``html_extract`` turns it into text),
``url`` the WARC-Target-URI, ``collected_at`` the WARC-Date, and ``meta`` holds

* ``http_status``, ``http_headers`` (a dict; repeated headers joined with ", "), ``content_type``
  (the MIME type without parameters) and ``charset`` (the one used to decode the payload);
* ``warc_headers`` (every WARC header of the record, e.g. WARC-Record-ID, WARC-Payload-Digest,
  WARC-Identified-Payload-Type) and ``warc_offset`` (the record's byte offset in the file, as stored:
  compressed for .gz, decompressed for .lz4).

The record id is the WARC-Record-ID (stable and unique); ARC records, which have none, get the file and
record position. Records of other types (request, metadata, warcinfo, revisit...) and payloads that
are not pages or plain text (images, PDFs, scripts, JSON) are not documents and are skipped. warcio
parses the files (it also reads the older ARC format); .lz4 files, which warcio cannot open, are
decompressed by FastWARC's LZ4 reader.

A broken file (bad gzip member, garbage where a record should start, a payload shorter than its
Content-Length) is reported through the error sink with the byte offset of the record: it fails the
run with ``on_error: fail``; with ``on_error: skip`` the record is quarantined and the reader goes on
with the next record when it can, or with the next file when the rest of the file cannot be parsed.
"""

from __future__ import annotations

import logging
import re
import zlib
from collections.abc import Iterator
from typing import IO, Any

import pyarrow as pa

from winnow.io.base import DEFAULT_BATCH_SIZE, ErrorSink, InputRow, InputSpec, Reader, Shard, register_reader
from winnow.io.files import is_local, open_binary
from winnow.io.html import decode_html

log = logging.getLogger(__name__)

DOCUMENT_RECORD_TYPES = ("response", "resource", "conversion")
# Crawler bookkeeping stored as resource records (wget's log and arguments, DNS answers).
NOT_DOCUMENT_URIS = ("metadata:", "dns:", "filedesc:")
# Payload types that are documents (pages and plain text); scripts, stylesheets, JSON API answers,
# images and archives are not. As DataTrove and Common Crawl's WET do, the type a crawler identified
# from the bytes (WARC-Identified-Payload-Type) wins over the server's Content-Type.
DOCUMENT_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain", "text/xml", "application/xml"})
SNIFF_BYTES = 4096
GZIP_MAGIC = b"\x1f\x8b"
# An ARC record header line: URL, IP address, 14-digit date (ARC files whose filedesc record is missing).
ARC_HEADER = re.compile(rb"^\S+ \S+ \d{14} ")
NON_CHUNKED_GZIP = "non-chunked gzip"


@register_reader
class WarcReader(Reader):
    format = "warc"
    # ``.warc.gz`` is matched after the compression suffix is stripped; ``.lz4`` is not a compression
    # fsspec knows, so it is listed in full. WAT (JSON metadata) files hold no documents.
    extensions = (".warc", ".arc", ".warc.lz4", ".warc.wet")
    needs = ("warcio", "fastwarc")  # fastwarc: .warc.lz4 only, but it comes with the same extra
    extra = "warc"

    def read(
        self, shard: Shard, spec: InputSpec, errors: ErrorSink, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[pa.Table]:
        rows = (
            InputRow(row, position, f"record at byte {row['_meta']['warc_offset']}")
            for position, row in _document_rows(shard, spec, errors)
        )
        yield from self.batches(rows, spec, shard, errors, batch_size)


def _document_rows(shard: Shard, spec: InputSpec, errors: ErrorSink) -> Iterator[tuple[int, dict]]:
    """(record position, input row) for every document record of the file."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    kind = _archive_kind(shard.file)
    if kind is None:
        errors.bad(shard.file, "byte 0", "not a WARC or ARC file (it starts with neither 'WARC/' nor an ARC header)")
        return
    whole_file_gzip = False
    done = 0  # records already read, when the file is read again as one gzip stream
    while True:
        compression = "gzip" if whole_file_gzip else None
        with _open_archive(shard.file, compression) as stream:
            # arc2warc: ARC records come out with WARC headers (WARC-Date, WARC-Target-URI).
            records = ArchiveIterator(stream, arc2warc=True)
            position, last_offset = 0, 0
            while True:
                offset = _current_offset(records)
                try:
                    record = next(records)
                    position += 1
                    if position <= done:
                        records.read_to_end(record)
                        continue
                    row = _document_row(record, shard, spec, records, errors, kind)
                except StopIteration:
                    return
                except (ArchiveLoadFailed, zlib.error, EOFError, ValueError, OSError) as error:
                    if NON_CHUNKED_GZIP in str(error) and not whole_file_gzip:
                        # Valid WARC data gzipped as one stream rather than one gzip member per record
                        # (warcio refuses it, since it cannot seek to records): read it again that way.
                        whole_file_gzip, done = True, position
                        break
                    where = f"byte {offset}" if offset >= 0 else f"after the record at byte {last_offset}"
                    # The rest of the file cannot be parsed reliably: report where, and stop this file.
                    errors.bad(shard.file, where, f"broken WARC/ARC data: {_one_line(error)}")
                    return
                last_offset = records.get_record_offset()
                if row is not None:
                    yield position, row


def _open_archive(url: str, compression: str | None = None) -> IO[bytes]:
    if url.lower().endswith(".lz4"):
        from fastwarc.stream_io import Lz4Reader

        # FastWARC opens local paths itself and URLs through fsspec.
        return Lz4Reader(url.removeprefix("file://"), fsspec_args=False) if is_local(url) else Lz4Reader(url)
    # warcio decompresses gzip member by member itself (that is how it knows record offsets).
    return open_binary(url, compression=compression)


def _archive_kind(url: str) -> str | None:
    """The kind of archive by the file's first bytes (decompressed): "warc", "arc", or None when it is
    neither. warcio would parse almost any text as ARC records, so a stray README in an input folder
    must be caught here."""
    with _open_archive(url) as stream:
        head = stream.read(SNIFF_BYTES)
    if head[:2] == GZIP_MAGIC:
        try:
            head = zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(head, 64)
        except zlib.error:
            return "warc"  # a broken gzip member: the parser reports it with its offset
    head = head.lstrip(b"\r\n")
    if head.startswith(b"WARC/"):
        return "warc"
    if head.startswith(b"filedesc:") or ARC_HEADER.match(head):
        return "arc"
    return None


def _current_offset(records: Any) -> int:
    # warcio's iterator knows where the next record starts: where the previous one ended.
    return int(getattr(records, "offset", 0) or 0)


def _document_row(
    record: Any, shard: Shard, spec: InputSpec, records: Any, errors: ErrorSink, kind: str
) -> dict | None:
    """The input row of one WARC record, or None when the record is not a document."""
    if record.rec_type not in DOCUMENT_RECORD_TYPES:
        records.read_to_end(record)
        return None
    target = record.rec_headers.get_header("WARC-Target-URI") or ""
    if target.startswith(NOT_DOCUMENT_URIS):
        records.read_to_end(record)
        return None
    payload = record.content_stream().read()
    truncated = getattr(record.raw_stream, "limit", 0)  # bytes the Content-Length promised but the file lacks
    offset = records.get_record_offset()
    warc_headers = dict(record.rec_headers.headers)
    # ARC records have no id: warcio's ARC->WARC conversion makes up a random one, which would change
    # from run to run. They get the file and record position instead (RecordBuilder derives it).
    record_id = warc_headers.get("WARC-Record-ID") if kind == "warc" else None
    if truncated and not _http_body_complete(record, payload):
        errors.bad(
            shard.file,
            f"record at byte {offset}",
            f"truncated or corrupt record: {truncated} bytes fewer than its Content-Length says",
            payload[:SNIFF_BYTES],
            record_id,
        )
        return None
    http_headers: dict[str, str] = {}
    status = None
    if record.http_headers is not None:
        for name, value in record.http_headers.headers:
            http_headers[name] = f"{http_headers[name]}, {value}" if name in http_headers else value
        status_code = record.http_headers.get_statuscode()
        status = int(status_code) if status_code and status_code.isdigit() else None
    content_type_header = _header(http_headers, "Content-Type") or ""
    if record.http_headers is None and record.rec_type != "response":
        # resource/conversion records carry the payload's own type in the WARC header
        content_type_header = record.rec_headers.get_header("Content-Type") or ""
    content_type = content_type_header.split(";", 1)[0].strip().lower()
    identified = (warc_headers.get("WARC-Identified-Payload-Type") or "").split(";", 1)[0].strip().lower()
    payload_type = identified or content_type
    if payload_type and payload_type not in DOCUMENT_TYPES:
        log.debug("%s: skipping %s payload at byte %s", shard.file, payload_type, offset)
        return None
    text, charset = decode_html(payload, content_type_header)
    return {
        spec.id_field: record_id,
        spec.text_field: text,
        "url": target or None,
        "_collected_at": warc_headers.get("WARC-Date"),
        "_meta": {
            "http_status": status,
            "http_headers": http_headers,
            "content_type": content_type or None,
            "charset": charset,
            "warc_headers": warc_headers,
            "warc_offset": offset,
        },
    }


def _http_body_complete(record: Any, payload: bytes) -> bool:
    """Whether a record whose WARC/ARC length overstates its block still holds the whole HTTP body
    (an ARC length that counts a few bytes too many, as in some old crawls): its HTTP Content-Length
    is met by the bytes received."""
    if record.http_headers is None or record.http_headers.get_header("Content-Encoding"):
        return False
    declared = record.http_headers.get_header("Content-Length") or ""
    return declared.isdigit() and len(payload) >= int(declared)


def _header(headers: dict[str, str], name: str) -> str | None:
    lower = name.lower()
    for key, value in headers.items():
        if key.lower() == lower:
            return value
    return None


def _one_line(error: Exception) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:300]
