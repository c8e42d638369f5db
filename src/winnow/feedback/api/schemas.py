"""The REST API's request and response bodies."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Message(BaseModel):
    role: str
    content: str


class TaskOut(BaseModel):
    id: int = Field(description="the task (assignment) id: submit or skip it")
    record: str = Field(description="the record's id in the imported data")
    prompt: list[Message]
    candidates: list[list[Message]] = Field(description="the responses to judge, in display order (A, B, …)")
    draft: dict[str, Any] | None = None
    suggestion: dict[str, Any] | None = None
    comment: str | None = Field(None, description="the draft's comment")


class NextOut(BaseModel):
    task: TaskOut | None
    done: int = Field(description="the caller's answers in the project")


class SubmitIn(BaseModel):
    value: dict[str, Any] = Field(
        description='the answer: {"choice": "A"}, {"rating": 4}, {"labels": [...]}, '
        '{"spans": [{"start": 0, "end": 5, "label": "PII"}]}, …; where the project asks further questions, '
        'their answers too: {"choice": "A", "questions": {"helpful": {"rating": 4}}}'
    )
    comment: str | None = Field(None, max_length=10_000)


class DraftIn(BaseModel):
    value: dict[str, Any] = Field(description="the answer so far, in answer form (it may be incomplete)")
    comment: str | None = Field(None, max_length=10_000)


class SubmitOut(BaseModel):
    id: int
    record: str
    state: str


class SkipIn(BaseModel):
    reason: str = ""


class ProjectOut(BaseModel):
    name: str
    task: str
    overlap: int
    blind: bool
    assignment: str
    guideline_version: int
    question: dict[str, Any] = Field(
        description='the task\'s settings (labels, points, tie, multi); "questions": the further questions'
    )
    records: int
    complete: int
    answers: int


class AdjudicateIn(BaseModel):
    value: dict[str, Any]
    note: str = ""


class AssignIn(BaseModel):
    user: str
    records: list[str] | None = Field(None, description="record ids (as imported) to reserve one slot of each")
    count: int | None = Field(None, ge=1, description="or: this many records, in queue order")


class UnassignIn(BaseModel):
    user: str
