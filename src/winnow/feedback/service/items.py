"""What is shown for a record: its prompt turns and the responses to judge (the candidates).

Pairwise and ranking judge two or more responses (a preference's chosen/rejected, a rated record's
completions); rating, label and correction judge one (the answer that ends a conversation, an
unpaired completion). A pairwise record shows chosen and rejected as A and B in an order fixed by its
id (``swap``), so annotators cannot learn that A is the dataset's preferred side."""

from __future__ import annotations

from typing import Any

from winnow.export.chat.formats import split_completion
from winnow.feedback.service.errors import FeedbackError

Messages = list[dict[str, Any]]
MULTI = ("pairwise", "ranking")


def prompt_and_candidates(data: dict[str, Any]) -> tuple[Messages, list[Messages]]:
    kind = data.get("kind")
    messages = data.get("messages") or []
    if kind == "preference":
        return messages, [data.get("chosen") or [], data.get("rejected") or []]
    if kind == "rated":
        return messages, [c.get("messages") or [] for c in data.get("completions") or []]
    if kind == "unpaired":
        return messages, [data.get("completion") or []]
    prompt, answer = split_completion(messages)
    return prompt, ([answer] if answer else [])


def check_fits(task: str, data: dict[str, Any]) -> str | None:
    """Why a record cannot be a task of this type, or None."""
    _, candidates = prompt_and_candidates(data)
    if task in MULTI and len(candidates) < 2:
        return f"a {task} task needs two or more responses (a preference or a rated record), not a {data.get('kind')}"
    if task not in MULTI and data.get("kind") in ("preference", "rated"):
        return f"a {task} task judges one response; this record is a {data.get('kind')} (use pairwise or ranking)"
    if task not in MULTI and not candidates:
        return "the conversation does not end on an assistant answer (nothing to judge)"
    return None


def shown(data: dict[str, Any], swap: bool, task: str) -> tuple[Messages, list[Messages]]:
    """The prompt and the candidates in display order."""
    prompt, candidates = prompt_and_candidates(data)
    if task == "pairwise":
        candidates = candidates[:2]
        if swap:
            candidates = [candidates[1], candidates[0]]
    return prompt, candidates


def suggestion(data: dict[str, Any], swap: bool, task: str) -> dict[str, Any] | None:
    """A pre-annotation from scores imported with the record (a judge's), in answer form."""
    if task == "pairwise" and data.get("chosen_score") is not None and data.get("rejected_score") is not None:
        first, second = data["chosen_score"], data["rejected_score"]
        if swap:
            first, second = second, first
        return {"choice": "A" if first > second else "B" if second > first else "tie"}
    if task == "ranking" and data.get("kind") == "rated":
        scores = [c.get("score") for c in data.get("completions") or []]
        if scores and all(s is not None for s in scores):
            return {"order": sorted(range(len(scores)), key=lambda i: -scores[i])}
    return None


def response_text(candidates: list[Messages]) -> str:
    """The text a ``spans`` answer marks: the content of the last turn of the (one) response."""
    if not candidates or not candidates[0]:
        return ""
    return candidates[0][-1].get("content") or ""


def require_fits(task: str, data: dict[str, Any], where: str) -> None:
    why = check_fits(task, data)
    if why:
        raise FeedbackError(f"{where}: {why}")
