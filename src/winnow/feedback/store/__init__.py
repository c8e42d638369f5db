"""The database: SQLAlchemy 2 models (``models``), engines and sessions (``db``), Alembic migrations."""

from winnow.feedback.store.db import Database, json_text, migrate
from winnow.feedback.store.models import (
    Adjudication,
    ApiToken,
    Assignment,
    Base,
    ImportBatch,
    LoginAttempt,
    Member,
    Project,
    Record,
    Setting,
    Skip,
    User,
)

__all__ = [
    "Adjudication",
    "ApiToken",
    "Assignment",
    "Base",
    "Database",
    "ImportBatch",
    "LoginAttempt",
    "Member",
    "Project",
    "Record",
    "Setting",
    "Skip",
    "User",
    "json_text",
    "migrate",
]
