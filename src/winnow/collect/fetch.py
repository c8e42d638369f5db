"""One HTTP request, with the crawl's limits: a time limit, a size limit, a content-type allow list.

Redirects are not followed here (the crawler decides whether the target is in scope), the body is kept
as sent (``Content-Encoding`` and all: that is what a WARC response record holds) and the decoded body is
made for parsing only.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp

from winnow.collect.config import CrawlConfig

CHUNK = 1 << 16
# Hop-by-hop framing that does not describe the stored body (aiohttp has already de-chunked it).
FRAMING_HEADERS = {"transfer-encoding", "connection", "keep-alive"}


@dataclass
class Response:
    url: str
    status: int
    reason: str
    headers: list[tuple[str, str]]  # as received, minus the framing headers
    body: bytes  # as received (possibly gzip-encoded)
    request_headers: list[tuple[str, str]]
    started: datetime
    seconds: float
    peer_ip: str | None = None
    _decoded: bytes | None = field(default=None, repr=False)

    def header(self, name: str) -> str | None:
        lower = name.lower()
        values = [v for k, v in self.headers if k.lower() == lower]
        return ", ".join(values) if values else None

    @property
    def content_type(self) -> str:
        return (self.header("Content-Type") or "").split(";", 1)[0].strip().lower()

    def decoded(self) -> bytes:
        """The body without its Content-Encoding (gzip/deflate), for parsing; the stored body stays as sent."""
        if self._decoded is None:
            encoding = (self.header("Content-Encoding") or "").lower().strip()
            body = self.body
            if encoding in ("gzip", "x-gzip", "deflate"):
                try:
                    body = zlib.decompressobj(zlib.MAX_WBITS | 32).decompress(self.body)
                except zlib.error:
                    body = b""
            self._decoded = body
        return self._decoded

    def text(self) -> str:
        charset = "utf-8"
        for part in (self.header("Content-Type") or "").split(";")[1:]:
            key, _, value = part.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                charset = value.strip().strip("\"'")
        try:
            return self.decoded().decode(charset, "replace")
        except LookupError:
            return self.decoded().decode("utf-8", "replace")


@dataclass(frozen=True)
class Failure:
    """A request that gave no usable response: ``kind`` is timeout, too_large, content_type or connection."""

    url: str
    kind: str
    detail: str


class Fetcher:
    """An aiohttp session with the crawl's User-Agent and limits."""

    def __init__(self, config: CrawlConfig):
        self.config = config
        self.session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Fetcher:
        self.session = aiohttp.ClientSession(
            headers={"User-Agent": self.config.user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=aiohttp.ClientTimeout(total=self.config.response_timeout),
            auto_decompress=False,
            connector=aiohttp.TCPConnector(limit_per_host=1),  # never two connections to one host
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.session is not None:
            await self.session.close()

    async def get(self, url: str, check_type: bool = True, follow: bool = False) -> Response | Failure:
        assert self.session is not None, "use the Fetcher as an async context manager"
        started, clock = datetime.now(UTC), time.monotonic()
        try:
            async with self.session.get(url, allow_redirects=follow, max_redirects=5) as answer:
                return await self._read(url, answer, started, clock, check_type)
        except TimeoutError:
            return Failure(url, "timeout", f"no complete answer in {self.config.response_timeout:g} s")
        except (aiohttp.ClientError, OSError, asyncio.IncompleteReadError) as error:
            return Failure(url, "connection", f"{type(error).__name__}: {error}"[:300])

    async def _read(
        self, url: str, answer: aiohttp.ClientResponse, started: datetime, clock: float, check_type: bool
    ) -> Response | Failure:
        limit = self.config.max_response_bytes
        declared = answer.content_length
        content_type = (answer.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        if check_type and answer.status < 300 and content_type not in self.config.content_types:
            return Failure(url, "content_type", content_type or "no Content-Type")
        if declared is not None and declared > limit:
            return Failure(url, "too_large", f"Content-Length {declared} > {limit} bytes")
        body = bytearray()
        async for chunk in answer.content.iter_chunked(CHUNK):
            body += chunk
            if len(body) > limit:
                return Failure(url, "too_large", f"more than {limit} bytes")
        headers = [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in answer.raw_headers
            if k.decode("latin-1").lower() not in FRAMING_HEADERS
        ]
        peer = answer.connection.transport.get_extra_info("peername") if answer.connection else None
        return Response(
            url=str(answer.url),
            status=answer.status,
            reason=answer.reason or "",
            headers=headers,
            body=bytes(body),
            request_headers=[(k, v) for k, v in answer.request_info.headers.items()],
            started=started,
            seconds=time.monotonic() - clock,
            peer_ip=peer[0] if peer else None,
        )
