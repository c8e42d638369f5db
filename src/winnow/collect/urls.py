"""URLs: normalisation (one spelling per page, so dedup works), scope, and the links of a page."""

from __future__ import annotations

import posixpath
import re
from html.parser import HTMLParser
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

from winnow.collect.config import CrawlConfig

DEFAULT_PORTS = {"http": 80, "https": 443}
# Characters left as they are when re-quoting a path or query (RFC 3986 reserved + unreserved, and %).
SAFE_PATH = "/:@!$&'()*+,;=-._~%"
SAFE_QUERY = SAFE_PATH + "?"


def normalize_url(url: str, base: str | None = None) -> str | None:
    """The canonical form of a URL (resolved against ``base``), or None when it is not http(s).

    Lower-cases scheme and host, drops the default port, the fragment and an empty query, resolves
    ``.``/``..`` segments and quotes the path and query the same way every time."""
    joined = urljoin(base, url.strip()) if base else url.strip()
    try:
        parts = urlsplit(joined)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.rstrip(".").lower()
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = parts.path or "/"
    trailing = path.endswith("/")
    path = posixpath.normpath(path)
    path = "/" if path in (".", "/", "//") else path + ("/" if trailing and not path.endswith("/") else "")
    path = quote(unquote(path), safe=SAFE_PATH)
    query = quote(unquote(parts.query), safe=SAFE_QUERY) if parts.query else ""
    return urlunsplit((scheme, netloc, path, query, ""))


def host_of(url: str) -> str:
    """scheme://host[:port]: the unit of politeness (one robots.txt, one delay)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _registered_domain(host: str) -> str:
    # Without a public-suffix list the last two labels stand for the site (example.org, not co.uk-aware).
    labels = host.split(".")
    return host if re.fullmatch(r"[\d.]+", host) or len(labels) <= 2 else ".".join(labels[-2:])


class Scope:
    """Which URLs a crawl may visit, by the seeds and the config's ``scope``."""

    def __init__(self, config: CrawlConfig, seeds: list[str]):
        self.kind = config.scope
        self.regex = re.compile(config.scope_regex) if config.scope_regex else None
        self.hosts = {urlsplit(s).netloc for s in seeds}
        self.domains = {_registered_domain(urlsplit(s).hostname or "") for s in seeds}
        self.prefixes = tuple(s if s.endswith("/") else s.rsplit("/", 1)[0] + "/" for s in seeds)

    def __contains__(self, url: str) -> bool:
        if self.kind == "regex":
            return bool(self.regex and self.regex.search(url))
        if self.kind == "prefix":
            return url.startswith(self.prefixes)
        parts = urlsplit(url)
        if self.kind == "host":
            return parts.netloc in self.hosts
        host = parts.hostname or ""
        return any(host == d or host.endswith("." + d) for d in self.domains)


class _PageParser(HTMLParser):
    """Collects <a href>, <base href> and the robots meta directives of a page in one pass."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.base: str | None = None
        self.robots: set[str] = set()
        self.tdm_reservation = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): v or "" for k, v in attrs}
        if tag in ("a", "area") and values.get("href") and "nofollow" not in values.get("rel", "").lower():
            self.links.append(values["href"])
        elif tag == "base" and values.get("href") and self.base is None:
            self.base = values["href"]
        elif tag == "meta":
            name = values.get("name", "").lower()
            content = values.get("content", "").lower()
            if name in ("robots", "winnowbot", "ccbot"):
                self.robots.update(d.strip() for d in content.split(",") if d.strip())
            elif name == "tdm-reservation" and content.strip() == "1":
                self.tdm_reservation = True


class PageFacts:
    """What a crawler needs from an HTML page: its links (normalised) and its robots directives."""

    def __init__(self, html: str, url: str):
        parser = _PageParser()
        try:
            parser.feed(html)
            parser.close()
        except (AssertionError, ValueError):  # html.parser gives up on some broken markup: keep what it saw
            pass
        base = urljoin(url, parser.base) if parser.base else url
        seen: dict[str, None] = {}
        for href in parser.links:
            link = normalize_url(href, base)
            if link is not None:
                seen.setdefault(link, None)
        self.links = list(seen)
        self.robots = parser.robots
        self.tdm_reservation = parser.tdm_reservation
