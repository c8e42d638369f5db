"""The tables. Overlap is held by the schema, not by luck: a record gets exactly ``overlap`` rows in
``assignments`` when it is imported (slot 0..N-1, unique per record), and a slot changes hands only
through a compare-and-set UPDATE (``state = 'open'`` → leased by one user). However many people ask
at the same instant, a record can never hold more than N answers; ``(record_id, user_id)`` is unique
too, so no one answers a record twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ROLES = ("owner", "admin", "reviewer", "annotator")  # most powerful first
OPEN, LEASED, SUBMITTED = "open", "leased", "submitted"


class Base(DeclarativeBase):
    pass


class Setting(Base):
    """Instance-wide values: the session signing secret (made at init, never a default)."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # the instance-wide role (owner, admin: every project)
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiToken(Base):
    """A REST API token: only its SHA-256 is stored (the token is 32 random bytes, shown once)."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LoginAttempt(Base):
    """Failed logins, for rate limiting across worker processes."""

    __tablename__ = "login_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    task: Mapped[str] = mapped_column(String(16))  # pairwise | rating | label | ranking | correction
    question: Mapped[dict] = mapped_column(JSON)  # the question's settings (labels, scale, points …)
    guidelines: Mapped[str] = mapped_column(Text, default="")
    guideline_version: Mapped[int] = mapped_column(Integer, default=1)
    overlap: Mapped[int] = mapped_column(Integer)
    blind: Mapped[bool] = mapped_column(Boolean, default=False)
    show_suggestions: Mapped[bool] = mapped_column(Boolean, default=False)
    # auto: anyone takes the next open slot; explicit: only the slots reserved for them (Tasks.assign)
    assignment: Mapped[str] = mapped_column(String(16), default="auto", server_default="auto")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Member(Base):
    """A user's role in one project (owners and admins reach every project without one)."""

    __tablename__ = "members"
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))


class ImportBatch(Base):
    __tablename__ = "imports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(Text)
    records: Mapped[int] = mapped_column(Integer, default=0)  # records added (re-imported ones not counted)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Record(Base):
    """One record to judge: the Winnow record (conversation columns) as JSON, and its import."""

    __tablename__ = "records"
    __table_args__ = (UniqueConstraint("project_id", "external_id"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str] = mapped_column(String(512))
    import_id: Mapped[int] = mapped_column(ForeignKey("imports.id"))
    data: Mapped[dict] = mapped_column(JSON)  # kind, messages, chosen, rejected, completion(s), source, meta …
    swap: Mapped[bool] = mapped_column(Boolean, default=False)  # pairwise: A shows the rejected side


class Assignment(Base):
    """Slot ``slot`` of a record: open, leased to a user (the task they see), or submitted (an answer).
    An open slot with a ``user_id`` is reserved for that user (explicit assignment): only they take it."""

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("record_id", "slot"),
        UniqueConstraint("record_id", "user_id"),
        Index("ix_assignments_queue", "project_id", "state", "record_id", "slot"),
        # record_id last: "the first slot reserved for this user, in record order" is a range scan of it
        Index("ix_assignments_user", "project_id", "user_id", "state", "record_id"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    slot: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default=OPEN)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    leased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    value: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # the answer (or a draft while leased)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    seconds: Mapped[float | None] = mapped_column(Float, nullable=True)  # lease → submit
    guideline_version: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Skip(Base):
    __tablename__ = "skips"
    __table_args__ = (UniqueConstraint("record_id", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Adjudication(Base):
    """A reviewer's final answer for a record: it wins over the annotators' answers in exports."""

    __tablename__ = "adjudications"
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    value: Mapped[dict] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
