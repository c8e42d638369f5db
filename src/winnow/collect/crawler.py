"""The crawl loop: one task per host (so one request at a time per host, with the delay between them),
up to ``hosts_in_parallel`` hosts at once; every URL ends stored, skipped or failed, with its reason."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path

from winnow.collect.config import CrawlConfig
from winnow.collect.fetch import Failure, Fetcher, Response
from winnow.collect.policy import OptOutList, SitePolicy, page_refusal, read_robots, read_tdmrep, sitemap_urls
from winnow.collect.progress import CrawlProgress, CrawlSummary
from winnow.collect.state import CrawlState, QueuedUrl
from winnow.collect.urls import PageFacts, Scope, host_of, normalize_url
from winnow.collect.warc_writer import WarcFiles
from winnow.coroutines import run_coroutine
from winnow.errors import RecipeError

RETRY_STATUSES = (429, 503)
HTML_TYPES = ("text/html", "application/xhtml+xml")
STATE_FILE = "state.sqlite"


@dataclass
class HostQueue:
    """One host's frontier and the earliest time (monotonic) its next request may start."""

    host: str
    urls: deque[QueuedUrl] = field(default_factory=deque)
    policy: SitePolicy | None = None
    next_request: float = 0.0
    delay: float = 0.0


def crawl(config: CrawlConfig, resume: bool = False) -> CrawlSummary:
    """Run (or, with ``resume``, continue) the crawl that ``config`` describes; returns its summary."""
    out = Path(config.output)
    if (out / STATE_FILE).exists() and not resume:
        raise RecipeError(f"{out} already holds a crawl; pass --resume to continue it, or choose another folder")
    out.mkdir(parents=True, exist_ok=True)
    return run_coroutine(Crawler(config, out).run())


class Crawler:
    def __init__(self, config: CrawlConfig, out: Path):
        self.config, self.out = config, out
        self.state = CrawlState(out / STATE_FILE)
        self.warc = WarcFiles(out / "warc", config, self.state)
        self.optout = OptOutList(config.optout_list)
        seeds = [u for u in (normalize_url(s) for s in config.seeds) if u]
        self.scope = Scope(config, seeds)
        self.hosts: dict[str, HostQueue] = {}
        self.stored_per_host = self.state.stored_per_host()
        self.stored_total = sum(self.stored_per_host.values())
        self.progress = CrawlProgress(config, self.stored_total, self.state.stored_bytes())
        self.state.add([QueuedUrl(u, host_of(u), 0, None) for u in seeds])
        for item in self.state.queued():  # on resume: everything queued when the crawl stopped
            self._enqueue(item)

    async def run(self) -> CrawlSummary:
        started = time.monotonic()
        tasks: dict[str, asyncio.Task] = {}
        try:
            async with Fetcher(self.config) as self.fetcher:
                while True:
                    for host, queue in self.hosts.items():
                        if queue.urls and host not in tasks and len(tasks) < self.config.hosts_in_parallel:
                            tasks[host] = asyncio.create_task(self._host_loop(queue))
                    if not tasks:
                        break
                    done, _ = await asyncio.wait(tasks.values(), timeout=0.05, return_when=asyncio.FIRST_COMPLETED)
                    for host in [h for h, t in tasks.items() if t in done]:
                        tasks.pop(host).result()  # a bug in the loop surfaces here, not silently
        finally:
            for task in tasks.values():
                task.cancel()
            self.progress.close()
            summary = self.progress.summary(self.state, self.warc.files(), time.monotonic() - started)
            summary.write(self.out / "summary.json")
            self.state.close()
        return summary

    def _enqueue(self, item: QueuedUrl, front: bool = False) -> None:
        queue = self.hosts.setdefault(item.host, HostQueue(item.host))
        (queue.urls.appendleft if front else queue.urls.append)(item)

    def _full(self) -> bool:
        return self.config.max_pages is not None and self.stored_total >= self.config.max_pages

    async def _host_loop(self, queue: HostQueue) -> None:
        while queue.urls and not self._full():
            item = queue.urls.popleft()
            if queue.policy is None:
                await self._load_policy(queue)
            refusal = self._refusal(queue, item)
            if refusal is not None:
                self._finish(item, "skipped", refusal)
                continue
            await self._wait_turn(queue)
            answer = await self.fetcher.get(item.url)
            queue.next_request = time.monotonic() + queue.delay
            self.progress.request()
            await self._handle(queue, item, answer)

    async def _wait_turn(self, queue: HostQueue) -> None:
        pause = queue.next_request - time.monotonic()
        if pause > 0:
            await asyncio.sleep(pause)

    async def _load_policy(self, queue: HostQueue) -> None:
        queue.delay = self.config.min_delay  # until robots.txt says more

        async def polite_get(url: str) -> Response | Failure:
            await self._wait_turn(queue)
            answer = await self.fetcher.get(url, check_type=False, follow=True)
            queue.next_request = time.monotonic() + queue.delay
            self.progress.request()
            return answer

        policy = await read_robots(polite_get, queue.host, self.config.agent_name)
        delay = policy.crawl_delay or 0.0
        if delay > self.config.max_crawl_delay:
            self.progress.note(f"{queue.host}: Crawl-delay {delay:g} s capped at {self.config.max_crawl_delay:g} s")
        queue.delay = max(self.config.min_delay, min(delay, self.config.max_crawl_delay))
        queue.next_request = time.monotonic() + queue.delay
        if self.config.respect_tdmrep and policy.robots is not None:
            policy.tdm_rules = await read_tdmrep(polite_get, queue.host)
        queue.policy = policy
        if self.config.sitemaps and queue.policy.robots is not None:
            await self._read_sitemaps(queue)

    async def _read_sitemaps(self, queue: HostQueue) -> None:
        assert queue.policy is not None
        pending = deque(queue.policy.sitemaps or [f"{queue.host}/sitemap.xml"])
        seen: set[str] = set()
        while pending and len(seen) < 20:  # an index of indexes is followed, a little
            sitemap = normalize_url(pending.popleft())
            if not sitemap or sitemap in seen or host_of(sitemap) != queue.host:
                continue
            seen.add(sitemap)
            await self._wait_turn(queue)
            answer = await self.fetcher.get(sitemap, check_type=False)
            queue.next_request = time.monotonic() + queue.delay
            self.progress.request()
            if not isinstance(answer, Response) or answer.status != 200:
                continue
            for loc in sitemap_urls(answer.body):
                if loc.rstrip("/").endswith((".xml", ".xml.gz")) and "sitemap" in loc.lower():
                    pending.append(loc)
                else:
                    self._queue_links([loc], via=sitemap, depth=1)

    def _refusal(self, queue: HostQueue, item: QueuedUrl) -> str | None:
        assert queue.policy is not None
        refusal = self.optout.refusal(item.url) or queue.policy.refusal(item.url, self.config.agent_name)
        if refusal is None and self.stored_per_host[item.host] >= self.config.max_pages_per_host:
            refusal = "host_page_cap"
        return refusal

    async def _handle(self, queue: HostQueue, item: QueuedUrl, answer: Response | Failure) -> None:
        if isinstance(answer, Failure):
            if answer.kind == "connection" and item.tries < self.config.max_retries:
                self._retry(queue, item, None)
            else:
                self._finish(item, "failed" if answer.kind in ("timeout", "connection") else "skipped", answer.kind)
            return
        if answer.status in RETRY_STATUSES:
            if item.tries < self.config.max_retries and self._retry(queue, item, answer.header("Retry-After")):
                return
            self._finish(item, "failed", f"http_{answer.status}")
        elif 300 <= answer.status < 400:
            self._redirect(item, answer)
        elif answer.status >= 400 or answer.status < 200:
            self._finish(item, "failed", f"http_{answer.status}")
        else:
            self._page(item, answer)

    def _retry(self, queue: HostQueue, item: QueuedUrl, retry_after: str | None) -> bool:
        """Back off and queue the URL again first; False when the server asks for too long a wait."""
        wait = _retry_after_seconds(retry_after)
        if wait is None:
            wait = max(queue.delay, 0.5) * 2**item.tries
        if wait > self.config.max_retry_after:
            return False
        queue.next_request = max(queue.next_request, time.monotonic() + wait)
        self.state.retry(item.url)
        self.progress.retry()
        self._enqueue(QueuedUrl(item.url, item.host, item.depth, item.via, item.tries + 1), front=True)
        return True

    def _redirect(self, item: QueuedUrl, answer: Response) -> None:
        target = normalize_url(answer.header("Location") or "", item.url)
        if target is None:
            self._finish(item, "failed", "redirect_without_location")
        elif target not in self.scope:
            self._finish(item, "skipped", "redirect_out_of_scope")
        else:
            self._finish(item, "skipped", "redirect", links=[target], depth=item.depth)

    def _page(self, item: QueuedUrl, answer: Response) -> None:
        links: list[str] = []
        robots_meta: set[str] = set()
        tdm_meta = False
        if answer.content_type in HTML_TYPES:
            facts = PageFacts(answer.text(), answer.url)
            robots_meta, tdm_meta = facts.robots, facts.tdm_reservation
            if "nofollow" not in robots_meta and "none" not in robots_meta:
                links = facts.links
        refusal = page_refusal(answer, robots_meta, tdm_meta, self.config.respect_tdmrep)
        if refusal is not None:  # not stored; its links may still be followed (noai is not nofollow)
            self._finish(item, "skipped", refusal, links=links, depth=item.depth + 1)
            return
        fields = {
            "obtained-by": "winnow crawl",
            "via": item.via or "seed",
            "depth": str(item.depth),
            "fetch-seconds": f"{answer.seconds:.3f}",
            "robots-txt": "allowed",
        }
        name, committed = self.warc.write(answer, fields)
        new = self.state.stored(
            item.url, len(answer.body), name, committed, self._links(links, item.url, item.depth + 1)
        )
        for link in new:
            self._enqueue(link)
        self.stored_total += 1
        self.stored_per_host[item.host] += 1
        self.progress.stored(len(answer.body))

    def _finish(
        self, item: QueuedUrl, status: str, reason: str, links: list[str] = (), depth: int | None = None
    ) -> None:
        queued = self._links(list(links), item.url, item.depth + 1 if depth is None else depth)
        for link in self.state.finish(item.url, status, reason, queued):
            self._enqueue(link)
        self.progress.outcome(status, reason)

    def _links(self, links: list[str], via: str, depth: int) -> list[QueuedUrl]:
        if depth > self.config.max_depth:
            self.progress.outcome("skipped", "max_depth", len(links))
            return []
        kept = [link for link in links if link in self.scope]
        self.progress.outcome("skipped", "out_of_scope_link", len(links) - len(kept))
        return [QueuedUrl(link, host_of(link), depth, via) for link in kept]

    def _queue_links(self, links: list[str], via: str, depth: int) -> None:
        normalised = [u for u in (normalize_url(link) for link in links) if u]
        for link in self.state.add(self._links(normalised, via, depth)):
            self._enqueue(link)


def _retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.replace(".", "", 1).isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())
