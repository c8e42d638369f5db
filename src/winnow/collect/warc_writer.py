"""WARC 1.1 output (warcio): per page a request, a response and a metadata record, appended in one write
and synced; a new file when the current one passes ``max_bytes``. Each file starts with a warcinfo record
saying who crawled, how, and under which rules; every response names it (WARC-Warcinfo-ID)."""

from __future__ import annotations

import io
import os
from pathlib import Path
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from winnow.collect.config import CrawlConfig
from winnow.collect.fetch import Response
from winnow.collect.state import CrawlState
from winnow.version import __version__

WARC_VERSION = "WARC/1.1"


class WarcFiles:
    """The crawl's WARC files in ``folder``: ``crawl-00000.warc.gz``, ``crawl-00001.warc.gz``…"""

    def __init__(self, folder: Path, config: CrawlConfig, state: CrawlState):
        self.folder, self.config, self.state = folder, config, state
        folder.mkdir(parents=True, exist_ok=True)
        self.committed = state.warc_files()
        self._cut_uncommitted()
        self.name: str | None = None
        self.warcinfo_id: str | None = None
        last = max(self.committed) if self.committed else None
        # A resumed crawl starts a new file: its warcinfo then describes the resumed run.
        self.serial = int(last.split("-")[1].split(".")[0]) + 1 if last else 0

    def _cut_uncommitted(self) -> None:
        """Drop bytes past each file's committed length: records of a page the state never marked stored."""
        for path in self.folder.glob("crawl-*.warc.gz"):
            committed = self.committed.get(path.name, 0)
            if path.stat().st_size > committed:
                with open(path, "r+b") as f:
                    f.truncate(committed)
            if committed == 0:
                path.unlink()

    def files(self) -> list[Path]:
        return sorted(self.folder.glob("crawl-*.warc.gz"))

    def write(self, response: Response, fields: dict[str, str]) -> tuple[str, int]:
        """Append the page's records; returns (file name, its length now), synced to disk."""
        if self.name is None or self.committed.get(self.name, 0) >= self.config.warc_max_bytes:
            self._start_file()
        assert self.name is not None
        buffer = io.BytesIO()
        writer = WARCWriter(buffer, gzip=True, warc_version=WARC_VERSION)
        request, answer, metadata = self._records(writer, response, fields)
        for record in (request, answer, metadata):
            writer.write_record(record)
        return self.name, self._append(buffer.getvalue())

    def _records(self, writer: WARCWriter, response: Response, fields: dict[str, str]) -> tuple:
        url = response.url
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        date = response.started.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        common = {"WARC-Date": date}
        request_headers = StatusAndHeaders(
            f"GET {target} HTTP/1.1", [("Host", parts.netloc), *response.request_headers], is_http_request=True
        )
        request = writer.create_warc_record(
            url, "request", payload=io.BytesIO(b""), http_headers=request_headers, warc_headers_dict=dict(common)
        )
        http_headers = StatusAndHeaders(f"{response.status} {response.reason}", response.headers, protocol="HTTP/1.1")
        response_headers = {**common, "WARC-Warcinfo-ID": self.warcinfo_id or ""}
        if response.peer_ip:
            response_headers["WARC-IP-Address"] = response.peer_ip
        answer = writer.create_warc_record(
            url, "response", payload=io.BytesIO(response.body), http_headers=http_headers,
            warc_headers_dict=response_headers,
        )  # fmt: skip
        record_id = answer.rec_headers.get_header("WARC-Record-ID")
        request.rec_headers.add_header("WARC-Concurrent-To", record_id)
        body = "".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode("utf-8")
        metadata = writer.create_warc_record(
            url, "metadata", payload=io.BytesIO(body), warc_content_type="application/warc-fields",
            warc_headers_dict={**common, "WARC-Concurrent-To": record_id},
        )  # fmt: skip
        return request, answer, metadata

    def _start_file(self) -> None:
        self.name = f"crawl-{self.serial:05d}.warc.gz"
        self.serial += 1
        buffer = io.BytesIO()
        writer = WARCWriter(buffer, gzip=True, warc_version=WARC_VERSION)
        info = {
            "software": f"Winnow/{__version__} (winnow crawl)",
            "operator": self.config.contact,
            "http-header-user-agent": self.config.user_agent,
            "robots": "obey (robots.txt, Crawl-delay, noai/noimageai, TDMRep, opt-out list)",
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "description": f"scope={self.config.scope} min_delay={self.config.min_delay}s",
        }
        record = writer.create_warcinfo_record(self.name, info)
        self.warcinfo_id = record.rec_headers.get_header("WARC-Record-ID")
        writer.write_record(record)
        self.committed[self.name] = 0
        self.committed[self.name] = self._append(buffer.getvalue())
        self.state.commit_warc(self.name, self.committed[self.name])

    def _append(self, data: bytes) -> int:
        assert self.name is not None
        path = self.folder / self.name
        with open(path, "ab") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
            size = f.tell()
        self.committed[self.name] = size
        return size
