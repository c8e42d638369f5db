"""Accounts: argon2 password hashes, one-time passwords, API tokens (stored as SHA-256), login rate
limiting (failed attempts in the database, so every worker process sees them)."""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select

from winnow.feedback.service.errors import FeedbackError, Forbidden, NotFound
from winnow.feedback.store import ApiToken, Database, LoginAttempt, Member, Setting, User
from winnow.feedback.store.models import ROLES

LOGIN_WINDOW = timedelta(minutes=5)
LOGIN_LIMIT = 10  # failed attempts per name (or per address) in the window


def password_hasher() -> PasswordHasher:
    """argon2id with the library's defaults (RFC 9106's second recommendation); the test suite sets
    WINNOW_FEEDBACK_ARGON2=fast for a cheaper cost, the same algorithm and code path."""
    if os.environ.get("WINNOW_FEEDBACK_ARGON2") == "fast":
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHasher()


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role in ("owner", "admin")


def now() -> datetime:
    return datetime.now(UTC)


def check_role(role: str) -> str:
    if role not in ROLES:
        raise FeedbackError(f"unknown role {role!r} (choices: {', '.join(ROLES)})")
    return role


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Users:
    def __init__(self, db: Database):
        self.db = db
        self.hasher = password_hasher()

    def add(self, name: str, role: str, password: str | None = None) -> tuple[Account, str]:
        """A new user and their password (a random one-time password unless given)."""
        check_role(role)
        if not name or len(name) > 128 or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise FeedbackError(f"user name {name!r}: letters, digits, '-', '_' or '.', at most 128")
        password = password or secrets.token_urlsafe(12)
        with self.db.write() as s:
            if s.scalar(select(User.id).where(User.name == name)) is not None:
                raise FeedbackError(f"user {name!r} exists")
            user = User(name=name, role=role, password_hash=self.hasher.hash(password), active=True, created_at=now())
            s.add(user)
            s.flush()
            return Account(user.id, user.name, user.role), password

    def get(self, name: str) -> Account:
        with self.db.read() as s:
            user = s.scalar(select(User).where(User.name == name))
            if user is None:
                raise NotFound(f"no user {name!r}")
            return Account(user.id, user.name, user.role)

    def by_id(self, user_id: int) -> Account | None:
        with self.db.read() as s:
            user = s.get(User, user_id)
            return Account(user.id, user.name, user.role) if user is not None and user.active else None

    def list(self) -> list[Account]:
        with self.db.read() as s:
            return [Account(u.id, u.name, u.role) for u in s.scalars(select(User).order_by(User.name))]

    def set_password(self, name: str, password: str | None = None) -> str:
        password = password or secrets.token_urlsafe(12)
        with self.db.write() as s:
            user = s.scalar(select(User).where(User.name == name))
            if user is None:
                raise NotFound(f"no user {name!r}")
            user.password_hash = self.hasher.hash(password)
        return password

    def login(self, name: str, password: str, address: str = "") -> Account:
        """The account, or Forbidden (wrong name or password, or too many failures lately)."""
        cutoff = now() - LOGIN_WINDOW
        with self.db.read() as s:
            by_name = s.scalar(select(func.count()).where(LoginAttempt.name == name, LoginAttempt.at > cutoff))
            by_address = s.scalar(select(func.count()).where(LoginAttempt.address == address, LoginAttempt.at > cutoff))
            user = s.scalar(select(User).where(User.name == name, User.active.is_(True)))
        if (by_name or 0) >= LOGIN_LIMIT or (address and (by_address or 0) >= LOGIN_LIMIT * 3):
            raise RateLimited("too many failed logins: wait a few minutes")
        try:
            if user is None:
                self.hasher.hash(password)  # the same time spent whether or not the name exists
                raise VerificationError
            self.hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            with self.db.write() as s:
                s.add(LoginAttempt(name=name[:128], address=address[:64], at=now()))
            raise Forbidden("wrong user name or password") from None
        with self.db.write() as s:
            s.execute(delete(LoginAttempt).where(LoginAttempt.name == name))
        return Account(user.id, user.name, user.role)

    def create_token(self, name: str, label: str = "") -> str:
        """A new API token for the user (shown once; only its hash is kept)."""
        account = self.get(name)
        token = "wfb_" + secrets.token_urlsafe(32)
        with self.db.write() as s:
            s.add(ApiToken(user_id=account.id, token_hash=token_hash(token), name=label, created_at=now()))
        return token

    def by_token(self, token: str) -> Account | None:
        with self.db.read() as s:
            row = s.execute(
                select(User).join(ApiToken, ApiToken.user_id == User.id).where(ApiToken.token_hash == token_hash(token))
            ).scalar()
            return Account(row.id, row.name, row.role) if row is not None and row.active else None

    def project_role(self, account: Account, project_id: int) -> str | None:
        """The user's role in a project: owners and admins everywhere, others by membership."""
        if account.is_admin:
            return account.role
        with self.db.read() as s:
            return s.scalar(select(Member.role).where(Member.project_id == project_id, Member.user_id == account.id))

    def secret(self) -> str:
        """The instance's session-signing secret (made at init)."""
        with self.db.read() as s:
            value = s.scalar(select(Setting.value).where(Setting.key == "session_secret"))
        if not value:
            raise FeedbackError("the database has no session secret: run `winnow feedback init` first")
        return value

    def ensure_secret(self) -> None:
        with self.db.write() as s:
            if s.get(Setting, "session_secret") is None:
                s.add(Setting(key="session_secret", value=secrets.token_urlsafe(48)))


class RateLimited(Forbidden):
    pass
