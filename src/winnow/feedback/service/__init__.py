"""The feedback service: every rule of the app, with no web imports (an import-linter contract).
The API layer and the CLI both call :class:`Feedback`; so can any Python program."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from winnow.feedback.service.agreement import AgreementReport, agreement
from winnow.feedback.service.errors import Conflict, FeedbackError, Forbidden, NotFound
from winnow.feedback.service.exporting import FORMATS, FeedbackExport, export_file, iter_export
from winnow.feedback.service.importing import ImportSummary, import_records
from winnow.feedback.service.labels import FeedbackLabels, feedback_labels
from winnow.feedback.service.projects import ProjectInfo, Projects
from winnow.feedback.service.review import Review
from winnow.feedback.service.tasks import Progress, Task, Tasks
from winnow.feedback.service.users import Account, Users
from winnow.feedback.store import Database, migrate


class Feedback:
    """One feedback database and the services over it."""

    def __init__(self, db: Database):
        self.db = db
        self.users = Users(db)
        self.projects = Projects(db)
        self.tasks = Tasks(db)
        self.review = Review(db)

    @classmethod
    def open(cls, url: str, create: bool = False) -> Feedback:
        """The database at ``url``; ``create``: run the migrations and make the session secret first."""
        db = Database(url)
        if create:
            migrate(db)
            Users(db).ensure_secret()
        return cls(db)

    def import_records(self, project: str, path: str | Path, fmt: str = "chat") -> ImportSummary:
        return import_records(self.db, self.projects.get(project), path, fmt)

    def assign(self, project: str, user: str, records: list[str] | None = None, count: int | None = None) -> int:
        """Reserve work for one annotator (see ``Tasks.assign``); they must be able to reach the project."""
        p, account = self.projects.get(project), self.users.get(user)
        if not account.is_admin and user not in dict(self.projects.members(project)):
            raise FeedbackError(f"{user!r} is not a member of {project!r}: add them first (member add)")
        return self.tasks.assign(p, account, records=records, count=count)

    def unassign(self, project: str, user: str) -> int:
        return self.tasks.unassign(self.projects.get(project), self.users.get(user))

    def agreement(self, project: str) -> AgreementReport:
        return agreement(self.db, self.projects.get(project))

    def labels(self, project: str, question: str | None = None) -> FeedbackLabels:
        """Each answered record's text and its consensus label (label and rating projects, or a
        project's further rating or label question)."""
        return feedback_labels(self.db, self.projects.get(project), self.db.url, question)

    def export(self, project: str, fmt: str, output: str | Path, **options: Any) -> FeedbackExport:
        return export_file(self.db, self.projects.get(project), fmt, output, **options)

    def close(self) -> None:
        self.db.dispose()


__all__ = [
    "FORMATS",
    "Account",
    "AgreementReport",
    "Conflict",
    "Feedback",
    "FeedbackError",
    "FeedbackExport",
    "FeedbackLabels",
    "Forbidden",
    "ImportSummary",
    "NotFound",
    "Progress",
    "ProjectInfo",
    "Task",
    "iter_export",
]
