"""Work distribution: the next task of an annotator, submit, skip with a reason, undo, progress.

A task is a leased slot (``assignments``). ``next`` returns the annotator's current lease if they
have one, else takes an open slot (or one whose lease expired) with a compare-and-set UPDATE; a
record they answered or skipped is never offered again. An open slot can be reserved for one user
(``assign``, explicit assignment): it goes to them before any other, and to no one else; a project
with ``assignment: explicit`` gives its annotators only the slots reserved for them. ``submit`` turns the caller's own lease into
an answer in the same way; once it returns, the answer is committed (SQLite WAL or PostgreSQL), so a
server killed right after loses nothing acknowledged. A repeated submit of the same answer (a client
retrying after a lost reply) is acknowledged again, not stored twice."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from winnow.feedback.service.errors import Conflict, FeedbackError, NotFound
from winnow.feedback.service.items import response_text, shown, suggestion
from winnow.feedback.service.projects import ProjectInfo
from winnow.feedback.service.questions import check_draft
from winnow.feedback.service.users import Account, now
from winnow.feedback.store import Assignment, Database, Record, Skip
from winnow.feedback.store.models import LEASED, OPEN, SUBMITTED

LEASE = timedelta(minutes=30)  # an abandoned task goes back to the queue after this


@dataclass(frozen=True)
class Task:
    assignment_id: int
    record_id: int
    external_id: str
    prompt: list[dict[str, Any]]
    candidates: list[list[dict[str, Any]]]
    draft: dict[str, Any] | None
    suggestion: dict[str, Any] | None
    comment: str | None = None  # the draft's comment (or, after undo, the answer's)


@dataclass(frozen=True)
class Progress:
    done: int  # this annotator's answers
    skipped: int
    records: int  # records in the project
    complete: int  # records with every slot answered
    answers: int  # answers by everyone
    slots: int  # records × overlap
    reserved: int = 0  # open slots reserved for this annotator (explicit assignment)


class Tasks:
    def __init__(self, db: Database):
        self.db = db

    def _task(self, s, project: ProjectInfo, a: Assignment) -> Task:  # type: ignore[no-untyped-def]
        record = s.get(Record, a.record_id)
        prompt, candidates = shown(record.data, record.swap, project.task)
        hint = suggestion(record.data, record.swap, project.task) if project.show_suggestions else None
        return Task(a.id, record.id, record.external_id, prompt, candidates, a.value, hint, a.comment)

    def next(self, project: ProjectInfo, user: Account) -> Task | None:
        """The annotator's task: their open lease, or a newly leased slot; None when nothing is left."""
        return self.next_and_done(project, user)[0]

    def next_and_done(self, project: ProjectInfo, user: Account) -> tuple[Task | None, int]:
        """``next`` and the annotator's answers so far, in one transaction (the REST call shows both)."""
        for _ in range(50):  # a lost compare-and-set race: pick again
            with self.db.write() as s:
                task = self._next(s, project, user)
                if task is not False:
                    return task, s.scalar(_answered_statement(), {"project_id": project.id, "user_id": user.id}) or 0
        raise Conflict("the queue is too busy: try again")

    def _next(self, s, project: ProjectInfo, user: Account) -> Task | None | bool:  # type: ignore[no-untyped-def]
        """One try of ``next`` in session ``s``: the task, None when nothing is left, False for a lost race."""
        who = {"project_id": project.id, "user_id": user.id}
        mine = s.scalar(_lease_statement(), who)
        if mine is not None:
            return self._task(s, project, mine)
        reserved = s.execute(_reserved_statement(), who).first()
        if reserved is not None:
            candidate = (reserved[0], OPEN)
        elif project.assignment == "explicit":
            return None  # nothing reserved for this annotator: the admin hands out the work
        else:
            candidate = s.execute(*self._queue(project, user)).first()
            if candidate is None:
                candidate = s.execute(*self._queue(project, user, expired=True)).first()
        if candidate is None:
            return None
        slot_id, state = candidate
        stamp = now()
        taken = s.execute(
            _take_statement(),
            {"slot_id": slot_id, "seen": state, "taker": user.id, "stamp": stamp, "cutoff": stamp - LEASE},
        ).rowcount
        if taken == 1:
            return self._task(s, project, s.get(Assignment, slot_id))
        return False

    def _queue(self, project: ProjectInfo, user: Account, expired: bool = False):  # type: ignore[no-untyped-def]
        """The first slot open to this user, in record order (an index range scan on ix_assignments_queue);
        with ``expired``, the first lease left idle past LEASE instead. The statement is built once
        (its values are bound parameters) and executed with this call's values."""
        params = {"project_id": project.id, "user_id": user.id}
        if expired:
            params["cutoff"] = now() - LEASE
        return _queue_statement(self.db.postgres, expired), params

    def assign(
        self, project: ProjectInfo, user: Account, records: list[str] | None = None, count: int | None = None
    ) -> int:
        """Reserve for ``user`` one open slot of each record in ``records`` (external ids), or of the
        first ``count`` records in queue order they have not answered, skipped or been given; returns
        how many slots were reserved. A record with no free slot left, or one the user already holds,
        is passed over (and counted out of the return value), never overfilled."""
        if (records is None) == (count is None):
            raise FeedbackError("assign: give the records or a count, not both")
        with self.db.write() as s:
            query = _free_slots(project, user)
            if records is not None:
                wanted = list(dict.fromkeys(records))
                known = dict(
                    s.execute(
                        select(Record.external_id, Record.id).where(
                            Record.project_id == project.id, Record.external_id.in_(wanted)
                        )
                    ).all()
                )
                missing = [r for r in wanted if r not in known]
                if missing:
                    raise NotFound(f"no record {missing[0]!r} in {project.name} ({len(missing)} unknown)")
                query = query.where(Assignment.record_id.in_(known.values()))
            chosen: dict[int, int] = {}  # record → its first free slot
            for slot_id, record_id in s.execute(query):
                if record_id not in chosen:
                    chosen[record_id] = slot_id
                    if count is not None and len(chosen) >= count:
                        break
            if not chosen:
                return 0
            return s.execute(
                update(Assignment)
                .where(Assignment.id.in_(chosen.values()), Assignment.state == OPEN, Assignment.user_id.is_(None))
                .values(user_id=user.id)
                .execution_options(synchronize_session=False)
            ).rowcount

    def unassign(self, project: ProjectInfo, user: Account) -> int:
        """Give back every slot reserved for ``user`` that they have not started; returns how many."""
        with self.db.write() as s:
            return s.execute(
                update(Assignment)
                .where(Assignment.project_id == project.id, Assignment.user_id == user.id, Assignment.state == OPEN)
                .values(user_id=None)
                .execution_options(synchronize_session=False)
            ).rowcount

    def _own(self, s, assignment_id: int, user: Account) -> Assignment:  # type: ignore[no-untyped-def]
        a = s.get(Assignment, assignment_id)
        if a is None or a.user_id != user.id:
            raise NotFound(f"no task {assignment_id} of yours")
        return a

    def submit(
        self, project: ProjectInfo, user: Account, assignment_id: int, value: dict[str, Any], comment: str | None = None
    ) -> Assignment:
        """Store an answer to the caller's leased task (checked against the question)."""
        with self.db.write() as s:
            a = self._own(s, assignment_id, user)
            if a.project_id != project.id:
                raise NotFound(f"no task {assignment_id} in {project.name}")
            record = s.get(Record, a.record_id)
            _, candidates = shown(record.data, record.swap, project.task)
            value = project.question.check_answer(value, len(candidates), response_text(candidates))
            if a.state == SUBMITTED:
                if a.value == value:
                    return a  # a retry of an acknowledged submit
                raise Conflict("already answered: undo it first to change the answer")
            stamp = now()
            seconds = (stamp - _aware(a.leased_at)).total_seconds()
            done = s.execute(
                update(Assignment)
                .where(Assignment.id == a.id, Assignment.user_id == user.id, Assignment.state == LEASED)
                .values(
                    state=SUBMITTED,
                    value=value,
                    comment=comment or None,
                    submitted_at=stamp,
                    seconds=seconds,
                    guideline_version=project.guideline_version,
                )  # fmt: skip
                .execution_options(synchronize_session=False)
            ).rowcount
            if done != 1:
                raise Conflict("this task is no longer yours (its lease expired); take the next one")
            # what the UPDATE wrote, without reading the row back: detached, so nothing is flushed again
            s.expunge(a)
            a.state, a.value, a.comment, a.submitted_at = SUBMITTED, value, comment or None, stamp
            a.seconds, a.guideline_version = seconds, project.guideline_version
            return a

    def save_draft(
        self, user: Account, assignment_id: int, value: dict[str, Any], comment: str | None = None,
        project: ProjectInfo | None = None,
    ) -> None:  # fmt: skip
        """Keep the answer so far (and the comment) on the caller's open task: ``next`` hands it back."""
        check_draft(value, comment)
        with self.db.write() as s:
            a = self._own(s, assignment_id, user)
            if project is not None and a.project_id != project.id:
                raise NotFound(f"no task {assignment_id} in {project.name}")
            if a.state != LEASED:
                raise Conflict("only an open task keeps a draft")
            a.value, a.comment = value, comment or None

    def skip(self, project: ProjectInfo, user: Account, assignment_id: int, reason: str = "") -> None:
        """Give the task back (the slot opens for someone else) and never offer the record again."""
        with self.db.write() as s:
            a = self._own(s, assignment_id, user)
            if a.state != LEASED:
                raise Conflict("only an open task can be skipped")
            s.add(Skip(project_id=project.id, record_id=a.record_id, user_id=user.id, reason=reason[:2000], at=now()))
            a.state, a.user_id, a.leased_at, a.value, a.comment = OPEN, None, None, None, None

    def undo(self, project: ProjectInfo, user: Account) -> Task | None:
        """Reopen the caller's last answer as their current task (its answer kept as the draft)."""
        with self.db.write() as s:
            for lease in s.scalars(
                select(Assignment).where(
                    Assignment.project_id == project.id, Assignment.user_id == user.id, Assignment.state == LEASED
                )
            ):  # the task on screen goes back to the queue
                lease.state, lease.user_id, lease.leased_at, lease.value, lease.comment = OPEN, None, None, None, None
            last = s.scalar(
                select(Assignment)
                .where(Assignment.project_id == project.id, Assignment.user_id == user.id)
                .where(Assignment.state == SUBMITTED)
                .order_by(Assignment.submitted_at.desc(), Assignment.id.desc())
                .limit(1)
            )
            if last is None:
                return None
            last.state, last.leased_at, last.submitted_at = LEASED, now(), None
            s.flush()
            return self._task(s, project, last)

    def progress(self, project: ProjectInfo, user: Account | None = None) -> Progress:
        with self.db.read() as s:
            base = select(func.count()).select_from(Assignment).where(Assignment.project_id == project.id)
            answers = s.scalar(base.where(Assignment.state == SUBMITTED)) or 0
            slots = s.scalar(base) or 0
            records = s.scalar(select(func.count()).select_from(Record).where(Record.project_id == project.id)) or 0
            open_records = s.scalar(
                select(func.count(func.distinct(Assignment.record_id))).where(
                    Assignment.project_id == project.id, Assignment.state != SUBMITTED
                )
            )
            done = skipped = reserved = 0
            if user is not None:
                done = s.scalar(base.where(Assignment.user_id == user.id, Assignment.state == SUBMITTED)) or 0
                reserved = s.scalar(base.where(Assignment.user_id == user.id, Assignment.state == OPEN)) or 0
                skipped = (
                    s.scalar(select(func.count()).where(Skip.project_id == project.id, Skip.user_id == user.id)) or 0
                )
            return Progress(done, skipped, records, records - (open_records or 0), answers, slots, reserved)


@functools.cache
def _queue_statement(postgres: bool, expired: bool):  # type: ignore[no-untyped-def]
    """The queue query of ``Tasks._queue``, with ``project_id``, ``user_id`` (and ``cutoff``) bound."""
    mine = aliased(Assignment)
    user_id = bindparam("user_id")
    query = select(Assignment.id, Assignment.state).where(Assignment.project_id == bindparam("project_id"))
    if expired:
        query = query.where(Assignment.state == LEASED, Assignment.leased_at < bindparam("cutoff"))
    else:  # open and reserved for no one (a slot reserved for this user comes from _reserved_statement)
        query = query.where(Assignment.state == OPEN, Assignment.user_id.is_(None))
    query = (
        query.where(~exists().where(mine.record_id == Assignment.record_id, mine.user_id == user_id))
        .where(~exists().where(Skip.record_id == Assignment.record_id, Skip.user_id == user_id))
        .order_by(Assignment.record_id, Assignment.slot)
        .limit(1)
    )
    if postgres:
        query = query.with_for_update(skip_locked=True, of=Assignment)
    return query


@functools.cache
def _lease_statement():  # type: ignore[no-untyped-def]
    """The task on ``user_id``'s screen in ``project_id``: their oldest lease."""
    return (
        select(Assignment)
        .where(Assignment.project_id == bindparam("project_id"), Assignment.user_id == bindparam("user_id"))
        .where(Assignment.state == LEASED)
        .order_by(Assignment.leased_at)
        .limit(1)
    )


@functools.cache
def _take_statement():  # type: ignore[no-untyped-def]
    """The compare-and-set that leases slot ``slot_id`` to ``taker``: only while it is still in the state
    the queue saw (``seen``) and still free — open and reserved for no one but the taker, or a lease
    idle since before ``cutoff``. A slot reserved for someone else never matches."""
    taker = bindparam("taker")
    free = (Assignment.state == OPEN) & or_(Assignment.user_id.is_(None), Assignment.user_id == taker)
    return (
        update(Assignment)
        .where(Assignment.id == bindparam("slot_id"), Assignment.state == bindparam("seen"))
        .where(or_(free, Assignment.leased_at < bindparam("cutoff")))
        .values(state=LEASED, user_id=taker, leased_at=bindparam("stamp"), value=None, comment=None)
        .execution_options(synchronize_session=False)
    )


@functools.cache
def _answered_statement():  # type: ignore[no-untyped-def]
    """How many answers ``user_id`` gave in ``project_id`` (the ix_assignments_user index)."""
    return select(func.count()).where(
        Assignment.project_id == bindparam("project_id"),
        Assignment.user_id == bindparam("user_id"),
        Assignment.state == SUBMITTED,
    )


@functools.cache
def _reserved_statement():  # type: ignore[no-untyped-def]
    """The first open slot reserved for ``user_id`` in ``project_id`` (the ix_assignments_user index)."""
    return (
        select(Assignment.id)
        .where(Assignment.project_id == bindparam("project_id"), Assignment.user_id == bindparam("user_id"))
        .where(Assignment.state == OPEN)
        .order_by(Assignment.record_id)
        .limit(1)
    )


def _free_slots(project: ProjectInfo, user: Account):  # type: ignore[no-untyped-def]
    """(slot, record) of every open, unreserved slot of a record ``user`` has not answered, skipped
    or been given, in queue order: what ``Tasks.assign`` may reserve for them."""
    mine = aliased(Assignment)
    return (
        select(Assignment.id, Assignment.record_id)
        .where(Assignment.project_id == project.id, Assignment.state == OPEN, Assignment.user_id.is_(None))
        .where(~exists().where(mine.record_id == Assignment.record_id, mine.user_id == user.id))
        .where(~exists().where(Skip.record_id == Assignment.record_id, Skip.user_id == user.id))
        .order_by(Assignment.record_id, Assignment.slot)
    )


def _aware(stamp):  # type: ignore[no-untyped-def]
    """SQLite hands back naive datetimes (stored as UTC)."""
    from datetime import UTC

    return stamp if stamp is None or stamp.tzinfo else stamp.replace(tzinfo=UTC)
