"""A throw-away PostgreSQL cluster for the tests: Debian's binaries (scripts/install-postgres.sh),
``initdb`` + ``pg_ctl`` run as the ``postgres`` user in a temp dir, on a free loopback port; stopped
and deleted afterwards. A missing server fails the tests, never skips them."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest


def _bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.fail("PostgreSQL is missing: run `bash scripts/install-postgres.sh` (make test does)", pytrace=False)
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(args: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return args
    return ["runuser", "-u", "postgres", "--", *args]


@dataclass
class Cluster:
    root: Path
    port: int
    bin: Path
    created: int = 0

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; its SQLAlchemy URL."""
        import psycopg

        self.created += 1
        name = f"t{os.getpid()}_{self.created}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(_as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-m", mode, "stop"]),
                       capture_output=True)  # fmt: skip


def start_cluster() -> Cluster:
    pg = _bin()
    root = Path(tempfile.mkdtemp(prefix="winnow-pg-"))
    os.chmod(root, 0o755)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data = root / "data"
    subprocess.run(_as_postgres([str(pg / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                                 "--no-sync"]), check=True, capture_output=True)  # fmt: skip
    port = _free_port()
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=300"
    subprocess.run(_as_postgres([str(pg / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w",
                                 "start"]), check=True, capture_output=True)  # fmt: skip
    return Cluster(root, port, pg)


def remove(cluster: Cluster) -> None:
    cluster.stop("immediate")
    shutil.rmtree(cluster.root, ignore_errors=True)
