"""Collection: the polite crawler that writes WARC (frontier, fetch, robots/TDM, WARC writer).

``crawl(CrawlConfig)`` fetches pages from seed URLs within a scope, obeys robots.txt and the owners'
wishes about AI use, writes WARC 1.1 files that the ``warc`` reader reads, and keeps its state on disk
so that a killed crawl resumes where it stopped. Async lives only here (DESIGN §7): the engine that
reads the WARC files afterwards stays process-based.
"""

from winnow.collect.config import CrawlConfig
from winnow.collect.crawler import CrawlSummary, crawl

__all__ = ["CrawlConfig", "CrawlSummary", "crawl"]
