"""Progress while crawling (pages, bytes, errors by kind) and the summary at the end (``summary.json``)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm import tqdm

from winnow.collect.config import CrawlConfig
from winnow.collect.state import CrawlState


@dataclass
class CrawlSummary:
    """What a crawl did. ``skipped`` and ``failed`` count URLs by reason over the whole crawl (resumes
    included); ``links_not_followed`` counts this run's links left out (out of scope, too deep)."""

    pages_stored: int
    bytes_stored: int
    requests: int  # this run, robots.txt, tdmrep.json and sitemaps included
    retries: int
    queued: int  # URLs still in the frontier (a page cap was reached, or the crawl was stopped)
    skipped: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    links_not_followed: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    warc_files: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")

    def lines(self) -> list[str]:
        out = [
            f"stored {self.pages_stored} pages ({self.bytes_stored / 1e6:.1f} MB) in {self.seconds:.1f} s, "
            f"{self.requests} requests, {self.retries} retries, {self.queued} still queued"
        ]
        for title, counts in (("skipped", self.skipped), ("failed", self.failed)):
            if counts:
                out.append(f"{title}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        if self.links_not_followed:
            out.append(
                "links not followed: " + ", ".join(f"{k} {v}" for k, v in sorted(self.links_not_followed.items()))
            )
        out += self.notes
        out.append("WARC: " + ", ".join(self.warc_files))
        return out


class CrawlProgress:
    """Counts of this run, shown on a progress bar (stderr) when ``config.progress``."""

    def __init__(self, config: CrawlConfig, stored: int, stored_bytes: int):
        self.requests = self.retries = 0
        self.stored_now, self.bytes = stored, stored_bytes
        self.links: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.notes: list[str] = []
        self.bar = tqdm(
            total=config.max_pages, initial=stored, unit="page", disable=not config.progress, dynamic_ncols=True
        )

    def request(self) -> None:
        self.requests += 1

    def retry(self) -> None:
        self.retries += 1

    def note(self, text: str) -> None:
        self.notes.append(text)

    def stored(self, size: int) -> None:
        self.stored_now += 1
        self.bytes += size
        self.bar.update(1)
        self._postfix()

    def outcome(self, status: str, reason: str, count: int = 1) -> None:
        if count <= 0:
            return
        if reason in ("out_of_scope_link", "max_depth"):
            self.links[reason] += count
        elif status != "skipped" or reason in ("timeout", "too_large", "content_type"):
            self.errors[reason] += count
            self._postfix()

    def _postfix(self) -> None:
        errors = " ".join(f"{k}={v}" for k, v in self.errors.most_common(4))
        self.bar.set_postfix_str(f"{self.bytes / 1e6:.1f} MB {errors}".strip(), refresh=False)

    def close(self) -> None:
        self.bar.close()

    def summary(self, state: CrawlState, warc_files: list[Path], seconds: float) -> CrawlSummary:
        outcomes = state.outcomes()
        by = {"skipped": {}, "failed": {}}
        for (status, reason), n in outcomes.items():
            if status in by:
                by[status][reason or "unknown"] = n
        return CrawlSummary(
            pages_stored=sum(n for (status, _), n in outcomes.items() if status == "stored"),
            bytes_stored=state.stored_bytes(),
            requests=self.requests,
            retries=self.retries,
            queued=sum(n for (status, _), n in outcomes.items() if status == "queued"),
            skipped=dict(sorted(by["skipped"].items())),
            failed=dict(sorted(by["failed"].items())),
            links_not_followed=dict(sorted(self.links.items())),
            notes=self.notes,
            warc_files=[p.name for p in warc_files],
            seconds=round(seconds, 3),
        )
