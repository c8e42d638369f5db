"""Engines and sessions. SQLite runs in WAL mode with a busy timeout, and every write transaction
starts with ``BEGIN IMMEDIATE`` (it takes the write lock first, so two writers never both read a
free slot and then fail to upgrade); reads use a second engine with plain ``BEGIN``. PostgreSQL runs
at READ COMMITTED; the slot UPDATEs re-check their condition on the locked row, and the queue query
uses ``FOR UPDATE SKIP LOCKED`` so concurrent annotators do not queue on the same slot.

SQLite has one writer at a time anyway; within a process the writers queue on a Python lock first,
so a waiting thread sleeps until the lock is free instead of polling SQLite's busy handler (across
worker processes the busy timeout still orders them). JSON columns are written and read with orjson.

Bulk inserts (an import) go through the driver: ``executemany`` on SQLite, ``COPY … FROM STDIN`` on
PostgreSQL, with the primary keys reserved first (a record's slots need its id, and neither path
returns one)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from winnow.errors import WinnowError

MIGRATIONS = Path(__file__).parent / "migrations"
LOCK_SECONDS = 30  # as SQLite's busy timeout: past it, the write goes on to SQLite's own lock


def json_text(value: Any) -> str:
    """A JSON column's text (orjson; keys that are not strings are written as strings)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


JSON_ARGS = {"json_serializer": json_text, "json_deserializer": orjson.loads}


def _sqlite_engine(url: str, immediate: bool) -> Engine:
    engine = create_engine(
        url, connect_args={"timeout": 30, "check_same_thread": False}, pool_pre_ping=False, **JSON_ARGS
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a commit survives a process kill
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:  # type: ignore[no-untyped-def]
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """A feedback database by URL: ``sqlite:///feedback.db`` or ``postgresql+psycopg://…``."""

    def __init__(self, url: str):
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        self.url = url
        self.dialect = url.split(":", 1)[0].split("+", 1)[0]
        if self.dialect == "sqlite":
            self.engine = _sqlite_engine(url, immediate=True)
            self.read_engine = _sqlite_engine(url, immediate=False)
        elif self.dialect == "postgresql":
            self.engine = create_engine(url, pool_size=20, max_overflow=40, **JSON_ARGS)
            self.read_engine = self.engine
        else:
            raise WinnowError(f"unsupported database {url!r}: use sqlite:///FILE or postgresql+psycopg://…")
        self._write = sessionmaker(self.engine, expire_on_commit=False)
        self._read = sessionmaker(self.read_engine, expire_on_commit=False)
        self._lock = threading.Lock() if self.dialect == "sqlite" else None

    @property
    def postgres(self) -> bool:
        return self.dialect == "postgresql"

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: committed when the block ends, rolled back on an exception."""
        locked = self._lock is not None and self._lock.acquire(timeout=LOCK_SECONDS)
        try:
            with self._write() as session, session.begin():
                yield session
        finally:
            if locked:
                self._lock.release()  # type: ignore[union-attr]

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session, session.begin():
            yield session

    def reserve_ids(self, session: Session, table: str, n: int) -> list[int]:
        """``n`` fresh primary keys of ``table`` for rows this write transaction inserts itself."""
        if self.postgres:
            sql = f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, {int(n)})"
            return list(session.connection().exec_driver_sql(sql).scalars())
        # SQLite: the write transaction (BEGIN IMMEDIATE) holds the database's write lock
        first = session.connection().exec_driver_sql(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").scalar_one()
        return list(range(first, first + n))

    def bulk_insert(self, session: Session, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        """Insert plain rows (JSON columns already as text) in the session's transaction."""
        if not rows:
            return
        names = ", ".join(columns)
        if self.postgres:
            raw = session.connection().connection.driver_connection
            with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:  # type: ignore[union-attr]
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join("?" * len(columns))
        session.connection().exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)

    def analyze(self, *tables: str) -> None:
        """Refresh the planner's statistics of ``tables`` (after a big import)."""
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in tables:
                connection.exec_driver_sql(f"ANALYZE {table}")

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()


def alembic_config(url: str):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(db: Database) -> None:
    """Bring the schema to the newest migration (``alembic upgrade head``)."""
    from alembic import command

    config = alembic_config(db.url)
    with db.engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        connection.commit()
