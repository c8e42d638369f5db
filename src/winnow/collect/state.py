"""The crawl's state on disk (SQLite): the frontier, every URL seen and what became of it, and how much
of each WARC file is committed. A killed crawl reopens it and goes on: nothing stored is fetched again.

A page is *stored* in one step: its WARC records are appended and synced first, then one transaction
marks it stored, queues its links and moves the WARC file's committed length. A crash between the two
leaves bytes past the committed length; ``WarcFiles`` cuts them off on resume and the page is fetched
again, so every page is in the WARC files exactly once.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS urls (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT UNIQUE NOT NULL,
    host TEXT NOT NULL,
    depth INTEGER NOT NULL,
    via TEXT,
    status TEXT NOT NULL DEFAULT 'queued',  -- queued | stored | skipped | failed
    reason TEXT,
    tries INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER
);
CREATE INDEX IF NOT EXISTS urls_status ON urls (status);
CREATE TABLE IF NOT EXISTS warc_files (name TEXT PRIMARY KEY, committed INTEGER NOT NULL);
"""


@dataclass(frozen=True)
class QueuedUrl:
    url: str
    host: str
    depth: int
    via: str | None
    tries: int = 0


class CrawlState:
    """The frontier and the seen set of one crawl folder."""

    def __init__(self, path: Path):
        self.db = sqlite3.connect(path, isolation_level=None)  # explicit transactions below
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def add(self, items: list[QueuedUrl]) -> list[QueuedUrl]:
        """Queue the URLs never seen before; returns those (a seen URL, whatever became of it, is not new)."""
        with self._transaction():
            return self._add(items)

    def _add(self, items: list[QueuedUrl]) -> list[QueuedUrl]:
        new = []
        for item in items:
            cursor = self.db.execute(
                "INSERT OR IGNORE INTO urls (url, host, depth, via) VALUES (?, ?, ?, ?)",
                (item.url, item.host, item.depth, item.via),
            )
            if cursor.rowcount:
                new.append(item)
        return new

    def queued(self) -> list[QueuedUrl]:
        rows = self.db.execute("SELECT url, host, depth, via, tries FROM urls WHERE status = 'queued' ORDER BY seq")
        return [QueuedUrl(*row) for row in rows]

    def finish(self, url: str, status: str, reason: str | None = None, links: list[QueuedUrl] = ()) -> list[QueuedUrl]:
        """Record what became of a URL (not stored) and queue what it linked to."""
        with self._transaction():
            self.db.execute("UPDATE urls SET status = ?, reason = ? WHERE url = ?", (status, reason, url))
            return self._add(list(links))

    def stored(self, url: str, size: int, warc_name: str, committed: int, links: list[QueuedUrl]) -> list[QueuedUrl]:
        """Mark a page stored (its WARC records already synced up to ``committed``) and queue its links."""
        with self._transaction():
            self.db.execute("UPDATE urls SET status = 'stored', reason = NULL, bytes = ? WHERE url = ?", (size, url))
            self.db.execute(
                "INSERT INTO warc_files (name, committed) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET committed = excluded.committed",
                (warc_name, committed),
            )
            return self._add(links)

    def retry(self, url: str) -> None:
        self.db.execute("UPDATE urls SET tries = tries + 1 WHERE url = ?", (url,))

    def warc_files(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT name, committed FROM warc_files ORDER BY name"))

    def commit_warc(self, name: str, committed: int) -> None:
        self.db.execute(
            "INSERT INTO warc_files (name, committed) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET committed = excluded.committed",
            (name, committed),
        )

    def outcomes(self) -> Counter[tuple[str, str | None]]:
        rows = self.db.execute("SELECT status, reason, COUNT(*) FROM urls GROUP BY status, reason")
        return Counter({(status, reason): n for status, reason, n in rows})

    def stored_per_host(self) -> Counter[str]:
        rows = self.db.execute("SELECT host, COUNT(*) FROM urls WHERE status = 'stored' GROUP BY host")
        return Counter(dict(rows))

    def stored_bytes(self) -> int:
        return int(self.db.execute("SELECT COALESCE(SUM(bytes), 0) FROM urls WHERE status = 'stored'").fetchone()[0])

    def _transaction(self) -> _Transaction:
        return _Transaction(self.db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind, value, tb) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")
