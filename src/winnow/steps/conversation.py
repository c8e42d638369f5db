"""Filters for conversations: turn count and role order, empty/truncated/refused responses, lengths, language.

They read the message columns (``winnow.records``) of post-training records and pass documents
(records with no ``kind``) through untouched. What a *response* is depends on the kind:

* ``conversation``: its assistant turns (the prompt is every other turn of ``messages``);
* ``preference``: ``chosen`` and ``rejected``, each a response to the shared prompt ``messages``;
* ``unpaired``: ``completion``; ``rated``: each entry of ``completions``.

Words are whitespace-separated tokens, as in ``length_filter``.
"""

from __future__ import annotations

import re
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
from pydantic import Field

from winnow.errors import RecipeError
from winnow.records import CONVERSATION_COLUMNS, is_conversational, with_column
from winnow.steps.base import Role, Step, StepParams, StepResult
from winnow.steps.registry import register

Message = dict[str, Any]
DEFAULT_REFUSALS = "refusals.txt"  # package data: winnow/data/refusals.txt


def conversation_rows(batch: pa.Table) -> list[dict[str, Any]]:
    """The conversation columns of each record as Python values."""
    return batch.select([c for c in CONVERSATION_COLUMNS if c in batch.column_names]).to_pylist()


def responses(record: dict[str, Any]) -> list[list[Message]]:
    """The responses of a record: lists of messages (see the module docstring)."""
    kind = record.get("kind")
    if kind == "conversation":
        return [[m for m in record.get("messages") or [] if m["role"] == "assistant"]]
    if kind == "preference":
        return [record.get("chosen") or [], record.get("rejected") or []]
    if kind == "unpaired":
        return [record.get("completion") or []]
    if kind == "rated":
        return [c.get("messages") or [] for c in record.get("completions") or []]
    return []


def prompt(record: dict[str, Any]) -> list[Message]:
    """The prompt turns: for a conversation the turns that are not the assistant's, otherwise ``messages``."""
    messages = record.get("messages") or []
    if record.get("kind") == "conversation":
        return [m for m in messages if m["role"] != "assistant"]
    return messages


def words(messages: list[Message], roles: tuple[str, ...] = ("user", "assistant", "system", "tool")) -> int:
    return sum(len(m["content"].split()) for m in messages if m["role"] in roles)


class ConversationStep(Step):
    """A filter over the conversation columns: ``judge`` gives tags and a reason per record."""

    requires = ("kind", "messages")
    tag_types: ClassVar[dict[str, pa.DataType]] = {}

    def judge(self, record: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        raise NotImplementedError

    def process(self, batch: pa.Table) -> StepResult:
        if not is_conversational(batch) or batch.num_rows == 0:
            return StepResult(batch)
        tags: dict[str, list[Any]] = {}
        reasons: list[str | None] = []
        for record in conversation_rows(batch):
            if record.get("kind") is None:  # a document among conversations
                found, reason = {}, None
            else:
                found, reason = self.judge(record)
            for name, value in found.items():
                tags.setdefault(name, [None] * len(reasons)).append(value)
            for name in tags.keys() - found.keys():
                tags[name].append(None)
            reasons.append(reason)
        for name, values in tags.items():
            batch = with_column(batch, self.tag(name), pa.array(values, self.tag_types.get(name)))
        return self.split(batch, reasons)


@register
class TurnFilter(ConversationStep):
    """Drop conversations with too few or too many turns, or whose roles are out of order (system first, user and
    assistant alternating, tool results after an assistant turn, ending on the assistant)."""

    name = "turn_filter"
    produces = ("turn_filter.turns",)
    tag_types = {"turns": pa.int64()}

    class Params(StepParams):
        min_turns: int = Field(2, ge=0, description="fewest user + assistant turns (a prompt and its response: 2)")
        max_turns: int | None = Field(None, ge=1, description="most user + assistant turns")
        require_alternation: bool = Field(
            True,
            description="system only first, the first other turn the user's, user and assistant alternating "
            "(tool turns only after an assistant or tool turn), and the last turn the assistant's",
        )

    def judge(self, record: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        p = self.params
        messages = record.get("messages") or []
        # The turns of the conversation as trained: the prompt and (the first) response.
        first = next(iter(responses(record)), []) if record["kind"] != "conversation" else []
        turns = messages + first
        count = sum(m["role"] in ("user", "assistant") for m in turns)
        tags = {"turns": count}
        if count < p.min_turns:
            return tags, "too_few_turns"
        if p.max_turns is not None and count > p.max_turns:
            return tags, "too_many_turns"
        if p.require_alternation:
            reason = role_order(turns)
            if reason is None and record["kind"] != "conversation":
                reason = next((r for r in map(continuation_order, responses(record)[1:]) if r), None)
            return tags, reason
        return tags, None


def role_order(turns: list[Message]) -> str | None:
    """Why the roles of ``turns`` are out of order, or ``None``."""
    roles = [m["role"] for m in turns]
    start = 0
    while start < len(roles) and roles[start] == "system":
        start += 1
    rest = roles[start:]
    if "system" in rest:
        return "system_not_first"
    if not rest or rest[0] != "user":
        return "first_turn_not_user"
    allowed = {"user": {"assistant"}, "assistant": {"user", "tool"}, "tool": {"tool", "assistant"}}
    for before, after in zip(rest, rest[1:], strict=False):
        if after not in allowed[before]:
            return "roles_not_alternating"
    if rest[-1] != "assistant":
        return "not_ending_on_assistant"
    return None


def continuation_order(messages: list[Message]) -> str | None:
    """A second response of a preference or rated record: it starts and ends with the assistant."""
    if not messages or messages[0]["role"] != "assistant" or messages[-1]["role"] != "assistant":
        return "response_not_assistant"
    return None


TERMINAL = re.compile(r"""[.!?…:;)\]}>"'`*\u201d\u2019\u3002\uff01\uff1f~]\s*$|\n\s*$""")


def looks_truncated(text: str, min_words: int) -> bool:
    """A response cut off by a length limit: inside an unclosed code block, or a long answer that
    stops without closing punctuation (mid-sentence)."""
    if text.count("```") % 2:
        return True
    stripped = text.rstrip()
    return bool(stripped) and len(stripped.split()) >= min_words and not TERMINAL.search(stripped)


@register
class ResponseFilter(ConversationStep):
    """Drop records with an empty or truncated response, responses or prompts out of length limits, or a
    response/prompt length ratio out of bounds (every response of a record is checked)."""

    name = "response_filter"
    produces = ("response_filter.prompt_words", "response_filter.response_words")
    tag_types = {"prompt_words": pa.int64(), "response_words": pa.int64()}

    class Params(StepParams):
        drop_empty: bool = Field(True, description="drop records with an empty or whitespace-only assistant turn")
        drop_truncated: bool = Field(
            True,
            description="drop records whose last assistant turn looks cut off: an unclosed ``` block, or at "
            "least truncated_min_words words ending without closing punctuation",
        )
        truncated_min_words: int = Field(30, ge=1, description="shortest response judged truncated by punctuation")
        min_response_words: int | None = Field(None, ge=0, description="drop records with a shorter response")
        max_response_words: int | None = Field(None, ge=0, description="drop records with a longer response")
        min_prompt_words: int | None = Field(None, ge=0, description="drop records with a shorter prompt")
        max_prompt_words: int | None = Field(None, ge=0, description="drop records with a longer prompt")
        min_ratio: float | None = Field(None, ge=0, description="lowest response words / prompt words")
        max_ratio: float | None = Field(None, ge=0, description="highest response words / prompt words")

    def judge(self, record: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        p = self.params
        answers = responses(record)
        prompt_words = words(prompt(record), ("user", "system", "tool"))
        lengths = [words(a, ("assistant",)) for a in answers] or [0]
        tags = {"prompt_words": prompt_words, "response_words": min(lengths)}
        for answer in answers:
            assistant = [m for m in answer if m["role"] == "assistant"]
            if p.drop_empty and (not assistant or any(not m["content"].strip() for m in assistant)):
                return tags, "empty_response"
            if p.drop_truncated and looks_truncated(assistant[-1]["content"], p.truncated_min_words):
                return tags, "truncated_response"
        rules = [
            ("response_too_short", p.min_response_words is not None and min(lengths) < p.min_response_words),
            ("response_too_long", p.max_response_words is not None and max(lengths) > p.max_response_words),
            ("prompt_too_short", p.min_prompt_words is not None and prompt_words < p.min_prompt_words),
            ("prompt_too_long", p.max_prompt_words is not None and prompt_words > p.max_prompt_words),
        ]
        ratio = min(lengths) / prompt_words if prompt_words else None
        if ratio is not None:
            rules.append(("ratio_too_low", p.min_ratio is not None and ratio < p.min_ratio))
            rules.append(("ratio_too_high", p.max_ratio is not None and max(lengths) / prompt_words > p.max_ratio))
        return tags, next((name for name, failed in rules if failed), None)


def read_phrases(path: str | None) -> list[str]:
    if path is None:
        text = resources.files("winnow").joinpath("data", DEFAULT_REFUSALS).read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    lines = (line.strip().lower().replace("\u2019", "'") for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


@register
class RefusalFilter(ConversationStep):
    """Tag (and drop) responses that refuse or are assistant boilerplate ("As an AI language model…"), from a local
    phrase list (shipped: winnow/data/refusals.txt)."""

    name = "refusal_filter"
    produces = ("refusal_filter.refusal", "refusal_filter.phrase")
    tag_types = {"refusal": pa.bool_(), "phrase": pa.string()}

    class Params(StepParams):
        phrases: str | None = Field(None, description="a phrase file, one a line (default: the shipped list)")
        columns: list[str] = Field(
            ["messages", "chosen", "completion", "completions"],
            description="where responses are looked at: the assistant turns of these columns (rejected is left "
            "out: a refused rejected answer is what a preference pair wants)",
        )
        mode: str = Field("drop", pattern="^(tag|drop)$", description="tag: add the columns; drop: also drop")

    def check(self) -> None:
        if self.params.phrases is not None and not Path(self.params.phrases).is_file():
            raise RecipeError(f"step 'refusal_filter': phrase file not found: {self.params.phrases}")
        if not read_phrases(self.params.phrases):
            raise RecipeError(f"step 'refusal_filter': the phrase file {self.params.phrases} is empty")

    @cached_property
    def _lazy_pattern(self) -> re.Pattern[str]:
        phrases = sorted(read_phrases(self.params.phrases), key=len, reverse=True)
        return re.compile(r"\b(?:" + "|".join(re.escape(p) for p in phrases) + r")")

    def judge(self, record: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        columns = self.params.columns
        texts: list[str] = []
        for column in ("messages", "chosen", "completion"):
            if column in columns:
                texts.extend(m["content"] for m in record.get(column) or [] if m["role"] == "assistant")
        if "completions" in columns:
            for scored in record.get("completions") or []:
                texts.extend(m["content"] for m in scored.get("messages") or [] if m["role"] == "assistant")
        for text in texts:
            found = self._lazy_pattern.search(text.lower().replace("\u2019", "'"))
            if found:
                self.counters["refusals"] += 1
                return {"refusal": True, "phrase": found.group()}, "refusal" if self.params.mode == "drop" else None
        return {"refusal": False, "phrase": None}, None


@register
class LanguageConsistency(ConversationStep):
    """Drop conversations whose turns are in different languages (each turn of at least min_chars characters is
    identified with the language step's model; short turns are too short to tell)."""

    name = "language_consistency"
    produces = ("language_consistency.languages",)
    tag_types = {"languages": pa.list_(pa.string())}

    class Params(StepParams):
        model_path: str | None = Field(None, description="a local fastText language-ID model (default: lid.176.ftz)")
        min_chars: int = Field(60, ge=1, description="shortest turn whose language is identified")
        min_score: float = Field(0.65, ge=0, le=1, description="lowest model confidence a turn's language counts at")
        roles: list[Role] = Field(["user", "assistant"], min_length=1, description="the roles whose turns are compared")

    def check(self) -> None:
        self._tagger().check()

    def _tagger(self):  # -> LanguageTagger
        tagger = getattr(self, "_lazy_tagger", None)
        if tagger is None:
            from winnow.steps.language import LanguageTagger

            tagger = LanguageTagger(model_path=self.params.model_path)
            self._lazy_tagger = tagger
        return tagger

    def judge(self, record: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        p = self.params
        turns = list(record.get("messages") or [])
        for answer in responses(record) if record["kind"] != "conversation" else []:
            turns.extend(answer)
        found: list[str] = []
        for m in turns:
            if m["role"] in p.roles and len(m["content"].strip()) >= p.min_chars:
                lang, score = self._tagger().identify(m["content"])
                if lang and score >= p.min_score and lang not in found:
                    found.append(lang)
        return {"languages": found}, "mixed_languages" if len(found) > 1 else None
