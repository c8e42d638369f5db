"""Small helpers shared by the feedback tests."""

from __future__ import annotations

from winnow.feedback.service import Account, Feedback


def team(fb: Feedback, project: str, n: int, role: str = "annotator") -> list[Account]:
    """``n`` annotators, members of ``project``."""
    people = []
    for i in range(n):
        account, _ = fb.users.add(f"{role}{i}", role, password=password_of(f"{role}{i}"))
        fb.projects.add_member(project, account.name, role)
        people.append(account)
    return people


def answer_all(fb: Feedback, project: str, people: list[Account], choose) -> dict[tuple[str, str], dict]:  # type: ignore[no-untyped-def]
    """Every annotator answers every task offered (``choose(user, task) -> value``); what was acknowledged."""
    p = fb.projects.get(project)
    given = {}
    for user in people:
        while (task := fb.tasks.next(p, user)) is not None:
            value = choose(user, task)
            fb.tasks.submit(p, user, task.assignment_id, value)
            given[(user.name, task.external_id)] = value
    return given


def password_of(name: str) -> str:
    """The password ``team`` gave a user (annotator3 → pw-annotator3-long)."""
    return f"pw-{name}-long"
