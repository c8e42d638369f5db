"""What a site's owner allows: robots.txt (protego), Crawl-delay, sitemaps, the W3C TDM Reservation
Protocol (``/.well-known/tdmrep.json``, the ``tdm-reservation`` header and meta), ``noai``/``noimageai``
robots directives, and the operator's own opt-out list. Reasons are the ``optout`` step's names."""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from protego import Protego

from winnow.collect.fetch import Failure, Response
from winnow.steps.optout import OptOut, robots_directives

ROBOTS_DISALLOWED = "robots_disallowed"
ROBOTS_UNAVAILABLE = "robots_unavailable"  # robots.txt answered 5xx or not at all: RFC 9309 says assume disallow
TDM_RESERVATION = "tdm_reservation"
LOC = re.compile(r"<loc>\s*([^<\s]+)\s*</loc>", re.I)


@dataclass
class TdmRule:
    pattern: re.Pattern[str]
    reserved: bool
    policy: str | None


@dataclass
class SitePolicy:
    """The rules of one host, read once when the crawl first meets it."""

    robots: Protego | None  # None: robots.txt unavailable, nothing may be fetched
    crawl_delay: float | None = None
    sitemaps: list[str] = field(default_factory=list)
    tdm_rules: list[TdmRule] = field(default_factory=list)

    def refusal(self, url: str, agent: str) -> str | None:
        """Why robots.txt or tdmrep.json forbid this URL, or None."""
        if self.robots is None:
            return ROBOTS_UNAVAILABLE
        if not self.robots.can_fetch(url, agent):
            return ROBOTS_DISALLOWED
        path = urlsplit(url).path or "/"
        for rule in self.tdm_rules:
            if rule.pattern.match(path):
                return TDM_RESERVATION if rule.reserved else None
        return None


Get = Callable[[str], Awaitable[Response | Failure]]


async def read_robots(get: Get, host: str, agent: str) -> SitePolicy:
    """The robots.txt rules of ``host`` (scheme://netloc); ``get`` fetches politely.

    A 4xx means no rules; a 5xx or no answer means nothing may be fetched (RFC 9309 §2.3.1)."""
    answer = await get(f"{host}/robots.txt")
    if isinstance(answer, Failure) or answer.status >= 500:
        return SitePolicy(robots=None)
    robots = Protego.parse("" if answer.status >= 400 else answer.text())
    delay = robots.crawl_delay(agent)
    return SitePolicy(robots, float(delay) if delay is not None else None, list(robots.sitemaps))


async def read_tdmrep(get: Get, host: str) -> list[TdmRule]:
    answer = await get(f"{host}/.well-known/tdmrep.json")
    if isinstance(answer, Response) and answer.status == 200:
        return parse_tdmrep(answer.decoded())
    return []


def parse_tdmrep(body: bytes) -> list[TdmRule]:
    """The rules of a tdmrep.json file: ``[{"location": "/path/*", "tdm-reservation": 1, "tdm-policy": URL}]``.
    A file that is not such a list gives no rules (the page headers and meta still count)."""
    try:
        entries = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return []
    rules = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("location"), str):
            continue
        location = entry["location"]
        anchored = location.endswith("$")
        regex = ".*".join(re.escape(part) for part in location.rstrip("$").split("*"))
        pattern = re.compile(regex + ("$" if anchored else ""))
        reserved = str(entry.get("tdm-reservation", 0)).strip() == "1"
        rules.append(TdmRule(pattern, reserved, entry.get("tdm-policy")))
    return rules


def sitemap_urls(body: bytes) -> list[str]:
    """The <loc> URLs of a sitemap or sitemap index (gzip or not)."""
    if body[:2] == b"\x1f\x8b":
        try:
            body = zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(body)
        except zlib.error:
            return []
    return LOC.findall(body.decode("utf-8", "replace"))


def page_refusal(response: Response, robots_meta: set[str], tdm_meta: bool, use_tdmrep: bool) -> str | None:
    """Why the page itself says it is not for AI use: X-Robots-Tag / robots meta noai, noimageai, TDMRep."""
    directives, tdm_header = robots_directives({"http_headers": dict(_joined(response.headers))}, None)
    directives |= robots_meta
    if "noai" in directives:
        return "robots_noai"
    if "noimageai" in directives:
        return "robots_noimageai"
    if use_tdmrep and (tdm_header or tdm_meta):
        return TDM_RESERVATION
    return None


def _joined(headers: list[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in headers:
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


class OptOutList:
    """The operator's opt-out list (domains and URL prefixes), matched as the ``optout`` step matches it."""

    def __init__(self, path: str | None):
        self.step = OptOut(blocklist=path) if path else None
        if self.step is not None:
            self.step.check()

    def refusal(self, url: str) -> str | None:
        return self.step.blocked(url) if self.step is not None else None
