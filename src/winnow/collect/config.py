"""What a crawl is told: seeds, scope, politeness, limits. Polite defaults; tests shrink the delays."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from winnow.version import __version__

DEFAULT_CONTENT_TYPES = ("text/html", "application/xhtml+xml", "text/plain")


class CrawlConfig(BaseModel):
    """One crawl. Every field has a polite default except the seeds, the output and the contact URL."""

    model_config = ConfigDict(extra="forbid")

    seeds: list[str] = Field(min_length=1)
    output: str  # folder: warc/ files, state.sqlite, summary.json
    contact: str = Field(description="a URL or e-mail address site owners can reach the operator at")
    agent_name: str = "WinnowBot"
    scope: Literal["domain", "host", "prefix", "regex"] = "host"
    scope_regex: str | None = None  # with scope: regex, the URLs to keep (re.search)
    max_pages: int | None = None  # pages stored over the whole crawl
    max_depth: int = 8  # link hops from a seed; a calendar that links to itself forever stops here
    max_pages_per_host: int = 10_000
    min_delay: float = 1.0  # seconds between two requests to one host (Crawl-delay may ask for more)
    max_crawl_delay: float = 30.0  # a robots.txt Crawl-delay above this is capped (and said so in the summary)
    hosts_in_parallel: int = 8  # different hosts fetched at once; one request at a time per host
    content_types: list[str] = list(DEFAULT_CONTENT_TYPES)
    max_response_bytes: int = 5_000_000
    response_timeout: float = 30.0  # seconds for one response, headers and body
    max_retries: int = 3  # after 429/503 (and connection errors), with Retry-After or exponential backoff
    max_retry_after: float = 120.0  # a Retry-After above this gives up on the URL
    warc_max_bytes: int = 1_000_000_000  # a new WARC file when the current one is larger
    sitemaps: bool = True  # read the sitemaps robots.txt names (and /sitemap.xml) for more URLs
    optout_list: str | None = None  # domains / URL prefixes never fetched (the optout step's list format)
    respect_tdmrep: bool = True  # /.well-known/tdmrep.json, tdm-reservation header and meta
    progress: bool = True

    @field_validator("seeds")
    @classmethod
    def _http_seeds(cls, seeds: list[str]) -> list[str]:
        bad = [s for s in seeds if not re.match(r"(?i)^https?://[^/\s]+", s)]
        if bad:
            raise ValueError(f"seeds must be http(s) URLs: {', '.join(bad)}")
        return seeds

    @field_validator("contact")
    @classmethod
    def _real_contact(cls, contact: str) -> str:
        if not re.match(r"(?i)^(https?://\S+|mailto:\S+@\S+|\S+@\S+\.\S+)$", contact.strip()):
            raise ValueError("contact must be a URL or an e-mail address site owners can reach you at")
        return contact.strip()

    @model_validator(mode="after")
    def _regex_given(self) -> CrawlConfig:
        if self.scope == "regex":
            if not self.scope_regex:
                raise ValueError("scope: regex needs scope_regex")
            re.compile(self.scope_regex)
        return self

    @property
    def user_agent(self) -> str:
        return f"{self.agent_name}/{__version__} (+{self.contact}; Winnow dataset crawler)"
