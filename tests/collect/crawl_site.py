"""A generated web site on loopback for the crawler tests: a real HTTP server (http.server, one thread per
request) whose access log is the evidence of what the crawler asked for, and when.

Every kind of page a polite crawler must handle: robots rules and Crawl-delay, a sitemap, noai and
noimageai pages (meta and X-Robots-Tag), a TDM-reserved section (tdmrep.json) and TDM header/meta pages,
redirects in and out of scope, 404/500, a slow page, a huge page, JSON and PNG, a 429 with Retry-After,
a nofollow page, and a calendar that links to next month forever."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HUGE_BYTES = 3_000_000
SLOW_SECONDS = 2.0


@dataclass(frozen=True)
class Hit:
    arrived: float  # time.monotonic() when the request line was read
    done: float  # when the answer was written
    path: str  # path and query as requested
    user_agent: str


def html(title: str, body: str, head: str = "") -> bytes:
    return f"<!doctype html><html><head><title>{title}</title>{head}</head><body>{body}</body></html>".encode()


def page_text(i: int) -> str:
    return f"<h1>Page {i}</h1><p>This is page number {i} of the generated test site, written for the crawler tests.</p>"


class Site:
    """The site's content by path; ``pages`` plain pages chain page-0 → page-1 → …"""

    def __init__(self, pages: int = 8, crawl_delay: float | None = 0.1, home_links: bool = True):
        self.pages, self.crawl_delay, self.home_links = pages, crawl_delay, home_links
        self.log: list[Hit] = []
        self.lock = threading.Lock()
        self.retry_answers = 0

    def answer(self, path: str, base: str) -> tuple[int, list[tuple[str, str]], bytes | None]:
        """(status, headers, body) for a path; body None means the handler streams a special answer."""
        parts = urlsplit(path)
        route = parts.path
        page = "text/html; charset=utf-8"
        if route == "/robots.txt":
            lines = ["User-agent: *", "Disallow: /private/", f"Sitemap: {base}/sitemap.xml"]
            if self.crawl_delay is not None:
                lines.insert(2, f"Crawl-delay: {self.crawl_delay}")
            return 200, [("Content-Type", "text/plain")], ("\n".join(lines) + "\n").encode()
        if route == "/.well-known/tdmrep.json":
            rules = [{"location": "/tdm/*", "tdm-reservation": 1, "tdm-policy": f"{base}/policy.json"}]
            return 200, [("Content-Type", "application/json")], json.dumps(rules).encode()
        if route == "/sitemap.xml":
            body = f'<?xml version="1.0"?><urlset><url><loc>{base}/from-sitemap.html</loc></url></urlset>'
            return 200, [("Content-Type", "application/xml")], body.encode()
        if route == "/":
            return 200, [("Content-Type", page)], html("Home", self._home_links())
        if route.startswith("/page-") and route.endswith(".html"):
            i = int(route[6:-5])
            nxt = f'<a href="/page-{i + 1}.html">next</a>' if i + 1 < self.pages else ""
            home = '<a href="/">home</a>' if self.home_links else ""
            return 200, [("Content-Type", page)], html(f"Page {i}", page_text(i) + nxt + home)
        if route == "/calendar":
            month = int(parse_qs(parts.query).get("month", ["0"])[0])
            body = f"<p>Events of month {month}: none.</p><a href='/calendar?month={month + 1}'>next month</a>"
            return 200, [("Content-Type", page)], html(f"Month {month}", body)
        return self._special(route, base, page)

    def _home_links(self) -> str:
        links = [
            "/page-0.html", "/./page-0.html#top", "/PAGE-0.html", "/private/secret.html", "/noai.html",
            "/noai-header.html", "/noimageai.html", "/tdm/reserved.html", "/tdm-meta.html", "/tdm-header.html",
            "/blocked/page.html", "/redirect-in", "/redirect-out", "/missing", "/error", "/slow.html",
            "/huge.html", "/data.json", "/image.png", "/calendar?month=0", "/retry.html", "/nofollow.html",
            "http://localhost:1/elsewhere.html", "mailto:someone@example.org",
        ]  # fmt: skip
        return "".join(f'<a href="{link}">{link}</a> ' for link in links)

    def _special(self, route: str, base: str, page: str) -> tuple[int, list[tuple[str, str]], bytes | None]:
        if route == "/noai.html":
            return (
                200,
                [("Content-Type", page)],
                html("No AI", "<p>not for AI</p>", '<meta name="robots" content="noai">'),
            )
        if route == "/noimageai.html":
            return (
                200,
                [("Content-Type", page)],
                html("No images", "<p>x</p>", '<meta name="robots" content="noimageai">'),
            )
        if route == "/noai-header.html":
            return 200, [("Content-Type", page), ("X-Robots-Tag", "noai")], html("No AI", "<p>header says no</p>")
        if route == "/tdm-meta.html":
            head = '<meta name="tdm-reservation" content="1">'
            return 200, [("Content-Type", page)], html("TDM", "<p>reserved by meta</p>", head)
        if route == "/tdm-header.html":
            return 200, [("Content-Type", page), ("tdm-reservation", "1")], html("TDM", "<p>reserved by header</p>")
        if route == "/redirect-in":
            return 301, [("Location", "/target.html")], b""
        if route == "/redirect-out":
            return 302, [("Location", "http://localhost:1/away.html")], b""
        if route == "/error":
            return 500, [("Content-Type", page)], html("Error", "<p>server error</p>")
        if route in ("/slow.html", "/huge.html"):
            return 200, [("Content-Type", page)], None
        if route == "/data.json":
            return 200, [("Content-Type", "application/json")], b'{"not": "a page"}'
        if route == "/image.png":
            return 200, [("Content-Type", "image/png")], b"\x89PNG\r\n\x1a\n" + bytes(64)
        if route == "/retry.html":
            with self.lock:
                self.retry_answers += 1
                first = self.retry_answers == 1
            if first:
                return 429, [("Retry-After", "1"), ("Content-Type", page)], html("Slow down", "<p>too many</p>")
            return 200, [("Content-Type", page)], html("Retry", "<p>answered after a Retry-After wait</p>")
        if route == "/nofollow.html":
            head = '<meta name="robots" content="nofollow">'
            return 200, [("Content-Type", page)], html("No follow", '<a href="/only-via-nofollow.html">x</a>', head)
        if route in ("/target.html", "/from-sitemap.html", "/blocked/page.html", "/private/secret.html"):
            return 200, [("Content-Type", page)], html(route, f"<p>the page at {route}</p>")
        if route.startswith("/tdm/"):
            return 200, [("Content-Type", page)], html("Reserved", "<p>reserved section</p>")
        return 404, [("Content-Type", page)], html("Not found", "<p>no such page</p>")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    site: Site
    base: str

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        arrived = time.monotonic()
        status, headers, body = self.site.answer(self.path, self.base)
        try:
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            if body is not None:
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            else:
                self._stream(self.path)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        with self.site.lock:
            self.site.log.append(Hit(arrived, time.monotonic(), self.path, self.headers.get("User-Agent", "")))

    def _stream(self, path: str) -> None:
        # no Content-Length: the crawler must cut the huge page by counting, and time out the slow one
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if path.startswith("/slow"):
            time.sleep(SLOW_SECONDS)
            self.wfile.write(html("Slow", "<p>finally</p>"))
            return
        chunk = b"<p>" + b"x" * 65_000 + b"</p>"
        for _ in range(HUGE_BYTES // len(chunk) + 1):
            self.wfile.write(chunk)

    def log_message(self, format: str, *args: object) -> None:  # the Hit log is the record; keep stderr quiet
        pass


class SiteServer:
    """``with SiteServer(site) as base:`` serves ``site`` at http://127.0.0.1:<free port>."""

    def __init__(self, site: Site):
        self.site = site
        handler = type("Handler", (_Handler,), {"site": site})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        handler.base = self.base
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        return self.base

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
