"""Fixtures of the feedback tests: the same tests run on SQLite and on a real PostgreSQL cluster
(started once per session, one fresh database per test)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_cluster import Cluster, remove, start_cluster

from winnow.feedback.service import Feedback

os.environ.setdefault("WINNOW_FEEDBACK_ARGON2", "fast")  # argon2id at a low cost: the suite hashes many passwords

HH = Path(__file__).resolve().parents[1] / "data" / "shared" / "sft" / "hh-rlhf" / "harmless-base-test.jsonl.gz"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    cluster = start_cluster()
    yield cluster
    remove(cluster)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'feedback.db'}"
    return request.getfixturevalue("pg_cluster").new_database()


@pytest.fixture
def fb(db_url: str) -> Iterator[Feedback]:
    feedback = Feedback.open(db_url, create=True)
    yield feedback
    feedback.close()


@pytest.fixture
def hh_path() -> Path:
    return HH
