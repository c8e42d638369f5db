"""Projects (one task type, its question and any further questions, guidelines with a version,
overlap, blind mode) and their members."""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, select

from winnow.feedback.service.errors import FeedbackError, NotFound
from winnow.feedback.service.questions import Question, make_question
from winnow.feedback.service.users import Account, check_role, now, token_hash
from winnow.feedback.store import ApiToken, Database, Member, Project, User

# auto: an annotator takes the next open slot (slots reserved for them first); explicit: only the
# slots an admin reserved for them (`winnow feedback assign`), so an admin decides who sees what
ASSIGNMENT = ("auto", "explicit")


@dataclass(frozen=True)
class ProjectInfo:
    id: int
    name: str
    task: str
    question: Question
    guidelines: str
    guideline_version: int
    overlap: int
    blind: bool
    show_suggestions: bool
    assignment: str = "auto"  # auto | explicit (see ASSIGNMENT)

    def asking(self, question: Question) -> ProjectInfo:
        """The project seen through one of its further questions: the consensus, agreement and α code
        written for a project's task then reads that question's answers (see ``answers.for_question``)."""
        return dataclasses.replace(self, task=question.task, question=question)


def info(p: Project) -> ProjectInfo:
    return ProjectInfo(
        p.id, p.name, p.task, Question(p.task, dict(p.question)), p.guidelines, p.guideline_version, p.overlap,
        p.blind, p.show_suggestions, p.assignment or "auto",
    )  # fmt: skip


class Projects:
    def __init__(self, db: Database):
        self.db = db

    def create(
        self,
        name: str,
        task: str,
        guidelines: str = "",
        overlap: int = 1,
        blind: bool = False,
        show_suggestions: bool = False,
        labels: list[str] | None = None,
        points: int | list[str] | None = None,
        assignment: str = "auto",
        questions: list[dict[str, Any]] | None = None,
        **settings: Any,
    ) -> ProjectInfo:
        """``questions``: further rating/label questions asked beside the task (``questions.further_questions``)."""
        question = make_question(task, labels=labels, points=points, questions=questions, **settings)
        if assignment not in ASSIGNMENT:
            raise FeedbackError(f"assignment {assignment!r}: one of {', '.join(ASSIGNMENT)}")
        if not 1 <= overlap <= 50:
            raise FeedbackError("overlap: 1 to 50 answers per record")
        if not name or len(name) > 128 or "/" in name:
            raise FeedbackError(f"project name {name!r}: 1 to 128 characters, no '/'")
        with self.db.write() as s:
            if s.scalar(select(Project.id).where(Project.name == name)) is not None:
                raise FeedbackError(f"project {name!r} exists")
            p = Project(
                name=name, task=task, question=question, guidelines=guidelines, guideline_version=1,
                overlap=overlap, blind=blind, show_suggestions=show_suggestions, assignment=assignment,
                created_at=now(),
            )  # fmt: skip
            s.add(p)
            s.flush()
            return info(p)

    def get(self, name: str) -> ProjectInfo:
        with self.db.read() as s:
            p = s.scalar(select(Project).where(Project.name == name))
            if p is None:
                raise NotFound(f"no project {name!r}")
            return info(p)

    def access(
        self, name: str, user_id: int | None = None, token: str | None = None
    ) -> tuple[Account | None, ProjectInfo | None, str | None]:
        """Who asks (by user id, or by API token) and their role in project ``name``, in one query:
        (None, None, None) for no such active user; (account, None, None) for no such project;
        the role is None when a non-admin is not a member."""
        if token is not None:
            params = {"name": name, "token_hash": token_hash(token)}
        else:
            params = {"name": name, "user_id": user_id}
        with self.db.read() as s:
            row = s.execute(_access_statement(token is not None), params).first()
            if row is None:
                return None, None, None
            uid, uname, urole, project, member_role = row
            account = Account(uid, uname, urole)
            if project is None:
                return account, None, None
            return account, info(project), (urole if account.is_admin else member_role)

    def by_id(self, project_id: int) -> ProjectInfo:
        with self.db.read() as s:
            p = s.get(Project, project_id)
            if p is None:
                raise NotFound(f"no project {project_id}")
            return info(p)

    def list(self, account: Account | None = None) -> list[ProjectInfo]:
        with self.db.read() as s:
            query = select(Project).order_by(Project.name)
            if account is not None and not account.is_admin:
                query = query.join(Member, Member.project_id == Project.id).where(Member.user_id == account.id)
            return [info(p) for p in s.scalars(query)]

    def set_guidelines(self, name: str, guidelines: str) -> ProjectInfo:
        """New guideline text; the version goes up, and answers keep the version they were given under."""
        with self.db.write() as s:
            p = s.scalar(select(Project).where(Project.name == name))
            if p is None:
                raise NotFound(f"no project {name!r}")
            p.guidelines = guidelines
            p.guideline_version += 1
            return info(p)

    def add_member(self, project: str, user: str, role: str) -> None:
        check_role(role)
        p = self.get(project)
        with self.db.write() as s:
            user_id = s.scalar(select(User.id).where(User.name == user))
            if user_id is None:
                raise NotFound(f"no user {user!r}")
            s.execute(delete(Member).where(Member.project_id == p.id, Member.user_id == user_id))
            s.add(Member(project_id=p.id, user_id=user_id, role=role))

    def members(self, project: str) -> list[tuple[str, str]]:
        p = self.get(project)
        with self.db.read() as s:
            rows = s.execute(
                select(User.name, Member.role).join(Member, Member.user_id == User.id).where(Member.project_id == p.id)
            )
            return sorted((name, role) for name, role in rows)


@functools.cache
def _access_statement(by_token: bool):  # type: ignore[no-untyped-def]
    """The query of ``Projects.access``, built once (``name`` and ``user_id`` or ``token_hash`` bound)."""
    query = (
        select(User.id, User.name, User.role, Project, Member.role)
        .select_from(User)
        .outerjoin(Project, Project.name == bindparam("name"))
        .outerjoin(Member, (Member.project_id == Project.id) & (Member.user_id == User.id))
        .where(User.active.is_(True))
    )
    if by_token:
        query = query.join(ApiToken, ApiToken.user_id == User.id).where(ApiToken.token_hash == bindparam("token_hash"))
    else:
        query = query.where(User.id == bindparam("user_id"))
    return query.limit(1)
